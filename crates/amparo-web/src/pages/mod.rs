//! The HTML interface: server-rendered pages (askama), text from Fluent, the same
//! policy and audit as the API. Forms carry a `csrf_token` field.
mod children;
mod custody;
mod dashboard;
mod duplicates;
mod family;
mod imports;
mod login;
mod protection;
mod reunion;
mod users;
pub(crate) mod view;

use crate::auth::{authenticate, constant_time_eq, Auth, Via};
use crate::i18n::{Lang, Tr};
use crate::state::AppState;
use amparo_domain::policy::{Capability, Sensitivity};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/password",
            get(login::password_form).post(login::password_submit),
        )
        .route(
            "/second-factor",
            get(login::second_factor_form).post(login::second_factor_submit),
        )
        .route("/lang/{code}", get(login::switch_language))
        .route("/children", get(children::search_page))
        .route("/children/search", post(children::search_submit))
        .route(
            "/children/{id}",
            get(children::child_page).post(children::child_edit),
        )
        .route("/children/{id}/case-file", get(crate::casefile::page))
        .route(
            "/import",
            get(imports::form)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    amparo_io::table::MAX_FILE + 64 * 1024,
                )),
        )
        .route("/import/run", post(imports::run))
        .route(
            "/tracing",
            get(reunion::tracing_list).post(reunion::tracing_submit),
        )
        .route("/tracing/{id}", get(reunion::tracing_page))
        .route("/tracing/{id}/decide", post(reunion::tracing_decide))
        .route(
            "/releases",
            get(reunion::releases).post(reunion::release_propose),
        )
        .route("/releases/{id}/decide", post(reunion::release_decide))
        .route(
            "/partners",
            get(reunion::partners).post(reunion::partner_add),
        )
        .route("/partners/receive", post(reunion::partner_receive))
        .route("/tracing/{id}/send", post(reunion::tracing_send))
        .route("/import/jobs/{id}", get(imports::job))
        .route("/import/jobs/{id}/rejected.csv", get(imports::rejected))
        .route("/intake", get(children::intake_page))
        .route("/households/{id}", get(family::page))
        .route("/facilities/{id}/roster", get(children::roster))
        .route("/facilities/{id}/roll-call", post(custody::start))
        .route(
            "/facilities/{id}/visits",
            get(custody::visits).post(custody::visit_submit),
        )
        .route("/roll-calls/{id}", get(custody::roll_call))
        .route("/roll-calls/{id}/close", post(custody::close))
        .route("/alerts/{id}/poster", get(custody::poster))
        .route(
            "/incidents",
            get(custody::incidents).post(custody::incident_submit),
        )
        .route("/incidents/{id}/respond", post(custody::incident_respond))
        .route(
            "/restrictions",
            get(custody::restrictions).post(custody::restriction_submit),
        )
        .route(
            "/allegations",
            get(protection::allegations).post(protection::allegation_submit),
        )
        .route("/allegations/{id}", get(protection::allegation))
        .route("/evidence/{id}", get(protection::evidence))
        .route("/evidence/{id}/handover", post(protection::handover))
        .route(
            "/children/{id}/care",
            get(protection::care).post(protection::care_submit),
        )
        .route("/children/{id}/checks", post(protection::child_check))
        .route("/children/{id}/flags", post(protection::raise_flag))
        .route("/risk-flags/{id}/clear", post(protection::clear_flag))
        .route(
            "/tasks",
            get(protection::tasks).post(protection::task_submit),
        )
        .route("/tasks/{id}/done", post(protection::task_done))
        .route("/duplicates", get(duplicates::page))
        .route("/duplicates/merge", post(duplicates::merge))
        .route("/duplicates/unmerge", post(duplicates::unmerge))
        .route("/sites", get(protection::sites))
        .route("/sites/{id}/checks", post(protection::site_check))
        .route("/users", get(users::page).post(users::create))
        .route("/users/{id}/{action}", post(users::act))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

async fn css() -> Response {
    static_asset(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}
async fn js() -> Response {
    static_asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    )
}
fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

pub const LANG_COOKIE: &str = "amparo_lang";
pub const PRE_COOKIE: &str = "amparo_pre";

pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
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

/// Language before sign-in: the switch's cookie, else the browser's Accept-Language.
fn anonymous_lang(parts: &Parts) -> Lang {
    cookie(parts, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

/// What every page's frame needs.
pub struct Chrome {
    pub t: Tr,
    pub csrf: String,
    pub signed_in: bool,
    pub username: String,
    pub sees_cases: bool,
    pub can_write: bool,
    pub is_admin: bool,
    pub sees_restricted: bool,
    pub other_lang: &'static str,
    /// This page's path, to come back to after a language switch.
    pub path: String,
}

impl Chrome {
    fn new(t: Tr, csrf: String, auth: Option<&Auth>, path: String) -> Chrome {
        let other_lang = match t.lang {
            Lang::Es => "en",
            Lang::En => "es",
        };
        Chrome {
            csrf,
            signed_in: auth.is_some(),
            username: auth.map(|a| a.user.username.clone()).unwrap_or_default(),
            sees_cases: auth.is_some_and(|a| a.viewer.may_see(Sensitivity::Basic)),
            can_write: auth.is_some_and(|a| a.viewer.has(Capability::CaseWrite)),
            is_admin: auth.is_some_and(|a| a.viewer.has(Capability::UserAdmin)),
            sees_restricted: auth.is_some_and(|a| a.viewer.has(Capability::ReadRestricted)),
            other_lang,
            path: encode(&path),
            t,
        }
    }
}

/// A signed-in page request. Not signed in: off to /login, and back here after.
pub struct Page {
    pub auth: Auth,
    pub c: Chrome,
}

impl Page {
    /// Forms prove they came from our page with the session's CSRF token.
    pub fn check_csrf(&self, sent: Option<&String>) -> bool {
        match &self.auth.via {
            Via::Session { csrf, .. } => {
                sent.is_some_and(|s| constant_time_eq(s.as_bytes(), csrf.as_bytes()))
            }
            Via::Bearer => false,
        }
    }
}

fn original_path(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| parts.uri.clone())
        .path()
        .to_string()
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = original_path(parts);
        let auth = match authenticate(parts, state, false, false).await {
            Ok(a) => a,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let next = if parts.method == axum::http::Method::GET {
                    path
                } else {
                    "/".into()
                };
                return Err(Redirect::to(&format!("/login?next={}", encode(&next))).into_response());
            }
            Err(e) => return Err(e.into_response()),
        };
        if auth.user.must_change_password && path != "/password" && path != "/logout" {
            return Err(Redirect::to("/password").into_response());
        }
        if crate::auth::must_enrol_second_factor(state, &auth.user, &auth.via)
            && path != "/second-factor"
            && path != "/logout"
        {
            return Err(Redirect::to("/second-factor").into_response());
        }
        let lang = Lang::parse(&auth.user.language).unwrap_or(Lang::Es);
        let csrf = match &auth.via {
            Via::Session { csrf, .. } => csrf.clone(),
            Via::Bearer => String::new(),
        };
        let c = Chrome::new(Tr::new(lang), csrf, Some(&auth), path);
        Ok(Page { auth, c })
    }
}

/// A page request from someone not signed in (the login page).
pub struct Anon {
    pub c: Chrome,
    /// A fresh pre-session token to set as cookie, if the browser had none.
    pub new_pre: Option<String>,
}

impl FromRequestParts<AppState> for Anon {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Response> {
        let lang = anonymous_lang(parts);
        let (pre, new_pre) = match cookie(parts, PRE_COOKIE).filter(|c| c.len() == 32) {
            Some(p) => (p, None),
            None => {
                let p = crate::auth::random_token(16).map_err(IntoResponse::into_response)?;
                (p.clone(), Some(p))
            }
        };
        Ok(Anon {
            c: Chrome::new(Tr::new(lang), pre, None, original_path(parts)),
            new_pre,
        })
    }
}

/// Percent-encode a path for a query parameter.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only local paths are followed after sign-in.
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub message: String,
}

/// An API error as a page in the user's language: not-found and not-allowed in the
/// user's words (never more detail than the API would give), others as they are.
pub fn error_page(c: Chrome, e: crate::error::ApiError) -> Response {
    let msg = match e.status {
        StatusCode::NOT_FOUND => c.t.get("error-not-found"),
        StatusCode::FORBIDDEN => c.t.get("error-forbidden"),
        _ => e.detail.clone(),
    };
    message(c, e.status, msg)
}

/// A form's fields; a body that is not a form reads as empty (and fails its checks).
pub fn form_fields(
    form: Result<
        axum::Form<std::collections::HashMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> std::collections::HashMap<String, String> {
    form.map(|axum::Form(f)| f).unwrap_or_default()
}

/// An error page in the user's language, with the right status.
pub fn message(c: Chrome, status: StatusCode, message: String) -> Response {
    let mut r = render(&MessagePage { c, message });
    *r.status_mut() = status;
    r
}
