//! Protective custody: roll calls (live over server-sent events), missing-child
//! alerts, emergency transfers, incidents that start both, and the visitor check
//! against restrictions.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, ctx, require, visible};
use crate::state::AppState;
use amparo_domain::policy::{can_see, redact, Capability};
use amparo_domain::records::{
    AlertStatus, Barred, Child, ChildStatus, Incident, Kind, LegalBasis, Mark, MissingAlert,
    Placement, Record, Restriction, RollCall, RollCallMark, RollCallStatus, Visit,
};
use amparo_domain::Invalid;
use amparo_store::{ListQuery, StoredRecord};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One broadcast channel per open roll call: every watcher gets every mark.
#[derive(Default)]
pub struct RollCallHub {
    channels: Mutex<HashMap<Uuid, broadcast::Sender<String>>>,
}

impl RollCallHub {
    fn sender(&self, id: Uuid) -> broadcast::Sender<String> {
        let mut map = match self.channels.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.retain(|_, s| s.receiver_count() > 0);
        map.entry(id)
            .or_insert_with(|| broadcast::channel(1024).0)
            .clone()
    }
    fn publish(&self, id: Uuid, event: String) {
        let _ = self.sender(id).send(event);
    }
}

fn all(mut q: ListQuery) -> ListQuery {
    q.limit = 5000;
    q
}

/// The viewer's query for a kind (the same narrowing as every list).
pub(crate) fn scoped(auth: &Auth, kind: Kind) -> ListQuery {
    let v = &auth.viewer;
    ListQuery {
        kind,
        agency_id: v.agency_id,
        gates: [
            amparo_domain::policy::Sensitivity::Basic,
            amparo_domain::policy::Sensitivity::Identity,
            amparo_domain::policy::Sensitivity::Location,
            amparo_domain::policy::Sensitivity::Restricted,
        ]
        .into_iter()
        .filter(|s| v.may_see(*s))
        .collect(),
        facilities: match (&v.facilities, amparo_domain::policy::facility_bound(kind)) {
            (None, _) => None,
            (Some(f), true) => Some(f.clone()),
            (Some(_), false) => Some(vec![]),
        },
        operation_id: None,
        status: None,
        child_id: None,
        search: None,
        recent_first: false,
        limit: 5000,
        offset: 0,
        after: None,
    }
}

// ------------------------------------------------------------------ roll calls

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRollCall {
    #[serde(default)]
    facility_id: Option<Uuid>,
    #[serde(default)]
    children: Vec<Uuid>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    incident_id: Option<Uuid>,
}

/// The children placed at a facility now, as the viewer may see them.
async fn children_at(
    state: &AppState,
    auth: &Auth,
    facility: Uuid,
) -> ApiResult<Vec<StoredRecord>> {
    let mut q = scoped(auth, Kind::Child);
    q.facilities = match q.facilities {
        Some(f) if !f.contains(&facility) => Some(vec![]),
        _ => Some(vec![facility]),
    };
    let page = state.store.list(&all(q)).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|c| can_see(&auth.viewer, &c.scope(), &c.data))
        .collect())
}

pub(crate) async fn start_roll_call(
    state: &AppState,
    auth: &Auth,
    facility_id: Option<Uuid>,
    children: Vec<Uuid>,
    label: Option<String>,
    incident_id: Option<Uuid>,
) -> ApiResult<StoredRecord> {
    require(state, auth, Capability::RollcallRun, "start a roll call").await?;
    let expected: Vec<Uuid> = match facility_id {
        Some(f) => {
            visible(state, auth, Kind::Facility, &f.to_string()).await?;
            if children.is_empty() {
                children_at(state, auth, f)
                    .await?
                    .iter()
                    .map(|c| c.id)
                    .collect()
            } else {
                children
            }
        }
        None => children,
    };
    if expected.is_empty() {
        return Err(ApiError::invalid(Invalid::one(
            "children",
            "no child to count: give a facility where children are placed, or a list of children",
        )));
    }
    for c in &expected {
        visible(state, auth, Kind::Child, &c.to_string()).await?;
    }
    let mut rc: RollCall = typed(json!({
        "facility_id": facility_id, "expected": expected, "incident_id": incident_id,
        "label": label.filter(|l| !l.trim().is_empty()),
    }))?;
    rc.prepare(&ctx()).map_err(ApiError::invalid)?;
    Ok(state.store.create(&actor(auth), rc).await?)
}

pub async fn create_roll_call(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input: NewRollCall = typed(json_value(body)?)?;
    let rc = start_roll_call(
        &state,
        &auth,
        input.facility_id,
        input.children,
        input.label,
        input.incident_id,
    )
    .await?;
    let snapshot = roll_call_status(&state, &auth, &rc).await?;
    Ok((StatusCode::CREATED, Json(snapshot)).into_response())
}

/// The expected children with their latest marks, and the counts.
pub(crate) async fn roll_call_status(
    state: &AppState,
    auth: &Auth,
    rc: &StoredRecord,
) -> ApiResult<Value> {
    let call: RollCall = rc.typed()?;
    let marks = state
        .store
        .records_with_field(
            auth.viewer.agency_id,
            Kind::RollCallMark,
            "roll_call_id",
            &rc.id.to_string(),
        )
        .await?;
    let mut latest: HashMap<Uuid, (RollCallMark, String, String)> = HashMap::new();
    for m in marks {
        let mark: RollCallMark = m.typed()?;
        latest.insert(
            mark.child_id,
            (mark, m.created_by.clone(), m.created_at.clone()),
        );
    }
    let mut rows = Vec::new();
    let (mut present, mut elsewhere) = (0, 0);
    for child in &call.expected {
        let entry = latest.get(child);
        let mark = entry.map(|(m, _, _)| m.mark).unwrap_or(Mark::Unaccounted);
        match mark {
            Mark::Present => present += 1,
            Mark::ElsewhereKnown => elsewhere += 1,
            Mark::Unaccounted => {}
        }
        rows.push(json!({
            "child_id": child,
            "mark": mark,
            "location": entry.and_then(|(m, _, _)| m.location.clone()),
            "by": entry.map(|(_, by, _)| by.clone()),
            "at": entry.map(|(_, _, at)| at.clone()),
        }));
    }
    let expected = call.expected.len();
    let value = json!({
        "id": rc.id,
        "status": call.status,
        "facility_id": call.facility_id,
        "label": call.label,
        "version": rc.version,
        "counts": {"expected": expected, "present": present, "elsewhere_known": elsewhere,
                   "unaccounted": expected - present - elsewhere},
        "children": rows,
    });
    Ok(redact_plain(auth, Kind::RollCall, value))
}

/// The status is location data: shaped by the same policy as the record.
fn redact_plain(auth: &Auth, kind: Kind, v: Value) -> Value {
    if auth
        .viewer
        .may_see(amparo_domain::policy::record_gate(kind, &v))
    {
        v
    } else {
        redact(&auth.viewer, kind, v).value().clone()
    }
}

pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rc = visible(&state, &auth, Kind::RollCall, &id).await?;
    // Who is where: a location read, audited like any other.
    crate::records::shown(&state, &auth, &rc).await?;
    Ok(Json(roll_call_status(&state, &auth, &rc).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMark {
    child_id: Uuid,
    mark: Mark,
    #[serde(default)]
    location: Option<String>,
}

pub async fn mark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let rc = visible(&state, &auth, Kind::RollCall, &id).await?;
    require(&state, &auth, Capability::RollcallRun, "mark a roll call").await?;
    let input: NewMark = typed(json_value(body)?)?;
    let call: RollCall = rc.typed()?;
    if call.status == RollCallStatus::Closed {
        return Err(ApiError::conflict(
            "This roll call is closed. Start a new one to count again.",
        ));
    }
    if !call.expected.contains(&input.child_id) {
        return Err(ApiError::invalid(Invalid::one(
            "child_id",
            "is not on this roll call's list",
        )));
    }
    let mut m: RollCallMark = typed(json!({
        "roll_call_id": rc.id, "facility_id": call.facility_id, "child_id": input.child_id,
        "mark": input.mark, "location": input.location.filter(|l| !l.trim().is_empty()),
    }))?;
    m.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = state.store.create(&actor(&auth), m).await?;
    let snapshot = roll_call_status(&state, &auth, &rc).await?;
    let event = json!({
        "type": "mark", "child_id": input.child_id, "mark": input.mark,
        "location": stored.data.get("location"), "by": stored.created_by, "at": stored.created_at,
        "counts": snapshot["counts"],
    });
    state.rollcalls.publish(rc.id, event.to_string());
    Ok((StatusCode::CREATED, Json(snapshot)).into_response())
}

/// Live marks. Each (re)connection starts with a full snapshot, so a watcher that
/// lost its connection catches up at once.
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rc = visible(&state, &auth, Kind::RollCall, &id).await?;
    crate::records::shown(&state, &auth, &rc).await?;
    let rx = state.rollcalls.sender(rc.id).subscribe();
    let snapshot = roll_call_status(&state, &auth, &rc).await?;
    let first = Event::default()
        .event("snapshot")
        .data(snapshot.to_string());
    let st = state.clone();
    let stream = futures_util::stream::unfold(
        (Some(first), rx, st, auth, rc),
        |(pending, mut rx, st, auth, rc)| async move {
            if let Some(ev) = pending {
                return Some((Ok::<Event, Infallible>(ev), (None, rx, st, auth, rc)));
            }
            match rx.recv().await {
                Ok(data) => {
                    let ev = Event::default().event("mark").data(data);
                    Some((Ok(ev), (None, rx, st, auth, rc)))
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too far behind: send the whole picture again.
                    let fresh = st.store.get(rc.id).await.ok().flatten()?;
                    let snap = roll_call_status(&st, &auth, &fresh).await.ok()?;
                    let ev = Event::default().event("snapshot").data(snap.to_string());
                    Some((Ok(ev), (None, rx, st, auth, rc)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// Close: every child still unaccounted becomes missing, with an alert.
pub(crate) async fn close_roll_call(
    state: &AppState,
    auth: &Auth,
    rc: StoredRecord,
) -> ApiResult<Value> {
    require(state, auth, Capability::RollcallRun, "close a roll call").await?;
    let snapshot = roll_call_status(state, auth, &rc).await?;
    let mut call: RollCall = rc.typed()?;
    if call.status == RollCallStatus::Closed {
        return Err(ApiError::conflict("This roll call is already closed."));
    }
    let unaccounted: Vec<Uuid> = snapshot["children"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["mark"] == "unaccounted")
                .filter_map(|r| r["child_id"].as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default();
    let place = match call.facility_id {
        Some(f) => state.store.get(f).await?.map(|r| {
            r.data
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        }),
        None => call.label.as_ref().map(|l| l.to_string()),
    };
    let who = actor(auth);
    let mut tx = state.store.begin().await?;
    let current = tx.get(rc.id).await?.ok_or_else(ApiError::not_found)?;
    if current.version != rc.version {
        return Err(ApiError::conflict(
            "The roll call changed while closing it: try again.",
        ));
    }
    call.status = RollCallStatus::Closed;
    call.closed_at = Some(Utc::now());
    tx.update(&who, current, call.clone(), "roll call closed")
        .await?;
    let mut alerts = Vec::new();
    for child_id in &unaccounted {
        let Some(child_rec) = tx.get(*child_id).await? else {
            continue;
        };
        let mut child: Child = child_rec.typed()?;
        let facility = child_rec.facility_id;
        if child.status != ChildStatus::Missing {
            child.status = ChildStatus::Missing;
            tx.update(
                &who,
                child_rec.clone(),
                child,
                "unaccounted at roll call close",
            )
            .await?;
        }
        let alert: MissingAlert = typed(json!({
            "child_id": child_id, "facility_id": facility, "roll_call_id": rc.id,
            "last_seen_at": rc.created_at, "last_seen_place": place.clone().filter(|p| !p.is_empty()),
        }))?;
        let a = tx.create(&who, alert).await?;
        alerts.push(a.id);
    }
    tx.commit().await?;
    state.rollcalls.publish(
        rc.id,
        json!({"type": "closed", "missing": unaccounted}).to_string(),
    );
    Ok(json!({"missing": unaccounted, "alerts": alerts}))
}

pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rc = visible(&state, &auth, Kind::RollCall, &id).await?;
    Ok(Json(close_roll_call(&state, &auth, rc).await?).into_response())
}

// ------------------------------------------------------------------ alerts

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Found {
    found_where: String,
}

pub async fn found(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let alert_rec = visible(&state, &auth, Kind::MissingAlert, &id).await?;
    require(
        &state,
        &auth,
        Capability::RollcallRun,
        "clear a missing-child alert",
    )
    .await?;
    let input: Found = typed(json_value(body)?)?;
    let mut alert: MissingAlert = alert_rec.typed()?;
    if alert.status == AlertStatus::Found {
        return Err(ApiError::conflict("This child was already found."));
    }
    alert.status = AlertStatus::Found;
    alert.found_at = Some(Utc::now());
    alert.found_where = Some(
        amparo_domain::text::Text::parse(&input.found_where)
            .map_err(|m| ApiError::invalid(Invalid::one("found_where", m)))?,
    );
    alert.prepare(&ctx()).map_err(ApiError::invalid)?;
    let who = actor(&auth);
    let mut tx = state.store.begin().await?;
    let current = tx
        .get(alert_rec.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if current.version != alert_rec.version {
        return Err(ApiError::conflict(
            "The alert changed meanwhile: reload and try again.",
        ));
    }
    let child_id = alert.child_id;
    let updated = tx.update(&who, current, alert, "child found").await?;
    if let Some(child_rec) = tx.get(child_id).await? {
        let mut child: Child = child_rec.typed()?;
        if child.status == ChildStatus::Missing {
            child.status = ChildStatus::InCare;
            tx.update(&who, child_rec, child, "found after missing-child alert")
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Json(crate::records::shown(&state, &auth, &updated).await?).into_response())
}

// ------------------------------------------------------------------ transfers

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferInput {
    #[serde(default)]
    pub children: Vec<Uuid>,
    pub to_facility_id: Uuid,
    pub legal_basis: LegalBasis,
    pub reason: String,
    pub authorised_by: String,
}

/// Move many children at once, with one legal basis and one reason, in one transaction.
pub(crate) async fn transfer_children(
    state: &AppState,
    auth: &Auth,
    t: &TransferInput,
) -> ApiResult<Vec<Uuid>> {
    require(state, auth, Capability::CaseWrite, "transfer children").await?;
    visible(state, auth, Kind::Facility, &t.to_facility_id.to_string()).await?;
    if t.children.is_empty() {
        return Err(ApiError::invalid(Invalid::one(
            "children",
            "is empty: choose the children to move",
        )));
    }
    let now = Utc::now();
    let mut placements = Vec::new();
    for c in &t.children {
        visible(state, auth, Kind::Child, &c.to_string()).await?;
        let mut p: Placement = typed(json!({
            "child_id": c, "facility_id": t.to_facility_id, "from": now,
            "legal_basis": t.legal_basis, "authorised_by": t.authorised_by, "reason": t.reason,
        }))?;
        p.prepare(&ctx()).map_err(ApiError::invalid)?;
        placements.push(p);
    }
    let who = actor(auth);
    let mut tx = state.store.begin().await?;
    for p in placements {
        tx.create(&who, p).await?;
    }
    tx.commit().await?;
    Ok(t.children.clone())
}

pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "transfer children").await?;
    let input: TransferInput = typed(json_value(body)?)?;
    let moved = transfer_children(&state, &auth, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"moved": moved, "to_facility_id": input.to_facility_id})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Respond {
    #[serde(default)]
    children: Vec<Uuid>,
    to_facility_id: Uuid,
    legal_basis: LegalBasis,
    reason: String,
    authorised_by: String,
}

/// From an incident, in one step: move the children and start a roll call where
/// they arrive.
pub async fn respond(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let incident_rec = visible(&state, &auth, Kind::Incident, &id).await?;
    require(&state, &auth, Capability::CaseWrite, "move children").await?;
    let input: Respond = typed(json_value(body)?)?;
    let incident: Incident = incident_rec.typed()?;
    let children = if !input.children.is_empty() {
        input.children
    } else if !incident.children.is_empty() {
        incident.children.clone()
    } else if let Some(f) = incident.facility_id {
        children_at(&state, &auth, f)
            .await?
            .iter()
            .map(|c| c.id)
            .collect()
    } else {
        vec![]
    };
    let t = TransferInput {
        children,
        to_facility_id: input.to_facility_id,
        legal_basis: input.legal_basis,
        reason: input.reason,
        authorised_by: input.authorised_by,
    };
    let moved = transfer_children(&state, &auth, &t).await?;
    let rc = start_roll_call(
        &state,
        &auth,
        Some(t.to_facility_id),
        moved.clone(),
        Some(format!("after incident {}", incident_rec.id)),
        Some(incident_rec.id),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"moved": moved, "roll_call_id": rc.id})),
    )
        .into_response())
}

// ------------------------------------------------------------------ visitor log

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisitInput {
    pub facility_id: Uuid,
    pub visitor: amparo_domain::names::Name,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub relationship_claimed: Option<String>,
    pub child_id: Uuid,
}

/// Log a visitor and check them against every restriction in force for the child,
/// matching names across spellings and scripts. A likely match blocks the visit,
/// says why and on what authority, and records an incident linked to the person.
pub(crate) async fn check_visit(
    state: &AppState,
    auth: &Auth,
    input: VisitInput,
) -> ApiResult<Value> {
    if !auth.viewer.has(Capability::NoteWrite) && !auth.viewer.has(Capability::CaseWrite) {
        require(state, auth, Capability::CaseWrite, "log visitors").await?;
    }
    visible(state, auth, Kind::Facility, &input.facility_id.to_string()).await?;
    let child = visible(state, auth, Kind::Child, &input.child_id.to_string()).await?;
    let child_op: Option<Uuid> = child
        .data
        .get("operation_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    let visitor = amparo_match::NameParts {
        given: input
            .visitor
            .given
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_default(),
        family: input
            .visitor
            .family
            .as_ref()
            .map(|f| f.to_string())
            .unwrap_or_default(),
    };
    let today = ctx().today;
    // Restrictions are checked whatever the visitor's role may see: this check protects.
    let mut q = all(scoped(auth, Kind::Restriction));
    q.facilities = None;
    q.gates = vec![amparo_domain::policy::Sensitivity::Identity];
    let restrictions = state.store.list(&q).await?.items;
    let mut hit: Option<(StoredRecord, Restriction, StoredRecord, f64)> = None;
    for r in restrictions {
        let restriction: Restriction = r.typed()?;
        if !restriction.in_force_on(today)
            || !restriction.covers(child.id, child_op)
            || !restriction
                .barred
                .iter()
                .any(|b| matches!(b, Barred::Visits | Barred::Contact))
        {
            continue;
        }
        let Some(person) = state.store.get(restriction.person_id).await? else {
            continue;
        };
        for parts in crate::protective::names_of(&person) {
            let score = amparo_match::compare_names(&visitor, &parts).score;
            if score >= amparo_match::LIKELY_SAME && hit.as_ref().is_none_or(|h| score > h.3) {
                hit = Some((r.clone(), restriction.clone(), person.clone(), score));
            }
        }
    }
    let who = actor(auth);
    let mut visit = json!({
        "facility_id": input.facility_id, "visitor": input.visitor, "child_id": child.id,
        "document": input.document.filter(|d| !d.trim().is_empty()),
        "relationship_claimed": input.relationship_claimed.filter(|d| !d.trim().is_empty()),
        "outcome": "allowed",
    });
    let mut tx = state.store.begin().await?;
    let mut answer = json!({"outcome": "allowed"});
    if let Some((rrec, restriction, person, score)) = hit {
        let a = &restriction.authority;
        let reason = format!(
            "Visitor matches a person under restriction (name match {:.0}%). Barred: {}. Authority: {} {} of {}{}.",
            score * 100.0,
            restriction.barred.iter().map(|b| serde_json::to_value(b).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()).collect::<Vec<_>>().join(", "),
            a.issuing_authority,
            a.reference,
            a.date,
            a.expires.map(|e| format!(", until {e}")).unwrap_or_default()
        );
        let incident: Incident = typed(json!({
            "kind": "other", "occurred_at": Utc::now(), "facility_id": input.facility_id,
            "description": format!("Visit refused at the gate: {reason}"),
            "children": [child.id], "persons": [person.id], "severity": "high",
            "actions_taken": "Visit refused; restriction shown to the visitor.",
        }))?;
        let inc = tx.create(&who, incident).await?;
        visit["outcome"] = json!("blocked");
        visit["reason"] = json!(reason);
        visit["restriction_id"] = json!(rrec.id);
        visit["incident_id"] = json!(inc.id);
        answer = json!({
            "outcome": "blocked", "reason": reason, "restriction_id": rrec.id, "incident_id": inc.id,
            "person_id": person.id,
            "authority": {"issuing_authority": a.issuing_authority, "reference": a.reference, "date": a.date, "expires": a.expires},
        });
    }
    let mut v: Visit = typed(visit)?;
    v.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = tx.create(&who, v).await?;
    tx.commit().await?;
    answer["visit_id"] = json!(stored.id);
    Ok(answer)
}

pub async fn create_visit(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    if !auth.viewer.has(Capability::NoteWrite) {
        require(&state, &auth, Capability::CaseWrite, "log visitors").await?;
    }
    let input: VisitInput = typed(json_value(body)?)?;
    let answer = check_visit(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
