//! Pages for custody: the live roll call, the missing-child poster, the visitor log.
use super::view::{self, s, title, Item, NameRow};
use super::{error_page, form_fields, message, render, Chrome, Page};
use crate::custody::{check_visit, close_roll_call, roll_call_status, start_roll_call, VisitInput};
use crate::error::ApiError;
use crate::records::visible;
use crate::state::AppState;
use amparo_domain::names::search_form;
use amparo_domain::policy::{can_see, redact, Capability};
use amparo_domain::records::{Kind, MissingAlert, Restriction, RollCall, RollCallStatus};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub async fn start(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return message(page.c, StatusCode::FORBIDDEN, msg);
    }
    let Ok(facility) = Uuid::parse_str(&id) else {
        return error_page(page.c, ApiError::not_found());
    };
    match start_roll_call(&state, &page.auth, Some(facility), vec![], None, None).await {
        Ok(rc) => Redirect::to(&format!("/roll-calls/{}", rc.id)).into_response(),
        Err(e) => error_page(page.c, e),
    }
}

pub struct RcChild {
    pub id: String,
    pub label: String,
    pub wristband: String,
    pub photo: bool,
    pub mark: String,
    pub mark_label: String,
    pub search: String,
}

#[derive(Template)]
#[template(path = "rollcall.html")]
struct RollCallPage {
    c: Chrome,
    id: String,
    place: String,
    open: bool,
    expected: i64,
    present: i64,
    elsewhere: i64,
    unaccounted: i64,
    children: Vec<RcChild>,
    alerts: Vec<Item>,
}

pub async fn roll_call(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    match build_roll_call(&state, &page, &id).await {
        Ok(p) => render(&RollCallPage { c: page.c, ..p }),
        Err(e) => error_page(page.c, e),
    }
}

async fn build_roll_call(
    state: &AppState,
    page: &Page,
    id: &str,
) -> Result<RollCallPage, ApiError> {
    let t = &page.c.t;
    let rc = visible(state, &page.auth, Kind::RollCall, id).await?;
    let call: RollCall = rc.typed()?;
    let status = roll_call_status(state, &page.auth, &rc).await?;
    let place = match call.facility_id {
        Some(f) => state
            .store
            .get(f)
            .await?
            .map(|r| s(&r.data, "name").to_string())
            .unwrap_or_default(),
        None => call
            .label
            .as_ref()
            .map(|l| l.to_string())
            .unwrap_or_default(),
    };
    let mut children = Vec::new();
    let mut reads = Vec::new();
    for row in status["children"].as_array().cloned().unwrap_or_default() {
        let Some(cid) = row["child_id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            continue;
        };
        let Some(rec) = state.store.get(cid).await? else {
            continue;
        };
        if !can_see(&page.auth.viewer, &rec.scope(), &rec.data) {
            continue;
        }
        let r = redact(&page.auth.viewer, Kind::Child, rec.to_json());
        let v = r.value();
        if r.is_sensitive() {
            reads.push(amparo_domain::audit::NewEntry {
                actor: page.auth.user.username.clone(),
                action: amparo_domain::audit::Action::Read,
                record_kind: Some("child".into()),
                record_id: Some(cid.to_string()),
                summary: "roll call page".into(),
            });
        }
        let mark = row["mark"].as_str().unwrap_or("unaccounted").to_string();
        let names: Vec<NameRow> = view::names(t, v);
        let mut search = names
            .iter()
            .map(|n| search_form(&n.text))
            .collect::<Vec<_>>()
            .join(" ");
        search.push(' ');
        search.push_str(&search_form(s(v, "wristband")));
        let location = row["location"]
            .as_str()
            .map(|l| format!(": {l}"))
            .unwrap_or_default();
        children.push(RcChild {
            id: cid.to_string(),
            label: title(v),
            wristband: s(v, "wristband").to_string(),
            photo: !s(v, "photo").is_empty(),
            mark_label: format!("{}{location}", t.get(&format!("rc-mark-{mark}"))),
            mark,
            search,
        });
    }
    state.store.audit_reads(reads).await?;
    let mut alerts = Vec::new();
    if call.status == RollCallStatus::Closed {
        for a in state
            .store
            .records_with_field(
                page.auth.viewer.agency_id,
                Kind::MissingAlert,
                "roll_call_id",
                &rc.id.to_string(),
            )
            .await?
        {
            if !can_see(&page.auth.viewer, &a.scope(), &a.data) {
                continue;
            }
            let child = children.iter().find(|c| c.id == s(&a.data, "child_id"));
            alerts.push(Item {
                id: a.id.to_string(),
                label: child.map(|c| c.label.clone()).unwrap_or_default(),
                extra: s(&a.data, "status").to_string(),
            });
        }
    }
    let n = |k: &str| status["counts"][k].as_i64().unwrap_or(0);
    Ok(RollCallPage {
        c: Chrome::new(t.clone(), String::new(), None, String::new()),
        id: rc.id.to_string(),
        place,
        open: call.status == RollCallStatus::Open,
        expected: n("expected"),
        present: n("present"),
        elsewhere: n("elsewhere_known"),
        unaccounted: n("unaccounted"),
        children,
        alerts,
    })
}

pub async fn close(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return message(page.c, StatusCode::FORBIDDEN, msg);
    }
    let rc = match visible(&state, &page.auth, Kind::RollCall, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(page.c, e),
    };
    match close_roll_call(&state, &page.auth, rc).await {
        Ok(_) => Redirect::to(&format!("/roll-calls/{id}")).into_response(),
        Err(e) => error_page(page.c, e),
    }
}

#[derive(Template)]
#[template(path = "poster.html")]
struct PosterPage {
    c: Chrome,
    child_id: String,
    photo: bool,
    title: String,
    case_number: String,
    names: Vec<NameRow>,
    age: String,
    sex: String,
    languages: String,
    clothing: String,
    last_seen: String,
    restricted: Vec<Item>,
    status: String,
}

pub async fn poster(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match build_poster(&state, &page, &id).await {
        Ok(p) => render(&PosterPage { c: page.c, ..p }),
        Err(e) => error_page(page.c, e),
    }
}

async fn build_poster(state: &AppState, page: &Page, id: &str) -> Result<PosterPage, ApiError> {
    let t = &page.c.t;
    let alert_rec = visible(state, &page.auth, Kind::MissingAlert, id).await?;
    let alert: MissingAlert = alert_rec.typed()?;
    let child = visible(state, &page.auth, Kind::Child, &alert.child_id.to_string()).await?;
    let r = crate::records::shown(state, &page.auth, &child).await?;
    let v = r.value();
    let today = chrono::Utc::now().date_naive();
    // Adults under restriction for this child: the police need their names too.
    let mut restricted = Vec::new();
    for rrec in state
        .store
        .list(&{
            let mut q = super::dashboard::scoped(page, Kind::Restriction);
            q.limit = 500;
            q
        })
        .await?
        .items
    {
        let Ok(rest) = rrec.typed::<Restriction>() else {
            continue;
        };
        let op = child
            .data
            .get("operation_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        if !rest.covers(child.id, op) || !rest.in_force_on(today) {
            continue;
        }
        if let Some(p) = state.store.get(rest.person_id).await? {
            if can_see(&page.auth.viewer, &p.scope(), &p.data) {
                let pv = crate::records::shown(state, &page.auth, &p).await?;
                let variants: Vec<String> = view::names(t, pv.value())
                    .into_iter()
                    .map(|n| n.text)
                    .collect();
                restricted.push(Item {
                    id: String::new(),
                    label: variants.join(" / "),
                    extra: format!(
                        "{} {}",
                        rest.authority.issuing_authority, rest.authority.reference
                    ),
                });
            }
        }
    }
    let last_seen = format!(
        "{}{}",
        t.datetime(alert.last_seen_at),
        alert
            .last_seen_place
            .as_ref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default()
    );
    let status = match &alert.found_where {
        Some(w) => t.with("alert-found", &[("where", w.to_string())]),
        None => t.get("alert-open"),
    };
    let sex = s(v, "sex");
    Ok(PosterPage {
        c: Chrome::new(t.clone(), String::new(), None, String::new()),
        child_id: child.id.to_string(),
        photo: !s(v, "photo").is_empty(),
        title: title(v),
        case_number: child.case_number.clone().unwrap_or_default(),
        names: view::names(t, v),
        age: format!(
            "{} · {}",
            view::age_label(t, v, today),
            view::birth_label(t, v)
        ),
        sex: t.get(&format!(
            "sex-{}",
            if sex.is_empty() { "unknown" } else { sex }
        )),
        languages: view::list_text(v, "languages"),
        clothing: alert
            .clothing
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        last_seen,
        restricted,
        status,
    })
}

#[derive(Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    c: Chrome,
    facility: String,
    facility_id: String,
    result: String,
    reason: String,
    blocked: bool,
    error: String,
    visits: Vec<Item>,
}

async fn visits_page(
    state: &AppState,
    page: Page,
    id: &str,
    result: String,
    reason: String,
    blocked: bool,
    error: String,
) -> Response {
    let facility = match visible(state, &page.auth, Kind::Facility, id).await {
        Ok(f) => f,
        Err(e) => return error_page(page.c, e),
    };
    let visits = match state
        .store
        .records_with_field(
            page.auth.viewer.agency_id,
            Kind::Visit,
            "facility_id",
            &facility.id.to_string(),
        )
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(page.c, e.into()),
    };
    let t = page.c.t.clone();
    let recent: Vec<&amparo_store::StoredRecord> = visits
        .iter()
        .rev()
        .filter(|v| can_see(&page.auth.viewer, &v.scope(), &v.data))
        .take(50)
        .collect();
    let revealed = match crate::records::reveal(state, &page.auth, &recent, "visitor log").await {
        Ok(r) => r,
        Err(e) => return error_page(page.c, e),
    };
    let visits = recent
        .into_iter()
        .zip(revealed)
        .map(|(v, r)| {
            let visitor = r.value().get("visitor").cloned().unwrap_or(json!({}));
            Item {
                id: v.id.to_string(),
                label: format!(
                    "{} {} · {}",
                    s(&visitor, "given"),
                    s(&visitor, "family"),
                    t.when(&v.created_at)
                ),
                extra: s(r.value(), "outcome").to_string(),
            }
        })
        .collect();
    let mut r = render(&VisitsPage {
        facility: s(&facility.data, "name").to_string(),
        facility_id: facility.id.to_string(),
        c: page.c,
        result,
        reason,
        blocked,
        error,
        visits,
    });
    if blocked {
        *r.status_mut() = StatusCode::CONFLICT;
    }
    r
}

pub async fn visits(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    visits_page(
        &state,
        page,
        &id,
        String::new(),
        String::new(),
        false,
        String::new(),
    )
    .await
}

pub async fn visit_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return visits_page(&state, page, &id, String::new(), String::new(), false, msg).await;
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let Ok(facility) = Uuid::parse_str(&id) else {
        return error_page(page.c, ApiError::not_found());
    };
    if !page.auth.viewer.has(Capability::NoteWrite) && !page.auth.viewer.has(Capability::CaseWrite)
    {
        return error_page(page.c, ApiError::forbidden("visits"));
    }
    // The child is found by wristband among those placed here.
    let mut q = super::dashboard::scoped(&page, Kind::Child);
    q.facilities = match q.facilities {
        Some(fs) if !fs.contains(&facility) => Some(vec![]),
        _ => Some(vec![facility]),
    };
    q.limit = 5000;
    let wristband = get("wristband");
    let child = match state.store.list(&q).await {
        Ok(p) => p
            .items
            .into_iter()
            .find(|c| s(&c.data, "wristband") == wristband),
        Err(e) => return error_page(page.c, e.into()),
    };
    let Some(child) = child else {
        let msg = page.c.t.get("visit-no-child");
        return visits_page(&state, page, &id, String::new(), String::new(), false, msg).await;
    };
    let mut visitor = json!({"kind": "as_given"});
    for (k, v) in [("given", get("given")), ("family", get("family"))] {
        if !v.is_empty() {
            visitor[k] = json!(v);
        }
    }
    let input: Result<VisitInput, _> = serde_json::from_value(json!({
        "facility_id": facility, "visitor": visitor, "child_id": child.id,
        "document": get("document"), "relationship_claimed": get("relationship"),
    }));
    let input = match input {
        Ok(i) => i,
        Err(e) => {
            return visits_page(
                &state,
                page,
                &id,
                String::new(),
                String::new(),
                false,
                e.to_string(),
            )
            .await
        }
    };
    match check_visit(&state, &page.auth, input).await {
        Ok(answer) => {
            let blocked = answer["outcome"] == "blocked";
            let result = page.c.t.get(if blocked {
                "visit-blocked"
            } else {
                "visit-allowed"
            });
            let reason = answer["reason"].as_str().unwrap_or("").to_string();
            visits_page(&state, page, &id, result, reason, blocked, String::new()).await
        }
        Err(e) => {
            let msg = e
                .errors
                .first()
                .map(|f| format!("{} {}", f.field, f.message))
                .unwrap_or(e.detail);
            visits_page(&state, page, &id, String::new(), String::new(), false, msg).await
        }
    }
}

// ------------------------------------------------------------------ incidents

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    c: Chrome,
    error: String,
    kinds: Vec<view::Opt>,
    severities: Vec<view::Opt>,
    facilities: Vec<view::Opt>,
    incidents: Vec<Item>,
    can_respond: bool,
}

const INCIDENT_KINDS: [&str; 9] = [
    "break_in",
    "attempted_abduction",
    "abduction",
    "threat",
    "assault",
    "absconding",
    "self_harm",
    "media_intrusion",
    "other",
];

fn plain_options(keys: &[&str]) -> Vec<view::Opt> {
    keys.iter()
        .map(|k| view::Opt {
            key: (*k).to_string(),
            label: k.replace('_', " "),
        })
        .collect()
}

async fn facility_options(state: &AppState, page: &Page) -> Result<Vec<view::Opt>, ApiError> {
    let mut q = super::dashboard::scoped(page, Kind::Facility);
    q.limit = 200;
    Ok(super::dashboard::fetch(state, page, &q)
        .await?
        .0
        .into_iter()
        .map(|(rec, r)| view::Opt {
            key: rec.id.to_string(),
            label: s(r.value(), "name").to_string(),
        })
        .collect())
}

async fn incidents_page(state: &AppState, page: Page, error: String) -> Response {
    let facilities = match facility_options(state, &page).await {
        Ok(f) => f,
        Err(e) => return error_page(page.c, e),
    };
    let mut q = super::dashboard::scoped(&page, Kind::Incident);
    q.recent_first = true;
    q.limit = 50;
    let t = page.c.t.clone();
    let incidents = match super::dashboard::fetch(state, &page, &q).await {
        Ok((rows, _)) => rows
            .into_iter()
            .map(|(rec, r)| {
                let v = r.value();
                Item {
                    id: rec.id.to_string(),
                    label: format!("{} · {}", s(v, "kind").replace('_', " "), s(v, "severity")),
                    extra: format!("{} · {}", t.when(s(v, "occurred_at")), s(v, "description")),
                }
            })
            .collect(),
        Err(e) => return error_page(page.c, e),
    };
    let can_respond = page.auth.viewer.has(Capability::CaseWrite);
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&IncidentsPage {
        c: page.c,
        error,
        kinds: plain_options(&INCIDENT_KINDS),
        severities: plain_options(&["high", "critical", "medium", "low"]),
        facilities,
        incidents,
        can_respond,
    });
    *r.status_mut() = status;
    r
}

pub async fn incidents(State(state): State<AppState>, page: Page) -> Response {
    incidents_page(&state, page, String::new()).await
}

/// A `datetime-local` value is the user's local time (Guatemala, UTC-6).
pub(crate) fn local_to_utc(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    naive
        .and_local_timezone(crate::i18n::display_offset())
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

pub async fn incident_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return incidents_page(&state, page, msg).await;
    }
    if !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(page.c, ApiError::forbidden("incidents"));
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let Some(when) = local_to_utc(&get("occurred_at")) else {
        return incidents_page(&state, page, "occurred_at: give the date and time".into()).await;
    };
    let mut value = json!({
        "kind": get("kind"), "occurred_at": when, "description": get("description"),
        "severity": get("severity"),
    });
    for (k, v) in [
        ("facility_id", get("facility_id")),
        ("police_report", get("police_report")),
    ] {
        if !v.is_empty() {
            value[k] = json!(v);
        }
    }
    let result = async {
        let mut incident: amparo_domain::records::Incident =
            serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
        amparo_domain::records::Record::prepare(&mut incident, &crate::records::ctx())
            .map_err(ApiError::invalid)?;
        state
            .store
            .create(&crate::records::actor(&page.auth), incident)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/incidents").into_response(),
        Err(e) => incidents_page(&state, page, e.detail).await,
    }
}

pub async fn incident_respond(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return incidents_page(&state, page, msg).await;
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let incident = match visible(&state, &page.auth, Kind::Incident, &id).await {
        Ok(i) => i,
        Err(e) => return error_page(page.c, e),
    };
    let result = async {
        let to: Uuid = Uuid::parse_str(&get("to_facility_id"))
            .map_err(|_| ApiError::bad_request("choose where to move the children"))?;
        let inc: amparo_domain::records::Incident = incident.typed()?;
        let children: Vec<Uuid> = if !inc.children.is_empty() {
            inc.children.clone()
        } else if let Some(fac) = inc.facility_id {
            let mut q = super::dashboard::scoped(&page, Kind::Child);
            q.facilities = Some(vec![fac]);
            q.limit = 5000;
            state.store.list(&q).await?.items.iter().map(|c| c.id).collect()
        } else {
            vec![]
        };
        let t: crate::custody::TransferInput = serde_json::from_value(json!({
            "children": children, "to_facility_id": to,
            "legal_basis": {"kind": "emergency_measure", "issuing_authority": get("issuing_authority"),
                            "reference": get("reference"), "date": chrono::Utc::now().date_naive()},
            "reason": get("reason"), "authorised_by": get("authorised_by"),
        }))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let moved = crate::custody::transfer_children(&state, &page.auth, &t).await?;
        start_roll_call(&state, &page.auth, Some(to), moved, None, Some(incident.id)).await
    }
    .await;
    match result {
        Ok(rc) => Redirect::to(&format!("/roll-calls/{}", rc.id)).into_response(),
        Err(e) => incidents_page(&state, page, e.detail).await,
    }
}

// ------------------------------------------------------------------ restrictions

#[derive(Template)]
#[template(path = "restrictions.html")]
struct RestrictionsPage {
    c: Chrome,
    error: String,
    restrictions: Vec<Item>,
}

async fn restrictions_page(state: &AppState, page: Page, error: String) -> Response {
    let mut q = super::dashboard::scoped(&page, Kind::Restriction);
    q.recent_first = true;
    q.limit = 200;
    let t = page.c.t.clone();
    let rows = match super::dashboard::fetch(state, &page, &q).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(page.c, e),
    };
    let mut restrictions = Vec::new();
    for (rec, _) in rows {
        let Ok(r) = rec.typed::<Restriction>() else {
            continue;
        };
        let person = match state.store.get(r.person_id).await {
            Ok(Some(p)) if can_see(&page.auth.viewer, &p.scope(), &p.data) => {
                match crate::records::shown(state, &page.auth, &p).await {
                    Ok(v) => title(v.value()),
                    Err(e) => return error_page(page.c, e),
                }
            }
            _ => continue,
        };
        restrictions.push(Item {
            id: rec.id.to_string(),
            label: person,
            extra: format!(
                "{} {} · {} · {}",
                r.authority.issuing_authority,
                r.authority.reference,
                t.date(r.authority.date),
                r.children.len()
            ),
        });
    }
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut resp = render(&RestrictionsPage {
        c: page.c,
        error,
        restrictions,
    });
    *resp.status_mut() = status;
    resp
}

pub async fn restrictions(State(state): State<AppState>, page: Page) -> Response {
    restrictions_page(&state, page, String::new()).await
}

pub async fn restriction_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return restrictions_page(&state, page, msg).await;
    }
    if !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(page.c, ApiError::forbidden("restrictions"));
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let result = async {
        // Children by wristband, among those the user may see.
        let mut children = Vec::new();
        for w in get("wristbands").split([',', ' ']).filter(|w| !w.is_empty()) {
            let mut q = super::dashboard::scoped(&page, Kind::Child);
            q.search = Some(w.to_string());
            q.limit = 50;
            let found = state
                .store
                .list(&q)
                .await?
                .items
                .into_iter()
                .find(|c| s(&c.data, "wristband") == w)
                .ok_or_else(|| ApiError::bad_request(format!("no child with wristband {w}")))?;
            children.push(found.id);
        }
        let mut barred = Vec::new();
        for (field, value) in [("bar_visits", "visits"), ("bar_contact", "contact"), ("bar_location", "location_information")] {
            if f.contains_key(field) {
                barred.push(value);
            }
        }
        let who = crate::records::actor(&page.auth);
        let mut person: amparo_domain::records::Person = serde_json::from_value(json!({
            "names": [{"given": get("given"), "family": get("family"), "kind": "as_given"}]
        }))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        amparo_domain::records::Record::prepare(&mut person, &crate::records::ctx()).map_err(ApiError::invalid)?;
        let mut authority = json!({"kind": "court_order", "issuing_authority": get("issuing_authority"),
                                   "reference": get("reference"), "date": get("date")});
        if !get("expires").is_empty() {
            authority["expires"] = json!(get("expires"));
        }
        let mut tx = state.store.begin().await?;
        let p = tx.create(&who, person).await?;
        let mut r: Restriction = serde_json::from_value(json!({
            "person_id": p.id, "children": children, "authority": authority, "barred": barred,
        }))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        amparo_domain::records::Record::prepare(&mut r, &crate::records::ctx()).map_err(ApiError::invalid)?;
        tx.create(&who, r).await?;
        tx.commit().await?;
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/restrictions").into_response(),
        Err(e) => restrictions_page(&state, page, e.detail).await,
    }
}
