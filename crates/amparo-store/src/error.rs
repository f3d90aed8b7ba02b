use amparo_domain::Invalid;
use std::fmt;

/// What can go wrong in the store, in terms the web layer can answer with.
#[derive(Debug)]
pub enum StoreError {
    /// No such record (or not one the caller may know of).
    NotFound,
    /// The caller's version is not the current one.
    Stale { current_version: i64 },
    /// A uniqueness or state rule refused the change; the message says which.
    Conflict(String),
    /// The input broke a rule that needs the database to check.
    Invalid(Invalid),
    /// The database failed; details go to the log, not to the user.
    Db(sqlx::Error),
    /// Stored data could not be read back (a bug or a tampered row).
    Corrupt(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("not found"),
            StoreError::Stale { current_version } => {
                write!(f, "stale version; current is {current_version}")
            }
            StoreError::Conflict(m) => f.write_str(m),
            StoreError::Invalid(i) => write!(f, "{i}"),
            StoreError::Db(e) => write!(f, "database error: {e}"),
            StoreError::Corrupt(m) => write!(f, "corrupt stored data: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

impl From<Invalid> for StoreError {
    fn from(e: Invalid) -> Self {
        StoreError::Invalid(e)
    }
}
