//! The record routes, one generic set for every kind:
//! parse -> domain -> store -> redact -> respond, with audited reads and denials.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::policy::{
    can_see, field_sensitivity, redact, Capability, Redacted, Sensitivity, Viewer,
};
use amparo_domain::records::{Ctx, Kind, Record};
use amparo_domain::Invalid;
use amparo_store::{ListQuery, StoredRecord};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Routes for one kind: list, create, read, update, history.
pub fn routes<T: Record>() -> Router<AppState> {
    let c = T::KIND.collection();
    Router::new()
        .route(&format!("/{c}"), get(list::<T>).post(create::<T>))
        .route(&format!("/{c}/search"), axum::routing::post(search::<T>))
        .route(&format!("/{c}/{{id}}"), get(read::<T>).patch(update::<T>))
        .route(&format!("/{c}/{{id}}/history"), get(history::<T>))
}

pub use self::{
    history as history_route, list as list_route, read as read_route, search as search_route,
};

/// Routes for a kind created and changed only through its own actions.
pub fn read_routes<T: Record>() -> Router<AppState> {
    let c = T::KIND.collection();
    Router::new()
        .route(&format!("/{c}"), get(list::<T>))
        .route(&format!("/{c}/search"), axum::routing::post(search::<T>))
        .route(&format!("/{c}/{{id}}"), get(read::<T>))
        .route(&format!("/{c}/{{id}}/history"), get(history::<T>))
}

pub(crate) fn ctx() -> Ctx {
    Ctx {
        today: chrono::Utc::now().date_naive(),
    }
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    // An id that cannot exist is simply not found: no hint about the format of others.
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

fn entry(viewer: &Viewer, action: Action, rec: &StoredRecord, summary: &str) -> NewEntry {
    NewEntry {
        actor: viewer.username.clone(),
        action,
        record_kind: Some(rec.kind.as_str().into()),
        record_id: Some(rec.id.to_string()),
        summary: summary.into(),
    }
}

/// Load a record the viewer may know of, or answer 404 (auditing the denial).
pub(crate) async fn visible(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    raw_id: &str,
) -> ApiResult<StoredRecord> {
    let id = parse_id(raw_id)?;
    let rec = state.store.get(id).await?.ok_or_else(ApiError::not_found)?;
    if rec.kind != kind {
        return Err(ApiError::not_found());
    }
    if !can_see(&auth.viewer, &rec.scope(), &rec.data) {
        state
            .store
            .audit_reads(vec![entry(
                &auth.viewer,
                Action::Denied,
                &rec,
                "read refused: outside the user's access",
            )])
            .await?;
        return Err(ApiError::not_found());
    }
    Ok(rec)
}

pub(crate) async fn require(
    state: &AppState,
    auth: &Auth,
    cap: Capability,
    what: &str,
) -> ApiResult<()> {
    if auth.viewer.has(cap) {
        return Ok(());
    }
    state
        .store
        .audit_reads(vec![NewEntry {
            actor: auth.viewer.username.clone(),
            action: Action::Denied,
            record_kind: None,
            record_id: None,
            summary: format!("refused: {what}"),
        }])
        .await?;
    Err(ApiError::forbidden(format!(
        "Your role may not {what}. Ask your administrator if you need to."
    )))
}

fn with_etag(mut resp: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// How records leave the server: redacted for the viewer, and every read that carried
/// identity, location or restricted fields audited (one durable group commit).
/// Call `can_see` first; this shapes records the viewer may know of.
pub(crate) async fn reveal(
    state: &AppState,
    auth: &Auth,
    recs: &[&StoredRecord],
    why: &str,
) -> ApiResult<Vec<Redacted>> {
    let mut out = Vec::with_capacity(recs.len());
    let mut reads = Vec::new();
    for rec in recs {
        let r = redact(&auth.viewer, rec.kind, rec.to_json());
        if r.is_sensitive() {
            reads.push(entry(&auth.viewer, Action::Read, rec, why));
        }
        out.push(r);
    }
    state.store.audit_reads(reads).await?;
    Ok(out)
}

/// One record through [`reveal`].
pub(crate) async fn shown(
    state: &AppState,
    auth: &Auth,
    rec: &StoredRecord,
) -> ApiResult<Redacted> {
    reveal(state, auth, &[rec], "read")
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (status, axum::Json(value)).into_response()
}

pub async fn read<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, T::KIND, &id).await?;
    let body = shown(&state, &auth, &rec).await?;
    Ok(with_etag(json_response(StatusCode::OK, &body), rec.version))
}

async fn create<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(
        &state,
        &auth,
        amparo_domain::policy::write_capability(T::KIND),
        &format!("create {}", T::KIND.collection()),
    )
    .await?;
    let value = json_value(body)?;
    check_writable_fields(&auth.viewer, T::KIND, &value)?;
    let mut rec: T = typed(value)?;
    rec.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = state.store.create(&actor(&auth), rec).await?;
    let body = shown(&state, &auth, &stored).await?;
    let mut resp = with_etag(json_response(StatusCode::CREATED, &body), stored.version);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/{}/{}", T::KIND.collection(), stored.id))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub(crate) fn actor(auth: &Auth) -> amparo_store::Actor {
    amparo_store::Actor {
        username: auth.user.username.clone(),
        agency_id: auth.user.agency_id,
    }
}

/// Fields the server sets; a client may send them back unchanged and they are ignored.
const SERVER_FIELDS: [&str; 8] = [
    "id",
    "case_number",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "current_facility_id",
];

/// A viewer may only write fields they may read.
fn check_writable_fields(viewer: &Viewer, kind: Kind, body: &Value) -> ApiResult<()> {
    let mut errs = Invalid::default();
    if let Some(obj) = body.as_object() {
        for key in obj.keys() {
            if SERVER_FIELDS.contains(&key.as_str()) {
                continue;
            }
            if !viewer.may_see(field_sensitivity(kind, key)) {
                errs.push(key.clone(), "is not a field you may change");
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errs))
    }
}

fn strip_server_fields(value: &mut Value) {
    if let Some(obj) = value.as_object_mut() {
        for f in SERVER_FIELDS {
            obj.remove(f);
        }
    }
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn if_match(headers: &HeaderMap) -> ApiResult<i64> {
    let raw = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "Version needed",
                "Send If-Match with the ETag you read (GET the record first), so that no one's change is overwritten.",
            )
        })?;
    let v = raw.trim().trim_start_matches("W/").trim_matches('"');
    v.parse::<i64>().map_err(|_| {
        ApiError::bad_request(format!(
            "If-Match '{raw}' is not an ETag of this server: use the ETag header from your last GET, e.g. \"3\"."
        ))
    })
}

async fn update<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let current = visible(&state, &auth, T::KIND, &id).await?;
    require(
        &state,
        &auth,
        amparo_domain::policy::write_capability(T::KIND),
        &format!("change {}", T::KIND.collection()),
    )
    .await?;
    let expected = if_match(&headers)?;
    if expected != current.version {
        return Err(amparo_store::StoreError::Stale {
            current_version: current.version,
        }
        .into());
    }
    let mut patch = json_value(body)?;
    if !patch.is_object() {
        return Err(ApiError::invalid(Invalid::one(
            "",
            "the body must be a JSON object (a merge patch)",
        )));
    }
    strip_server_fields(&mut patch);
    check_writable_fields(&auth.viewer, T::KIND, &patch)?;
    let mut merged = current.data.clone();
    merge_patch(&mut merged, &patch);
    let mut rec: T = typed(merged)?;
    rec.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = state
        .store
        .update(&actor(&auth), current.id, expected, rec)
        .await?;
    let body = shown(&state, &auth, &stored).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &body),
        stored.version,
    ))
}

pub async fn history<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, T::KIND, &id).await?;
    let versions = state.store.history(rec.id).await?;
    let mut items = Vec::with_capacity(versions.len());
    let mut sensitive = false;
    for v in versions {
        let r = redact(&auth.viewer, rec.kind, v.data);
        sensitive |= r.is_sensitive();
        items.push(json!({
            "version": v.version,
            "changed_at": v.changed_at,
            "changed_by": v.changed_by,
            "data": r,
        }));
    }
    if sensitive {
        state
            .store
            .audit_reads(vec![entry(
                &auth.viewer,
                Action::Read,
                &rec,
                "read history",
            )])
            .await?;
    }
    let total = items.len();
    Ok(json_response(
        StatusCode::OK,
        &json!({"items": items, "total": total}),
    ))
}

const MAX_PAGE: i64 = 500;

fn list_params(
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<HashMap<String, String>> {
    params
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("The query string could not be read: {e}")))
}

fn uuid_param(p: &HashMap<String, String>, name: &str) -> ApiResult<Option<Uuid>> {
    match p.get(name) {
        None => Ok(None),
        Some(s) => Uuid::parse_str(s).map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "{name} '{s}' is not an id: use the id of a record (a UUID)"
            ))
        }),
    }
}

fn int_param(p: &HashMap<String, String>, name: &str, default: i64, max: i64) -> ApiResult<i64> {
    match p.get(name) {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "{name} '{s}' must be a whole number from 0 to {max}"
            ))),
        },
    }
}

/// Filters of a list or search request.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    #[serde(default)]
    pub operation: Option<Uuid>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub child: Option<Uuid>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    pub limit: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub offset: Option<i64>,
    /// Keyset paging: the `next` of the previous page.
    #[serde(default)]
    pub after: Option<Uuid>,
}

/// A whole number, also when a client's JSON writes it as 50.0 (JSON does not tell
/// integers from other numbers, and some languages always write a decimal point).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<Value> = serde::Deserialize::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("must be a whole number")),
        Some(_) => Err(serde::de::Error::custom("must be a whole number")),
    }
}

/// One page of a list, as the API answers it.
pub(crate) struct Listed {
    pub items: Vec<Redacted>,
    pub total: i64,
    pub total_exact: bool,
    pub next: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

impl Listed {
    fn response(&self) -> Response {
        json_response(
            StatusCode::OK,
            &json!({"items": self.items, "total": self.total, "total_exact": self.total_exact,
                    "next": self.next, "limit": self.limit, "offset": self.offset}),
        )
    }
}

pub async fn list<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let p = list_params(params)?;
    if p.contains_key("q") {
        return Err(ApiError::bad_request(format!(
            "Names do not go in URLs: search with POST /api/v1/{}/search and a JSON body {{\"q\": \"...\"}}.",
            T::KIND.collection()
        )));
    }
    let params = ListParams {
        operation: uuid_param(&p, "operation")?,
        status: p.get("status").filter(|s| !s.is_empty()).cloned(),
        child: uuid_param(&p, "child")?,
        q: None,
        limit: Some(int_param(&p, "limit", 50, MAX_PAGE)?),
        offset: Some(int_param(&p, "offset", 0, i64::MAX / 2)?),
        after: uuid_param(&p, "after")?,
    };
    Ok(list_core(&state, &auth, T::KIND, params).await?.response())
}

pub async fn search<T: Record>(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let params: ListParams = typed(json_value(body)?)?;
    for (name, v, max) in [
        ("limit", params.limit, MAX_PAGE),
        ("offset", params.offset, i64::MAX / 2),
    ] {
        if v.is_some_and(|n| !(0..=max).contains(&n)) {
            return Err(ApiError::invalid(Invalid::one(
                name,
                format!("must be from 0 to {max}"),
            )));
        }
    }
    Ok(list_core(&state, &auth, T::KIND, params).await?.response())
}

/// The records of a kind the viewer may see, filtered, redacted, and audited.
pub(crate) async fn list_core(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    p: ListParams,
) -> ApiResult<Listed> {
    let viewer = &auth.viewer;
    let gates: Vec<Sensitivity> = [
        Sensitivity::Basic,
        Sensitivity::Identity,
        Sensitivity::Location,
        Sensitivity::Restricted,
    ]
    .into_iter()
    .filter(|s| viewer.may_see(*s))
    .collect();
    if !viewer.may_see(Sensitivity::Basic) {
        require(
            state,
            auth,
            Capability::ReadBasic,
            &format!("list {}", kind.collection()),
        )
        .await?;
    }
    let status = p.status.filter(|s| !s.is_empty());
    // Statuses are lower-case words: anything else matches nothing and is refused,
    // before it reaches the database (PostgreSQL refuses a NUL byte with an error).
    if let Some(s) = &status {
        if s.len() > 40 || !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(ApiError::bad_request(format!(
                "status '{}' is not a status: use a word such as open, in_care or closed",
                s.escape_debug()
            )));
        }
    }
    if let (Kind::Child, Some(s)) = (kind, &status) {
        if amparo_domain::records::ChildStatus::parse(s).is_none() {
            return Err(ApiError::bad_request(format!(
                "status '{s}' is not a child status: use intake, in_care, missing, hospitalised, transferred, released or closed"
            )));
        }
    }
    let search = p.q.filter(|s| !s.trim().is_empty());
    if search.is_some() && !viewer.may_see(Sensitivity::Identity) {
        // Searching by name would reveal names to a role that may not see them.
        return Err(ApiError::forbidden(
            "Your role may not search by name. Filter by operation or status instead.",
        ));
    }
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::invalid(Invalid::one(
            "q",
            "is longer than 200 characters",
        )));
    }
    let facilities = match (kind, &viewer.facilities) {
        (_, None) | (Kind::Operation, _) => None,
        (k, Some(f)) if amparo_domain::policy::facility_bound(k) => Some(f.clone()),
        (_, Some(_)) => Some(Vec::new()),
    };
    let q = ListQuery {
        kind,
        agency_id: viewer.agency_id,
        gates,
        facilities,
        operation_id: p.operation,
        status,
        child_id: p.child,
        search,
        recent_first: false,
        limit: p.limit.unwrap_or(50).clamp(0, MAX_PAGE),
        offset: p.offset.unwrap_or(0).max(0),
        after: p.after,
    };
    let page = state.store.list(&q).await?;
    // The SQL already narrowed the list; the policy still has the last word.
    let visible: Vec<&StoredRecord> = page
        .items
        .iter()
        .filter(|rec| can_see(viewer, &rec.scope(), &rec.data))
        .collect();
    let items = reveal(state, auth, &visible, "listed").await?;
    Ok(Listed {
        items,
        total: page.total,
        total_exact: page.total_exact,
        next: page.next,
        limit: q.limit,
        offset: q.offset,
    })
}
