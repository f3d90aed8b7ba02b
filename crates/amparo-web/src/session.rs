//! Sign in, sign out, and changing one's password.
use crate::auth::{
    check_new_password, hash_password, random_token, too_many_attempts, verify_password, Auth, Via,
    MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, SESSION_ABSOLUTE_SECS, SESSION_COOKIE,
};
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use amparo_domain::audit::{Action, NewEntry};
use amparo_store::sha256_hex;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
    /// The 6-digit code of an enrolled second factor.
    #[serde(default)]
    totp: Option<String>,
}

/// The title of the answer to a missing or wrong second-factor code.
pub const SECOND_FACTOR: &str = "Second factor needed";

pub fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if state.secure_cookies { "; Secure" } else { "" }
    )
}

/// Check a username and password with the login limits; on success a new session
/// (token, csrf) exists and the login is in the audit chain.
pub async fn sign_in(
    state: &AppState,
    ip: std::net::IpAddr,
    username: &str,
    password: String,
    totp: Option<&str>,
) -> ApiResult<(amparo_store::UserRow, String, String)> {
    let username = username.trim().to_string();
    let account_key = format!("user:{}", username.to_lowercase());
    let address_key = format!("addr:{ip}");
    if let Some(wait) = state
        .limiter
        .blocked(&account_key, MAX_FAILURES_PER_ACCOUNT)
        .or_else(|| {
            state
                .limiter
                .blocked(&address_key, MAX_FAILURES_PER_ADDRESS)
        })
    {
        return Err(too_many_attempts(wait));
    }
    let user = state.store.user_by_username(&username).await?;
    // Verify against a dummy hash for unknown users: same answer, same time.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.as_ref().clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            state.limiter.fail(&account_key);
            state.limiter.fail(&address_key);
            state
                .store
                .audit_event(NewEntry {
                    actor: "anonymous".into(),
                    action: Action::LoginFailed,
                    record_kind: None,
                    record_id: None,
                    summary: format!("failed sign-in from {ip}"),
                })
                .await?;
            return Err(ApiError::unauthorized(
                "Wrong username or password. Check both and try again.",
            ));
        }
    };
    // An enrolled second factor is checked after the password, and a wrong or missing
    // code counts as a failed sign-in (the same limits apply).
    if let Some(secret) = &user.totp_secret {
        let now = chrono::Utc::now().timestamp();
        let step = totp.and_then(|code| crate::totp::verify(secret, code, now));
        // A code is good once: a step already used (this code, or an older one) is refused.
        let fresh = match step {
            Some(step) => state.store.claim_totp_step(user.id, step).await?,
            None => false,
        };
        if !fresh {
            state.limiter.fail(&account_key);
            state.limiter.fail(&address_key);
            state
                .store
                .audit_event(NewEntry {
                    actor: user.username.clone(),
                    action: Action::LoginFailed,
                    record_kind: None,
                    record_id: None,
                    summary: if step.is_some() {
                        format!("second-factor code used before, from {ip}")
                    } else {
                        format!("second-factor code missing or wrong, from {ip}")
                    },
                })
                .await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                SECOND_FACTOR,
                "Enter the 6-digit code from your authenticator app (field totp); each code signs in once, so wait for the next one if you just used it. If you lost the device, ask your administrator.",
            ));
        }
    }
    state.limiter.succeed(&account_key);
    let token = random_token(32)?;
    let csrf = random_token(32)?;
    state
        .store
        .create_session(&user, &sha256_hex(token.as_bytes()), &csrf, &ip.to_string())
        .await?;
    Ok((user, token, csrf))
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input: Login = typed(json_value(body)?)?;
    let (user, token, csrf) = sign_in(
        &state,
        addr.ip(),
        &input.username,
        input.password,
        input.totp.as_deref(),
    )
    .await?;
    let mut resp = (
        StatusCode::OK,
        Json(json!({
            "username": user.username,
            "roles": user.roles,
            "must_change_password": user.must_change_password,
            "csrf_token": csrf,
            "expires_in": SESSION_ABSOLUTE_SECS,
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, &token, SESSION_ABSOLUTE_SECS)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub async fn current(auth: Auth) -> ApiResult<Response> {
    let csrf = match &auth.via {
        Via::Session { csrf, .. } => Some(csrf.clone()),
        Via::Bearer => None,
    };
    Ok(Json(json!({
        "username": auth.user.username,
        "roles": auth.user.roles,
        "agency_id": auth.user.agency_id,
        "facilities": auth.user.facilities,
        "must_change_password": auth.user.must_change_password,
        "language": auth.user.language,
        "csrf_token": csrf,
    }))
    .into_response())
}

pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    if let Via::Session { token_hash, .. } = &auth.via {
        state
            .store
            .end_session(token_hash, &auth.user.username)
            .await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input: PasswordChange = typed(json_value(body)?)?;
    let hash = auth.user.password_hash.clone();
    let current = input.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "current_password",
            "is not your current password",
        )));
    }
    check_new_password(&auth.user.username, &input.new_password)?;
    if input.new_password == input.current_password {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "new_password",
            "is the same as the current one: choose a new password",
        )));
    }
    let new_hash = hash_password(&input.new_password)?;
    let keep = match &auth.via {
        Via::Session { token_hash, .. } => Some(token_hash.as_str()),
        Via::Bearer => None,
    };
    state
        .store
        .set_password(&auth.user.username, auth.user.id, &new_hash, false, keep)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enrol {
    secret: Option<String>,
    code: Option<String>,
}

/// Enrol a second factor for oneself. With an empty body: a new secret and the
/// `otpauth://` address for the authenticator app (nothing stored yet). With that
/// secret and the code the app shows: the factor is stored, in the audit chain.
pub async fn enrol_second_factor(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    if auth.user.totp_secret.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Already enrolled",
            "A second factor is already set up for this account. To move it to a new device, ask your administrator to remove it first (amparo user second-factor --remove).",
        ));
    }
    let input: Enrol = typed(json_value(body)?)?;
    match (input.secret, input.code) {
        (None, None) => {
            let secret = crate::totp::new_secret().ok_or_else(ApiError::internal)?;
            Ok(Json(json!({
                "secret": secret,
                "otpauth_uri": crate::totp::otpauth_uri(&auth.user.username, &secret),
                "next": "Add it to your authenticator app, then send {secret, code} to this address.",
            }))
            .into_response())
        }
        (Some(secret), Some(code)) => {
            let now = chrono::Utc::now().timestamp();
            if crate::totp::code_at(&secret, now).is_none() {
                return Err(ApiError::invalid(amparo_domain::Invalid::one(
                    "secret",
                    "this is not the secret amparo gave: start again with an empty body",
                )));
            }
            let Some(step) = crate::totp::verify(&secret, &code, now) else {
                return Err(ApiError::invalid(amparo_domain::Invalid::one(
                    "code",
                    "this is not the code the app shows now: check the device's clock and type the 6 digits again",
                )));
            };
            state
                .store
                .set_second_factor(&auth.user.username, auth.user.id, Some((&secret, step)))
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::invalid(amparo_domain::Invalid::one(
            "code",
            "send both the secret and the code, or neither to get a new secret",
        ))),
    }
}
