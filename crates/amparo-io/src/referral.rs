//! Referral packages between agencies: a JSON payload signed with the sending
//! server's Ed25519 key and encrypted to the receiving agency's age recipient. The
//! receiver decrypts with its own key, finds the sender among its registered partners
//! by the signing key, and verifies the signature before anything is imported.
use age::secrecy::ExposeSecret;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;

/// This server's keys, kept in `server-keys.json` in the data directory (mode 0600).
pub struct ServerKeys {
    signing: SigningKey,
    age: age::x25519::Identity,
}

/// What another agency needs to register this one as a partner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublicKeys {
    pub signing_key: String,
    pub age_recipient: String,
}

const KEYS_FILE: &str = "server-keys.json";

impl ServerKeys {
    /// Load the keys, or make them on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<ServerKeys, String> {
        let path = data_dir.join(KEYS_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|_| format!("{} is damaged: restore it from a backup", path.display()))?;
            let seed = B64
                .decode(v["signing"].as_str().unwrap_or(""))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| format!("{}: bad signing key", path.display()))?;
            let age = v["age"]
                .as_str()
                .unwrap_or("")
                .parse::<age::x25519::Identity>()
                .map_err(|_| format!("{}: bad age key", path.display()))?;
            return Ok(ServerKeys {
                signing: SigningKey::from_bytes(&seed),
                age,
            });
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a new key: {e}"))?;
        let keys = ServerKeys {
            signing: SigningKey::from_bytes(&seed),
            age: age::x25519::Identity::generate(),
        };
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let text = json!({
            "signing": B64.encode(seed),
            "age": keys.age.to_string().expose_secret(),
        })
        .to_string();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(keys)
    }

    pub fn public(&self) -> PublicKeys {
        PublicKeys {
            signing_key: B64.encode(self.signing.verifying_key().to_bytes()),
            age_recipient: self.age.to_public().to_string(),
        }
    }

    /// Sign `payload` and encrypt it to `recipient` (an `age1...` string).
    pub fn seal(&self, payload: &Value, recipient: &str) -> Result<Vec<u8>, String> {
        let recipient: age::x25519::Recipient = recipient
            .parse()
            .map_err(|_| "the partner's age recipient is not valid: check it".to_string())?;
        let body = payload.to_string();
        let signature = self.signing.sign(body.as_bytes());
        let envelope = json!({
            "format": "amparo-referral-1",
            "payload": body,
            "signer": B64.encode(self.signing.verifying_key().to_bytes()),
            "signature": B64.encode(signature.to_bytes()),
        })
        .to_string();
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| format!("cannot encrypt: {e}"))?;
        let mut out = Vec::new();
        let mut w = enc
            .wrap_output(&mut out)
            .map_err(|e| format!("cannot encrypt: {e}"))?;
        w.write_all(envelope.as_bytes())
            .and_then(|_| w.finish().map(|_| ()))
            .map_err(|e| format!("cannot encrypt: {e}"))?;
        Ok(out)
    }

    /// Decrypt and verify a package; `known` lists the registered partners' signing
    /// keys. Returns the payload and the index of the partner who signed it.
    pub fn open(&self, package: &[u8], known: &[String]) -> Result<(Value, usize), String> {
        const DAMAGED: &str = "this package cannot be opened: it was not made for this agency, or it was changed or damaged on the way. Ask the sender for a new one.";
        if package.len() > 64 * 1024 * 1024 {
            return Err("the package is larger than 64 MiB".into());
        }
        let dec = age::Decryptor::new_buffered(package).map_err(|_| DAMAGED.to_string())?;
        let mut reader = dec
            .decrypt(std::iter::once(&self.age as &dyn age::Identity))
            .map_err(|_| DAMAGED.to_string())?;
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|_| DAMAGED.to_string())?;
        let env: Value = serde_json::from_str(&text).map_err(|_| DAMAGED.to_string())?;
        if env["format"] != "amparo-referral-1" {
            return Err("this is not an amparo referral package".into());
        }
        let signer = env["signer"].as_str().unwrap_or("");
        let Some(partner) = known.iter().position(|k| k == signer) else {
            return Err("this package is signed by an agency that is not registered as a partner: check who sent it, then register them with `amparo partner add`".into());
        };
        let key = B64
            .decode(signer)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| DAMAGED.to_string())?;
        let sig = B64
            .decode(env["signature"].as_str().unwrap_or(""))
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(|| DAMAGED.to_string())?;
        let body = env["payload"].as_str().unwrap_or("");
        key.verify_strict(body.as_bytes(), &sig).map_err(|_| {
            "the signature does not match: the package was changed after it was signed. Nothing was imported; ask the sender for a new one.".to_string()
        })?;
        let payload: Value = serde_json::from_str(body).map_err(|_| DAMAGED.to_string())?;
        Ok((payload, partner))
    }
}

/// Check a partner's public keys before they are stored.
pub fn check_public_keys(signing_key: &str, age_recipient: &str) -> Result<(), String> {
    B64.decode(signing_key.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or("the signing key is not an Ed25519 public key in base64 (as `amparo partner key` prints it)")?;
    age_recipient
        .trim()
        .parse::<age::x25519::Recipient>()
        .map_err(|_| "the age recipient is not valid: it starts with age1 (as `amparo partner key` prints it)")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "amparo-keys-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ))
    }

    #[test]
    fn sealed_between_two_agencies_and_refused_otherwise() {
        let gt = ServerKeys::load_or_create(&dir("gt")).unwrap();
        let ca = ServerKeys::load_or_create(&dir("ca")).unwrap();
        let stranger = ServerKeys::load_or_create(&dir("x")).unwrap();
        let payload = json!({"kind": "tracing_request", "sought": "Yankel Weingarten"});
        let package = ca.seal(&payload, &gt.public().age_recipient).unwrap();
        assert!(!String::from_utf8_lossy(&package).contains("Weingarten"));
        let known = vec![ca.public().signing_key];
        let (got, who) = gt.open(&package, &known).unwrap();
        assert_eq!((got, who), (payload.clone(), 0));
        // Not for us.
        assert!(stranger
            .open(&package, &known)
            .unwrap_err()
            .contains("cannot be opened"));
        // Changed on the way.
        let mut bad = package.clone();
        let at = bad.len() - 20;
        bad[at] ^= 1;
        assert!(gt
            .open(&bad, &known)
            .unwrap_err()
            .contains("cannot be opened"));
        // Anyone can encrypt to us; only a partner's signature counts.
        let forged = stranger.seal(&payload, &gt.public().age_recipient).unwrap();
        assert!(gt
            .open(&forged, &known)
            .unwrap_err()
            .contains("not registered as a partner"));
    }

    #[test]
    fn keys_persist() {
        let d = dir("persist");
        let a = ServerKeys::load_or_create(&d).unwrap().public();
        let b = ServerKeys::load_or_create(&d).unwrap().public();
        assert_eq!(a, b);
        assert!(check_public_keys(&a.signing_key, &a.age_recipient).is_ok());
        assert!(check_public_keys("abc", &a.age_recipient).is_err());
        assert!(check_public_keys(&a.signing_key, "age1nope").is_err());
    }
}
