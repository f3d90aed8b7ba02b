//! Pages for reunification: tracing requests with their candidates side by side,
//! and releases with their approvals.
use super::view::{birth_label, full, s, title, Opt};
use super::{error_page, form_fields, render, Chrome, Page};
use crate::error::ApiError;
use crate::state::AppState;
use amparo_domain::birth::parse_birth_text;
use amparo_domain::policy::Capability;
use amparo_domain::records::Kind;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct Line {
    pub id: String,
    pub label: String,
    pub extra: String,
    pub status: String,
    pub status_label: String,
}

pub struct Candidate {
    pub id: String,
    pub label: String,
    pub extra: String,
    pub probability: String,
    pub explanation: Vec<(String, String, String)>,
    pub decision: String,
}

#[derive(Template)]
#[template(path = "tracing.html")]
struct TracingList {
    c: Chrome,
    error: String,
    requests: Vec<Line>,
    can_write: bool,
}

#[derive(Template)]
#[template(path = "tracing_request.html")]
struct TracingPage {
    c: Chrome,
    id: String,
    sought: String,
    sought_extra: String,
    requester: String,
    status: String,
    status_label: String,
    alert: String,
    candidates: Vec<Candidate>,
    can_write: bool,
    error: String,
    partners: Vec<Opt>,
    replies: Vec<String>,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    c: Chrome,
    error: String,
    releases: Vec<ReleaseLine>,
    persons: Vec<Opt>,
    can_propose: bool,
    can_approve: bool,
}

pub struct ReleaseLine {
    pub id: String,
    pub child: String,
    pub adult: String,
    pub status: String,
    pub status_label: String,
    pub approvals: String,
    pub proposed_by: String,
    pub refusal: String,
    pub mine: bool,
}

fn names_label(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_array)
        .map(|ns| ns.iter().map(full).collect::<Vec<_>>().join(" / "))
        .unwrap_or_default()
}

fn one_name(v: &Value, field: &str) -> String {
    full(&v[field])
}

async fn list_page(state: &AppState, page: Page, error: String) -> Response {
    let mut q = super::dashboard::scoped(&page, Kind::TracingRequest);
    q.recent_first = true;
    q.limit = 200;
    let rows = match super::dashboard::fetch(state, &page, &q).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(page.c, e),
    };
    let t = &page.c.t;
    let requests = rows
        .iter()
        .map(|(rec, r)| {
            let v = r.value();
            Line {
                id: rec.id.to_string(),
                label: names_label(v, "sought_names"),
                extra: format!(
                    "{} · {} ({})",
                    one_name(v, "requester_name"),
                    s(v, "relationship_claimed"),
                    t.when(&rec.created_at)
                ),
                status: s(v, "status").to_string(),
                status_label: t.get(&format!("st-{}", s(v, "status"))),
            }
        })
        .collect();
    let can_write = page.auth.viewer.has(Capability::CaseWrite);
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&TracingList {
        c: page.c,
        error,
        requests,
        can_write,
    });
    *r.status_mut() = status;
    r
}

pub async fn tracing_list(State(state): State<AppState>, page: Page) -> Response {
    list_page(&state, page, String::new()).await
}

pub async fn tracing_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return list_page(&state, page, msg).await;
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let result = async {
        let birth = parse_birth_text(&get("birth"), today)
            .map_err(|m| ApiError::invalid(amparo_domain::Invalid::one("birth", m)))?;
        let mut sought = vec![json!({"given": get("given"), "family": get("family")})];
        if !get("given2").is_empty() || !get("family2").is_empty() {
            sought.push(json!({"given": get("given2"), "family": get("family2"), "kind": "alias"}));
        }
        for n in sought.iter_mut() {
            if let Some(o) = n.as_object_mut() {
                o.retain(|_, v| v.as_str().is_none_or(|x| !x.is_empty()));
            }
        }
        let mut value = json!({
            "sought_names": sought,
            "sought_sex": if get("sex").is_empty() { "unknown".to_string() } else { get("sex") },
            "sought_birth": birth,
            "requester_name": {"given": get("r_given"), "family": get("r_family")},
            "relationship_claimed": get("relationship"),
            "contact": get("contact"),
            "consent_to_share": f.contains_key("consent"),
        });
        if !get("last_seen_place").is_empty() {
            value["last_seen_place"] = json!(get("last_seen_place"));
        }
        if !get("country").is_empty() {
            value["requester_country"] = json!(get("country").to_uppercase());
        }
        crate::tracing_requests::create_request(&state, &page.auth, value).await
    }
    .await;
    match result {
        Ok(rec) => Redirect::to(&format!("/tracing/{}", rec.id)).into_response(),
        Err(e) => {
            let msg = if e.errors.is_empty() {
                e.detail
            } else {
                e.errors
                    .iter()
                    .map(|x| format!("{}: {}", x.field, x.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            list_page(&state, page, msg).await
        }
    }
}

async fn request_page(state: &AppState, page: Page, id: &str, error: String) -> Response {
    let (rec, _request, items) =
        match crate::tracing_requests::candidates(state, &page.auth, id).await {
            Ok(x) => x,
            Err(e) => return error_page(page.c, e),
        };
    let shown = match crate::records::shown(state, &page.auth, &rec).await {
        Ok(r) => r.value().clone(),
        Err(e) => return error_page(page.c, e),
    };
    let t = &page.c.t;
    let today = chrono::Utc::now().date_naive();
    let birth = birth_label(
        t,
        &json!({"birth": shown.get("sought_birth").cloned().unwrap_or(Value::Null)}),
    );
    let candidates = items
        .iter()
        .map(|i| {
            let child = &i["child"];
            Candidate {
                id: s(child, "id").to_string(),
                label: title(child),
                extra: [
                    s(child, "case_number").to_string(),
                    birth_label(t, child),
                    super::view::age_label(t, child, today),
                    s(child, "sex").to_string(),
                ]
                .join(" · "),
                probability: format!("{:.0}%", i["probability"].as_f64().unwrap_or(0.0) * 100.0),
                explanation: i["explanation"]
                    .as_array()
                    .map(|es| {
                        es.iter()
                            .map(|e| {
                                (
                                    s(e, "field").replace('_', " "),
                                    e["level"]
                                        .as_u64()
                                        .map(|l| format!("level {l}"))
                                        .unwrap_or_else(|| "—".into()),
                                    format!("{:+.1}", e["weight"].as_f64().unwrap_or(0.0)),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                decision: i["decision"]["decision"]
                    .as_str()
                    .map(|d| t.get(&format!("st-{d}")))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let can_write = page.auth.viewer.has(Capability::CaseWrite);
    let partners = state
        .store
        .partners(page.auth.viewer.agency_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| Opt {
            key: p.id.to_string(),
            label: format!("{} ({})", p.name, p.country),
        })
        .collect();
    let replies = shown["replies"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let child = &r["shared"]["child"];
                    format!(
                        "{} · {} · {} {}",
                        s(r, "from"),
                        t.when(s(r, "received_at")),
                        title(child),
                        s(child, "status")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    render(&TracingPage {
        partners,
        replies,
        id: rec.id.to_string(),
        sought: names_label(&shown, "sought_names"),
        sought_extra: [
            birth,
            s(&shown, "sought_sex").to_string(),
            s(&shown, "last_seen_place").to_string(),
        ]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" · "),
        requester: format!(
            "{} · {} · {}",
            one_name(&shown, "requester_name"),
            s(&shown, "relationship_claimed"),
            s(&shown, "requester_country")
        ),
        status_label: t.get(&format!("st-{}", s(&shown, "status"))),
        status: s(&shown, "status").to_string(),
        alert: s(&shown, "alert").to_string(),
        candidates,
        can_write,
        error,
        c: page.c,
    })
}

pub async fn tracing_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    request_page(&state, page, &id, String::new()).await
}

pub async fn tracing_decide(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return request_page(&state, page, &id, msg).await;
    }
    let input = serde_json::from_value::<crate::tracing_requests::DecisionInput>(json!({
        "child_id": f.get("child_id").cloned().unwrap_or_default(),
        "decision": f.get("decision").cloned().unwrap_or_default(),
    }));
    let result = match input {
        Ok(i) => crate::tracing_requests::decide(&state, &page.auth, &id, i)
            .await
            .map(|_| ()),
        Err(e) => Err(ApiError::bad_request(e.to_string())),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/tracing/{id}")).into_response(),
        Err(e) => request_page(&state, page, &id, e.detail).await,
    }
}

// ------------------------------------------------------------------ releases

/// A child's or person's name as the viewer may see it (the read is audited).
async fn label_of(state: &AppState, page: &Page, id: &str) -> String {
    let Ok(uuid) = uuid::Uuid::parse_str(id) else {
        return String::new();
    };
    match state.store.get(uuid).await {
        Ok(Some(rec))
            if amparo_domain::policy::can_see(&page.auth.viewer, &rec.scope(), &rec.data) =>
        {
            match crate::records::shown(state, &page.auth, &rec).await {
                Ok(x) => title(x.value()),
                Err(_) => String::new(),
            }
        }
        _ => String::new(),
    }
}

async fn releases_page(state: &AppState, page: Page, error: String) -> Response {
    let mut q = super::dashboard::scoped(&page, Kind::Release);
    q.recent_first = true;
    q.limit = 200;
    let rows = match super::dashboard::fetch(state, &page, &q).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(page.c, e),
    };
    let mut releases = Vec::new();
    for (_, r) in &rows {
        let v = r.value();
        let approvals: Vec<String> = v["approvals"]
            .as_array()
            .map(|a| a.iter().map(|x| s(x, "by").to_string()).collect())
            .unwrap_or_default();
        releases.push(ReleaseLine {
            id: s(v, "id").to_string(),
            child: label_of(state, &page, s(v, "child_id")).await,
            adult: label_of(state, &page, s(v, "to_person")).await,
            status: s(v, "status").to_string(),
            status_label: page.c.t.get(&format!("st-{}", s(v, "status"))),
            approvals: approvals.join(", "),
            proposed_by: s(v, "proposed_by").to_string(),
            refusal: s(v, "refusal_reason").to_string(),
            mine: s(v, "proposed_by") == page.auth.user.username
                || approvals.contains(&page.auth.user.username),
        });
    }
    let mut pq = super::dashboard::scoped(&page, Kind::Person);
    pq.limit = 500;
    let persons = match super::dashboard::fetch(state, &page, &pq).await {
        Ok((rows, _)) => rows
            .iter()
            .map(|(rec, r)| Opt {
                key: rec.id.to_string(),
                label: title(r.value()),
            })
            .collect(),
        Err(e) => return error_page(page.c, e),
    };
    let can_propose = page.auth.viewer.has(Capability::CaseWrite);
    let can_approve = page.auth.viewer.has(Capability::ReleaseApprove);
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&ReleasesPage {
        c: page.c,
        error,
        releases,
        persons,
        can_propose,
        can_approve,
    });
    *r.status_mut() = status;
    r
}

pub async fn releases(State(state): State<AppState>, page: Page) -> Response {
    releases_page(&state, page, String::new()).await
}

pub async fn release_propose(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return releases_page(&state, page, msg).await;
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let result = async {
        let wristband = get("wristband");
        let mut q = super::dashboard::scoped(&page, Kind::Child);
        q.search = Some(wristband.clone());
        q.limit = 50;
        let child = state
            .store
            .list(&q)
            .await?
            .items
            .into_iter()
            .find(|c| s(&c.data, "wristband") == wristband)
            .ok_or_else(|| ApiError::bad_request(format!("no child with wristband {wristband}")))?;
        let input: crate::releases::Proposal = serde_json::from_value(json!({
            "child_id": child.id, "to_person": get("person"),
            "relationship_verification": get("verification"), "child_views": get("views"),
            "legal_basis": {"kind": "court_order", "issuing_authority": get("authority"),
                            "reference": get("reference"), "date": get("date")},
        }))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        crate::releases::propose_release(&state, &page.auth, input).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/releases").into_response(),
        Err(e) => releases_page(&state, page, e.detail).await,
    }
}

pub async fn release_decide(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return releases_page(&state, page, msg).await;
    }
    let result = if f.contains_key("refuse") {
        crate::releases::refuse_release(
            &state,
            &page.auth,
            &id,
            f.get("reason").map(String::as_str).unwrap_or(""),
        )
        .await
    } else {
        crate::releases::approve_release(&state, &page.auth, &id, f.get("note").cloned()).await
    };
    match result {
        Ok(_) => Redirect::to("/releases").into_response(),
        Err(e) => releases_page(&state, page, e.detail).await,
    }
}

// ------------------------------------------------------------------ partners

pub struct PartnerLine {
    pub name: String,
    pub country: String,
    pub signing_key: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    c: Chrome,
    error: String,
    notice: String,
    partners: Vec<PartnerLine>,
    own_signing: String,
    own_age: String,
    is_admin: bool,
}

async fn partners_page(state: &AppState, page: Page, error: String, notice: String) -> Response {
    let is_admin = page.auth.viewer.has(Capability::UserAdmin);
    if !is_admin && !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(
            page.c,
            ApiError::forbidden("You may not see partner agencies."),
        );
    }
    let partners = match state.store.partners(page.auth.viewer.agency_id).await {
        Ok(p) => p
            .into_iter()
            .map(|p| PartnerLine {
                name: p.name,
                country: p.country,
                signing_key: p.signing_key,
            })
            .collect(),
        Err(e) => return error_page(page.c, e.into()),
    };
    let own = state.keys.public();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&PartnersPage {
        c: page.c,
        error,
        notice,
        partners,
        own_signing: own.signing_key,
        own_age: own.age_recipient,
        is_admin,
    });
    *r.status_mut() = status;
    r
}

pub async fn partners(State(state): State<AppState>, page: Page) -> Response {
    partners_page(&state, page, String::new(), String::new()).await
}

pub async fn partner_add(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return partners_page(&state, page, msg, String::new()).await;
    }
    if !page.auth.viewer.has(Capability::UserAdmin) {
        return error_page(
            page.c,
            ApiError::forbidden("Only administrators register partner agencies."),
        );
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let result = async {
        let name = amparo_domain::text::Text::parse(&get("name"))
            .map_err(|m| ApiError::bad_request(format!("name {m}")))?;
        let country = amparo_domain::country::Country::parse(&get("country"))
            .map_err(ApiError::bad_request)?;
        amparo_io::referral::check_public_keys(&get("signing_key"), &get("age_recipient"))
            .map_err(ApiError::bad_request)?;
        state
            .store
            .add_partner(
                &page.auth.user.username,
                page.auth.viewer.agency_id,
                name.as_str(),
                country.as_str(),
                &get("signing_key"),
                &get("age_recipient"),
            )
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(p) => {
            let notice = format!("{} ✓", p.name);
            partners_page(&state, page, String::new(), notice).await
        }
        Err(e) => partners_page(&state, page, e.detail, String::new()).await,
    }
}

/// A package received as a file, uploaded by a caseworker.
pub async fn partner_receive(
    State(state): State<AppState>,
    page: Page,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut csrf = None;
    let mut file = None;
    if let Ok(mut m) = multipart {
        while let Ok(Some(field)) = m.next_field().await {
            match field.name().unwrap_or("") {
                "csrf_token" => csrf = field.text().await.ok(),
                "file" => file = field.bytes().await.ok(),
                _ => {}
            }
        }
    }
    if !page.check_csrf(csrf.as_ref()) {
        let msg = page.c.t.get("form-csrf");
        return partners_page(&state, page, msg, String::new()).await;
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let msg = page.c.t.get("pa-no-file");
        return partners_page(&state, page, msg, String::new()).await;
    };
    match crate::referrals::receive(&state, &page.auth, &bytes).await {
        Ok(v) => match v["kind"].as_str() {
            Some("tracing_request") | Some("reply") => {
                Redirect::to(&format!("/tracing/{}", s(&v, "id"))).into_response()
            }
            _ => partners_page(&state, page, String::new(), String::new()).await,
        },
        Err(e) => partners_page(&state, page, e.detail, String::new()).await,
    }
}

/// Send a tracing request to a partner: the package comes back as a download.
pub async fn tracing_send(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return request_page(&state, page, &id, msg).await;
    }
    let Some(partner) = f.get("partner").and_then(|p| uuid::Uuid::parse_str(p).ok()) else {
        return request_page(&state, page, &id, "choose a partner".into()).await;
    };
    match crate::referrals::seal_tracing_request(&state, &page.auth, &id, partner).await {
        Ok(bytes) => crate::dataio::download(bytes, "application/octet-stream", "referral.amparo"),
        Err(e) => request_page(&state, page, &id, e.detail).await,
    }
}
