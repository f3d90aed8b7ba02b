//! Backups as one file: a tar archive of the SQLite database copy and the data
//! directory's files (photos, evidence), optionally encrypted with a passphrase in
//! the age format (scrypt), so a lost backup disk does not expose children.
//! Restore goes only into an empty data directory and checks every file's hash.
use age::secrecy::SecretString;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const DB_NAME: &str = "amparo.db";
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Packed {
    pub files: usize,
    pub bytes: u64,
}

fn io_err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// Write the backup: `db_copy` (a consistent copy made by the store) and every file
/// under `files_dir`, to `out`, encrypted when a passphrase is given.
pub fn pack(
    db_copy: &Path,
    files_dir: &Path,
    out: &Path,
    passphrase: Option<&str>,
) -> Result<Packed, String> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| io_err(&format!("cannot create {}", out.display()), e))?;
    let sink = BufWriter::new(file);
    let packed = match passphrase {
        Some(p) => {
            let enc = age::Encryptor::with_user_passphrase(SecretString::from(p.to_owned()));
            let w = enc
                .wrap_output(sink)
                .map_err(|e| io_err("cannot start encryption", e))?;
            let (packed, w) = write_tar(db_copy, files_dir, w)?;
            w.finish()
                .and_then(|mut inner| inner.flush())
                .map_err(|e| io_err("cannot finish the encrypted backup", e))?;
            packed
        }
        None => {
            let (packed, mut w) = write_tar(db_copy, files_dir, sink)?;
            w.flush()
                .map_err(|e| io_err("cannot write the backup", e))?;
            packed
        }
    };
    Ok(packed)
}

fn write_tar<W: Write>(db: &Path, files_dir: &Path, w: W) -> Result<(Packed, W), String> {
    let mut tar = tar::Builder::new(w);
    let mut packed = Packed::default();
    tar.append_path_with_name(db, DB_NAME)
        .map_err(|e| io_err("cannot add the database to the backup", e))?;
    packed.bytes += std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    if files_dir.is_dir() {
        let mut stack = vec![files_dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| io_err(&format!("cannot read {}", dir.display()), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    stack.push(path);
                } else if path.is_file()
                    // Half-written uploads (".{sha}.tmp") are not part of the data.
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    let rel = path
                        .strip_prefix(files_dir)
                        .map_err(|e| io_err("bad file path", e))?;
                    tar.append_path_with_name(&path, Path::new("files").join(rel))
                        .map_err(|e| io_err(&format!("cannot add {}", path.display()), e))?;
                    packed.files += 1;
                    packed.bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                }
            }
        }
    }
    let w = tar
        .into_inner()
        .map_err(|e| io_err("cannot finish the backup", e))?;
    Ok((packed, w))
}

/// Is this backup encrypted (so a passphrase is needed)?
pub fn is_encrypted(backup: &Path) -> Result<bool, String> {
    let mut head = [0u8; 21];
    let mut f =
        File::open(backup).map_err(|e| io_err(&format!("cannot open {}", backup.display()), e))?;
    let n = f
        .read(&mut head)
        .map_err(|e| io_err("cannot read the backup", e))?;
    Ok(&head[..n] == AGE_MAGIC)
}

/// A data directory that may be restored into: missing, or empty.
pub fn check_empty(data_dir: &Path) -> Result<(), String> {
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir)
            .map_err(|e| io_err(&format!("cannot read {}", data_dir.display()), e))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} is not empty: restore only into a new, empty data directory (nothing was changed)",
                data_dir.display()
            ));
        }
    }
    Ok(())
}

/// Unpack a backup into an empty data directory. Every file under `files/` must
/// still have the SHA-256 it is named by. On any error the directory is removed
/// again, so a failed restore leaves nothing half written.
pub fn unpack(backup: &Path, data_dir: &Path, passphrase: Option<&str>) -> Result<Packed, String> {
    check_empty(data_dir)?;
    let created = !data_dir.exists();
    std::fs::create_dir_all(data_dir)
        .map_err(|e| io_err(&format!("cannot create {}", data_dir.display()), e))?;
    let result = unpack_into(backup, data_dir, passphrase);
    if result.is_err() {
        if created {
            let _ = std::fs::remove_dir_all(data_dir);
        } else if let Ok(entries) = std::fs::read_dir(data_dir) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    result
}

fn unpack_into(backup: &Path, data_dir: &Path, passphrase: Option<&str>) -> Result<Packed, String> {
    let encrypted = is_encrypted(backup)?;
    let file =
        File::open(backup).map_err(|e| io_err(&format!("cannot open {}", backup.display()), e))?;
    let reader: Box<dyn Read> = if encrypted {
        let Some(p) = passphrase else {
            return Err("this backup is encrypted: give its passphrase".into());
        };
        let dec = age::Decryptor::new_buffered(BufReader::new(file))
            .map_err(|e| io_err("the backup cannot be read", e))?;
        let identity = age::scrypt::Identity::new(SecretString::from(p.to_owned()));
        let r = dec
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|_| {
                "the passphrase does not open this backup (or the file is damaged)".to_string()
            })?;
        Box::new(r)
    } else {
        Box::new(BufReader::new(file))
    };
    let mut archive = tar::Archive::new(reader);
    let mut packed = Packed::default();
    let mut saw_db = false;
    let entries = archive
        .entries()
        .map_err(|e| io_err("the backup is not a valid archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_err("the backup is damaged", e))?;
        let path = entry
            .path()
            .map_err(|e| io_err("the backup holds a bad name", e))?
            .into_owned();
        let name = path.to_string_lossy().to_string();
        let target = if name == DB_NAME {
            saw_db = true;
            data_dir.join(DB_NAME)
        } else if let Some(rel) = name.strip_prefix("files/") {
            // Only content-addressed names: hex digits and one level of folders.
            if rel.is_empty()
                || rel
                    .split('/')
                    .any(|part| part.is_empty() || !part.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(format!("the backup holds an unexpected file '{name}'"));
            }
            data_dir.join("files").join(rel)
        } else {
            return Err(format!("the backup holds an unexpected file '{name}'"));
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err("cannot create a folder", e))?;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| io_err("the backup is damaged", e))?;
        if name != DB_NAME {
            let sha = amparo_store::sha256_hex(&bytes);
            let file_name = target
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            if sha != file_name {
                return Err(format!(
                    "file {name} in the backup does not match its hash: the backup is damaged"
                ));
            }
            packed.files += 1;
        }
        packed.bytes += bytes.len() as u64;
        std::fs::write(&target, &bytes)
            .map_err(|e| io_err(&format!("cannot write {}", target.display()), e))?;
    }
    if !saw_db {
        return Err("the backup holds no database: it is not an amparo backup".into());
    }
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "amparo-io-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn sample() -> (PathBuf, PathBuf, PathBuf) {
        let src = tmp("src");
        let db = src.join("copy.db");
        std::fs::write(&db, b"not really sqlite").unwrap();
        let files = src.join("files");
        let content = b"photo bytes";
        let sha = amparo_store::sha256_hex(content);
        std::fs::create_dir_all(files.join(&sha[..2])).unwrap();
        std::fs::write(files.join(&sha[..2]).join(&sha), content).unwrap();
        (src, db, files)
    }

    #[test]
    fn encrypted_round_trip_and_wrong_passphrase() {
        let (src, db, files) = sample();
        let out = src.join("backup.amparo");
        let packed = pack(&db, &files, &out, Some("una frase larga de prueba")).unwrap();
        assert_eq!(packed.files, 1);
        assert!(is_encrypted(&out).unwrap());
        let raw = std::fs::read(&out).unwrap();
        assert!(
            !raw.windows(11).any(|w| w == b"photo bytes"),
            "ciphertext only"
        );
        let dest = tmp("dest").join("data");
        let e = unpack(&out, &dest, Some("otra frase")).unwrap_err();
        assert!(e.contains("passphrase"), "{e}");
        assert!(!dest.exists(), "a failed restore leaves nothing");
        assert!(unpack(&out, &dest, None).unwrap_err().contains("encrypted"));
        let got = unpack(&out, &dest, Some("una frase larga de prueba")).unwrap();
        assert_eq!(got.files, 1);
        assert_eq!(
            std::fs::read(dest.join(DB_NAME)).unwrap(),
            b"not really sqlite"
        );
        // Never over an existing data directory.
        let e = unpack(&out, &dest, Some("una frase larga de prueba")).unwrap_err();
        assert!(e.contains("not empty"), "{e}");
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let (src, db, files) = sample();
        let out = src.join("plain.tar");
        pack(&db, &files, &out, None).unwrap();
        let mut raw = std::fs::read(&out).unwrap();
        let at = raw.windows(11).position(|w| w == b"photo bytes").unwrap();
        raw[at] = b'P';
        std::fs::write(&out, raw).unwrap();
        let dest = tmp("dest2").join("data");
        let e = unpack(&out, &dest, None).unwrap_err();
        assert!(e.contains("does not match its hash"), "{e}");
        assert!(!dest.exists());
    }
}
