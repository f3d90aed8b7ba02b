//! amparo's domain: records that cannot hold invalid data, and the access policy.
//! Pure: no I/O, no async, no SQL.
#![forbid(unsafe_code)]

pub mod audit;
pub mod birth;
pub mod country;
pub mod error;
pub mod names;
pub mod policy;
pub mod records;
pub mod text;

pub use error::{FieldError, Invalid};
