//! Passwords (Argon2id), session and bearer-token authentication, CSRF, login
//! rate limiting. The `Auth` extractor is how a handler learns who is asking.
use crate::error::ApiError;
use crate::state::AppState;
use amparo_domain::policy::Viewer;
use amparo_store::{sha256_hex, UserRow};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "amparo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Absolute lifetime of a browser session.
pub const SESSION_ABSOLUTE_SECS: i64 = 8 * 3600;
/// A session unused for this long ends.
pub const SESSION_IDLE_SECS: i64 = 30 * 60;
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Random bytes as hex; for session ids, CSRF tokens, API tokens, one-time passwords.
pub fn random_token(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|_| ApiError::internal())?;
    Ok(amparo_store::hex(&buf))
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ApiError::internal())?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A password people can be asked to choose.
pub fn check_new_password(username: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "new_password",
            format!("has {n} characters: use at least {MIN_PASSWORD_CHARS} (a short sentence works well)"),
        )));
    }
    if n > 256 {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "new_password",
            "is longer than 256 characters",
        )));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "new_password",
            "is the same as the username: choose something else",
        )));
    }
    Ok(())
}

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    Session { token_hash: String, csrf: String },
    Bearer,
}

/// An authenticated user. Extracting it checks the session or token, its
/// lifetime, CSRF on cookie-authenticated changes, and a pending password change.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: UserRow,
    pub viewer: Viewer,
    pub via: Via,
}

fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl Auth {
    /// A user acting at the server's console (the CLI): their own roles and scope.
    pub fn console(user: UserRow) -> Auth {
        Auth {
            viewer: viewer_of(&user),
            user,
            via: Via::Bearer,
        }
    }
}

fn viewer_of(user: &UserRow) -> Viewer {
    Viewer::new(
        user.id,
        user.username.clone(),
        user.agency_id,
        user.roles.clone(),
        user.facilities.clone(),
    )
}

/// What a user may do before their account is set up (a chosen password, a second
/// factor): their own session routes.
fn allowed_before_account_setup(path: &str) -> bool {
    path.starts_with("/api/v1/session")
}

/// A signed-in person whose role reads restricted data and who has no second factor
/// yet: until they enrol one, they may do nothing else. API tokens are exempt: they are
/// issued at the server's console by its operator.
pub fn must_enrol_second_factor(state: &AppState, user: &amparo_store::UserRow, via: &Via) -> bool {
    state.require_second_factor
        && matches!(via, Via::Session { .. })
        && user.totp_secret.is_none()
        && user.roles.iter().any(|r| r.needs_second_factor())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, true, true).await
    }
}

/// Who is asking. `csrf_header`: cookie-authenticated changes must carry the
/// X-CSRF-Token header (API); pages check a form field instead.
/// `password_gate`: hold users with a one-time password to the password change.
pub async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
    csrf_header: bool,
    password_gate: bool,
) -> Result<Auth, ApiError> {
    {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let (user, via) = if let Some(token) = bearer {
            let user = state
                .store
                .token_user(&sha256_hex(token.as_bytes()))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized("This API token is not valid (it may have been revoked). Create a new one with `amparo token create`.")
                })?;
            (user, Via::Bearer)
        } else if let Some(token) = cookie_value(parts, SESSION_COOKIE) {
            let token_hash = sha256_hex(token.as_bytes());
            let session =
                state.store.session(&token_hash).await?.ok_or_else(|| {
                    ApiError::unauthorized("Your session has ended. Sign in again.")
                })?;
            let now = chrono::Utc::now().timestamp();
            if now - session.created_unix > SESSION_ABSOLUTE_SECS
                || now - session.last_seen_unix > SESSION_IDLE_SECS
            {
                return Err(ApiError::unauthorized(
                    "Your session has expired. Sign in again.",
                ));
            }
            if now - session.last_seen_unix > 30 {
                state.store.touch_session(&token_hash, now).await?;
            }
            (
                session.user,
                Via::Session {
                    token_hash,
                    csrf: session.csrf_token,
                },
            )
        } else {
            return Err(ApiError::unauthorized(
                "Sign in first: POST /api/v1/session, or send Authorization: Bearer TOKEN.",
            ));
        };
        if user.disabled {
            return Err(ApiError::unauthorized(
                "This account is disabled. Ask your administrator.",
            ));
        }
        if let (true, Via::Session { csrf, .. }) = (csrf_header, &via) {
            let unsafe_method =
                !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if unsafe_method && !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::forbidden(
                    "Missing or wrong CSRF token: send the csrf_token from the sign-in answer in the X-CSRF-Token header.",
                ));
            }
        }
        // Inside a nested router the URI is shortened; the original one is kept aside.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.0.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        if password_gate && user.must_change_password && !allowed_before_account_setup(&path) {
            return Err(ApiError::forbidden(
                "Change your password first: POST /api/v1/session/password with current_password and new_password.",
            ));
        }
        if password_gate
            && must_enrol_second_factor(state, &user, &via)
            && !allowed_before_account_setup(&path)
        {
            return Err(ApiError::forbidden(
                "Your role reads restricted case data: set up a second factor first. POST /api/v1/session/totp with an empty body, add the secret to an authenticator app, then send {secret, code} to the same address.",
            ));
        }
        let viewer = viewer_of(&user);
        Ok(Auth { user, viewer, via })
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts failed logins per account and per address in a sliding window.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    window: Duration,
}

pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;

impl LoginLimiter {
    pub fn new(window: Duration) -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            window,
        }
    }

    /// Seconds to wait if `key` is over `max` failures, else `None`.
    pub fn blocked(&self, key: &str, max: u32) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let (count, since) = map.get(key)?;
        let elapsed = since.elapsed();
        if *count >= max && elapsed < self.window {
            Some((self.window - elapsed).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn fail(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let window = self.window;
                map.retain(|_, (_, since)| since.elapsed() < window);
            }
            let entry = map.entry(key.to_string()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn succeed(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

pub fn too_many_attempts(retry_after: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        format!("Too many failed sign-ins. Wait {} minutes and try again, or ask your administrator to reset your password.", retry_after.div_ceil(60)),
    )
    .with_header(header::RETRY_AFTER, retry_after.to_string())
}
