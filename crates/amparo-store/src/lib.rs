//! amparo's persistence: one schema and one set of queries for SQLite and PostgreSQL
//! (through sqlx's `Any` driver), record history, and the audit chain.
//! The only crate with SQL.
#![forbid(unsafe_code)]

mod audit;
mod db;
mod error;
mod files;
mod partners;
mod records;
mod users;

pub use audit::{AuditRow, VerifyReport};
pub use db::{Backend, Store, WriteTx};
pub use error::StoreError;
pub use files::FileStore;
pub use partners::Partner;
pub use records::{
    changed_fields, Actor, ChildSummary, HistoryEntry, ListQuery, Page, StoredRecord, COUNT_CAP,
    SEARCH_CAP,
};
pub use users::{Agency, NewUser, SessionInfo, UserRow};

use sha2::{Digest, Sha256};

/// Lower-case hex of SHA-256: for the audit chain and for stored token hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}
