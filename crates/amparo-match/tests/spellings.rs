//! Our own transliteration test set (data/spellings.csv, written for this project:
//! 20 invented people, each in Spanish, English/Yiddish romanisation, a variant, and
//! Hebrew script). Every pair within a person should match; pairs across people
//! should not. Prints precision and recall; fails if either drops below the floor.
#![allow(clippy::unwrap_used)]

use amparo_match::{compare_names, NameParts, LIKELY_SAME};

#[test]
fn spelling_variants_of_the_same_people() {
    let text = include_str!("../data/spellings.csv");
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
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("spellings: {tp} found, {fp} false, {fn_} missed; precision {precision:.3} recall {recall:.3}");
    for m in &misses {
        println!("{m}");
    }
    assert!(precision >= 0.99, "precision {precision:.3}");
    assert!(recall >= 0.85, "recall {recall:.3}");
}
