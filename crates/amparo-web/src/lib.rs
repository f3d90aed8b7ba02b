//! amparo's HTTP edge: the JSON API under /api/v1, sessions, CSRF, security headers.
//! Handlers are thin: parse -> domain -> store -> redact -> respond.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
mod body;
mod casefile;
mod custody;
pub mod dataio;
mod duplicates;
pub mod error;
pub mod i18n;
mod intake;
pub mod openapi;
mod pages;
mod protection;
mod protective;
mod records;
pub mod referrals;
mod releases;
pub mod route_policy;
pub mod session;
pub mod state;
pub mod totp;
mod tracing_requests;
pub mod users;

use crate::auth::LoginLimiter;
use crate::error::ApiError;
pub use crate::state::AppState;
use amparo_domain::records::{
    Allegation, CarePlan, Child, Evidence, Facility, Household, Incident, MissingAlert, Operation,
    Person, Placement, Relationship, Release, Restriction, RiskFlag, RollCall, RollCallMark, Site,
    Task, TracingRequest, Visit, WelfareCheck,
};
use amparo_store::Store;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

pub struct Options {
    pub secure_cookies: bool,
    pub require_second_factor: bool,
    /// Where photos and other files are kept.
    pub files_dir: std::path::PathBuf,
}

pub fn state(store: Store, opts: Options) -> Result<AppState, ApiError> {
    let dummy = auth::hash_password(&auth::random_token(16)?)?;
    let data_dir = opts
        .files_dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let keys = amparo_io::referral::ServerKeys::load_or_create(&data_dir)
        .map_err(|m| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Keys", m))?;
    Ok(AppState {
        store,
        files: amparo_store::FileStore::new(opts.files_dir),
        limiter: Arc::new(LoginLimiter::new(Duration::from_secs(15 * 60))),
        secure_cookies: opts.secure_cookies,
        require_second_factor: opts.require_second_factor,
        dummy_hash: Arc::new(dummy),
        rollcalls: Arc::new(custody::RollCallHub::default()),
        imports: Arc::new(dataio::ImportJobs::default()),
        keys: Arc::new(keys),
    })
}

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/session",
            post(session::login)
                .get(session::current)
                .delete(session::logout),
        )
        .route("/session/password", post(session::change_password))
        .route("/session/totp", post(session::enrol_second_factor))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}/password-reset", post(users::reset_password))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/audit", get(audit::list))
        .route("/intake", post(intake::intake))
        .route(
            "/operations/{id}/imports",
            post(dataio::import_api).layer(DefaultBodyLimit::max(amparo_io::table::MAX_FILE)),
        )
        .route("/operations/{id}/children/export", get(dataio::export_api))
        .route("/children/{id}/case-file", get(casefile::api))
        .route(
            "/releases",
            get(records::list_route::<Release>).post(releases::propose),
        )
        .route("/releases/search", post(records::search_route::<Release>))
        .route("/releases/{id}", get(records::read_route::<Release>))
        .route(
            "/releases/{id}/history",
            get(records::history_route::<Release>),
        )
        .route("/releases/{id}/approve", post(releases::approve))
        .route("/releases/{id}/refuse", post(releases::refuse))
        .route(
            "/partners",
            get(referrals::partners).post(referrals::add_partner),
        )
        .route("/partners/self", get(referrals::own_keys))
        .route(
            "/tracing-requests/{id}/referral",
            post(referrals::export_tracing_request),
        )
        .route("/children/{id}/referral", post(referrals::export_child))
        .route(
            "/referrals/import",
            post(referrals::import).layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route(
            "/tracing-requests",
            get(records::list_route::<TracingRequest>).post(tracing_requests::create),
        )
        .route("/tracing-requests/pfif", get(tracing_requests::pfif))
        .route(
            "/tracing-requests/search",
            post(records::search_route::<TracingRequest>),
        )
        .route(
            "/tracing-requests/{id}",
            get(records::read_route::<TracingRequest>),
        )
        .route(
            "/tracing-requests/{id}/history",
            get(records::history_route::<TracingRequest>),
        )
        .route(
            "/tracing-requests/{id}/candidates",
            get(tracing_requests::candidates_api),
        )
        .route(
            "/tracing-requests/{id}/decisions",
            post(tracing_requests::decide_api),
        )
        .route(
            "/children/{id}/photo",
            get(intake::get_photo)
                .put(intake::put_photo)
                .layer(DefaultBodyLimit::max(intake::MAX_PHOTO)),
        )
        .route("/openapi.json", get(openapi_json))
        .merge(records::routes::<Operation>())
        .merge(records::routes::<Child>())
        .merge(records::routes::<Person>())
        .merge(records::routes::<Relationship>())
        .merge(records::routes::<Household>())
        .merge(records::routes::<Facility>())
        .merge(records::routes::<Placement>())
        .merge(records::routes::<RiskFlag>())
        .merge(records::routes::<Incident>())
        .merge(records::routes::<Restriction>())
        .merge(records::read_routes::<RollCallMark>())
        .merge(records::read_routes::<MissingAlert>())
        .route("/visits/search", post(records::search_route::<Visit>))
        .route("/visits/{id}", get(records::read_route::<Visit>))
        .route("/visits/{id}/history", get(records::history_route::<Visit>))
        .route(
            "/roll-calls",
            get(records::list_route::<RollCall>).post(custody::create_roll_call),
        )
        .route(
            "/roll-calls/search",
            post(records::search_route::<RollCall>),
        )
        .route("/roll-calls/{id}", get(records::read_route::<RollCall>))
        .route(
            "/roll-calls/{id}/history",
            get(records::history_route::<RollCall>),
        )
        .route("/roll-calls/{id}/status", get(custody::status))
        .route("/roll-calls/{id}/events", get(custody::events))
        .route("/roll-calls/{id}/marks", post(custody::mark))
        .route("/roll-calls/{id}/close", post(custody::close))
        .route("/alerts/{id}/found", post(custody::found))
        .route("/transfers", post(custody::transfer))
        .route("/incidents/{id}/respond", post(custody::respond))
        .route(
            "/visits",
            get(records::list_route::<Visit>).post(custody::create_visit),
        )
        .route("/tasks/mine", get(protection::my_tasks))
        .route("/duplicates", get(duplicates::list))
        .route("/duplicates/merge", post(duplicates::merge))
        .route("/duplicates/unmerge", post(duplicates::unmerge))
        .merge(records::routes::<Site>())
        .merge(records::routes::<WelfareCheck>())
        .merge(records::routes::<Allegation>())
        .merge(records::routes::<CarePlan>())
        .merge(records::routes::<Task>())
        .route("/sites/{id}/welfare", get(protection::site_history))
        .route(
            "/evidence",
            get(records::list_route::<Evidence>)
                .post(protection::upload)
                .layer(DefaultBodyLimit::max(protection::MAX_EVIDENCE)),
        )
        .route("/evidence/search", post(records::search_route::<Evidence>))
        .route("/evidence/{id}", get(records::read_route::<Evidence>))
        .route(
            "/evidence/{id}/history",
            get(records::history_route::<Evidence>),
        )
        .route("/evidence/{id}/file", get(protection::file))
        .route("/evidence/{id}/verify", get(protection::verify))
        .route("/evidence/{id}/handover", post(protection::handover))
        .route("/allegations/{id}/bundle", get(protection::bundle));
    Router::new()
        .nest("/api/v1", api)
        .merge(pages::routes())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::new(axum::http::StatusCode::NOT_FOUND, "Not found", "There is nothing at this address. The API lives under /api/v1; its description is at /api/v1/openapi.json.") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", "This address does not take that method: see /api/v1/openapi.json.")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn openapi_json() -> Response {
    Json(openapi::document()).into_response()
}

/// Headers on every response; the log line names the route, never personal data.
async fn security_headers(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Pages and API answers carry personal data: never cached. Static assets say otherwise.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    tracing::info!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let purge = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(300)).await;
            let now = chrono::Utc::now().timestamp();
            if let Err(e) = store
                .purge_sessions(
                    now - auth::SESSION_ABSOLUTE_SECS,
                    now - auth::SESSION_IDLE_SECS,
                )
                .await
            {
                tracing::warn!(error = %e, "could not purge old sessions");
            }
        }
    });
    let result = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    purge.abort();
    result
}
