//! Sign in, first-login password change, sign out, language switch.
use super::{message, render, safe_next, Anon, Chrome, Page, LANG_COOKIE, PRE_COOKIE};
use crate::auth::{
    authenticate, check_new_password, constant_time_eq, hash_password, verify_password, Via,
};
use crate::i18n::Lang;
use crate::session::{session_cookie, sign_in};
use crate::state::AppState;
use amparo_domain::policy::Sensitivity;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::HashMap;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    message: String,
    next: String,
    username: String,
}

fn set_cookie(resp: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn pre_cookie(value: &str) -> String {
    format!("{PRE_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400")
}

fn login_page(
    anon: Anon,
    message: String,
    next: String,
    username: String,
    status: StatusCode,
) -> Response {
    let new_pre = anon.new_pre.clone();
    let mut r = render(&LoginPage {
        c: anon.c,
        message,
        next,
        username,
    });
    *r.status_mut() = status;
    if let Some(p) = new_pre {
        set_cookie(&mut r, pre_cookie(&p));
    }
    r
}

pub async fn form(anon: Anon, Query(q): Query<HashMap<String, String>>) -> Response {
    let next = safe_next(q.get("next").map(String::as_str).unwrap_or("/"));
    let message = if q.contains_key("next") && next != "/" {
        anon.c.t.get("login-expired")
    } else {
        String::new()
    };
    login_page(anon, message, next, String::new(), StatusCode::OK)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    anon: Anon,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let next = safe_next(f.get("next").map(String::as_str).unwrap_or("/"));
    let username = f.get("username").cloned().unwrap_or_default();
    // The pre-session token in the form must match the cookie (login CSRF).
    let sent = f.get("csrf_token").map(String::as_str).unwrap_or("");
    if anon.new_pre.is_some() || !constant_time_eq(sent.as_bytes(), anon.c.csrf.as_bytes()) {
        let msg = anon.c.t.get("form-csrf");
        return login_page(anon, msg, next, username, StatusCode::FORBIDDEN);
    }
    let password = f.get("password").cloned().unwrap_or_default();
    let code = f
        .get("code")
        .map(String::as_str)
        .filter(|c| !c.trim().is_empty());
    match sign_in(&state, addr.ip(), &username, password, code).await {
        Ok((user, token, _csrf)) => {
            let target = if user.must_change_password {
                "/password".to_string()
            } else {
                next
            };
            let mut r = Redirect::to(&target).into_response();
            set_cookie(
                &mut r,
                session_cookie(&state, &token, crate::auth::SESSION_ABSOLUTE_SECS),
            );
            r
        }
        Err(e) => {
            let msg = if e.status == StatusCode::TOO_MANY_REQUESTS {
                anon.c.t.get("login-too-many")
            } else if e.title == crate::session::SECOND_FACTOR {
                anon.c.t.get("login-code-needed")
            } else {
                anon.c.t.get("login-failed")
            };
            login_page(anon, msg, next, username, e.status)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return message(page.c, StatusCode::FORBIDDEN, msg);
    }
    if let Via::Session { token_hash, .. } = &page.auth.via {
        if let Err(e) = state
            .store
            .end_session(token_hash, &page.auth.user.username)
            .await
        {
            return crate::error::ApiError::from(e).into_response();
        }
    }
    let mut r = Redirect::to("/login").into_response();
    set_cookie(&mut r, session_cookie(&state, "", 0));
    r
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    error_current: String,
    error_new: String,
}

pub async fn password_form(page: Page) -> Response {
    render(&PasswordPage {
        c: page.c,
        error_current: String::new(),
        error_new: String::new(),
    })
}

pub async fn password_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let again = |c: Chrome, current: String, new: String| {
        let mut r = render(&PasswordPage {
            c,
            error_current: current,
            error_new: new,
        });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    };
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return again(page.c, msg, String::new());
    }
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (current, new, repeat) = (
        get("current_password"),
        get("new_password"),
        get("repeat_password"),
    );
    let hash = page.auth.user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        let msg = page.c.t.get("password-wrong-current");
        return again(page.c, msg, String::new());
    }
    if new != repeat {
        let msg = page.c.t.get("password-mismatch");
        return again(page.c, String::new(), msg);
    }
    if let Err(e) = check_new_password(&page.auth.user.username, &new) {
        let detail = e
            .errors
            .first()
            .map(|f| f.message.clone())
            .unwrap_or(e.detail);
        return again(page.c, String::new(), detail);
    }
    let result = match hash_password(&new) {
        Ok(h) => {
            let keep = match &page.auth.via {
                Via::Session { token_hash, .. } => Some(token_hash.clone()),
                Via::Bearer => None,
            };
            state
                .store
                .set_password(
                    &page.auth.user.username,
                    page.auth.user.id,
                    &h,
                    false,
                    keep.as_deref(),
                )
                .await
                .map_err(crate::error::ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let home = if page.auth.viewer.may_see(Sensitivity::Basic) {
                "/"
            } else {
                "/users"
            };
            Redirect::to(home).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Switch language: remembered in a cookie and, when signed in, for the user.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    req: axum::extract::Request,
) -> Response {
    let (mut parts, _) = req.into_parts();
    let lang = Lang::parse(&code).unwrap_or(Lang::Es);
    if let Ok(auth) = authenticate(&mut parts, &state, false, false).await {
        if let Err(e) = state.store.set_language(auth.user.id, lang.code()).await {
            tracing::warn!(error = %e, "could not store the language");
        }
    }
    let back = safe_next(q.get("next").map(String::as_str).unwrap_or("/"));
    let mut r = Redirect::to(&back).into_response();
    set_cookie(
        &mut r,
        format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
            lang.code()
        ),
    );
    r
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    c: Chrome,
    secret: String,
    uri: String,
    error: String,
}

/// Enrolment of a second factor for oneself: a new secret, shown as text and as the
/// address an authenticator app reads; the first code from the app stores it.
pub async fn second_factor_form(page: Page) -> Response {
    if page.auth.user.totp_secret.is_some() {
        return Redirect::to("/").into_response();
    }
    let Some(secret) = crate::totp::new_secret() else {
        return crate::error::ApiError::internal().into_response();
    };
    let uri = crate::totp::otpauth_uri(&page.auth.user.username, &secret);
    render(&SecondFactorPage {
        c: page.c,
        secret,
        uri,
        error: String::new(),
    })
}

pub async fn second_factor_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let secret = f.get("secret").cloned().unwrap_or_default();
    let code = f.get("code").cloned().unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let step = crate::totp::verify(&secret, &code, now);
    let error = if !page.check_csrf(f.get("csrf_token")) {
        page.c.t.get("form-csrf")
    } else if page.auth.user.totp_secret.is_some() {
        return Redirect::to("/").into_response();
    } else if let Some(step) = step {
        return match state
            .store
            .set_second_factor(
                &page.auth.user.username,
                page.auth.user.id,
                Some((&secret, step)),
            )
            .await
        {
            Ok(()) => Redirect::to("/").into_response(),
            Err(e) => crate::error::ApiError::from(e).into_response(),
        };
    } else {
        page.c.t.get("second-factor-wrong")
    };
    let uri = crate::totp::otpauth_uri(&page.auth.user.username, &secret);
    let mut r = render(&SecondFactorPage {
        c: page.c,
        secret,
        uri,
        error,
    });
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}
