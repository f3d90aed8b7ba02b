//! Privacy-preserving record linkage: each person becomes a 1,024-bit Bloom filter
//! (a "cryptographic long-term key", as clkhash makes them) of their normalised name
//! and birth tokens, hashed with a key both agencies share (HMAC-SHA256, double
//! hashing). Two agencies compare filters by Dice similarity and learn which records
//! are the same child without exchanging a name.
//!
//! Beyond clkhash's bigrams, the filter also holds each name's Daitch-Mokotoff codes
//! and given-name group, so "Yankel" and "Jacob" share bits: spellings across
//! languages are the common case here.
use crate::link::Person;
use sha2::{Digest, Sha256};

pub const BITS: usize = 1024;
pub const WORDS: usize = BITS / 64;

/// A person's encoding.
pub type Clk = [u64; WORDS];

/// How many bit positions each kind of token sets.
const K_BIGRAM: u32 = 12;
const K_PHONETIC: u32 = 10;
const K_BIRTH: u32 = 14;
const K_DIGIT: u32 = 16;

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

fn set_token(clk: &mut Clk, secret: &[u8], token: &str, k: u32) {
    let h = hmac_sha256(secret, token.as_bytes());
    let h1 = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let h2 = u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]) | 1;
    for i in 0..k as u64 {
        let bit = (h1.wrapping_add(i.wrapping_mul(h2)) % BITS as u64) as usize;
        clk[bit / 64] |= 1 << (bit % 64);
    }
}

fn bigrams(word: &str) -> Vec<String> {
    let chars: Vec<char> = format!(" {word} ").chars().collect();
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// The tokens of one person, each tagged with its field so that equal text in
/// different fields sets different bits.
pub fn tokens(p: &Person) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    // Given and family names share one namespace: records swap them often (a form
    // filled in the other order), and a swap must not cost the match.
    for (tag, raw) in [("n", &p.given), ("n", &p.family)] {
        let folded = crate::fold(raw);
        let joined: String = folded.split(' ').collect();
        if joined.is_empty() {
            continue;
        }
        for b in bigrams(&joined) {
            out.push((format!("{tag}:{b}"), K_BIGRAM));
        }
        for word in folded.split(' ').filter(|w| !w.is_empty()) {
            for key in crate::variant_keys(word) {
                out.push((format!("{tag}{key}"), K_PHONETIC));
            }
        }
    }
    let b = &p.birth;
    if let Some(digits) = b.digits {
        // A full date as typed: each digit in its place, so one mistyped digit
        // changes one token, and day/month swapped share the last one.
        for (i, d) in digits.iter().enumerate() {
            out.push((format!("b{i}:{}", *d as char), K_DIGIT));
        }
        let (m, d) = (&digits[4..6], &digits[6..8]);
        let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
        out.push((
            format!(
                "dm:{}{}",
                String::from_utf8_lossy(lo),
                String::from_utf8_lossy(hi)
            ),
            K_DIGIT,
        ));
    } else if let Some(y) = b.year {
        out.push((format!("y:{y}"), K_BIRTH));
        if let Some(m) = b.month {
            out.push((format!("ym:{y}{m:02}"), K_BIRTH));
            if let Some(d) = b.day {
                out.push((format!("ymd:{y}{m:02}{d:02}"), K_BIRTH));
                // Day and month typed the other way round still share this one.
                let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
                out.push((format!("dm:{lo:02}{hi:02}"), K_BIRTH));
            }
        }
    }
    if let Some(s) = p.sex {
        out.push((format!("s:{s}"), 4));
    }
    out
}

/// Encode one person with the shared secret.
pub fn encode(p: &Person, secret: &[u8]) -> Clk {
    let mut clk = [0u64; WORDS];
    for (t, k) in tokens(p) {
        set_token(&mut clk, secret, &t, k);
    }
    clk
}

pub fn popcount(c: &Clk) -> u32 {
    c.iter().map(|w| w.count_ones()).sum()
}

/// Dice coefficient of two encodings, given their popcounts.
#[inline]
pub fn dice(a: &Clk, b: &Clk, pa: u32, pb: u32) -> f64 {
    if pa + pb == 0 {
        return 0.0;
    }
    let mut common = 0u32;
    for i in 0..WORDS {
        common += (a[i] & b[i]).count_ones();
    }
    2.0 * common as f64 / (pa + pb) as f64
}

/// Every pair at or above `threshold`, then at most one match per record (greedy,
/// best similarity first, as anonlink's solver does). Work is split over `threads`.
pub fn match_greedy(
    a: &[Clk],
    b: &[Clk],
    threshold: f64,
    threads: usize,
) -> (Vec<(usize, usize, f64)>, u64) {
    let pa: Vec<u32> = a.iter().map(popcount).collect();
    let pb: Vec<u32> = b.iter().map(popcount).collect();
    let threads = threads.max(1);
    let chunk = a.len().div_ceil(threads).max(1);
    let mut candidates: Vec<(usize, usize, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = a
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                let (pa, pb) = (&pa, &pb);
                s.spawn(move || {
                    let mut found = Vec::new();
                    for (i, x) in part.iter().enumerate() {
                        let ia = ci * chunk + i;
                        let px = pa[ia];
                        for (j, y) in b.iter().enumerate() {
                            // Dice can reach the threshold only if the counts allow it.
                            let py = pb[j];
                            let best = 2.0 * px.min(py) as f64 / (px + py).max(1) as f64;
                            if best < threshold {
                                continue;
                            }
                            let d = dice(x, y, px, py);
                            if d >= threshold {
                                found.push((ia, j, d));
                            }
                        }
                    }
                    found
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    candidates.sort_by(|x, y| {
        y.2.partial_cmp(&x.2)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(x.0.cmp(&y.0))
            .then(x.1.cmp(&y.1))
    });
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    let mut out = Vec::new();
    for (i, j, d) in candidates {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            out.push((i, j, d));
        }
    }
    (out, a.len() as u64 * b.len() as u64)
}

/// Base64 (standard alphabet, padded), as clkhash writes encodings.
pub fn to_base64(c: &Clk) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = c.iter().flat_map(|w| w.to_be_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn from_base64(s: &str) -> Result<Clk, String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err("not base64".into()),
        } as u32)
    };
    let t = s.trim().trim_end_matches('=');
    let mut bytes = Vec::with_capacity(BITS / 8);
    let raw = t.as_bytes();
    for chunk in raw.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let take = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return Err("truncated base64".into()),
        };
        for i in 0..take {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    if bytes.len() != BITS / 8 {
        return Err(format!(
            "an encoding must be {} bytes, this one is {}",
            BITS / 8,
            bytes.len()
        ));
    }
    let mut clk = [0u64; WORDS];
    for (i, w) in clk.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        *w = u64::from_be_bytes(b);
    }
    Ok(clk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::BirthParts;

    fn p(given: &str, family: &str, y: i32, m: u32, d: u32) -> Person {
        Person {
            id: String::new(),
            given: given.into(),
            family: family.into(),
            other_names: vec![],
            sex: None,
            birth: BirthParts {
                year: Some(y),
                month: Some(m),
                day: Some(d),
                approximate: false,
                digits: None,
            },
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let h = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn spellings_stay_close_and_strangers_far() {
        let s = b"shared secret of two agencies";
        let a = encode(&p("Jacobo", "Vaingarten", 2014, 3, 2), s);
        let b = encode(&p("Yankel", "Weingarten", 2014, 2, 3), s);
        let c = encode(&p("Rivka", "Friedman", 2011, 7, 9), s);
        let d = |x: &Clk, y: &Clk| dice(x, y, popcount(x), popcount(y));
        assert!(d(&a, &b) > 0.5, "{}", d(&a, &b));
        assert!(d(&a, &c) < 0.35, "{}", d(&a, &c));
        // Another secret gives unrelated bits.
        let other = encode(&p("Jacobo", "Vaingarten", 2014, 3, 2), b"another secret");
        assert!(d(&a, &other) < 0.5, "{}", d(&a, &other));
    }

    #[test]
    fn base64_round_trip_and_one_to_one() {
        let s = b"k";
        let a: Vec<Clk> = ["Ana", "Luis", "Rut"]
            .iter()
            .map(|g| encode(&p(g, "Prueba", 2012, 1, 2), s))
            .collect();
        for c in &a {
            assert_eq!(&from_base64(&to_base64(c)).unwrap(), c);
        }
        assert!(from_base64("abc").is_err());
        let (pairs, compared) = match_greedy(&a, &a, 0.9, 2);
        assert_eq!(compared, 9);
        assert_eq!(pairs.len(), 3);
        assert!(pairs.iter().all(|(i, j, _)| i == j));
    }
}
