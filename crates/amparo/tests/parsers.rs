//! Property tests over every parser of outside input (issue 9, "fuzzing and bad
//! input"): spreadsheets (CSV and XLSX bytes), the import's column recognition and row
//! checks, referral packages, and birth dates as people type them. Each gets arbitrary
//! and near-valid input; none may panic, and each must answer in bounded time.
//! Case counts are set by PROPTEST_CASES (default below); the benchmark run raises it.
use amparo_io::{children, referral, table};
use chrono::NaiveDate;
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default()
}

/// CSV-ish text: real header words, separators, quotes, dates and odd characters.
fn csvish() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just("nombre".to_string()),
        Just("apellidos".to_string()),
        Just("fecha de nacimiento".to_string()),
        Just("edad".to_string()),
        Just("sexo".to_string()),
        Just("pulsera".to_string()),
        Just("\"".to_string()),
        Just("31/02/2015".to_string()),
        Just("about 7".to_string()),
        Just("=cmd|' /C calc'!A0".to_string()),
        Just("יעקב".to_string()),
        "[a-zA-Z0-9 /.-]{0,12}",
        any::<String>(),
    ];
    let sep = prop_oneof![Just(","), Just(";"), Just("\t"), Just("\n"), Just("\r\n")];
    prop::collection::vec((cell, sep), 0..60).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(c, s)| format!("{c}{s}"))
            .collect::<String>()
    })
}

fn import_all(bytes: &[u8]) {
    let started = Instant::now();
    if let Ok(t) = table::read(bytes) {
        if let Ok(mapping) = children::map_columns(&t.headers, &[]) {
            let checked = children::check(&t, &mapping, uuid::Uuid::nil(), today());
            let _ = children::rejected_csv(&t, &checked);
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "slow on {} bytes",
        bytes.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn spreadsheet_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        import_all(&bytes);
    }

    #[test]
    fn zip_like_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        // The XLSX reader is chosen by the ZIP signature: feed it broken archives.
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(tail);
        import_all(&bytes);
    }

    #[test]
    fn csv_text_never_panics(text in csvish()) {
        import_all(text.as_bytes());
        // The same text as Windows-1252 bytes (every char above 255 dropped).
        let latin: Vec<u8> = text.chars().filter_map(|c| u8::try_from(u32::from(c)).ok()).collect();
        import_all(&latin);
    }

    #[test]
    fn birth_text_never_panics(raw in prop_oneof![any::<String>(), "[0-9/ .~-]{0,14}", "(about|unos|~) ?[0-9]{0,4}( años)?"]) {
        let _ = amparo_domain::birth::parse_birth_text(&raw, today());
    }
}

#[test]
fn damaged_referral_packages_are_refused() {
    let dir = std::env::temp_dir().join(format!("amparo-parsers-{}", std::process::id()));
    let keys = referral::ServerKeys::load_or_create(&dir).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases()));
    let good = keys
        .seal(
            &serde_json::json!({"kind": "test"}),
            &keys.public().age_recipient,
        )
        .unwrap();
    let known = vec![keys.public().signing_key];
    assert!(keys.open(&good, &known).is_ok());
    runner
        .run(
            &(
                prop::collection::vec(any::<u8>(), 0..4096),
                0..good.len(),
                any::<u8>(),
            ),
            |(junk, at, flip)| {
                assert!(keys.open(&junk, &known).is_err());
                // A real package with one byte changed is refused too, not half read.
                let mut bent = good.clone();
                bent[at] ^= flip.max(1);
                assert!(keys.open(&bent, &known).is_err());
                Ok(())
            },
        )
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
