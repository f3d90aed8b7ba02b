//! Data in and out of amparo: children from spreadsheets (CSV, XLSX), exports
//! (CSV, XLSX, JSON), the court case file (PDF) and encrypted backups.
//! Parsing and writing are pure; `import` is the one part that writes to the store.
#![forbid(unsafe_code)]

pub mod backup;
pub mod casefile;
pub mod children;
pub mod export;
pub mod import;
pub mod pfif;
pub mod referral;
pub mod table;

use amparo_domain::birth::Birth;
use amparo_domain::names::NameKind;
use amparo_domain::records::{Child, Sex};
use amparo_match::link::{BirthParts, Person};
use chrono::Datelike;

/// A birth as amparo-match compares them.
pub fn birth_parts(birth: &Birth) -> BirthParts {
    match *birth {
        Birth::Exact { date } => BirthParts {
            year: Some(date.year()),
            month: Some(date.month()),
            day: Some(date.day()),
            approximate: false,
            digits: date.format("%Y%m%d").to_string().as_bytes().try_into().ok(),
        },
        Birth::YearMonth { year, month } => BirthParts {
            year: Some(year),
            month: Some(month),
            ..Default::default()
        },
        Birth::Year { year } => BirthParts {
            year: Some(year),
            ..Default::default()
        },
        Birth::EstimatedAge { age, at } => BirthParts {
            year: Some(at.year() - age as i32),
            approximate: true,
            ..Default::default()
        },
        Birth::Unknown => BirthParts::default(),
    }
}

/// A child as amparo-match compares people: the name as given first, every other
/// name part as another name.
pub fn person_of(id: &str, child: &Child) -> Person {
    let first = child
        .names
        .iter()
        .find(|n| n.kind == NameKind::AsGiven)
        .or(child.names.first());
    let other_names = child
        .names
        .iter()
        .flat_map(|n| [n.given.as_ref(), n.family.as_ref()])
        .flatten()
        .map(|t| t.to_string())
        .collect();
    let birth = birth_parts(&child.birth);
    Person {
        id: id.to_string(),
        given: first
            .and_then(|n| n.given.as_ref())
            .map(|g| g.to_string())
            .unwrap_or_default(),
        family: first
            .and_then(|n| n.family.as_ref())
            .map(|f| f.to_string())
            .unwrap_or_default(),
        other_names,
        sex: match child.sex {
            Sex::Female => Some('f'),
            Sex::Male => Some('m'),
            Sex::Unknown => None,
        },
        birth,
    }
}
