//! Our own transliteration test sets (data/spellings.csv and data/spellings_heldout.csv,
//! written for this project: 20 invented people each, in Spanish, English/Yiddish
//! romanisation, a variant, and Hebrew script). Every pair within a person should
//! match; pairs across people should not. Prints precision and recall; fails if either
//! drops below its floor.
#![allow(clippy::unwrap_used)]

use amparo_match::{compare_names, NameParts, LIKELY_SAME};

/// Every pair of rows compared: found, false and missed pairs, and what went wrong.
fn measure(text: &str) -> (usize, usize, usize, Vec<String>) {
    let rows: Vec<(String, NameParts)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split(',');
            let person = f.next().unwrap().to_string();
            let given = f.next().unwrap().to_string();
            let family = f.next().unwrap().to_string();
            (person, NameParts { given, family })
        })
        .collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut misses = Vec::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let same = rows[i].0 == rows[j].0;
            let hit = compare_names(&rows[i].1, &rows[j].1).score >= LIKELY_SAME;
            match (same, hit) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    misses.push(format!("false match: {:?} / {:?}", rows[i].1, rows[j].1));
                }
                (true, false) => {
                    fn_ += 1;
                    misses.push(format!("missed: {:?} / {:?}", rows[i].1, rows[j].1));
                }
                _ => {}
            }
        }
    }
    (tp, fp, fn_, misses)
}

/// Precision and recall of one set, printed with every mistake.
fn report(name: &str, text: &str) -> (f64, f64) {
    let (tp, fp, fn_, misses) = measure(text);
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "{name}: {tp} found, {fp} false, {fn_} missed; precision {precision:.3} recall {recall:.3}"
    );
    for m in &misses {
        println!("{m}");
    }
    (precision, recall)
}

#[test]
fn spelling_variants_of_the_same_people() {
    let (precision, recall) = report("spellings", include_str!("../data/spellings.csv"));
    assert!(precision >= 0.99, "precision {precision:.3}");
    assert!(recall >= 0.85, "recall {recall:.3}");
}

/// A second set written after the name table, of given names the table does not hold
/// (Zelig, Feivel, Simcha, Nechama...): only transliteration, skeletons and sound
/// codes can find these, so it measures how the rules generalise.
#[test]
fn spelling_variants_of_names_the_table_lacks() {
    let (precision, recall) = report(
        "held-out spellings",
        include_str!("../data/spellings_heldout.csv"),
    );
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.5, "recall {recall:.3}");
}
