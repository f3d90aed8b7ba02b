//! Children written out as CSV, XLSX or JSON. The caller passes records already
//! redacted for the viewer; the columns themselves are chosen by the policy, so a
//! column the viewer may not see is absent even when the list is empty.
use amparo_domain::birth::Birth;
use amparo_domain::policy::{field_sensitivity, Viewer};
use amparo_domain::records::Kind;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Format> {
        match raw {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }
}

/// (column header, the child record field it comes from)
const CHILD_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("case_number", "case_number"),
    ("wristband", "wristband"),
    ("status", "status"),
    ("given_name", "names"),
    ("family_name", "names"),
    ("other_names", "names"),
    ("sex", "sex"),
    ("birth", "birth"),
    ("languages", "languages"),
    ("nationalities", "nationalities"),
    ("current_facility_id", "current_facility_id"),
    ("protection_notes", "protection_notes"),
    ("updated_at", "updated_at"),
];

/// The columns this viewer may see.
pub fn child_columns(viewer: &Viewer) -> Vec<(&'static str, &'static str)> {
    CHILD_COLUMNS
        .iter()
        .filter(|(_, field)| viewer.may_see(field_sensitivity(Kind::Child, field)))
        .copied()
        .collect()
}

pub fn birth_text(b: &Birth) -> String {
    match b {
        Birth::Unknown => String::new(),
        Birth::Exact { date } => date.format("%Y-%m-%d").to_string(),
        Birth::YearMonth { year, month } => format!("{year}-{month:02}"),
        Birth::Year { year } => year.to_string(),
        Birth::EstimatedAge { age, at } => format!("about {age} on {}", at.format("%Y-%m-%d")),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

/// One redacted child as cells under `columns`.
pub fn child_cells(child: &Value, columns: &[(&str, &str)]) -> Vec<String> {
    let names = child.get("names").and_then(Value::as_array);
    let first = names.and_then(|n| {
        n.iter()
            .find(|x| x.get("kind").and_then(Value::as_str) == Some("as_given"))
            .or(n.first())
    });
    columns
        .iter()
        .map(|(header, field)| match *header {
            "given_name" => first
                .and_then(|n| n.get("given"))
                .map(text)
                .unwrap_or_default(),
            "family_name" => first
                .and_then(|n| n.get("family"))
                .map(text)
                .unwrap_or_default(),
            "other_names" => names
                .map(|n| {
                    n.iter()
                        .filter(|x| Some(*x) != first)
                        .map(|x| {
                            [x.get("given"), x.get("family")]
                                .into_iter()
                                .flatten()
                                .map(text)
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default(),
            "birth" => child
                .get("birth")
                .and_then(|b| serde_json::from_value::<Birth>(b.clone()).ok())
                .map(|b| birth_text(&b))
                .unwrap_or_default(),
            _ => child.get(*field).map(text).unwrap_or_default(),
        })
        .collect()
}

/// A spreadsheet cell must not start a formula when opened (CSV/formula injection):
/// a name typed as `=HYPERLINK(...)` is written as text.
fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

pub fn csv(columns: &[(&str, &str)], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(columns.iter().map(|(h, _)| *h));
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| defuse(c)));
    }
    w.into_inner().unwrap_or_default()
}

pub fn xlsx(columns: &[(&str, &str)], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let err = |e: rust_xlsxwriter::XlsxError| format!("the spreadsheet cannot be written: {e}");
    for (c, (h, _)) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            // Written as strings: rust_xlsxwriter never turns a string into a formula.
            sheet
                .write_string(r as u32 + 1, c as u16, cell)
                .map_err(err)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amparo_domain::policy::Role;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn partner_columns_carry_no_names_or_notes() {
        let partner = Viewer::new(
            Uuid::nil(),
            "p".into(),
            Uuid::nil(),
            vec![Role::Partner],
            vec![],
        );
        let cols: Vec<&str> = child_columns(&partner).iter().map(|(h, _)| *h).collect();
        assert!(
            !cols.contains(&"given_name") && !cols.contains(&"protection_notes"),
            "{cols:?}"
        );
        let cw = Viewer::new(
            Uuid::nil(),
            "c".into(),
            Uuid::nil(),
            vec![Role::Caseworker],
            vec![],
        );
        assert!(child_columns(&cw).iter().any(|(h, _)| *h == "given_name"));
    }

    #[test]
    fn cells_and_formula_defusing() {
        let child = json!({"case_number": "GT-1", "names": [{"given": "=cmd", "family": "Weiss", "kind": "as_given"}, {"given": "Rivka", "kind": "alias"}],
                           "birth": {"precision": "year", "year": 2015}, "languages": ["es", "yi"]});
        let cols = [
            ("case_number", "case_number"),
            ("given_name", "names"),
            ("other_names", "names"),
            ("birth", "birth"),
            ("languages", "languages"),
        ];
        let cells = child_cells(&child, &cols);
        assert_eq!(cells, vec!["GT-1", "=cmd", "Rivka", "2015", "es; yi"]);
        let out = String::from_utf8(csv(&cols, &[cells])).unwrap();
        assert!(out.contains("'=cmd"), "{out}");
    }
}
