//! Names are lists: as given, legal, aliases, each with its script and language.
use crate::error::Invalid;
use crate::text::{Language, Text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    #[default]
    AsGiven,
    Legal,
    Alias,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    Latin,
    Hebrew,
    Other,
}

impl Script {
    /// The script of a piece of text, judged by its letters.
    pub fn detect(text: &str) -> Script {
        let mut latin = 0;
        let mut hebrew = 0;
        let mut other = 0;
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            if ('\u{0590}'..='\u{05FF}').contains(&c) || ('\u{FB1D}'..='\u{FB4F}').contains(&c) {
                hebrew += 1;
            } else if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                latin += 1;
            } else {
                other += 1;
            }
        }
        if hebrew >= latin && hebrew >= other && hebrew > 0 {
            Script::Hebrew
        } else if latin >= other {
            Script::Latin
        } else {
            Script::Other
        }
    }
}

/// One name of a person. At least one of `given` and `family` is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Text>,
    #[serde(default)]
    pub kind: NameKind,
    /// Detected from the letters when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

impl Name {
    pub fn full(&self) -> String {
        match (&self.given, &self.family) {
            (Some(g), Some(f)) => format!("{g} {f}"),
            (Some(g), None) => g.to_string(),
            (None, Some(f)) => f.to_string(),
            (None, None) => String::new(),
        }
    }

    /// Check the name and fill in what can be derived (the script).
    pub fn prepare(&mut self) -> Result<(), Invalid> {
        if self.given.is_none() && self.family.is_none() {
            return Err(Invalid::one(
                "",
                "needs a given name or a family name (or both)",
            ));
        }
        if self.script.is_none() {
            self.script = Some(Script::detect(&self.full()));
        }
        Ok(())
    }
}

/// Check and complete a list of names.
pub fn prepare_names(names: &mut [Name]) -> Result<(), Invalid> {
    let mut errs = Invalid::default();
    if names.len() > 50 {
        errs.push("names", "has more than 50 entries");
    }
    for (i, n) in names.iter_mut().enumerate() {
        if let Err(e) = n.prepare() {
            errs.extend(e.prefixed(&format!("names[{i}]")));
        }
    }
    errs.into_result()
}

/// Lower case, accents removed, punctuation turned into spaces, spaces collapsed:
/// the form names are indexed and searched by.
pub fn search_form(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn script_detection() {
        assert_eq!(Script::detect("יעקב ווינגארטן"), Script::Hebrew);
        assert_eq!(Script::detect("Jacobo Vaingarten"), Script::Latin);
        assert_eq!(Script::detect("José Núñez"), Script::Latin);
    }
    #[test]
    fn search_form_folds() {
        assert_eq!(search_form("  José-María  NÚÑEZ "), "jose maria nunez");
        assert_eq!(search_form("יַעֲקֹב"), "יעקב");
    }
    #[test]
    fn name_needs_a_part() {
        let mut n = Name {
            given: None,
            family: None,
            kind: NameKind::AsGiven,
            script: None,
            language: None,
        };
        assert!(n.prepare().is_err());
    }
}
