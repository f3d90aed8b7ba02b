//! Small validated text types.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Trimmed text, 1 to 500 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

pub const MAX_TEXT: usize = 500;

impl Text {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if t.chars().count() > MAX_TEXT {
            return Err(format!("is longer than {MAX_TEXT} characters: shorten it"));
        }
        if t.chars().any(|c| c.is_control()) {
            return Err("contains control characters (line breaks are not allowed here)".into());
        }
        Ok(Text(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Text {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Text::parse(&s)
    }
}
impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text such as notes and descriptions: up to 20,000 characters, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LongText(String);

pub const MAX_LONG_TEXT: usize = 20_000;

impl TryFrom<String> for LongText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim();
        if t.chars().count() > MAX_LONG_TEXT {
            return Err(format!(
                "is longer than {MAX_LONG_TEXT} characters: shorten it"
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err("contains control characters".into());
        }
        Ok(LongText(t.to_string()))
    }
}
impl From<LongText> for String {
    fn from(t: LongText) -> String {
        t.0
    }
}
impl LongText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A language code: ISO 639-1 (two letters) or ISO 639-3 (three), lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        if (2..=3).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Language(t))
        } else {
            Err(format!(
                "'{s}' is not a language code: use ISO 639 such as es, en, yi or he"
            ))
        }
    }
}
impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}
impl Language {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn text_rules() {
        assert!(Text::parse("  ").is_err());
        assert_eq!(Text::parse(" Ana ").map(|t| t.0), Ok("Ana".into()));
        assert!(Text::parse("a\nb").is_err());
        assert!(Text::parse(&"x".repeat(501)).is_err());
        assert!(Language::try_from("ES".to_string()).is_ok());
        assert!(Language::try_from("spanish".to_string()).is_err());
    }
}
