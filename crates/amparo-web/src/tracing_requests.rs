//! Tracing requests: someone looking for a child. Candidates are ranked by
//! amparo-match each time they are asked for (so a change on either side counts at
//! once), a caseworker confirms or rejects each, and a request from (or naming as
//! contact) a restricted person or an alleged perpetrator shows no candidate at all.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::protective::{likely_same, name_parts, names_of};
use crate::records::{actor, ctx, require, reveal, shown, visible};
use crate::state::AppState;
use amparo_domain::names::Name;
use amparo_domain::policy::{can_see, Capability, Sensitivity};
use amparo_domain::records::{
    Allegation, CandidateDecision, Child, Decision, Kind, Record, Restriction, Sex, TracingRequest,
    TracingStatus,
};
use amparo_domain::text::{LongText, Text};
use amparo_match::link::{rank, Person};
use amparo_store::StoredRecord;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// Smallest probability shown as a candidate.
const SHOWN_FROM: f64 = 0.2;

/// Does any of `asking` match a person under restriction or an alleged perpetrator in
/// this agency? Checked whatever the user may see: this check protects.
async fn barred_requester(
    state: &AppState,
    auth: &Auth,
    asking: &[&Name],
) -> ApiResult<Option<&'static str>> {
    let asking: Vec<amparo_match::NameParts> = asking.iter().map(|n| name_parts(n)).collect();
    let hits = |person: &StoredRecord| likely_same(&asking, &names_of(person));
    let today = Utc::now().date_naive();
    let mut q = crate::custody::scoped(auth, Kind::Restriction);
    q.facilities = None;
    q.gates = vec![Sensitivity::Identity];
    q.limit = 100_000;
    for r in state.store.list(&q).await?.items {
        let restriction: Restriction = r.typed()?;
        if !restriction.in_force_on(today) {
            continue;
        }
        if let Some(person) = state.store.get(restriction.person_id).await? {
            if hits(&person) {
                return Ok(Some("a person under restriction"));
            }
        }
    }
    let mut q = crate::custody::scoped(auth, Kind::Allegation);
    q.facilities = None;
    q.gates = vec![Sensitivity::Restricted];
    q.limit = 100_000;
    for a in state.store.list(&q).await?.items {
        let allegation: Allegation = a.typed()?;
        for p in &allegation.perpetrators {
            if let Some(person) = state.store.get(*p).await? {
                if hits(&person) {
                    return Ok(Some("a person named in an investigation"));
                }
            }
        }
    }
    Ok(None)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let rec = create_request(&state, &auth, json_value(body)?).await?;
    let v = shown(&state, &auth, &rec).await?.value().clone();
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Record a tracing request (API and page), with the check of who is asking.
pub(crate) async fn create_request(
    state: &AppState,
    auth: &Auth,
    value: Value,
) -> ApiResult<StoredRecord> {
    create_checked(state, auth, value, false).await
}

/// A request received from a partner: its referral fields are the server's own.
pub(crate) async fn create_imported(
    state: &AppState,
    auth: &Auth,
    value: Value,
) -> ApiResult<StoredRecord> {
    create_checked(state, auth, value, true).await
}

async fn create_checked(
    state: &AppState,
    auth: &Auth,
    mut value: Value,
    imported: bool,
) -> ApiResult<StoredRecord> {
    require(
        state,
        auth,
        Capability::CaseWrite,
        "record tracing requests",
    )
    .await?;
    if let (Some(o), false) = (value.as_object_mut(), imported) {
        for server_field in [
            "status",
            "alert",
            "decisions",
            "referral_from",
            "referral_reference",
            "replies",
        ] {
            if o.remove(server_field).is_some() {
                return Err(ApiError::invalid(amparo_domain::Invalid::one(
                    server_field,
                    "is set by the server: leave it out",
                )));
            }
        }
    }
    let mut request: TracingRequest = typed(value)?;
    request.prepare(&ctx()).map_err(ApiError::invalid)?;
    let mut asking = vec![&request.requester_name];
    if let Some(c) = &request.contact_name {
        asking.push(c);
    }
    if let Some(who) = barred_requester(state, auth, &asking).await? {
        request.status = TracingStatus::Alert;
        request.alert = LongText::try_from(format!(
            "The requester or the contact matches {who}. No candidates are shown and nothing may be said to the requester. Talk to the investigating team before any contact."
        ))
        .ok();
    }
    Ok(state.store.create(&actor(auth), request).await?)
}

fn sought(request: &TracingRequest) -> Person {
    let first = request.sought_names.first();
    Person {
        id: "sought".into(),
        given: first
            .and_then(|n| n.given.as_ref())
            .map(|g| g.to_string())
            .unwrap_or_default(),
        family: first
            .and_then(|n| n.family.as_ref())
            .map(|f| f.to_string())
            .unwrap_or_default(),
        other_names: request
            .sought_names
            .iter()
            .flat_map(|n| [n.given.as_ref(), n.family.as_ref()])
            .flatten()
            .map(|t| t.to_string())
            .collect(),
        sex: match request.sought_sex {
            Sex::Female => Some('f'),
            Sex::Male => Some('m'),
            Sex::Unknown => None,
        },
        birth: amparo_io::birth_parts(&request.sought_birth),
    }
}

/// The candidates, best first: each child as the viewer may see it, with the
/// probability, the per-field explanation and the decision taken, if any.
pub(crate) async fn candidates(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> ApiResult<(StoredRecord, TracingRequest, Vec<Value>)> {
    let rec = visible(state, auth, Kind::TracingRequest, id).await?;
    let request: TracingRequest = rec.typed()?;
    if request.status == TracingStatus::Alert {
        return Ok((rec, request, Vec::new()));
    }
    let mut q = crate::custody::scoped(auth, Kind::Child);
    q.operation_id = request.operation_id;
    q.limit = 1_000_000;
    let children: Vec<StoredRecord> = state
        .store
        .list(&q)
        .await?
        .items
        .into_iter()
        .filter(|c| can_see(&auth.viewer, &c.scope(), &c.data))
        .filter(|c| c.data.get("status").and_then(Value::as_str) != Some("merged"))
        .collect();
    let pool: Vec<Person> = children
        .iter()
        .filter_map(|c| {
            c.typed::<Child>()
                .ok()
                .map(|ch| amparo_io::person_of(&c.id.to_string(), &ch))
        })
        .collect();
    let query = sought(&request);
    let ranked = tokio::task::spawn_blocking(move || rank(&query, &pool, SHOWN_FROM))
        .await
        .map_err(|_| ApiError::internal())?;
    let top: Vec<_> = ranked.into_iter().take(20).collect();
    let recs: Vec<&StoredRecord> = top
        .iter()
        .filter_map(|(i, _, _)| children.get(*i))
        .collect();
    let revealed = reveal(state, auth, &recs, "tracing candidate").await?;
    let mut out = Vec::new();
    for ((_, probability, e), (rec, r)) in top.iter().zip(recs.iter().zip(revealed)) {
        let decision = request
            .decisions
            .iter()
            .find(|d| d.child_id == rec.id)
            .map(|d| json!({"decision": d.decision, "by": d.by, "at": d.at}));
        out.push(json!({
            "child": r.value(),
            "probability": probability,
            "explanation": e.levels.iter().map(|(f, l, w)| json!({"field": f, "level": l, "weight": w})).collect::<Vec<_>>(),
            "decision": decision,
        }));
    }
    Ok((rec, request, out))
}

pub async fn candidates_api(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (rec, request, items) = candidates(&state, &auth, &id).await?;
    let total = items.len();
    let mut body = json!({"items": items, "total": total, "status": request.status});
    if request.status == TracingStatus::Alert {
        let r = shown(&state, &auth, &rec).await?;
        body["alert"] = r.value().get("alert").cloned().unwrap_or(Value::Null);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionInput {
    pub child_id: Uuid,
    pub decision: Decision,
}

/// Confirm or reject a candidate: the request and the child both keep it in their
/// history, in one transaction.
pub(crate) async fn decide(
    state: &AppState,
    auth: &Auth,
    id: &str,
    input: DecisionInput,
) -> ApiResult<StoredRecord> {
    require(
        state,
        auth,
        Capability::CaseWrite,
        "decide on tracing candidates",
    )
    .await?;
    let rec = visible(state, auth, Kind::TracingRequest, id).await?;
    let child = visible(state, auth, Kind::Child, &input.child_id.to_string()).await?;
    let mut request: TracingRequest = rec.typed()?;
    if request.status == TracingStatus::Alert {
        return Err(ApiError::conflict(
            "This request raised an alert: no candidate may be confirmed. Talk to the investigating team.",
        ));
    }
    request.decisions.retain(|d| d.child_id != child.id);
    request.decisions.push(CandidateDecision {
        child_id: child.id,
        decision: input.decision,
        by: Text::parse(&auth.user.username).map_err(ApiError::bad_request)?,
        at: Utc::now(),
    });
    request.status = if request
        .decisions
        .iter()
        .any(|d| d.decision == Decision::Confirmed)
    {
        TracingStatus::Matched
    } else {
        TracingStatus::Open
    };
    let who = actor(auth);
    let mut tx = state.store.begin().await?;
    let current = tx.get(rec.id).await?.ok_or_else(ApiError::not_found)?;
    let why = match input.decision {
        Decision::Confirmed => "candidate confirmed",
        Decision::Rejected => "candidate rejected",
    };
    let stored = tx.update(&who, current, request, why).await?;
    let child_now = tx.get(child.id).await?.ok_or_else(ApiError::not_found)?;
    let mut c: Child = child_now.typed()?;
    let had = c.tracing_requests.contains(&rec.id);
    match input.decision {
        Decision::Confirmed if !had => c.tracing_requests.push(rec.id),
        Decision::Rejected if had => c.tracing_requests.retain(|t| *t != rec.id),
        _ => {}
    }
    if had != c.tracing_requests.contains(&rec.id) {
        let why = match input.decision {
            Decision::Confirmed => "confirmed as sought by a tracing request",
            Decision::Rejected => "tracing request match withdrawn",
        };
        tx.update(&who, child_now, c, why).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

pub async fn decide_api(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    require(
        &state,
        &auth,
        Capability::CaseWrite,
        "decide on tracing candidates",
    )
    .await?;
    let input: DecisionInput = typed(json_value(body)?)?;
    let rec = decide(&state, &auth, &id, input).await?;
    Ok(Json(shown(&state, &auth, &rec).await?.value().clone()))
}

/// `GET /api/v1/tracing-requests/pfif`: the requests the viewer may see, as PFIF 1.4.
pub async fn pfif(
    State(state): State<AppState>,
    auth: Auth,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    require(
        &state,
        &auth,
        Capability::CaseWrite,
        "export tracing requests",
    )
    .await?;
    let mut q = crate::custody::scoped(&auth, Kind::TracingRequest);
    q.limit = 100_000;
    let recs: Vec<StoredRecord> = state
        .store
        .list(&q)
        .await?
        .items
        .into_iter()
        .filter(|r| can_see(&auth.viewer, &r.scope(), &r.data))
        // A request in alert is not for sharing.
        .filter(|r| r.data.get("status").and_then(Value::as_str) != Some("alert"))
        .collect();
    let refs: Vec<&StoredRecord> = recs.iter().collect();
    let shown: Vec<Value> = reveal(&state, &auth, &refs, "exported as PFIF")
        .await?
        .into_iter()
        .map(|r| r.value().clone())
        .collect();
    let domain = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        })
        .unwrap_or("amparo.local")
        .to_string();
    let xml = amparo_io::pfif::document(&shown, &domain);
    state
        .store
        .audit_note(
            &auth.user.username,
            amparo_domain::audit::Action::Export,
            "tracing_request",
            None,
            format!("{} tracing requests exported as PFIF", shown.len()),
        )
        .await?;
    Ok(crate::dataio::download(
        xml.into_bytes(),
        "application/xml; charset=utf-8",
        "tracing-requests.pfif.xml",
    ))
}
