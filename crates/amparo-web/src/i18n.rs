//! Spanish and English, from Fluent message files; dates the way each language writes them.
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().get(..2) {
            Some("es") => Some(Lang::Es),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }
    /// The first offered language in an Accept-Language header, Spanish by default.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("");
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Es)
    }
}

struct Bundles {
    es: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    let res = match FluentResource::try_new(source.to_string()) {
        Ok(r) => r,
        Err((r, errors)) => {
            tracing::error!(?errors, lang, "errors in Fluent messages");
            r
        }
    };
    if let Err(errors) = b.add_resource(res) {
        tracing::error!(?errors, lang, "duplicate Fluent messages");
    }
    b
}

fn bundles() -> &'static Bundles {
    static B: OnceLock<Bundles> = OnceLock::new();
    B.get_or_init(|| Bundles {
        es: bundle("es", include_str!("../locales/es.ftl")),
        en: bundle("en", include_str!("../locales/en.ftl")),
    })
}

/// Guatemala's offset (UTC-6, no daylight saving): how times are shown.
pub fn display_offset() -> FixedOffset {
    match FixedOffset::west_opt(6 * 3600) {
        Some(o) => o,
        None => Utc.fix(),
    }
}
use chrono::Offset;

/// A translator for one request.
#[derive(Clone)]
pub struct Tr {
    pub lang: Lang,
    _keep: Arc<()>,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr {
            lang,
            _keep: Arc::new(()),
        }
    }
    fn bundle(&self) -> &'static FluentBundle<FluentResource> {
        match self.lang {
            Lang::Es => &bundles().es,
            Lang::En => &bundles().en,
        }
    }
    /// The message for `key`; the key itself if missing (so a gap shows, not a blank).
    pub fn get(&self, key: &str) -> String {
        self.format(key, None)
    }
    pub fn with(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.format(key, Some(&a))
    }
    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        let b = self.bundle();
        let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut errors = Vec::new();
        b.format_pattern(pattern, args, &mut errors).into_owned()
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// 29/11/2026 in Spanish, Nov 29, 2026 in English.
    pub fn date(&self, d: NaiveDate) -> String {
        match self.lang {
            Lang::Es => d.format("%d/%m/%Y").to_string(),
            Lang::En => d.format("%b %-d, %Y").to_string(),
        }
    }
    pub fn datetime(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&display_offset());
        match self.lang {
            Lang::Es => local.format("%d/%m/%Y %H:%M").to_string(),
            Lang::En => local.format("%b %-d, %Y %-I:%M %p").to_string(),
        }
    }
    /// A stored RFC 3339 time, shown in local time; left as is if it does not parse.
    pub fn when(&self, rfc3339: &str) -> String {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| self.datetime(t.with_timezone(&Utc)))
            .unwrap_or_else(|_| rfc3339.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn languages_and_dates() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,es;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr, es;q=0.5"), Lang::Es);
        assert_eq!(Lang::from_accept_language(""), Lang::Es);
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
        assert_eq!(Tr::new(Lang::Es).date(d), "29/11/2026");
        assert_eq!(Tr::new(Lang::En).date(d), "Nov 29, 2026");
        assert_ne!(Tr::new(Lang::Es).get("nav-dashboard"), "nav-dashboard");
        assert_ne!(Tr::new(Lang::En).get("nav-dashboard"), "nav-dashboard");
    }
    #[test]
    fn both_languages_have_the_same_keys() {
        let keys = |src: &str| -> Vec<String> {
            let mut k: Vec<String> = src
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
                .filter(|k| !k.starts_with('#') && !k.starts_with(' '))
                .collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(include_str!("../locales/es.ftl")),
            keys(include_str!("../locales/en.ftl"))
        );
    }
}
