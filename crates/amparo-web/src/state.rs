use crate::auth::LoginLimiter;
use amparo_store::Store;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: amparo_store::FileStore,
    pub limiter: Arc<LoginLimiter>,
    /// Set the Secure flag on cookies (when served over TLS).
    pub secure_cookies: bool,
    /// Interactive sign-ins of roles that read restricted data need a TOTP code
    /// (off only in the demo, so that it can be walked through without a phone).
    pub require_second_factor: bool,
    /// An Argon2 hash to verify against when the user does not exist, so the
    /// answer takes as long as for a wrong password.
    pub dummy_hash: Arc<String>,
    /// Live roll-call marks for watchers.
    pub rollcalls: Arc<crate::custody::RollCallHub>,
    /// Spreadsheet uploads awaiting confirmation and imports in progress (pages).
    pub imports: Arc<crate::dataio::ImportJobs>,
    /// This server's signing and encryption keys, for referral packages.
    pub keys: Arc<amparo_io::referral::ServerKeys>,
}
