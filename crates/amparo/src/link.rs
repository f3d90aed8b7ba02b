//! `amparo link`: find the same person across person CSV files.
use amparo_io::table::{decode_field, guess_delimiter};
use amparo_match::link::{clusters, dedupe, link, one_to_one, BirthParts, Person};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The columns a person CSV may have; others are ignored.
const COLUMNS: [&str; 10] = [
    "id",
    "given_name",
    "family_name",
    "other_names",
    "sex",
    "birth_date",
    "age",
    "recorded_on",
    "country",
    "place",
];

/// Parse a birth date: YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY.
pub fn parse_birth(raw: &str) -> Result<BirthParts, String> {
    // A spreadsheet or a database export may add a time ("2013-05-04 00:00:00",
    // "2013-05-04T00:00:00Z"); the date is what counts.
    let t = raw.trim();
    let t = match t.split_once([' ', 'T']) {
        Some((date, time))
            if time.trim_start().starts_with(|c: char| c.is_ascii_digit())
                && time.contains(':') =>
        {
            date
        }
        _ => t,
    };
    let num = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("'{raw}' is not a date"))
    };
    let check = |y: i32, m: Option<u32>, d: Option<u32>| -> Result<BirthParts, String> {
        if !(1000..=2200).contains(&y) {
            return Err(format!("'{raw}': year {y} is out of range"));
        }
        if let Some(m) = m {
            if !(1..=12).contains(&m) {
                return Err(format!("'{raw}': month {m} does not exist"));
            }
        }
        if let (Some(m), Some(d)) = (m, d) {
            if chrono::NaiveDate::from_ymd_opt(y, m, d).is_none() {
                return Err(format!("'{raw}': no such date"));
            }
        }
        Ok(BirthParts {
            year: Some(y),
            month: m,
            day: d,
            approximate: false,
            digits: None,
        })
    };
    let digits = t.chars().all(|c| c.is_ascii_digit());
    let eight = |s: &str| -> Option<[u8; 8]> { s.as_bytes().try_into().ok() };
    match (t.len(), digits) {
        (4, true) => check(num(t)? as i32, None, None),
        (8, true) => check(
            num(&t[..4])? as i32,
            Some(num(&t[4..6])?),
            Some(num(&t[6..])?),
        )
        .map(|b| BirthParts {
            digits: eight(t),
            ..b
        }),
        _ => {
            let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
            match parts.as_slice() {
                // Day first, as Latin America and Europe write it; a month-first date
                // read this way still agrees through the day/month swap.
                [d, m, y] if y.len() == 4 && d.len() <= 2 => {
                    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
                    check(y as i32, Some(m), Some(d)).map(|b| BirthParts {
                        digits: eight(&format!("{y:04}{m:02}{d:02}")),
                        ..b
                    })
                }
                [y, m] => check(num(y)? as i32, Some(num(m)?), None),
                [y, m, d] => {
                    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
                    check(y as i32, Some(m), Some(d)).map(|b| BirthParts {
                        digits: eight(&format!("{y:04}{m:02}{d:02}")),
                        ..b
                    })
                }
                _ => Err(format!(
                    "'{raw}' is not a date: use YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY"
                )),
            }
        }
    }
}

/// Read one person CSV. Bad values are reported with their line and skipped.
pub fn read_people(
    path: &Path,
    map: &HashMap<String, String>,
    warn: &mut dyn Write,
) -> Result<Vec<Person>, String> {
    let cannot_read = |e: &dyn std::fmt::Display| format!("cannot read {}: {e}", path.display());
    // Read once: the rows are parsed from the same bytes their line numbers are
    // counted in.
    let file = std::fs::read(path).map_err(|e| cannot_read(&e))?;
    // Spreadsheets in Spanish write `;` between fields: the header line (the first
    // that is not blank, as the CSV reader skips blank lines) says which.
    let first = file
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    if first.is_empty() {
        return Err(format!(
            "{}: the file is empty; its first line must name the columns ({})",
            path.display(),
            COLUMNS.join(", ")
        ));
    }
    let lines = amparo_io::table::LineIndex::new(&file);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(guess_delimiter(&decode_field(first)))
        .from_reader(&file[..]);
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| format!("{}: no header line: {e}", path.display()))?
        .iter()
        .map(|h| {
            let h = decode_field(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string();
            map.get(&h).cloned().unwrap_or(h)
        })
        .collect();
    let idx = column_indexes(&headers, path, warn);
    if idx["given_name"].is_none() && idx["family_name"].is_none() && idx["full_name"].is_none() {
        return Err(format!(
            "{}: no name column (given_name or family_name; columns are {}); use --map SOURCE=given_name",
            path.display(),
            headers.join(", ")
        ));
    }
    // A list without ids (names typed into a spreadsheet) is still worth linking: each
    // row is known by its line in the file, the row number a spreadsheet shows.
    let numbered = idx["id"].is_none();
    if numbered {
        let _ = writeln!(
            warn,
            "{}: no id column (columns are {}); each row's id is its line number in the file (use --map SOURCE=id to name one)",
            path.display(),
            headers.join(", ")
        );
    }
    let mut people = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let this_year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let mut age_without_date = false;
    for (n, row) in reader.byte_records().enumerate() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n + 2, |p| lines.line_at(p.byte()));
                let _ = writeln!(
                    warn,
                    "{}: line {line}: unreadable row ({e}); skipped",
                    path.display()
                );
                continue;
            }
        };
        // The file's own line: blank lines and quoted line breaks are counted too.
        let line = row.position().map_or(n + 2, |p| lines.line_at(p.byte()));
        let get = |c: &str| {
            idx[c]
                .and_then(|i| row.get(i))
                .map(|v| decode_field(v).trim().to_string())
                .unwrap_or_default()
        };
        let id = if numbered {
            line.to_string()
        } else {
            get("id")
        };
        if id.is_empty() {
            let _ = writeln!(warn, "{}: line {line}: empty id; skipped", path.display());
            continue;
        }
        // Two rows with one id would come out as a pair of that id with itself.
        if let Some(earlier) = first_line_of.get(&id) {
            let _ = writeln!(
                warn,
                "{}: line {line}: id '{id}' is already used on line {earlier}; skipped (give each row its own id)",
                path.display()
            );
            continue;
        }
        first_line_of.insert(id.clone(), line);
        let mut birth = BirthParts::default();
        let raw_birth = get("birth_date");
        if !raw_birth.is_empty() {
            match parse_birth(&raw_birth) {
                Ok(b) => birth = b,
                Err(m) => {
                    // Not a real date, but its digits are still worth comparing.
                    let only: String = raw_birth.chars().filter(|c| c.is_ascii_digit()).collect();
                    if only.len() == 8 {
                        let year = only[..4]
                            .parse::<i32>()
                            .ok()
                            .filter(|y| (1000..=2200).contains(y));
                        birth = BirthParts {
                            year,
                            digits: only.as_bytes().try_into().ok(),
                            ..Default::default()
                        };
                    }
                    let _ = writeln!(
                        warn,
                        "{}: line {line}: birth_date {m}; only its digits are compared",
                        path.display()
                    );
                }
            }
        } else if !get("age").is_empty() {
            // "7", "7 años", "~7": the whole years a person was estimated to be; a
            // baby's "18 meses" or "6 months" is in months.
            let raw_age = get("age").to_lowercase();
            let in_months = raw_age.contains("mes") || raw_age.contains("month");
            let age = raw_age
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| !w.is_empty())
                .and_then(|w| w.parse::<i32>().ok())
                .map(|n| if in_months { n / 12 } else { n })
                .filter(|a| (0..=130).contains(a));
            let recorded_on = get("recorded_on");
            let at = if recorded_on.is_empty() {
                // An age with no date it was taken on is read as an age this year:
                // within one file the ages were taken at about the same time.
                if !age_without_date {
                    age_without_date = true;
                    let _ = writeln!(
                        warn,
                        "{}: line {line}: age without recorded_on is read as an age in {this_year} (add a recorded_on column if the ages were taken earlier)",
                        path.display()
                    );
                }
                Some(this_year)
            } else {
                parse_birth(&recorded_on).ok().and_then(|b| b.year)
            };
            match (age, at) {
                (Some(a), Some(y)) => {
                    birth = BirthParts {
                        year: Some(y - a),
                        approximate: true,
                        ..Default::default()
                    }
                }
                _ => {
                    let _ = writeln!(
                        warn,
                        "{}: line {line}: age '{}' or recorded_on '{recorded_on}' is not readable (a number of years and a date); birth left out",
                        path.display(),
                        get("age")
                    );
                }
            }
        }
        let sex = match get("sex").to_lowercase().chars().next() {
            Some('f') | Some('w') => Some('f'),
            // hombre, varón
            Some('m') | Some('h') | Some('v') => Some('m'),
            _ => None,
        };
        let (given, family) = if idx["full_name"].is_some() {
            split_full_name(&get("full_name"))
        } else {
            (get("given_name"), get("family_name"))
        };
        people.push(Person {
            id,
            given,
            family,
            other_names: get("other_names")
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            sex,
            birth,
        });
    }
    Ok(people)
}

/// Which column feeds each of `COLUMNS`. A column named as the field ("ID" or
/// "Given_Name" as a spreadsheet capitalises them) wins; otherwise the names the
/// importer recognises ("surname", "dob", "Fecha de nacimiento", "gender") and an id's
/// usual names, each said on `warn` so a wrong guess can be mapped away.
fn column_indexes(
    headers: &[String],
    path: &Path,
    warn: &mut dyn Write,
) -> HashMap<&'static str, Option<usize>> {
    const ID_NAMES: [&str; 6] = [
        "rec_id",
        "record_id",
        "unique_id",
        "person_id",
        "uid",
        "identifier",
    ];
    let mut idx = HashMap::new();
    let mut guesses = Vec::new();
    for field in COLUMNS {
        let exact = headers.iter().position(|h| h.eq_ignore_ascii_case(field));
        let guessed = || {
            headers.iter().position(|h| {
                if field == "id" {
                    ID_NAMES.contains(&amparo_io::children::fold_header(h).as_str())
                } else {
                    amparo_io::children::recognised_field(h) == Some(field)
                }
            })
        };
        idx.insert(field, exact.or_else(guessed));
        if exact.is_none() {
            if let Some(i) = idx[field] {
                guesses.push((field, i));
            }
        }
    }
    // One column with the whole name ("Nombre completo", "name"), as many lists have:
    // read when no family name column is there.
    const FULL_NAMES: [&str; 8] = [
        "full_name",
        "fullname",
        "name",
        "complete_name",
        "person_name",
        "nombre_completo",
        "nombre_y_apellidos",
        "nombres_y_apellidos",
    ];
    let full = headers
        .iter()
        .position(|h| FULL_NAMES.contains(&amparo_io::children::fold_header(h).as_str()))
        .filter(|&i| idx["family_name"].is_none() && idx["given_name"].is_none_or(|g| g == i));
    if full.is_some() {
        idx.insert("given_name", None);
        guesses.retain(|(field, _)| *field != "given_name");
    }
    for (field, i) in guesses {
        let _ = writeln!(
            warn,
            "{}: column '{}' read as {field} (use --map to change)",
            path.display(),
            headers[i]
        );
    }
    if let Some(i) = full {
        let _ = writeln!(
            warn,
            "{}: column '{}' read as whole names: 'Family, Given' or the first word as the given name and the rest as the family name (use --map to change)",
            path.display(),
            headers[i]
        );
    }
    idx.insert("full_name", full);
    idx
}

/// A whole name as (given, family): "López García, María", "María López García", or
/// with a two-word given name ("María José López García", "John Henry Robinson") when
/// the second word is a known given name and a family name follows.
fn split_full_name(name: &str) -> (String, String) {
    if let Some((family, given)) = name.split_once(',') {
        return (given.trim().to_string(), family.trim().to_string());
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let given_words = if words.len() >= 3 && amparo_match::known_given_name(words[1]) {
        2
    } else {
        1
    };
    let (given, family) = words.split_at(given_words.min(words.len()));
    (given.join(" "), family.join(" "))
}

/// `--map SOURCE=DEST` arguments (link, pprl, import) as pairs, in order.
pub fn parse_map(map: &[String], example: &str) -> Result<Vec<(String, String)>, String> {
    map.iter()
        .map(|m| {
            m.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| format!("--map '{m}' must be SOURCE=DEST, e.g. {example}"))
        })
        .collect()
}

pub struct LinkArgs<'a> {
    pub input: &'a Path,
    pub against: Option<&'a Path>,
    pub output: &'a Path,
    pub threshold: f64,
    pub clusters: Option<&'a Path>,
    pub map: &'a [String],
    /// With two lists: each record links to its most probable counterpart only.
    pub one_to_one: bool,
}

pub fn run(args: LinkArgs<'_>) -> Result<String, String> {
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(format!(
            "--threshold {} must be between 0 and 1",
            args.threshold
        ));
    }
    let map: HashMap<String, String> = parse_map(args.map, "surname=family_name")?
        .into_iter()
        .collect();
    let mut warn = std::io::stderr();
    let mut people = read_people(args.input, &map, &mut warn)?;
    let split = match args.against {
        Some(b) => {
            let n = people.len();
            people.extend(read_people(b, &map, &mut warn)?);
            Some(n)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let result = match split {
        // One list: records are grouped into people, and every pair inside a
        // group is written.
        None => dedupe(&people, args.threshold),
        Some(_) => {
            let mut result = link(&people, split, args.threshold);
            if args.one_to_one {
                result.pairs = one_to_one(result.pairs, people.len());
            }
            result
        }
    };
    let mut out = csv::Writer::from_path(args.output)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    out.write_record(["id_a", "id_b", "probability"])
        .map_err(|e| e.to_string())?;
    for p in &result.pairs {
        out.write_record([
            people[p.a].id.as_str(),
            people[p.b].id.as_str(),
            &format!("{:.4}", p.probability),
        ])
        .map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    if let Some(path) = args.clusters {
        let c = clusters(people.len(), &result.pairs);
        let mut w = csv::Writer::from_path(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        w.write_record(["id", "cluster"])
            .map_err(|e| e.to_string())?;
        for (i, p) in people.iter().enumerate() {
            w.write_record([p.id.as_str(), people[c[i]].id.as_str()])
                .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "{} records, {} pairs compared, {} pairs at or above {} written to {} in {:.2} s",
        people.len(),
        result.compared,
        result.pairs.len(),
        args.threshold,
        args.output.display(),
        started.elapsed().as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
        ))]

        #[test]
        fn birth_parsing_never_panics(raw in prop_oneof![any::<String>(), "[0-9 -]{0,12}"]) {
            let _ = parse_birth(&raw);
        }

        #[test]
        fn person_files_never_panic(text in prop_oneof![
            any::<String>(),
            "id,given_name,family_name,birth_date,age,sex,other_names\n([a-z0-9 ;\",-]{0,40}\n){0,20}",
        ]) {
            let path = std::env::temp_dir().join(format!(
                "amparo-people-{}-{:?}.csv",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, text.as_bytes()).unwrap();
            let mut warnings = Vec::new();
            let _ = read_people(&path, &HashMap::new(), &mut warnings);
            let _ = std::fs::remove_file(&path);
        }
    }
    #[test]
    fn whole_names_split() {
        for (whole, given, family) in [
            ("López García, María", "María", "López García"),
            ("María López García", "María", "López García"),
            ("María José López García", "María José", "López García"),
            ("John Henry Robinson", "John Henry", "Robinson"),
            ("Tomás Ixcoy", "Tomás", "Ixcoy"),
            ("Jacobo", "Jacobo", ""),
            ("", "", ""),
        ] {
            assert_eq!(
                split_full_name(whole),
                (given.to_string(), family.to_string()),
                "{whole}"
            );
        }
    }

    #[test]
    fn birth_forms() {
        for day_first in ["04/05/2013", "4.5.2013", "04-05-2013"] {
            let b = parse_birth(day_first).unwrap();
            assert_eq!((b.year, b.month, b.day), (Some(2013), Some(5), Some(4)));
            assert_eq!(b.digits, Some(*b"20130504"));
        }
        assert!(parse_birth("31/02/2013").is_err());
        assert!(parse_birth("2013/05").is_ok());
        assert_eq!(parse_birth("2015").map(|b| b.year), Ok(Some(2015)));
        assert_eq!(
            parse_birth("19151111").map(|b| (b.month, b.day)),
            Ok((Some(11), Some(11)))
        );
        assert_eq!(parse_birth("2015-03").map(|b| b.month), Ok(Some(3)));
        assert!(parse_birth("2015-02-30").is_err());
        assert!(parse_birth("abc").is_err());
        assert!(parse_birth("").is_err());
        assert!(parse_birth("99999999").is_err());
        // Unpadded parts and a time after the date, as exports write them.
        for written in ["2013-5-4", "2013-05-04 00:00:00", "2013-05-04T00:00:00Z"] {
            assert_eq!(
                parse_birth(written).map(|b| b.digits),
                Ok(Some(*b"20130504")),
                "{written}"
            );
        }
        assert!(parse_birth("2013-05-04 tarde").is_err());
    }
}
