//! `amparo pprl encode|match`: privacy-preserving linkage between two agencies.
use crate::link::{parse_map, read_people};
use amparo_match::pprl::{encode, from_base64, match_greedy, to_base64, Clk};
use std::collections::HashMap;
use std::path::Path;

/// The shared secret: the whole file, trailing line breaks removed. It must be long
/// enough that the encodings cannot be rebuilt by guessing it.
fn read_secret(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let trimmed: Vec<u8> = {
        let mut b = bytes;
        while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            b.pop();
        }
        b
    };
    if trimmed.len() < 16 {
        return Err(format!(
            "{}: the secret must have at least 16 bytes (both agencies use the same file)",
            path.display()
        ));
    }
    Ok(trimmed)
}

pub fn encode_file(
    secret: &Path,
    input: &Path,
    output: &Path,
    map: &[String],
) -> Result<String, String> {
    let secret = read_secret(secret)?;
    let map: HashMap<String, String> = parse_map(map, "surname=family_name")?.into_iter().collect();
    let mut warn = std::io::stderr();
    let people = read_people(input, &map, &mut warn)?;
    let started = std::time::Instant::now();
    let mut w = csv::Writer::from_path(output)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    w.write_record(["id", "clk"]).map_err(|e| e.to_string())?;
    for p in &people {
        w.write_record([p.id.as_str(), &to_base64(&encode(p, &secret))])
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    Ok(format!(
        "{} records encoded into {} in {:.2} s",
        people.len(),
        output.display(),
        started.elapsed().as_secs_f64()
    ))
}

fn read_clks(path: &Path) -> Result<(Vec<String>, Vec<Clk>), String> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let headers = r
        .headers()
        .map_err(|e| format!("{}: no header line: {e}", path.display()))?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (Some(ic), Some(cc)) = (col("id"), col("clk")) else {
        return Err(format!(
            "{}: expected the columns id and clk (made by amparo pprl encode)",
            path.display()
        ));
    };
    let (mut ids, mut clks) = (Vec::new(), Vec::new());
    for (n, row) in r.records().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| format!("{}: line {line}: {e}", path.display()))?;
        let clk = from_base64(row.get(cc).unwrap_or(""))
            .map_err(|e| format!("{}: line {line}: {e}", path.display()))?;
        ids.push(row.get(ic).unwrap_or("").to_string());
        clks.push(clk);
    }
    Ok((ids, clks))
}

pub fn match_files(a: &Path, b: &Path, output: &Path, threshold: f64) -> Result<String, String> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(format!("--threshold {threshold} must be between 0 and 1"));
    }
    let (ia, ca) = read_clks(a)?;
    let (ib, cb) = read_clks(b)?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let started = std::time::Instant::now();
    let (pairs, compared) = match_greedy(&ca, &cb, threshold, threads);
    let secs = started.elapsed().as_secs_f64();
    let mut w = csv::Writer::from_path(output)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    w.write_record(["id_a", "id_b", "similarity"])
        .map_err(|e| e.to_string())?;
    for (i, j, d) in &pairs {
        w.write_record([ia[*i].as_str(), ib[*j].as_str(), &format!("{d:.4}")])
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    Ok(format!(
        "{compared} comparisons in {secs:.3} s ({:.1} million per second on {threads} threads); {} pairs at or above {threshold} written to {}",
        compared as f64 / secs.max(1e-9) / 1e6,
        pairs.len(),
        output.display()
    ))
}
