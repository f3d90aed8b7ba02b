//! Second factor: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps,
//! 6 digits), the kind every authenticator app reads from an `otpauth://` address.
use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP: i64 = 30;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh 160-bit secret, base32 without padding (what the apps expect).
pub fn new_secret() -> Option<String> {
    let mut key = [0u8; 20];
    getrandom::fill(&mut key).ok()?;
    Some(base32(&key))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The code for `secret` at `unix` time; `None` for a secret that is not base32.
pub fn code_at(secret: &str, unix: i64) -> Option<u32> {
    let key = unbase32(secret)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&(unix.div_euclid(STEP) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    Some(n % 1_000_000)
}

/// The time step whose code `typed` is, if it is the code now or one step either side
/// (clocks drift; people are slow to type). The caller accepts a step once
/// (`Store::claim_totp_step`), so a code cannot be used twice.
pub fn verify(secret: &str, typed: &str, unix: i64) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = digits.parse::<u32>().ok()?;
    [-STEP, 0, STEP]
        .iter()
        .map(|d| unix + d)
        .find(|t| code_at(secret, *t) == Some(n))
        .map(|t| t.div_euclid(STEP))
}

/// The address an authenticator app reads (typed in or from a QR code).
pub fn otpauth_uri(username: &str, secret: &str) -> String {
    let label: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32 & 0xff)
            }
        })
        .collect();
    format!("otpauth://totp/amparo:{label}?secret={secret}&issuer=amparo&algorithm=SHA1&digits=6&period=30")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890", last 6 digits.
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59), Some(287_082));
        assert_eq!(code_at(&secret, 1_111_111_109), Some(81_804));
        assert_eq!(code_at(&secret, 1_234_567_890), Some(5_924));
        assert_eq!(code_at(&secret, 20_000_000_000), Some(353_130));
        // The code of step 1 (seconds 30-59), typed one step late: its step is named.
        assert_eq!(verify(&secret, "287082", 59 + 30), Some(1));
        assert_eq!(verify(&secret, "287 082", 59), Some(1));
        assert_eq!(verify(&secret, "287082", 59 + 90), None);
        assert_eq!(verify(&secret, "28708", 59), None);
        assert_eq!(verify(&secret, "abcdef", 59), None);
        assert_eq!(code_at("not base32!", 59), None);
        let s = new_secret().unwrap();
        assert_eq!(unbase32(&s).unwrap().len(), 20);
    }
}
