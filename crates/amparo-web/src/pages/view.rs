//! Small view models built from *redacted* records: a page cannot show a field the
//! policy removed, because it never receives it.
use crate::i18n::Tr;
use amparo_domain::birth::Birth;
use chrono::NaiveDate;
use serde_json::Value;

pub struct Item {
    pub id: String,
    pub label: String,
    pub extra: String,
}

pub struct Opt {
    pub key: String,
    pub label: String,
}

pub struct NameRow {
    pub text: String,
    pub kind: String,
    pub language: String,
}

pub fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A name object's given and family parts, as one line.
pub fn full(n: &Value) -> String {
    [s(n, "given"), s(n, "family")]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn names(t: &Tr, v: &Value) -> Vec<NameRow> {
    v.get("names")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|n| NameRow {
                    text: full(n),
                    kind: t.get(&format!("name-{}", s(n, "kind"))),
                    language: s(n, "language").to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The name to show first: the first as-given Latin name, else any name, else the
/// case number or wristband.
pub fn title(v: &Value) -> String {
    let list = v.get("names").and_then(Value::as_array);
    let pick = list.and_then(|l| {
        l.iter()
            .find(|n| s(n, "kind") == "as_given" && s(n, "script") != "hebrew")
            .or_else(|| l.first())
    });
    match pick.map(full).filter(|n| !n.is_empty()) {
        Some(n) => n,
        None => {
            let case = s(v, "case_number");
            if case.is_empty() {
                s(v, "id").to_string()
            } else {
                case.to_string()
            }
        }
    }
}

pub fn birth(v: &Value) -> Option<Birth> {
    v.get("birth")
        .and_then(|b| serde_json::from_value::<Birth>(b.clone()).ok())
}

pub fn birth_label(t: &Tr, v: &Value) -> String {
    match birth(v) {
        None | Some(Birth::Unknown) => t.get("birth-unknown"),
        Some(Birth::Exact { date }) => t.with("birth-exact", &[("date", t.date(date))]),
        Some(Birth::Year { year }) => t.with("birth-year", &[("year", year.to_string())]),
        Some(Birth::YearMonth { year, month }) => t.with(
            "birth-year-month",
            &[("year", year.to_string()), ("month", format!("{month:02}"))],
        ),
        Some(Birth::EstimatedAge { age, at }) => t.with(
            "birth-estimated",
            &[("age", age.to_string()), ("date", t.date(at))],
        ),
    }
}

/// The birth as the edit form shows it, in the same forms the form accepts.
pub fn birth_input(v: &Value, today: NaiveDate) -> String {
    match birth(v) {
        None | Some(Birth::Unknown) => String::new(),
        Some(Birth::Exact { date }) => date.format("%d/%m/%Y").to_string(),
        Some(Birth::Year { year }) => year.to_string(),
        Some(Birth::YearMonth { year, month }) => format!("{year}-{month:02}"),
        Some(Birth::EstimatedAge { age, at }) => {
            if at == today {
                age.to_string()
            } else {
                format!("{age} ({at})")
            }
        }
    }
}

/// Most likely age in whole years today, if anything is known.
pub fn age_now(v: &Value, today: NaiveDate) -> Option<u32> {
    birth(v)
        .and_then(|b| b.age_range_on(today))
        .map(|(young, old)| (young + old) / 2)
}

pub fn age_label(t: &Tr, v: &Value, today: NaiveDate) -> String {
    match age_now(v, today) {
        Some(a) => t.with("age-years", &[("age", a.to_string())]),
        None => t.get("age-unknown"),
    }
}

pub fn list_text(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub const STATUSES: [&str; 7] = [
    "intake",
    "in_care",
    "missing",
    "hospitalised",
    "transferred",
    "released",
    "closed",
];

pub fn options(t: &Tr, prefix: &str, keys: &[&str]) -> Vec<Opt> {
    keys.iter()
        .map(|k| Opt {
            key: (*k).to_string(),
            label: t.get(&format!("{prefix}-{k}")),
        })
        .collect()
}
