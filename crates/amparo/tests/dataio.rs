//! Data in and out: spreadsheet import (API and CLI), exports that respect the
//! policy. Real server, real databases, real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const GIVEN: [&str; 12] = [
    "Ana", "Luis", "Rut", "Moisés", "Jana", "Tomás", "Lea", "Abel", "Noa", "Iván", "Sara", "Elías",
];
const FAMILY: [&str; 10] = [
    "Prueba",
    "Ensayo",
    "Muestra",
    "Ficticio",
    "Inventado",
    "Ejemplar",
    "Modelo",
    "Simulado",
    "Ilustre",
    "Supuesto",
];

/// `n` invented children as rows: (pulsera, nombre, apellido, fecha, sexo, idioma).
fn rows(n: usize, prefix: &str) -> Vec<[String; 6]> {
    (0..n)
        .map(|i| {
            [
                format!("{prefix}{i}"),
                GIVEN[i % GIVEN.len()].to_string(),
                format!("{}{}", FAMILY[(i / GIVEN.len()) % FAMILY.len()], i / 120),
                format!("{:02}/{:02}/{}", 1 + i % 28, 1 + i % 12, 2010 + i % 8),
                if i % 2 == 0 { "F" } else { "M" }.to_string(),
                if i % 3 == 0 {
                    "es, yiddish"
                } else {
                    "español"
                }
                .to_string(),
            ]
        })
        .collect()
}

const HEADER: [&str; 6] = [
    "pulsera",
    "nombre",
    "apellido",
    "fecha_nacimiento",
    "sexo",
    "idioma",
];

fn csv_of(rows: &[[String; 6]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

fn xlsx_of(rows: &[[String; 6]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            if c == 3 {
                // A real date cell, as a spreadsheet program stores it.
                let d: Vec<u16> = cell.split('/').map(|x| x.parse().unwrap()).collect();
                let date =
                    rust_xlsxwriter::ExcelDateTime::from_ymd(d[2], d[1] as u8, d[0] as u8).unwrap();
                let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
                sheet.write_datetime_with_format(r, c, &date, &fmt).unwrap();
            } else {
                sheet.write_string(r, c, cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn import(api: &Api, op: &str, bytes: Vec<u8>, query: &str) -> Reply {
    api.raw(
        Method::POST,
        &format!("/operations/{op}/imports?{query}"),
        Some(bytes),
        &[],
    )
    .await
}

async fn bytes_of(api: &Api, path: &str) -> (StatusCode, String, Vec<u8>) {
    let resp = api
        .client
        .get(format!("{}/api/v1{path}", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

async fn children_of(api: &Api, op: &str) -> Vec<Value> {
    let (status, _, body) = bytes_of(
        api,
        &format!("/operations/{op}/children/export?format=json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice::<Vec<Value>>(&body).unwrap()
}

/// What a registration says about the child, without bookkeeping.
fn essence(c: &Value) -> Value {
    json!({"names": c["names"], "sex": c["sex"], "birth": c["birth"], "wristband": c["wristband"],
           "languages": c["languages"], "status": c["status"]})
}

async fn import_all_or_nothing(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Import Agency", "im").await;
    let op = &w.operation;
    let mut data = rows(500, "T");
    // Five bad rows scattered through the file.
    data[40][3] = "31/02/2015".into();
    data[120][4] = "q".into();
    data[250][3] = "2099".into();
    data[333] = [
        String::new(),
        String::new(),
        String::new(),
        "2015".into(),
        "F".into(),
        String::new(),
    ];
    data[499][5] = "klingon".into();
    let file = csv_of(&data);
    let before = children_of(&w.caseworker, op).await.len();

    // Dry run: every problem, nothing written.
    let r = import(&w.caseworker, op, file.clone(), "mode=dry_run").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["bad_rows"],
        json!([42, 122, 252, 335, 501]),
        "{}",
        r.body["problems"]
    );
    assert_eq!(r.body["ready"], 495);
    let first = &r.body["problems"][0];
    assert_eq!(
        (
            first["row"].as_u64(),
            first["column"].as_str(),
            first["value"].as_str()
        ),
        (Some(42), Some("fecha_nacimiento"), Some("31/02/2015"))
    );
    assert!(first["message"].as_str().unwrap().contains("no such date"));

    // All or nothing: refused with every problem listed, nothing stored.
    let r = import(&w.caseworker, op, file.clone(), "mode=all_or_nothing").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 5, "{}", r.body);
    assert_eq!(children_of(&w.caseworker, op).await.len(), before);

    // Good rows: 495 in, the 5 back as a file to fix.
    let r = import(&w.caseworker, op, file.clone(), "mode=good_rows").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["imported"].as_array().unwrap().len(), 495);
    // Case numbers are reserved in one step for an import: each distinct, none reused.
    let mut numbers: Vec<String> = children_of(&w.caseworker, op)
        .await
        .iter()
        .map(|c| c["case_number"].as_str().unwrap().to_string())
        .collect();
    let n = numbers.len();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), n, "duplicate case numbers");
    let rejected = r.body["rejected_csv"].as_str().unwrap();
    assert_eq!(rejected.lines().count(), 6, "{rejected}");
    assert!(rejected.lines().next().unwrap().ends_with(",problems"));
    assert_eq!(children_of(&w.caseworker, op).await.len(), before + 495);

    // The same file again: every good row recognised, nothing new.
    let r = import(&w.caseworker, op, file.clone(), "mode=good_rows").await;
    assert_eq!(
        r.body["imported"].as_array().unwrap().len(),
        0,
        "{}",
        r.body
    );
    assert_eq!(r.body["recognised"].as_array().unwrap().len(), 495);
    assert_eq!(children_of(&w.caseworker, op).await.len(), before + 495);

    // Fixed rows import; an existing child's wristband on another child is refused.
    let mut fixed = vec![data[40].clone(), data[120].clone()];
    fixed[0][3] = "28/02/2015".into();
    fixed[1][4] = "F".into();
    fixed.push(data[0].clone());
    fixed[2][1] = "Otra".into();
    let r = import(&w.caseworker, op, csv_of(&fixed), "mode=all_or_nothing").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already wears"),
        "{}",
        r.body
    );
    let r = import(
        &w.caseworker,
        op,
        csv_of(&fixed[..2]),
        "mode=all_or_nothing",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(children_of(&w.caseworker, op).await.len(), before + 497);
    assert!(server.cli(&["audit", "verify"], None).1.contains("intact"));
}
on_both!(import_modes, import_all_or_nothing);

async fn xlsx_and_csv_agree(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Sheet Agency", "sh").await;
    let other = w
        .caseworker
        .create("/operations", json!({"name": "Second", "country": "GT", "start_date": "2026-02-01", "lead_agency": "Test"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = rows(40, "X");
    let r = import(
        &w.caseworker,
        &w.operation,
        csv_of(&data),
        "mode=all_or_nothing",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = import(&w.caseworker, &other, xlsx_of(&data), "mode=all_or_nothing").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let essence_of = |list: Vec<Value>| {
        let mut v: Vec<String> = list
            .iter()
            .filter(|c| c["wristband"].as_str().is_some_and(|b| b.starts_with('X')))
            .map(|c| essence(c).to_string())
            .collect();
        v.sort();
        v
    };
    let a = essence_of(children_of(&w.caseworker, &w.operation).await);
    let b = essence_of(children_of(&w.caseworker, &other).await);
    assert_eq!(a.len(), 40);
    assert_eq!(a, b);
    // The XLSX of rows already imported from CSV is recognised row by row.
    let r = import(
        &w.caseworker,
        &w.operation,
        xlsx_of(&data),
        "mode=all_or_nothing",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["recognised"].as_array().unwrap().len(), 40);
    // A respelled child already registered is flagged as a suspected duplicate.
    let again = [[
        "Z1".to_string(),
        "Jakobo".into(),
        "Testman".into(),
        String::new(),
        "M".into(),
        String::new(),
    ]];
    let mut f = csv_of(&again);
    f.extend_from_slice(b"");
    let r = import(&w.caseworker, &w.operation, f, "mode=dry_run").await;
    let sus = r.body["suspected_duplicates"].as_array().unwrap();
    assert_eq!(sus.len(), 1, "{}", r.body);
    assert_eq!(sus[0]["existing_id"], json!(w.child_a));
}
on_both!(xlsx_csv, xlsx_and_csv_agree);

async fn bad_files_and_options(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Bad Files", "bf").await;
    let op = &w.operation;
    for (body, query, status, needle) in [
        (
            b"Kind,Years\nAna,7\n".to_vec(),
            "mode=dry_run",
            422,
            "no column was recognised",
        ),
        (
            b"PK\x03\x04broken".to_vec(),
            "mode=dry_run",
            422,
            "cannot be opened",
        ),
        (b"nombre\nAna\n".to_vec(), "mode=everything", 400, "mode"),
        (b"nombre\nAna\n".to_vec(), "map=nombre", 400, "COLUMN=FIELD"),
        (
            b"Kind\nAna\n".to_vec(),
            "map=Kind%3Dnickname",
            422,
            "not a field",
        ),
    ] {
        let r = import(&w.caseworker, op, body, query).await;
        assert_eq!(r.status.as_u16(), status, "{query}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(needle),
            "{}",
            r.body
        );
    }
    let r = import(
        &w.caseworker,
        op,
        b"Kind\nAna\n".to_vec(),
        "mode=all_or_nothing&map=Kind%3Dgiven_name",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Another agency's operation does not exist for this user.
    let stranger = server.user("bfx", "caseworker", "Other Agency", &[]);
    let r = import(
        &stranger,
        op,
        b"nombre\nAna\n".to_vec(),
        "mode=all_or_nothing",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Shelter staff may not import.
    let staff = server.user("bfs", "shelter_staff", "Bad Files", &[&w.facility_a]);
    let r = import(&staff, op, b"nombre\nAna\n".to_vec(), "mode=all_or_nothing").await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
}
on_both!(bad_files, bad_files_and_options);

async fn exports_follow_the_policy(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Export Agency", "ex").await;
    let op = &w.operation;
    let investigator = server.user("exi", "caseworker+investigator", "Export Agency", &[]);
    let patch = investigator.get(&format!("/children/{}", w.child_a)).await;
    let r = investigator
        .patch(
            &format!("/children/{}", w.child_a),
            patch.etag.as_deref().unwrap(),
            json!({"protection_notes": "Nota secreta de prueba"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let partner = server.user("exp", "partner", "Export Agency", &[]);
    let staff = server.user("exs", "shelter_staff", "Export Agency", &[&w.facility_a]);
    for fmt in ["csv", "json", "xlsx"] {
        let (status, ct, body) = bytes_of(
            &investigator,
            &format!("/operations/{op}/children/export?format={fmt}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            ct.contains(match fmt {
                "csv" => "text/csv",
                "json" => "json",
                _ => "spreadsheetml",
            }),
            "{ct}"
        );
        if fmt != "xlsx" {
            let text = String::from_utf8(body).unwrap();
            assert!(
                text.contains("Jacobo") && text.contains("Nota secreta"),
                "{text}"
            );
        }
        let (status, _, body) = bytes_of(
            &partner,
            &format!("/operations/{op}/children/export?format={fmt}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        if fmt != "xlsx" {
            let text = String::from_utf8(body).unwrap();
            for hidden in [
                "Jacobo",
                "Testman",
                "Nota secreta",
                "given_name",
                "protection_notes",
                "wristband",
                "current_facility_id",
            ] {
                assert!(
                    !text.contains(hidden),
                    "partner {fmt} export shows {hidden}: {text}"
                );
            }
        } else {
            // XLSX is a ZIP of XML: check what the partner's file says inside.
            let t = amparo_io_text(&body);
            assert!(!t.contains("Jacobo") && !t.contains("given_name"), "{t}");
        }
        let (_, _, body) = bytes_of(
            &staff,
            &format!("/operations/{op}/children/export?format={fmt}"),
        )
        .await;
        if fmt == "json" {
            let list: Vec<Value> = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                list.len(),
                1,
                "shelter staff see only their facility's children"
            );
            assert!(list[0].get("protection_notes").is_none());
        }
    }
    let (status, _, _) = bytes_of(
        &investigator,
        &format!("/operations/{op}/children/export?format=pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The export is audited: the child's audit trail names it.
    let audit = investigator
        .get(&format!("/audit?record={}", w.child_a))
        .await;
    assert!(
        audit.body.to_string().contains("exported"),
        "{}",
        audit.body
    );
    let op_audit = investigator.get(&format!("/audit?record={op}")).await;
    assert!(
        op_audit
            .body
            .to_string()
            .contains("children exported as xlsx"),
        "{}",
        op_audit.body
    );
}
on_both!(exports, exports_follow_the_policy);

/// The shared strings of an XLSX file, read back with the same reader the import uses.
fn amparo_io_text(xlsx: &[u8]) -> String {
    let t = amparo_io::table::read(xlsx).unwrap();
    let mut s = t.headers.join(",");
    for (_, r) in t.rows {
        s.push_str(&r.join(","));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_import_with_report_and_rejected_rows() {
    let server = Server::start(Db::Sqlite).await.unwrap();
    let w = world(&server, "Cli Agency", "ci").await;
    let dir = temp_dir("cli-import");
    let mut data = rows(60, "C");
    data[9][3] = "31/02/2015".into();
    let file = dir.join("ninos.csv");
    std::fs::write(&file, csv_of(&data)).unwrap();
    let f = file.to_str().unwrap();
    let (code, out) = server.cli(
        &["import", "children", "--operation", &w.operation, f],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("row 11, fecha_nacimiento '31/02/2015': no such date"),
        "{out}"
    );
    assert!(out.contains("nothing was imported"), "{out}");
    let rejected = dir.join("rechazadas.csv");
    let (code, out) = server.cli(
        &[
            "import",
            "children",
            "--operation",
            &w.operation,
            f,
            "--good-rows",
            "--rejected",
            rejected.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("59 children imported"), "{out}");
    assert!(out.contains("rows written"), "progress is shown: {out}");
    assert!(std::fs::read_to_string(&rejected)
        .unwrap()
        .contains("31/02/2015"));
    let (code, out) = server.cli(
        &[
            "import",
            "children",
            "--operation",
            &w.operation,
            f,
            "--dry-run",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("59 already imported"), "{out}");
    assert_eq!(children_of(&w.caseworker, &w.operation).await.len(), 61);
}

/// The text of a PDF, by poppler's pdftotext. CI installs it; on a machine without it
/// the check is skipped (never in CI, where AMPARO_REQUIRE_BROWSER is set).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = temp_dir("pdf");
    let path = dir.join("f.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).to_string()),
        _ => {
            assert!(
                std::env::var_os("AMPARO_REQUIRE_BROWSER").is_none(),
                "pdftotext (poppler-utils) is required in CI"
            );
            eprintln!("skipping PDF text checks: pdftotext is not installed");
            None
        }
    }
}

async fn case_file_pdf(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Court Agency", "cf").await;
    let inv = server.user("cfinv", "investigator", "Court Agency", &[]);
    let partner = server.user("cfp", "partner", "Court Agency", &[]);
    let allegation = inv
        .create(
            "/allegations",
            json!({"kind": "physical_abuse", "victims": [w.child_a], "reported_by": "Fiscalía (prueba)",
                   "reported_at": "2026-11-21T10:00:00Z", "prosecutor_reference": "MP-PRUEBA-77",
                   "summary": "Declaración tomada en el centro."}),
        )
        .await;
    let aid = allegation["id"].as_str().unwrap();
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let up = inv
        .raw(
            Method::POST,
            &format!("/evidence?allegation={aid}"),
            Some(png),
            &[("x-filename", "foto-cuarto.png")],
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let sha = up.body["sha256"].as_str().unwrap_or_default().to_string();
    w.caseworker
        .create("/tasks", json!({"title": "Llamar a la abuela", "assignee": "cfcw", "due": "2026-12-01", "record_id": w.child_a}))
        .await;
    let child = w
        .caseworker
        .get(&format!("/children/{}", w.child_a))
        .await
        .body;
    let case = child["case_number"].as_str().unwrap().to_string();

    let (status, ct, pdf) =
        bytes_of(&w.caseworker, &format!("/children/{}/case-file", w.child_a)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&pdf) {
        for needed in [
            case.as_str(),
            "Expediente del caso",
            "Jacobo",
            "Casa A",
            "TEST-0001",
            "Juzgado de prueba",
            "Llamar a la abuela",
            "Página 1 de",
            "cfcw",
            "Cadena de auditoría al imprimir: entrada",
        ] {
            assert!(
                text.contains(needed),
                "caseworker's case file lacks {needed}:\n{text}"
            );
        }
        for hidden in ["MP-PRUEBA-77", "Declaración tomada", "foto-cuarto"] {
            assert!(
                !text.contains(hidden),
                "caseworker's case file shows {hidden}"
            );
        }
    }
    let (status, _, pdf) =
        bytes_of(&inv, &format!("/children/{}/case-file?lang=en", w.child_a)).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = pdf_text(&pdf) {
        if std::env::var_os("AMPARO_SHOW_PDF").is_some() {
            eprintln!("{text}");
        }
        for needed in [
            "Case file",
            case.as_str(),
            "Allegations",
            "MP-PRUEBA-77",
            "Declaración tomada",
            "Evidence manifest",
            "foto-cuarto.png",
            "Page 1 of",
        ] {
            assert!(
                text.contains(needed),
                "investigator's case file lacks {needed}:\n{text}"
            );
        }
        if !sha.is_empty() {
            assert!(text.contains(&sha[..16]), "the evidence hash is printed");
        }
    }
    let (status, _, pdf) = bytes_of(&partner, &format!("/children/{}/case-file", w.child_a)).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(&case));
        assert!(
            !text.contains("Jacobo") && !text.contains("Testman"),
            "{text}"
        );
    }
    // Another agency cannot learn the child exists; a bad language is a 400.
    let stranger = server.user("cfx", "caseworker", "Other Agency", &[]);
    let (status, _, _) = bytes_of(&stranger, &format!("/children/{}/case-file", w.child_a)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) =
        bytes_of(&inv, &format!("/children/{}/case-file?lang=fr", w.child_a)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let audit = inv.get(&format!("/audit?record={}", w.child_a)).await;
    assert!(
        audit.body.to_string().contains("printed in the case file"),
        "{}",
        audit.body
    );
    assert!(
        audit.body.to_string().contains("case file printed (en)"),
        "{}",
        audit.body
    );
    assert!(server.cli(&["audit", "verify"], None).1.contains("intact"));
}
on_both!(case_file, case_file_pdf);

/// Everything a restored agency must have: the records as exported, and the files.
async fn snapshot(api: &Api, op: &str, child: &str) -> (Vec<Value>, Vec<u8>) {
    let mut children = children_of(api, op).await;
    children.sort_by_key(|c| c["id"].as_str().unwrap().to_string());
    let (status, _, photo) = bytes_of(api, &format!("/children/{child}/photo")).await;
    assert_eq!(status, StatusCode::OK);
    (children, photo)
}

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_sqlite() {
    let mut server = Server::start(Db::Sqlite).await.unwrap();
    let w = world(&server, "Backup Agency", "bk").await;
    let r = w
        .caseworker
        .raw(
            Method::PUT,
            &format!("/children/{}/photo", w.child_a),
            Some(JPEG.to_vec()),
            &[("content-type", "image/jpeg")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let r = import(
        &w.caseworker,
        &w.operation,
        csv_of(&rows(25, "B")),
        "mode=all_or_nothing",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let before = snapshot(&w.caseworker, &w.operation, &w.child_a).await;
    let dir = temp_dir("backups");
    let plain = dir.join("plain.amparo");
    let sealed = dir.join("sealed.amparo");
    // Online, while the server runs.
    let (code, out) = server.cli(&["backup", "--to", plain.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 files"), "{out}");
    let (code, out) = server.cli(
        &["backup", "--to", sealed.to_str().unwrap(), "--encrypt"],
        Some("frase de prueba muy larga\n"),
    );
    assert_eq!(code, 0, "{out}");
    let raw = std::fs::read(&sealed).unwrap();
    assert!(
        !raw.windows(6).any(|w| w == b"Jacobo"),
        "an encrypted backup shows no name"
    );
    let (code, out) = server.cli(&["backup", "--to", plain.to_str().unwrap()], None);
    assert_ne!(code, 0, "never overwrites: {out}");
    server.kill();

    for (file, pass) in [
        (&plain, None),
        (&sealed, Some("frase de prueba muy larga\n")),
    ] {
        let target = temp_dir("restored").join("data");
        let restore = |args: &[&str], stdin: Option<&str>| {
            let out = std::process::Command::new(bin())
                .arg("--data-dir")
                .arg(&target)
                .args(args)
                .env_remove("AMPARO_DATABASE_URL")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    if let Some(s) = stdin {
                        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
                    }
                    c.wait_with_output()
                })
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        };
        if pass.is_some() {
            let (code, out) = restore(
                &["restore", "--from", file.to_str().unwrap()],
                Some("la frase equivocada\n"),
            );
            assert_ne!(code, 0, "{out}");
            assert!(out.contains("passphrase"), "{out}");
            assert!(!target.exists(), "a failed restore leaves nothing behind");
        }
        let (code, out) = restore(&["restore", "--from", file.to_str().unwrap()], pass);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("audit chain intact"), "{out}");
        let (code, out) = restore(&["restore", "--from", file.to_str().unwrap()], pass);
        assert_ne!(code, 0, "refuses a non-empty directory: {out}");
        assert!(out.contains("not empty"), "{out}");
        let restored = Server::start_with(target.clone(), None, "serve");
        let cw = Api::bearer(&restored.base, w.caseworker.token.as_deref().unwrap());
        let after = snapshot(&cw, &w.operation, &w.child_a).await;
        assert_eq!(before.0, after.0, "identical records");
        assert_eq!(before.1, after.1, "identical files");
    }
}

/// On PostgreSQL the database's own tools do the backup: pg_dump, then pg_restore
/// into an empty database, then amparo serves it unchanged and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dump_and_restore_round_trip() {
    let Some(mut server) = Server::start(Db::Postgres).await else {
        return;
    };
    let w = world(&server, "Dump Agency", "pd").await;
    let r = w
        .caseworker
        .raw(
            Method::PUT,
            &format!("/children/{}/photo", w.child_a),
            Some(JPEG.to_vec()),
            &[("content-type", "image/jpeg")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    let before = snapshot(&w.caseworker, &w.operation, &w.child_a).await;
    let url = server.database_url.clone().unwrap();
    let dump = temp_dir("pgdump").join("amparo.dump");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .expect("pg_dump (postgresql-client) is installed with PostgreSQL");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.kill();
    let fresh = fresh_postgres().await.unwrap();
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&fresh)
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The files directory is copied as it is (it only ever gains files).
    let data = temp_dir("pgrestored");
    let copy = std::process::Command::new("cp")
        .arg("-a")
        .arg(server.data_dir.join("files"))
        .arg(&data)
        .status()
        .unwrap();
    assert!(copy.success());
    let restored = Server::start_with(data, Some(fresh), "serve");
    let cw = Api::bearer(&restored.base, w.caseworker.token.as_deref().unwrap());
    let after = snapshot(&cw, &w.operation, &w.child_a).await;
    assert_eq!(before, after);
    assert!(restored
        .cli(&["audit", "verify"], None)
        .1
        .contains("intact"));
}
