//! Names as the protective checks compare them: the visitor log, releases and tracing
//! requests all ask whether someone is (under another spelling) a restricted person or
//! an alleged perpetrator. These checks run whatever the user may see.
use amparo_domain::names::Name;
use amparo_match::NameParts;
use amparo_store::StoredRecord;

pub(crate) fn name_parts(n: &Name) -> NameParts {
    NameParts {
        given: n.given.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        family: n.family.as_ref().map(|f| f.to_string()).unwrap_or_default(),
    }
}

/// Every name of a person or child record.
pub(crate) fn names_of(rec: &StoredRecord) -> Vec<NameParts> {
    rec.data
        .get("names")
        .and_then(|n| serde_json::from_value::<Vec<Name>>(n.clone()).ok())
        .unwrap_or_default()
        .iter()
        .map(name_parts)
        .collect()
}

/// Do any two of these names likely belong to the same person?
pub(crate) fn likely_same(a: &[NameParts], b: &[NameParts]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| amparo_match::compare_names(x, y).score >= amparo_match::LIKELY_SAME)
    })
}
