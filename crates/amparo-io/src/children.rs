//! Rows of a children spreadsheet checked and turned into child records: columns
//! recognised by their Spanish or English names (or mapped), every problem reported
//! with row, column, value and what to do.
use crate::table::Table;
use amparo_domain::birth::{parse_birth_text, Birth};
use amparo_domain::records::{Child, Ctx, Record};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The fields a children spreadsheet can fill, and the column names recognised for
/// each (compared after folding case, accents and punctuation to `_`). KoboToolbox and
/// ODK prefix columns with their group (`datos/nombre`); the last part counts.
pub const FIELDS: &[(&str, &[&str])] = &[
    (
        "wristband",
        &[
            "pulsera",
            "wristband",
            "brazalete",
            "numero_pulsera",
            "no_pulsera",
            "band",
        ],
    ),
    (
        "given_name",
        &[
            "nombre",
            "nombres",
            "given_name",
            "given",
            "first_name",
            "primer_nombre",
            "name",
        ],
    ),
    (
        "family_name",
        &[
            "apellido",
            "apellidos",
            "family_name",
            "family",
            "surname",
            "last_name",
        ],
    ),
    (
        "other_names",
        &["otros_nombres", "other_names", "alias", "apodo"],
    ),
    ("sex", &["sexo", "sex", "genero", "gender"]),
    (
        "birth_date",
        &[
            "fecha_nacimiento",
            "fecha_de_nacimiento",
            "nacimiento",
            "birth_date",
            "date_of_birth",
            "dob",
            "birth",
        ],
    ),
    (
        "age",
        &["edad", "age", "edad_aproximada", "approximate_age"],
    ),
    (
        "languages",
        &["idioma", "idiomas", "lengua", "language", "languages"],
    ),
    ("nationality", &["nacionalidad", "nationality"]),
];

/// One problem in the file, said so a person can fix it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// Spreadsheet row (the header is row 1); 0 for the file as a whole.
    pub row: usize,
    pub column: String,
    pub value: String,
    pub message: String,
    /// What kind of problem, for a translated message: the field (`birth_date`,
    /// `sex`...), `wristband_twice`, `wristband_worn`, `no_columns`, `record`, `file`.
    pub code: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.row == 0 {
            write!(f, "{}", self.message)
        } else if self.value.is_empty() {
            write!(f, "row {}, {}: {}", self.row, self.column, self.message)
        } else {
            write!(
                f,
                "row {}, {} '{}': {}",
                self.row, self.column, self.value, self.message
            )
        }
    }
}

/// Which column feeds which field.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Mapping {
    /// field -> column index
    pub fields: BTreeMap<String, usize>,
    /// Column names nothing was read from.
    pub ignored: Vec<String>,
    pub headers: Vec<String>,
}

impl Mapping {
    fn cell<'a>(&self, cells: &'a [String], field: &str) -> &'a str {
        self.fields
            .get(field)
            .and_then(|&i| cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
    fn column(&self, field: &str) -> String {
        self.fields
            .get(field)
            .and_then(|&i| self.headers.get(i))
            .cloned()
            .unwrap_or_else(|| field.to_string())
    }
}

/// The field a column name is recognised as (`Fecha de nacimiento` -> `birth_date`),
/// by the same folding and names as the importer; `amparo link` reads people with it.
pub fn recognised_field(header: &str) -> Option<&'static str> {
    let folded = fold_header(header);
    FIELDS
        .iter()
        .find(|(f, names)| *f == folded || names.contains(&folded.as_str()))
        .map(|(f, _)| *f)
}

/// A column name folded for comparison: case, accents and punctuation to `_`, the
/// group prefix of KoboToolbox and ODK (`datos/nombre`) dropped.
pub fn fold_header(h: &str) -> String {
    let last = h.rsplit(['/', ':']).next().unwrap_or(h);
    let mut out = String::new();
    for w in amparo_match::fold(last)
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(w);
    }
    out
}

/// Recognise the columns; `explicit` maps a column name to a field name
/// (`--map "Nombre del niño=given_name"`). An unknown field or column is an error.
pub fn map_columns(
    headers: &[String],
    explicit: &[(String, String)],
) -> Result<Mapping, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut fields = BTreeMap::new();
    let file_problem = |message: String| Problem {
        row: 0,
        column: String::new(),
        value: String::new(),
        message,
        code: "file".into(),
    };
    for (source, field) in explicit {
        if !FIELDS.iter().any(|(f, _)| f == field) {
            problems.push(file_problem(format!(
                "'{field}' is not a field that can be imported: use one of {}",
                FIELDS
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
            continue;
        }
        match headers
            .iter()
            .position(|h| h.trim() == source.trim() || fold_header(h) == fold_header(source))
        {
            Some(i) => {
                fields.insert(field.clone(), i);
            }
            None => problems.push(file_problem(format!(
                "the file has no column '{source}'; its columns are: {}",
                headers.join(", ")
            ))),
        }
    }
    for (i, h) in headers.iter().enumerate() {
        if fields.values().any(|&j| j == i) {
            continue;
        }
        if let Some(field) = recognised_field(h) {
            if let Some(&j) = fields.get(field) {
                if !explicit.iter().any(|(_, f)| f.as_str() == field) {
                    problems.push(file_problem(format!(
                        "columns '{}' and '{h}' both look like {field}: map one of them explicitly",
                        headers[j]
                    )));
                }
                continue;
            }
            fields.insert(field.to_string(), i);
        }
    }
    if !fields.contains_key("given_name")
        && !fields.contains_key("family_name")
        && !fields.contains_key("wristband")
    {
        problems.push(Problem { code: "no_columns".into(), ..file_problem(format!(
            "no column was recognised as a name (nombre, apellido) or a wristband (pulsera); the file's columns are: {}. Rename them or map them, e.g. --map \"Nombre del niño=given_name\"",
            headers.join(", ")
        )) });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let ignored = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !fields.values().any(|j| j == i) && !h.trim().is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    Ok(Mapping {
        fields,
        ignored,
        headers: headers.to_vec(),
    })
}

/// A row that passed every check.
#[derive(Debug, Clone)]
pub struct GoodRow {
    pub row: usize,
    pub child: Child,
    /// The same child typed again (in this file, another file, CSV or XLSX) has the
    /// same key; it is how a re-imported row is recognised.
    pub key: String,
}

/// The outcome of checking every row.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub good: Vec<GoodRow>,
    pub problems: Vec<Problem>,
    /// Rows (numbers) with at least one problem, in file order.
    pub bad_rows: Vec<usize>,
}

fn parse_sex(raw: &str) -> Result<&'static str, String> {
    match amparo_match::fold(raw).as_str() {
        "" | "desconocido" | "unknown" | "nd" | "no sabe" | "x" | "?" => Ok("unknown"),
        "f" | "female" | "femenino" | "mujer" | "nina" | "girl" | "fem" => Ok("female"),
        "m" | "male" | "masculino" | "hombre" | "nino" | "boy" | "masc" | "v" | "varon" => {
            Ok("male")
        }
        _ => Err("write F or M (femenino/masculino), or leave it empty if unknown".into()),
    }
}

fn parse_language(raw: &str) -> Result<String, String> {
    let folded = amparo_match::fold(raw);
    let code = match folded.as_str() {
        "espanol" | "castellano" | "spanish" => "es",
        "ingles" | "english" => "en",
        "idish" | "yidis" | "yiddish" | "idisch" | "yidish" => "yi",
        "hebreo" | "hebrew" | "ivrit" => "he",
        "frances" | "french" | "francais" => "fr",
        "kiche" | "k iche" | "quiche" => "quc",
        "qeqchi" | "q eqchi" | "kekchi" => "kek",
        other => other,
    };
    amparo_domain::text::Language::try_from(code.to_string())
        .map(|l| l.as_str().to_string())
        .map_err(|_| format!("'{raw}' is not a language amparo knows: write es, en, yi, he or another ISO 639 code"))
}

/// Check every row against the mapping and the child record's own rules.
pub fn check(table: &Table, mapping: &Mapping, operation: Uuid, today: NaiveDate) -> Checked {
    let ctx = Ctx { today };
    let mut out = Checked::default();
    let mut seen_keys: HashMap<String, usize> = HashMap::new();
    let mut seen_bands: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &table.rows {
        let row = *row;
        let mut problems = Vec::new();
        let push = |problems: &mut Vec<Problem>, field: &str, value: &str, message: String| {
            problems.push(Problem {
                row,
                column: mapping.column(field),
                value: value.to_string(),
                message,
                code: field.to_string(),
            })
        };
        let get = |f: &str| mapping.cell(cells, f).trim().to_string();
        let (wristband, given, family) = (get("wristband"), get("given_name"), get("family_name"));
        if wristband.is_empty() && given.is_empty() && family.is_empty() {
            push(
                &mut problems,
                "given_name",
                "",
                "the row has neither a name nor a wristband: write at least one".into(),
            );
        }
        let sex = match parse_sex(&get("sex")) {
            Ok(s) => s,
            Err(m) => {
                push(&mut problems, "sex", &get("sex"), m);
                "unknown"
            }
        };
        let birth_text = get("birth_date");
        let age_text = get("age");
        let mut birth = Birth::Unknown;
        let mut birth_key = String::new();
        if !birth_text.is_empty() {
            match parse_birth_text(&birth_text, today) {
                Ok(b @ Birth::EstimatedAge { .. }) => {
                    birth_key = format!("age:{birth_text}");
                    birth = b;
                }
                Ok(b) => birth = b,
                Err(m) => push(
                    &mut problems,
                    "birth_date",
                    &birth_text,
                    trim_quote(&m, &birth_text),
                ),
            }
        } else if !age_text.is_empty() {
            let plain = age_text
                .trim_start_matches(['~', '≈'])
                .trim_end_matches(|c: char| c.is_alphabetic() || c == ' ')
                .trim();
            match plain.parse::<u32>() {
                Ok(age) => {
                    birth = Birth::EstimatedAge { age, at: today };
                    birth_key = format!("age:{age}");
                    if let Err(e) = birth.validate(today) {
                        let m =
                            e.0.into_iter()
                                .map(|f| f.message)
                                .collect::<Vec<_>>()
                                .join("; ");
                        push(&mut problems, "age", &age_text, m);
                    }
                }
                Err(_) => push(
                    &mut problems,
                    "age",
                    &age_text,
                    "write the age in whole years, such as 7".into(),
                ),
            }
        }
        let mut languages = Vec::new();
        for l in get("languages")
            .split([',', ';', '/'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match parse_language(l) {
                Ok(code) if !languages.contains(&code) => languages.push(code),
                Ok(_) => {}
                Err(m) => push(&mut problems, "languages", l, m),
            }
        }
        let mut nationalities = Vec::new();
        for n in get("nationality")
            .split([',', ';', '/'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match amparo_domain::country::Country::parse(n) {
                Ok(c) => nationalities.push(c.as_str().to_string()),
                Err(m) => push(&mut problems, "nationality", n, m),
            }
        }
        let mut names = Vec::new();
        if !given.is_empty() || !family.is_empty() {
            let mut n = serde_json::Map::new();
            if !given.is_empty() {
                n.insert("given".into(), json!(given));
            }
            if !family.is_empty() {
                n.insert("family".into(), json!(family));
            }
            n.insert("kind".into(), json!("as_given"));
            names.push(Value::Object(n));
        }
        for other in get("other_names")
            .split(';')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            names.push(json!({"given": other, "kind": "alias"}));
        }
        let mut value = json!({
            "operation_id": operation,
            "names": names,
            "sex": sex,
            "languages": languages,
            "nationalities": nationalities,
        });
        if !matches!(birth, Birth::Unknown) {
            value["birth"] = serde_json::to_value(&birth).unwrap_or(Value::Null);
        }
        if !wristband.is_empty() {
            value["wristband"] = json!(wristband);
        }
        let child = match serde_json::from_value::<Child>(value) {
            Ok(mut c) => match c.prepare(&ctx) {
                Ok(()) => Some(c),
                Err(e) => {
                    for f in e.0 {
                        let field = field_of(&f.field);
                        // One problem per column: this one was said already.
                        if problems.iter().any(|p| p.column == mapping.column(field)) {
                            continue;
                        }
                        let v = get(field);
                        problems.push(Problem {
                            row,
                            column: mapping.column(field),
                            value: v,
                            message: f.message,
                            code: "record".into(),
                        });
                    }
                    None
                }
            },
            Err(e) => {
                push(
                    &mut problems,
                    "given_name",
                    "",
                    format!("the row cannot be read: {e}"),
                );
                None
            }
        };
        if !wristband.is_empty() {
            if let Some(first) = seen_bands.get(&wristband) {
                problems.push(Problem {
                    row,
                    column: mapping.column("wristband"),
                    value: wristband.clone(),
                    message: format!(
                        "row {first} has the same wristband: each child wears a different one"
                    ),
                    code: "wristband_twice".into(),
                });
            }
        }
        if problems.is_empty() {
            if let Some(child) = child {
                let key = recognition_key(operation, &child, &birth_key);
                if let Some(first) = seen_keys.get(&key) {
                    // The same child typed twice in one file: recognised, not an error.
                    let _ = first;
                    continue;
                }
                seen_keys.insert(key.clone(), row);
                if !wristband.is_empty() {
                    seen_bands.insert(wristband, row);
                }
                out.good.push(GoodRow { row, child, key });
                continue;
            }
        }
        out.bad_rows.push(row);
        out.problems.extend(problems);
    }
    out
}

/// The child record's field names back to import fields, for messages.
fn field_of(record_field: &str) -> &'static str {
    if record_field.starts_with("birth") {
        "birth_date"
    } else if record_field.contains("family") {
        "family_name"
    } else if record_field.starts_with("names") {
        "given_name"
    } else if record_field.starts_with("wristband") {
        "wristband"
    } else if record_field.starts_with("languages") {
        "languages"
    } else if record_field.starts_with("nationalities") {
        "nationality"
    } else {
        "sex"
    }
}

/// The birth parser quotes the value; the problem shows it already.
fn trim_quote(message: &str, value: &str) -> String {
    message
        .strip_prefix(&format!("'{value}': "))
        .or_else(|| message.strip_prefix(&format!("'{}': ", value.trim().to_lowercase())))
        .unwrap_or(message)
        .to_string()
}

/// Folded names, sex, birth (an estimated age by its number, not the day it was
/// typed) and wristband: what makes two rows the same registration.
fn recognition_key(operation: Uuid, child: &Child, birth_key: &str) -> String {
    let names: Vec<String> = child
        .names
        .iter()
        .map(|n| amparo_match::fold(&n.full()))
        .collect();
    let birth = if birth_key.is_empty() {
        serde_json::to_string(&child.birth).unwrap_or_default()
    } else {
        birth_key.to_string()
    };
    let text = format!(
        "{operation}|{}|{:?}|{birth}|{}",
        names.join(";"),
        child.sex,
        child
            .wristband
            .as_ref()
            .map(|w| w.to_string())
            .unwrap_or_default()
    );
    format!("import:{}", amparo_store::sha256_hex(text.as_bytes()))
}

/// The rejected rows as CSV with the original columns and a `problems` column, so the
/// person can fix them and import that file.
pub fn rejected_csv(table: &Table, checked: &Checked) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = table.headers.clone();
    header.push("problems".into());
    let _ = w.write_record(&header);
    for (row, cells) in table
        .rows
        .iter()
        .filter(|(r, _)| checked.bad_rows.contains(r))
    {
        let mut out = cells.clone();
        out.resize(table.headers.len(), String::new());
        let said: Vec<String> = checked
            .problems
            .iter()
            .filter(|p| p.row == *row)
            .map(|p| p.to_string())
            .collect();
        out.push(said.join(" | "));
        let _ = w.write_record(&out);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn run(csv: &str) -> (Mapping, Checked) {
        let t = read(csv.as_bytes()).unwrap();
        let m = map_columns(&t.headers, &[]).unwrap();
        let c = check(&t, &m, Uuid::nil(), today());
        (m, c)
    }

    #[test]
    fn spanish_columns_and_dates_people_type() {
        let (m, c) = run(
            "Nombre,Apellidos,Fecha de nacimiento,Sexo,Pulsera,Idioma,Otra cosa\n\
             Ana,Pérez,31/12/2015,F,P-1,español\n\
             Luis,Gómez,2014,masculino,P-2,\"es, yiddish\"\n\
             Rut,Weiss,about 7,,P-3,\n",
        );
        assert_eq!(m.ignored, vec!["Otra cosa"]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.good.len(), 3);
        assert_eq!(c.good[1].child.languages.len(), 2);
    }

    #[test]
    fn impossible_date_reported_with_row_column_value() {
        let (_, c) = run("nombre,fecha_nacimiento\nAna,2015-01-01\nLuis,31/02/2015\n");
        assert_eq!(c.good.len(), 1);
        assert_eq!(c.bad_rows, vec![3]);
        let p = &c.problems[0];
        assert_eq!(
            (p.row, p.column.as_str(), p.value.as_str()),
            (3, "fecha_nacimiento", "31/02/2015")
        );
        assert!(
            p.to_string()
                .starts_with("row 3, fecha_nacimiento '31/02/2015': no such date"),
            "{p}"
        );
    }

    #[test]
    fn every_problem_of_a_row_is_listed() {
        let (_, c) = run("nombre,sexo,edad\nAna,q,siete\n");
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
    }

    #[test]
    fn unknown_columns_need_a_map() {
        let t = read("Kind name,Years\nAna,7\n".as_bytes()).unwrap();
        let e = map_columns(&t.headers, &[]).unwrap_err();
        assert!(e[0].message.contains("Kind name"), "{}", e[0].message);
        let m = map_columns(
            &t.headers,
            &[
                ("Kind name".into(), "given_name".into()),
                ("Years".into(), "age".into()),
            ],
        )
        .unwrap();
        let c = check(&t, &m, Uuid::nil(), today());
        assert_eq!(c.good.len(), 1);
        let e = map_columns(&t.headers, &[("Kind name".into(), "nickname".into())]).unwrap_err();
        assert!(e[0].message.contains("not a field"));
    }

    #[test]
    fn kobo_group_prefixes_and_repeated_rows() {
        let (_, c) = run("datos/nombre,datos/edad\nAna,7\nAna,7\n");
        assert_eq!(c.good.len(), 1);
        assert!(c.problems.is_empty());
    }

    #[test]
    fn the_same_wristband_twice_is_a_problem() {
        let (_, c) = run("pulsera,nombre\nP1,Ana\nP1,Luis\n");
        assert_eq!(c.bad_rows, vec![3]);
    }

    #[test]
    fn rejected_rows_file_keeps_columns_and_says_why() {
        let t = read("nombre,fecha_nacimiento\nAna,2015\nLuis,31/02/2015\n".as_bytes()).unwrap();
        let m = map_columns(&t.headers, &[]).unwrap();
        let c = check(&t, &m, Uuid::nil(), today());
        let out = rejected_csv(&t, &c);
        assert!(
            out.starts_with("nombre,fecha_nacimiento,problems\nLuis,31/02/2015,\"row 3"),
            "{out}"
        );
    }
}
