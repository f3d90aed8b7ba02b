//! The shape of an audit entry and its canonical encoding (hashed by the store).
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    Read,
    Create,
    Update,
    Denied,
    Export,
    UserAdmin,
    TokenCreate,
    PasswordChange,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Denied => "denied",
            Action::Export => "export",
            Action::UserAdmin => "user_admin",
            Action::TokenCreate => "token_create",
            Action::PasswordChange => "password_change",
        }
    }
}

/// An entry before it takes its place in the chain.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: String,
    pub action: Action,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub summary: String,
}

/// The canonical byte form of an entry, hashed together with the previous hash.
/// Fixed field order, JSON string escaping, no optional whitespace: the same entry
/// always gives the same bytes on every backend.
pub fn canonical(
    seq: i64,
    at: &DateTime<Utc>,
    actor: &str,
    action: &str,
    record_kind: Option<&str>,
    record_id: Option<&str>,
    summary: &str,
) -> Vec<u8> {
    let fields = serde_json::json!([
        seq,
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        action,
        record_kind,
        record_id,
        summary
    ]);
    fields.to_string().into_bytes()
}
