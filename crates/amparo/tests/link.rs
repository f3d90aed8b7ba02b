//! `amparo link` on person CSVs: spellings, swapped names, bad rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::ffi::OsStr;
use std::process::{Command, Output};

/// `amparo link` with these arguments.
fn link(args: &[&dyn AsRef<OsStr>]) -> Output {
    Command::new(bin()).arg("link").args(args).output().unwrap()
}

#[test]
fn links_spellings_and_reports_bad_rows() {
    let dir = temp_dir("link");
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    let mut rows_a = String::from("id, given_name, family_name, sex, birth_date, extra\n");
    let mut rows_b = String::from("ident,nombre,apellido,sexo,nacimiento\n");
    rows_a.push_str("gt-1,Jacobo,Vaingarten,m,2014-03-02,x\n");
    rows_b.push_str("us-1,Yaakov,Weingarten,male,20140203\n");
    rows_a.push_str("gt-2,Rivka,Klein,f,2012,\n");
    rows_b.push_str("us-2,Klein,Rivka,f,2012-01\n");
    rows_a.push_str("gt-3,\"Moshe \"\"Moishe\"\"\",Rosenberg,m,not a date,\n");
    rows_a.push_str(",nobody,,,,\n");
    let families = [
        "Friedman",
        "Goldstein",
        "Schwartz",
        "Teitelbaum",
        "Halberstam",
        "Rubin",
        "Stern",
        "Katz",
    ];
    let givens = [
        "Sara", "Leah", "Chaim", "Dovid", "Esther", "Malka", "Pinchas", "Shifra",
    ];
    for i in 0..200 {
        rows_a.push_str(&format!(
            "ga-{i},{},{},f,{}-0{}-1{},\n",
            givens[i % 8],
            families[(i / 8) % 8],
            2000 + i % 15,
            1 + i % 9,
            i % 9
        ));
        rows_b.push_str(&format!(
            "ub-{i},{},{},m,{}-0{}-2{}\n",
            givens[(i + 3) % 8],
            families[(i / 3) % 8],
            1990 + i % 7,
            1 + i % 8,
            i % 8
        ));
    }
    std::fs::write(&a, rows_a).unwrap();
    std::fs::write(&b, rows_b).unwrap();
    let out = dir.join("pairs.csv");
    let clusters = dir.join("clusters.csv");
    let run = link(&[
        &"--input",
        &a,
        &"--against",
        &b,
        &"--output",
        &out,
        &"--clusters",
        &clusters,
        &"--map",
        &"ident=id",
        &"--map",
        &"nombre=given_name",
        &"--map",
        &"apellido=family_name",
        &"--map",
        &"sexo=sex",
        &"--map",
        &"nacimiento=birth_date",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 4") && stderr.contains("not a date"),
        "bad date reported with its line: {stderr}"
    );
    assert!(
        stderr.contains("line 5") && stderr.contains("empty id"),
        "{stderr}"
    );
    let pairs = std::fs::read_to_string(&out).unwrap();
    assert!(pairs.starts_with("id_a,id_b,probability"));
    assert!(
        pairs.contains("gt-1,us-1,"),
        "spelling variants linked: {pairs}"
    );
    assert!(
        pairs.contains("gt-2,us-2,"),
        "swapped names linked: {pairs}"
    );
    assert!(
        !pairs.contains("ga-"),
        "unrelated people are not linked: {pairs}"
    );
    let c = std::fs::read_to_string(&clusters).unwrap();
    assert!(c.contains("us-1,gt-1"), "{c}");

    // Odd input never crashes: a missing file, a file without a name column.
    let missing = link(&[
        &"--input",
        &"/nonexistent.csv",
        &"--output",
        &dir.join("x.csv"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let no_name = dir.join("noname.csv");
    std::fs::write(&no_name, "code\nx\n").unwrap();
    let r = link(&[&"--input", &no_name, &"--output", &dir.join("y.csv")]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--map"));
}

/// Names typed into a spreadsheet with no id column are linked all the same: each row is
/// known by its line in the file (the header is line 1), and stderr says so.
#[test]
fn rows_without_ids_go_by_their_line_numbers() {
    let dir = temp_dir("link-noid");
    let input = dir.join("names.csv");
    let mut text = String::from("given,family,dob\n");
    text.push_str("Jacobo,Vaingarten,2013-03-14\n");
    for i in 0..40 {
        text.push_str(&format!(
            "Nombre{i},Apellido{},20{:02}-0{}-1{}\n",
            i * 7,
            i % 20,
            1 + i % 9,
            i % 10
        ));
    }
    text.push_str("\nYaacov,Weingarten,2013-03-14\n");
    std::fs::write(&input, text).unwrap();
    let output = dir.join("pairs.csv");
    let r = link(&[&"--input", &input, &"--output", &output]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("each row's id is its line number"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    // Jacobo is on line 2; Yaacov on line 44, after 40 others and a blank line.
    let pairs = std::fs::read_to_string(&output).unwrap();
    assert!(pairs.lines().any(|l| l.starts_with("2,44,")), "{pairs}");
}

/// Windows-1252 text, as a spreadsheet program on Spanish-language Windows saves it.
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect()
}

#[test]
fn reads_spreadsheet_csv_with_semicolons_and_windows_accents() {
    let dir = temp_dir("link-es");
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    let mut rows_a = String::from("id,given_name,family_name,birth_date\n");
    let mut rows_b = String::from("\nID;Given_Name;Family_Name;Birth_Date\n");
    rows_a.push_str("gt-1,José,Pérez Núñez,2013-05-04\n");
    rows_b.push_str("mx-1;José;Pérez Núñez;04/05/2013\n");
    rows_b.push_str("mx-2;Íñigo;Muñoz;2011\n");
    rows_b.push_str("mx-2;Íñigo;Muñoz;2011\n");
    let givens = ["Lucía", "Inés", "Andrés", "Ramón", "Sofía", "Julián"];
    let families = ["Gómez", "Martínez", "Hernández", "López", "Díaz", "Sánchez"];
    for i in 0..150 {
        rows_a.push_str(&format!(
            "ga-{i},{},{},{}\n",
            givens[i % 6],
            families[(i / 6) % 6],
            2000 + i % 15
        ));
        rows_b.push_str(&format!(
            "mb-{i};{};{};{}\n",
            givens[(i + 1) % 6],
            families[(i / 2) % 6],
            1980 + i % 9
        ));
    }
    std::fs::write(&a, rows_a).unwrap();
    std::fs::write(&b, cp1252(&rows_b)).unwrap();
    let out = dir.join("pairs.csv");
    let run = link(&[&"--input", &a, &"--against", &b, &"--output", &out]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("unreadable"), "every row read: {stderr}");
    assert!(
        !stderr.contains("04/05/2013"),
        "a day-first date is read: {stderr}"
    );
    assert!(stderr.contains("303 records"), "{stderr}");
    assert!(
        stderr.contains("line 5: id 'mx-2' is already used on line 4"),
        "a repeated id is reported and its row left out: {stderr}"
    );
    let pairs = std::fs::read_to_string(&out).unwrap();
    assert!(
        pairs.contains("gt-1,mx-1,"),
        "the accented name read from Windows-1252 agrees with UTF-8: {pairs}"
    );

    // An empty file says what it needs instead of listing no columns.
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let r = link(&[&"--input", &empty, &"--output", &dir.join("z.csv")]);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("empty") && stderr.contains("given_name"),
        "{stderr}"
    );
}

#[test]
fn recognises_usual_column_names_and_ages() {
    let dir = temp_dir("link-cols");
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    // An export with English names and a time on each date; a Spanish register with
    // estimated ages and no date they were taken on.
    let this_year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let mut rows_a = String::from("Record ID,first_name,surname,gender,dob,notes\n");
    let mut rows_b = String::from("unique_id;Nombre;Apellidos;Sexo;Edad\n");
    rows_a.push_str(&format!(
        "a-1,Miriam,Feldbaum,female,{}-3-9 00:00:00,x\n",
        this_year - 9
    ));
    rows_b.push_str("b-1;Miriam;Feldbaum;F;9 años\n");
    rows_a.push_str(&format!("a-2,Noa,Grinblat,f,{}-01-20,\n", this_year - 2));
    rows_b.push_str("b-2;Noa;Grinblat;f;30 meses\n");
    let givens = ["Ruth", "Tamar", "Noemi", "Lea", "Dina", "Eva"];
    let families = ["Adler", "Brandt", "Engel", "Fuchs", "Kessler", "Lerner"];
    for i in 0..150 {
        rows_a.push_str(&format!(
            "ga-{i},{},{},f,{}-0{}-1{},\n",
            givens[i % 6],
            families[(i / 6) % 6],
            1990 + i % 15,
            1 + i % 9,
            i % 9
        ));
        rows_b.push_str(&format!(
            "gb-{i};{};{};m;{}\n",
            givens[(i + 1) % 6],
            families[(i / 2) % 6],
            40 + i % 9
        ));
    }
    std::fs::write(&a, rows_a).unwrap();
    std::fs::write(&b, rows_b).unwrap();
    let out = dir.join("pairs.csv");
    let run = link(&[&"--input", &a, &"--against", &b, &"--output", &out]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for said in [
        "column 'Record ID' read as id",
        "column 'first_name' read as given_name",
        "column 'surname' read as family_name",
        "column 'dob' read as birth_date",
        "column 'Apellidos' read as family_name",
        "column 'Edad' read as age",
        &format!("read as an age in {this_year}"),
    ] {
        assert!(stderr.contains(said), "{said}: {stderr}");
    }
    assert!(!stderr.contains("not a date"), "{stderr}");
    let pairs = std::fs::read_to_string(&out).unwrap();
    for pair in ["a-1,b-1,", "a-2,b-2,"] {
        assert!(
            pairs.contains(pair),
            "a birth date agrees with an age in years or months: {pair} {pairs}"
        );
    }

    // A file whose names no rule recognises says so instead of linking nameless rows.
    let nameless = dir.join("nameless.csv");
    std::fs::write(&nameless, "id,vorname,nachname\n1,Eva,Engel\n").unwrap();
    let r = link(&[&"--input", &nameless, &"--output", &dir.join("n.csv")]);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("no name column") && stderr.contains("vorname"),
        "{stderr}"
    );
}

#[test]
fn reads_whole_names_from_one_column() {
    let dir = temp_dir("link-full");
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    let mut rows_a = String::from("id,Nombre completo,Fecha de nacimiento\n");
    let mut rows_b = String::from("id,given_name,family_name,birth_date\n");
    rows_a.push_str("a-1,\"López García, María\",2012-07-15\n");
    rows_a.push_str("a-2,Tomás Ixcoy,2010-02-01\n");
    rows_b.push_str("b-1,María,López García,2012-07-15\n");
    rows_b.push_str("b-2,Tomás,Ixcoy,2010-02-01\n");
    let givens = ["Rosa", "Pedro", "Elena", "Julio", "Marta", "Hugo"];
    let families = ["Cux", "Tzoc", "Batz", "Chávez", "Xol", "Pop"];
    for i in 0..120 {
        rows_a.push_str(&format!(
            "ga-{i},{} {},{}\n",
            givens[i % 6],
            families[(i / 6) % 6],
            1990 + i % 13
        ));
        rows_b.push_str(&format!(
            "gb-{i},{},{},{}\n",
            givens[(i + 2) % 6],
            families[(i / 3) % 6],
            1970 + i % 11
        ));
    }
    std::fs::write(&a, rows_a).unwrap();
    std::fs::write(&b, rows_b).unwrap();
    let out = dir.join("pairs.csv");
    let run = link(&[&"--input", &a, &"--against", &b, &"--output", &out]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("column 'Nombre completo' read as whole names"),
        "{stderr}"
    );
    let pairs = std::fs::read_to_string(&out).unwrap();
    for pair in ["a-1,b-1,", "a-2,b-2,"] {
        assert!(pairs.contains(pair), "{pair}: {pairs}");
    }
}
