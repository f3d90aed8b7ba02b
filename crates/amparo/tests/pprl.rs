//! Privacy-preserving linkage: two agencies encode their people with a shared secret
//! and find the same children from the encodings alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Deterministic invented people: a small linear congruential generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn pairs_in(path: &Path) -> Vec<(String, String, f64)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[1].to_string(), x[2].parse().unwrap())
        })
        .collect()
}

fn encode(secret: &Path, input: &Path, output: &Path, map: &[&str]) {
    let mut args = vec![
        "pprl",
        "encode",
        "--secret-file",
        s(secret),
        "--input",
        s(input),
        "--output",
        s(output),
    ];
    args.extend_from_slice(map);
    let (ok, out) = run(&args);
    assert!(ok, "{out}");
}

#[test]
fn linkage_from_encodings_alone() {
    let dir = temp_dir("pprl");
    let given = [
        "Sara", "Lea", "Jaim", "David", "Ester", "Malka", "Pinjas", "Shifra", "Rut", "Moises",
        "Ana", "Tomas",
    ];
    let family = [
        "Fridman",
        "Goldstain",
        "Shvarts",
        "Taitelbaum",
        "Rubin",
        "Stern",
        "Kats",
        "Vais",
        "Levi",
        "Klain",
        "Roth",
        "Blum",
    ];
    let mut rng = Lcg(7);
    let (mut a, mut b) = (
        String::from("id,given_name,family_name,birth_date\n"),
        String::from("ref,nombre,apellido,nacimiento\n"),
    );
    let n = 300;
    for i in 0..n {
        let g = format!(
            "{}{}",
            given[rng.next(12)],
            ["", "a", "el", "i"][rng.next(4)]
        );
        let f = format!(
            "{}{}",
            family[rng.next(12)],
            ["", "er", "man", "ski"][rng.next(4)]
        );
        let (y, m, d) = (2005 + rng.next(15), 1 + rng.next(12), 1 + rng.next(28));
        a.push_str(&format!("a{i},{g},{f},{y}-{m:02}-{d:02}\n"));
        // The other agency's record: a typo, swapped names, or day and month swapped.
        let mut g2 = g.clone();
        let mut f2 = f.clone();
        let (mut m2, mut d2) = (m, d);
        match rng.next(5) {
            0 => g2.replace_range(1..2, "x"),
            1 => std::mem::swap(&mut g2, &mut f2),
            2 if d <= 12 => std::mem::swap(&mut m2, &mut d2),
            _ => {}
        }
        b.push_str(&format!("b{i},{g2},{f2},{y}{m2:02}{d2:02}\n"));
    }
    for i in 0..100 {
        let (y, m, d) = (2005 + rng.next(15), 1 + rng.next(12), 1 + rng.next(28));
        b.push_str(&format!(
            "x{i},{},{},{y}-{m:02}-{d:02}\n",
            given[rng.next(12)],
            family[rng.next(12)]
        ));
    }
    let (fa, fb) = (dir.join("a.csv"), dir.join("b.csv"));
    std::fs::write(&fa, a).unwrap();
    std::fs::write(&fb, b).unwrap();
    let secret = dir.join("secret");
    std::fs::write(&secret, "a secret the two agencies agreed on\n").unwrap();
    let (ca, cb) = (dir.join("a.clk"), dir.join("b.clk"));
    encode(&secret, &fa, &ca, &[]);
    encode(
        &secret,
        &fb,
        &cb,
        &[
            "--map",
            "ref=id",
            "--map",
            "nombre=given_name",
            "--map",
            "apellido=family_name",
            "--map",
            "nacimiento=birth_date",
        ],
    );
    // The encodings hold no name.
    let text = std::fs::read_to_string(&cb).unwrap();
    assert!(text.starts_with("id,clk\n"));
    // (Short names turn up in any base64 text by chance; the long ones must not.)
    for name in given.iter().chain(family.iter()).filter(|n| n.len() >= 6) {
        assert!(!text.contains(name), "{name} appears in the encodings");
    }
    let out = dir.join("pairs.csv");
    let (ok, said) = run(&["pprl", "match", s(&ca), s(&cb), "--output", s(&out)]);
    assert!(ok, "{said}");
    assert!(said.contains("comparisons"), "{said}");
    let pairs = pairs_in(&out);
    let right = pairs
        .iter()
        .filter(|(x, y, _)| x[1..] == y[1..] && y.starts_with('b'))
        .count();
    let precision = right as f64 / pairs.len() as f64;
    let recall = right as f64 / n as f64;
    assert!(
        precision >= 0.95 && recall >= 0.9,
        "precision {precision:.3} recall {recall:.3}"
    );
    // One match per record at most.
    let mut seen_a: Vec<&String> = pairs.iter().map(|p| &p.0).collect();
    seen_a.sort();
    seen_a.dedup();
    assert_eq!(seen_a.len(), pairs.len());
    // Without the secret, the encodings do not link.
    let other = dir.join("other-secret");
    std::fs::write(&other, "somebody else's guess at the secret").unwrap();
    let cx = dir.join("x.clk");
    encode(&other, &fa, &cx, &[]);
    let out2 = dir.join("pairs2.csv");
    let (ok, said) = run(&["pprl", "match", s(&cx), s(&cb), "--output", s(&out2)]);
    assert!(ok, "{said}");
    assert!(
        pairs_in(&out2).len() < n / 20,
        "{} pairs without the secret",
        pairs_in(&out2).len()
    );
    // Bad input is refused with a clear message.
    std::fs::write(dir.join("short"), "short").unwrap();
    let (ok, said) = run(&[
        "pprl",
        "encode",
        "--secret-file",
        s(&dir.join("short")),
        "--input",
        s(&fa),
        "--output",
        s(&dir.join("y.clk")),
    ]);
    assert!(!ok && said.contains("at least 16 bytes"), "{said}");
    std::fs::write(dir.join("bad.clk"), "id,clk\nq,not-base64!\n").unwrap();
    let (ok, said) = run(&[
        "pprl",
        "match",
        s(&dir.join("bad.clk")),
        s(&cb),
        "--output",
        s(&dir.join("z.csv")),
    ]);
    assert!(!ok && said.contains("line 2"), "{said}");
}

/// The public FEBRL4 files, when this machine has them next to the repository.
#[test]
fn febrl4_from_encodings_alone() {
    // AMPARO_LINKAGE_DATA (CI sets it), else the files beside the repository.
    let data = std::env::var_os("AMPARO_LINKAGE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/linkage")
        });
    if !data.join("febrl4a.csv").exists() {
        eprintln!("skipping: FEBRL4 files not found at {}", data.display());
        return;
    }
    let dir = temp_dir("pprl-febrl");
    let secret = dir.join("secret");
    std::fs::write(&secret, "benchmark secret shared by both agencies\n").unwrap();
    let map = [
        "--map",
        "rec_id=id",
        "--map",
        "surname=family_name",
        "--map",
        "date_of_birth=birth_date",
    ];
    let (ca, cb) = (dir.join("a.clk"), dir.join("b.clk"));
    encode(&secret, &data.join("febrl4a.csv"), &ca, &map);
    encode(&secret, &data.join("febrl4b.csv"), &cb, &map);
    let out = dir.join("pairs.csv");
    let (ok, said) = run(&["pprl", "match", s(&ca), s(&cb), "--output", s(&out)]);
    assert!(ok, "{said}");
    let pairs = pairs_in(&out);
    let right = pairs
        .iter()
        .filter(|(x, y, _)| x.split('-').nth(1) == y.split('-').nth(1))
        .count();
    let (p, r) = (right as f64 / pairs.len() as f64, right as f64 / 5000.0);
    let f1 = 2.0 * p * r / (p + r);
    assert!(f1 > 0.95, "F1 {f1:.3} (P {p:.3}, R {r:.3})");
}
