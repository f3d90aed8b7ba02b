//! User administration for admins of an agency: add, reset password, disable.
use crate::auth::{hash_password, random_token, Auth};
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use amparo_domain::policy::{Capability, Role};
use amparo_domain::Invalid;
use amparo_store::{NewUser, UserRow};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

fn require_admin(auth: &Auth) -> ApiResult<()> {
    if auth.viewer.has(Capability::UserAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only an administrator may manage users.",
        ))
    }
}

/// A user of the admin's own agency, or 404.
async fn own_user(state: &AppState, auth: &Auth, raw: &str) -> ApiResult<UserRow> {
    let id = Uuid::parse_str(raw).map_err(|_| ApiError::not_found())?;
    match state.store.user_by_id(id).await? {
        Some(u) if u.agency_id == auth.user.agency_id => Ok(u),
        _ => Err(ApiError::not_found()),
    }
}

/// A one-time password: easy to read out over a phone, long enough to be safe.
pub fn one_time_password() -> Result<String, ApiError> {
    let hex = random_token(10)?;
    Ok(format!(
        "{}-{}-{}-{}",
        &hex[0..5],
        &hex[5..10],
        &hex[10..15],
        &hex[15..20]
    ))
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    require_admin(&auth)?;
    let users: Vec<UserRow> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.agency_id == auth.user.agency_id)
        .collect();
    let total = users.len();
    Ok(Json(json!({"items": users, "total": total})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserInput {
    username: String,
    roles: Vec<String>,
    #[serde(default)]
    facilities: Vec<Uuid>,
    #[serde(default)]
    language: Option<String>,
}

pub fn check_username(name: &str) -> Result<(), Invalid> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::one(
            "username",
            format!("'{name}' is not a username: use 2 to 64 letters, digits, dots, dashes or underscores"),
        ))
    }
}

pub fn parse_roles(raw: &[String]) -> Result<Vec<Role>, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::one("roles", "is empty: give at least one role"));
    }
    let mut roles = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let role = Role::parse(r).map_err(|m| Invalid::one(format!("roles[{i}]"), m))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let input: NewUserInput = typed(json_value(body)?)?;
    let username = input.username.trim().to_string();
    check_username(&username).map_err(ApiError::invalid)?;
    let roles = parse_roles(&input.roles).map_err(ApiError::invalid)?;
    let language = match input.language.as_deref() {
        None | Some("es") => "es",
        Some("en") => "en",
        Some(other) => {
            return Err(ApiError::invalid(Invalid::one(
                "language",
                format!("'{other}' is not offered: use es or en"),
            )))
        }
    };
    let password = one_time_password()?;
    let hash = hash_password(&password)?;
    let user = state
        .store
        .create_user(
            &auth.user.username,
            NewUser {
                username,
                agency_id: auth.user.agency_id,
                roles,
                facilities: input.facilities,
                password_hash: hash,
                must_change_password: true,
                language: language.into(),
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user, "one_time_password": password})),
    )
        .into_response())
}

pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let user = own_user(&state, &auth, &id).await?;
    let password = one_time_password()?;
    let hash = hash_password(&password)?;
    state
        .store
        .set_password(&auth.user.username, user.id, &hash, true, None)
        .await?;
    Ok(Json(json!({"one_time_password": password})).into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let user = own_user(&state, &auth, &id).await?;
    if user.id == auth.user.id {
        return Err(ApiError::conflict("You cannot disable your own account."));
    }
    state
        .store
        .set_disabled(&auth.user.username, user.id, true)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let user = own_user(&state, &auth, &id).await?;
    state
        .store
        .set_disabled(&auth.user.username, user.id, false)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
