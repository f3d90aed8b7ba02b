//! User administration pages for admins.
use super::{message, render, Chrome, Page};
use crate::auth::hash_password;
use crate::state::AppState;
use crate::users::{check_username, one_time_password};
use amparo_domain::policy::{Capability, Role};
use amparo_store::NewUser;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use std::collections::HashMap;
use uuid::Uuid;

pub struct UserRowView {
    pub id: String,
    pub username: String,
    pub roles: String,
    pub role: String,
    pub facilities: String,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserRowView>,
    roles: Vec<&'static str>,
    notice: String,
    error: String,
}

async fn show(
    state: &AppState,
    page: Page,
    notice: String,
    error: String,
    status: StatusCode,
) -> Response {
    let users = match state.store.list_users().await {
        Ok(u) => u,
        Err(e) => return crate::error::ApiError::from(e).into_response_page(),
    };
    let users = users
        .into_iter()
        .filter(|u| u.agency_id == page.auth.user.agency_id)
        .map(|u| UserRowView {
            id: u.id.to_string(),
            username: u.username,
            roles: u
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            role: u
                .roles
                .first()
                .map(|r| r.as_str())
                .unwrap_or("")
                .to_string(),
            facilities: u
                .facilities
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            disabled: u.disabled,
        })
        .collect();
    let mut r = render(&UsersPage {
        c: page.c,
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        notice,
        error,
    });
    *r.status_mut() = status;
    r
}

fn guard(page: &Page, form: Option<&HashMap<String, String>>) -> Option<(StatusCode, String)> {
    if !page.auth.viewer.has(Capability::UserAdmin) {
        return Some((StatusCode::FORBIDDEN, page.c.t.get("error-forbidden")));
    }
    if let Some(f) = form {
        if !page.check_csrf(f.get("csrf_token")) {
            return Some((StatusCode::FORBIDDEN, page.c.t.get("form-csrf")));
        }
    }
    None
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    if let Some((status, msg)) = guard(&page, None) {
        return message(page.c, status, msg);
    }
    show(&state, page, String::new(), String::new(), StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if let Some((status, msg)) = guard(&page, Some(&f)) {
        return message(page.c, status, msg);
    }
    let username = f
        .get("username")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if let Err(e) = check_username(&username) {
        return show(
            &state,
            page,
            String::new(),
            e.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let role = match Role::parse(f.get("role").map(String::as_str).unwrap_or("")) {
        Ok(r) => r,
        Err(m) => {
            return show(
                &state,
                page,
                String::new(),
                m,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let mut facilities = Vec::new();
    if let Some(raw) = f.get("facility").filter(|s| !s.trim().is_empty()) {
        match Uuid::parse_str(raw.trim()) {
            Ok(id) => facilities.push(id),
            Err(_) => {
                let msg = format!("'{raw}' is not a facility id");
                return show(
                    &state,
                    page,
                    String::new(),
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    }
    let password = match one_time_password() {
        Ok(p) => p,
        Err(e) => return e.into_response_page(),
    };
    let hash = match hash_password(&password) {
        Ok(h) => h,
        Err(e) => return e.into_response_page(),
    };
    let result = state
        .store
        .create_user(
            &page.auth.user.username,
            NewUser {
                username: username.clone(),
                agency_id: page.auth.user.agency_id,
                roles: vec![role],
                facilities,
                password_hash: hash,
                must_change_password: true,
                language: page.c.t.code().into(),
            },
        )
        .await;
    match result {
        Ok(_) => {
            let notice = page
                .c
                .t
                .with("users-otp", &[("user", username), ("password", password)]);
            show(&state, page, notice, String::new(), StatusCode::CREATED).await
        }
        Err(e) => {
            show(
                &state,
                page,
                String::new(),
                e.to_string(),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

pub async fn act(
    State(state): State<AppState>,
    page: Page,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if let Some((status, msg)) = guard(&page, Some(&f)) {
        return message(page.c, status, msg);
    }
    let user = match Uuid::parse_str(&id) {
        Ok(uid) => state.store.user_by_id(uid).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.agency_id == page.auth.user.agency_id) else {
        let msg = page.c.t.get("error-not-found");
        return message(page.c, StatusCode::NOT_FOUND, msg);
    };
    let actor = page.auth.user.username.clone();
    let outcome = match action.as_str() {
        "reset" => match one_time_password().and_then(|p| hash_password(&p).map(|h| (p, h))) {
            Ok((p, h)) => state
                .store
                .set_password(&actor, user.id, &h, true, None)
                .await
                .map(|_| {
                    page.c.t.with(
                        "users-otp",
                        &[("user", user.username.clone()), ("password", p)],
                    )
                })
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.detail),
        },
        "roles" => {
            let role = Role::parse(f.get("role").map(String::as_str).unwrap_or(""));
            let facilities: Result<Vec<Uuid>, String> = f
                .get("facility")
                .map(|s| {
                    s.split([',', ' '])
                        .filter(|x| !x.trim().is_empty())
                        .map(|x| {
                            Uuid::parse_str(x.trim())
                                .map_err(|_| format!("'{x}' is not a facility id"))
                        })
                        .collect()
                })
                .unwrap_or(Ok(vec![]));
            match (role, facilities) {
                (Ok(r), Ok(fs)) if user.id == page.auth.user.id && r != Role::Admin => {
                    let _ = fs;
                    Err("You cannot remove your own administrator role.".into())
                }
                (Ok(r), Ok(fs)) => state
                    .store
                    .set_roles(&actor, user.id, &[r], &fs)
                    .await
                    .map(|_| String::new())
                    .map_err(|e| e.to_string()),
                (Err(m), _) | (_, Err(m)) => Err(m),
            }
        }
        "disable" if user.id == page.auth.user.id => {
            Err("You cannot disable your own account.".into())
        }
        "disable" => state
            .store
            .set_disabled(&actor, user.id, true)
            .await
            .map(|_| String::new())
            .map_err(|e| e.to_string()),
        "enable" => state
            .store
            .set_disabled(&actor, user.id, false)
            .await
            .map(|_| String::new())
            .map_err(|e| e.to_string()),
        _ => {
            let msg = page.c.t.get("error-not-found");
            return message(page.c, StatusCode::NOT_FOUND, msg);
        }
    };
    match outcome {
        Ok(notice) => show(&state, page, notice, String::new(), StatusCode::OK).await,
        Err(error) => show(&state, page, String::new(), error, StatusCode::CONFLICT).await,
    }
}
