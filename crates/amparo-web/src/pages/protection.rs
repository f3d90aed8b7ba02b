//! Pages for protection: allegations and their evidence (investigators only), the
//! evidence page with its chain of custody, a child's care plan.
use super::children::Row;
use super::dashboard::{fetch, scoped};
use super::view::{s, title, Item, Opt};
use super::{error_page, form_fields, message, render, Chrome, Page};
use crate::error::ApiError;
use crate::records::{actor, ctx, shown, visible};
use crate::state::AppState;
use amparo_domain::policy::{can_see, field_sensitivity, Capability};
use amparo_domain::records::{Allegation, CarePlan, Evidence, Kind, Person, Record};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

const ALLEGATION_KINDS: [&str; 9] = [
    "sexual_abuse",
    "rape",
    "forced_pregnancy",
    "child_marriage",
    "physical_abuse",
    "psychological_abuse",
    "neglect",
    "trafficking",
    "other",
];

#[derive(Template)]
#[template(path = "allegations.html")]
struct AllegationsPage {
    c: Chrome,
    error: String,
    kinds: Vec<Opt>,
    items: Vec<Item>,
}

async fn allegations_page(state: &AppState, page: Page, error: String) -> Response {
    let mut q = scoped(&page, Kind::Allegation);
    q.recent_first = true;
    q.limit = 200;
    let t = page.c.t.clone();
    let items = match fetch(state, &page, &q).await {
        Ok((rows, _)) => rows
            .into_iter()
            .map(|(rec, r)| Item {
                id: rec.id.to_string(),
                label: format!(
                    "{} · {}",
                    s(r.value(), "kind").replace('_', " "),
                    s(r.value(), "status").replace('_', " ")
                ),
                extra: t.when(s(r.value(), "reported_at")),
            })
            .collect(),
        Err(e) => return error_page(page.c, e),
    };
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&AllegationsPage {
        c: page.c,
        error,
        kinds: ALLEGATION_KINDS
            .iter()
            .map(|k| Opt {
                key: (*k).into(),
                label: k.replace('_', " "),
            })
            .collect(),
        items,
    });
    *r.status_mut() = status;
    r
}

/// Not an investigator: the page does not exist for them.
fn investigators_only(page: &Page) -> bool {
    page.auth.viewer.has(Capability::ReadRestricted)
}

pub async fn allegations(State(state): State<AppState>, page: Page) -> Response {
    if !investigators_only(&page) {
        return error_page(page.c, ApiError::not_found());
    }
    allegations_page(&state, page, String::new()).await
}

pub async fn allegation_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    if !investigators_only(&page) {
        return error_page(page.c, ApiError::not_found());
    }
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return allegations_page(&state, page, msg).await;
    }
    if !page.auth.viewer.has(Capability::AllegationWrite) {
        return error_page(page.c, ApiError::forbidden("allegations"));
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let result = async {
        let mut victims = Vec::new();
        for w in get("victims").split([',', ' ']).filter(|w| !w.is_empty()) {
            let mut q = scoped(&page, Kind::Child);
            q.search = Some(w.to_string());
            q.limit = 50;
            let child = state.store.list(&q).await?.items.into_iter().find(|c| s(&c.data, "wristband") == w)
                .ok_or_else(|| ApiError::bad_request(format!("no child with wristband {w}")))?;
            victims.push(child.id);
        }
        let who = actor(&page.auth);
        let mut tx = state.store.begin().await?;
        let mut perpetrators = Vec::new();
        let name = get("perpetrator");
        if !name.is_empty() {
            let (given, family) = name.split_once(' ').unwrap_or((name.as_str(), ""));
            let mut n = json!({"given": given, "kind": "as_given"});
            if !family.trim().is_empty() {
                n["family"] = json!(family.trim());
            }
            let mut p: Person = serde_json::from_value(json!({"names": [n]})).map_err(|e| ApiError::bad_request(e.to_string()))?;
            p.prepare(&ctx()).map_err(ApiError::invalid)?;
            perpetrators.push(tx.create(&who, p).await?.id);
        }
        let mut value = json!({"kind": get("kind"), "victims": victims, "perpetrators": perpetrators,
            "reported_by": get("reported_by"), "reported_at": chrono::Utc::now(), "summary": get("summary")});
        for k in ["place", "prosecutor_reference"] {
            if !get(k).is_empty() {
                value[k] = json!(get(k));
            }
        }
        let mut a: Allegation = serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
        a.prepare(&ctx()).map_err(ApiError::invalid)?;
        let stored = tx.create(&who, a).await?;
        tx.commit().await?;
        Ok::<Uuid, ApiError>(stored.id)
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/allegations/{id}")).into_response(),
        Err(e) => {
            let msg = e
                .errors
                .first()
                .map(|f| format!("{} {}", f.field, f.message))
                .unwrap_or(e.detail);
            allegations_page(&state, page, msg).await
        }
    }
}

#[derive(Template)]
#[template(path = "allegation.html")]
struct AllegationPage {
    c: Chrome,
    id: String,
    title: String,
    status: String,
    reported: String,
    victims: Vec<Item>,
    perpetrators: Vec<Item>,
    place: String,
    prosecutor: String,
    foreign: Vec<String>,
    summary: String,
    evidence: Vec<Item>,
}

async fn name_of(state: &AppState, page: &Page, id: Uuid) -> Result<Option<String>, ApiError> {
    Ok(match state.store.get(id).await? {
        Some(r) if can_see(&page.auth.viewer, &r.scope(), &r.data) => {
            Some(title(shown(state, &page.auth, &r).await?.value()))
        }
        _ => None,
    })
}

pub async fn allegation(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let built = async {
        let rec = visible(&state, &page.auth, Kind::Allegation, &id).await?;
        let r = shown(&state, &page.auth, &rec).await?;
        let a: Allegation = rec.typed()?;
        let t = &page.c.t;
        let mut victims = Vec::new();
        for v in &a.victims {
            if let Some(n) = name_of(&state, &page, *v).await? {
                victims.push(Item {
                    id: v.to_string(),
                    label: n,
                    extra: String::new(),
                });
            }
        }
        let mut perpetrators = Vec::new();
        for p in &a.perpetrators {
            if let Some(n) = name_of(&state, &page, *p).await? {
                perpetrators.push(Item {
                    id: p.to_string(),
                    label: n,
                    extra: String::new(),
                });
            }
        }
        let evidence = state
            .store
            .records_with_field(
                page.auth.viewer.agency_id,
                Kind::Evidence,
                "allegation_id",
                &rec.id.to_string(),
            )
            .await?
            .into_iter()
            .filter(|e| can_see(&page.auth.viewer, &e.scope(), &e.data))
            .map(|e| Item {
                id: e.id.to_string(),
                label: s(&e.data, "filename").to_string(),
                extra: format!(
                    "sha256 {}…",
                    s(&e.data, "sha256").chars().take(16).collect::<String>()
                ),
            })
            .collect();
        let v = r.value();
        Ok::<AllegationPage, ApiError>(AllegationPage {
            c: Chrome::new(t.clone(), String::new(), None, String::new()),
            id: rec.id.to_string(),
            title: s(v, "kind").replace('_', " "),
            status: s(v, "status").replace('_', " "),
            reported: format!("{} · {}", s(v, "reported_by"), t.when(s(v, "reported_at"))),
            victims,
            perpetrators,
            place: s(v, "place").to_string(),
            prosecutor: s(v, "prosecutor_reference").to_string(),
            foreign: a
                .other_jurisdictions
                .iter()
                .map(|f| format!("{}: {} {}", f.country, f.agency, f.reference))
                .collect(),
            summary: a.summary.as_str().to_string(),
            evidence,
        })
    }
    .await;
    match built {
        Ok(p) => render(&AllegationPage { c: page.c, ..p }),
        Err(e) => error_page(page.c, e),
    }
}

#[derive(Template)]
#[template(path = "evidence.html")]
struct EvidencePage {
    c: Chrome,
    id: String,
    allegation: String,
    filename: String,
    sha: String,
    size: u64,
    content_type: String,
    description: String,
    intact: bool,
    integrity: String,
    chain: Vec<Row>,
    accesses: Vec<Row>,
}

pub async fn evidence(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let built = async {
        let rec = visible(&state, &page.auth, Kind::Evidence, &id).await?;
        shown(&state, &page.auth, &rec).await?;
        let ev: Evidence = rec.typed()?;
        let t = &page.c.t;
        let files = state.files.clone();
        let sha = ev.sha256.to_string();
        let intact = matches!(
            tokio::task::spawn_blocking(move || files.get(&sha)).await,
            Ok(Ok(Some(_)))
        );
        let chain = ev
            .custody
            .iter()
            .enumerate()
            .map(|(i, st)| Row {
                version: (i + 1).to_string(),
                when: t.datetime(st.at),
                who: format!("{} → {}", st.from, st.to),
                what: st.purpose.to_string(),
            })
            .collect();
        let accesses = state
            .store
            .audit_for_record(&rec.id.to_string(), 200)
            .await?
            .into_iter()
            .map(|a| Row {
                version: a.seq.to_string(),
                when: t.when(&a.at),
                who: a.actor,
                what: format!("{}: {}", a.action, a.summary),
            })
            .collect();
        Ok::<EvidencePage, ApiError>(EvidencePage {
            c: Chrome::new(t.clone(), String::new(), None, String::new()),
            id: rec.id.to_string(),
            allegation: ev.allegation_id.map(|a| a.to_string()).unwrap_or_default(),
            filename: ev.filename.to_string(),
            sha: ev.sha256.to_string(),
            size: ev.size,
            content_type: ev.content_type.to_string(),
            description: ev
                .description
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            intact,
            integrity: t.get(if intact { "ev-intact" } else { "ev-altered" }),
            chain,
            accesses,
        })
    }
    .await;
    match built {
        Ok(p) => render(&EvidencePage { c: page.c, ..p }),
        Err(e) => error_page(page.c, e),
    }
}

pub async fn handover(
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
    let result = async {
        let rec = visible(&state, &page.auth, Kind::Evidence, &id).await?;
        if !page.auth.viewer.has(Capability::AllegationWrite) {
            return Err(ApiError::forbidden("evidence"));
        }
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let step: amparo_domain::records::CustodyStep = serde_json::from_value(json!({
            "from": get("from"), "to": get("to"), "at": chrono::Utc::now(), "purpose": get("purpose")}))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut ev: Evidence = rec.typed()?;
        ev.custody.push(step);
        let mut tx = state.store.begin().await?;
        let current = tx.get(rec.id).await?.ok_or_else(ApiError::not_found)?;
        tx.update(&actor(&page.auth), current, ev, "hand-over in the chain of custody").await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/evidence/{id}")).into_response(),
        Err(e) => error_page(page.c, e),
    }
}

// ------------------------------------------------------------------ care plan

pub struct Field {
    pub key: &'static str,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "careplan.html")]
struct CarePlanPage {
    c: Chrome,
    child_id: String,
    child: String,
    version: i64,
    fields: Vec<Field>,
    interpreter: bool,
    can_edit: bool,
    notice: String,
    error: String,
}

const CARE_FIELDS: [(&str, &str); 8] = [
    ("religion", "cp-religion"),
    ("religious_practice", "cp-practice"),
    ("diet", "cp-diet"),
    ("languages", "cp-languages"),
    ("education", "cp-education"),
    ("contact_arrangements", "cp-contact"),
    ("placement_goal", "cp-goal"),
    ("health_notes", "cp-health"),
];

async fn care_page(
    state: &AppState,
    page: Page,
    id: &str,
    notice: String,
    error: String,
) -> Response {
    let built = async {
        let child = visible(state, &page.auth, Kind::Child, id).await?;
        let child_name = title(shown(state, &page.auth, &child).await?.value());
        let plans = state
            .store
            .records_with_field(
                page.auth.viewer.agency_id,
                Kind::CarePlan,
                "child_id",
                &child.id.to_string(),
            )
            .await?;
        let plan = plans
            .into_iter()
            .find(|p| can_see(&page.auth.viewer, &p.scope(), &p.data));
        let (value, version) = match &plan {
            Some(p) => (
                shown(state, &page.auth, p).await?.value().clone(),
                p.version,
            ),
            None => (json!({}), 0),
        };
        let t = &page.c.t;
        let fields = CARE_FIELDS
            .iter()
            .filter(|(k, _)| {
                page.auth
                    .viewer
                    .may_see(field_sensitivity(Kind::CarePlan, k))
            })
            .map(|(k, label)| Field {
                key: k,
                label: t.get(label),
                value: match value.get(*k) {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    Some(Value::String(s)) => s.clone(),
                    _ => String::new(),
                },
            })
            .collect();
        Ok::<CarePlanPage, ApiError>(CarePlanPage {
            c: Chrome::new(t.clone(), String::new(), None, String::new()),
            child_id: child.id.to_string(),
            child: child_name,
            version,
            fields,
            interpreter: value.get("interpreter_needed") == Some(&json!(true)),
            can_edit: page.auth.viewer.has(Capability::CaseWrite),
            notice: String::new(),
            error: String::new(),
        })
    }
    .await;
    match built {
        Ok(p) => {
            let status = if error.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut r = render(&CarePlanPage {
                c: page.c,
                notice,
                error,
                ..p
            });
            *r.status_mut() = status;
            r
        }
        Err(e) => error_page(page.c, e),
    }
}

pub async fn care(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    care_page(&state, page, &id, String::new(), String::new()).await
}

pub async fn care_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return care_page(&state, page, &id, String::new(), msg).await;
    }
    let result = async {
        let child = visible(&state, &page.auth, Kind::Child, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("care plans"));
        }
        let existing = state
            .store
            .records_with_field(
                page.auth.viewer.agency_id,
                Kind::CarePlan,
                "child_id",
                &child.id.to_string(),
            )
            .await?
            .into_iter()
            .next();
        // Start from what is stored so that fields this user may not see are kept.
        let mut data = existing
            .as_ref()
            .map(|e| e.data.clone())
            .unwrap_or_else(|| json!({"child_id": child.id}));
        for (k, _) in CARE_FIELDS {
            if !page
                .auth
                .viewer
                .may_see(field_sensitivity(Kind::CarePlan, k))
            {
                continue;
            }
            let v = f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
            if v.is_empty() {
                if let Some(o) = data.as_object_mut() {
                    o.remove(k);
                }
            } else if k == "languages" {
                data[k] = json!(v
                    .split([',', ' '])
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>());
            } else {
                data[k] = json!(v);
            }
        }
        data["interpreter_needed"] = json!(f.contains_key("interpreter_needed"));
        let mut plan: CarePlan =
            serde_json::from_value(data).map_err(|e| ApiError::bad_request(e.to_string()))?;
        plan.prepare(&ctx()).map_err(ApiError::invalid)?;
        let who = actor(&page.auth);
        match existing {
            Some(current) => {
                let version: i64 = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0);
                state.store.update(&who, current.id, version, plan).await?;
            }
            None => {
                state.store.create(&who, plan).await?;
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let notice = page.c.t.get("cp-saved");
            care_page(&state, page, &id, notice, String::new()).await
        }
        Err(e) => {
            let msg = e
                .errors
                .first()
                .map(|f| format!("{} {}", f.field, f.message))
                .unwrap_or(e.detail);
            care_page(&state, page, &id, String::new(), msg).await
        }
    }
}

// ------------------------------------------------------------------ risk flags

/// Raise a flag by hand, with why; a viewer raises only flags they may see.
pub async fn raise_flag(
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
    let result = async {
        let child = visible(&state, &page.auth, Kind::Child, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("flags"));
        }
        let value = json!({"child_id": child.id, "kind": f.get("kind").cloned().unwrap_or_default(),
                           "reason": f.get("reason").cloned().unwrap_or_default()});
        if !page
            .auth
            .viewer
            .may_see(amparo_domain::policy::record_gate(Kind::RiskFlag, &value))
        {
            return Err(ApiError::forbidden("raise this kind of flag"));
        }
        let mut flag: amparo_domain::records::RiskFlag =
            serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
        flag.prepare(&ctx()).map_err(ApiError::invalid)?;
        state.store.create(&actor(&page.auth), flag).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/children/{id}")).into_response(),
        Err(e) => error_page(page.c, e),
    }
}

pub async fn clear_flag(
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
    let result = async {
        let rec = visible(&state, &page.auth, Kind::RiskFlag, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("flags"));
        }
        let mut flag: amparo_domain::records::RiskFlag = rec.typed()?;
        flag.status = amparo_domain::records::FlagStatus::Cleared;
        flag.cleared_reason = Some(
            serde_json::from_value(json!(f.get("cleared_reason").cloned().unwrap_or_default()))
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        );
        flag.prepare(&ctx()).map_err(ApiError::invalid)?;
        let child = flag.child_id;
        state
            .store
            .update(&actor(&page.auth), rec.id, rec.version, flag)
            .await?;
        Ok(child)
    }
    .await;
    match result {
        Ok(child) => Redirect::to(&format!("/children/{child}")).into_response(),
        Err(e) => error_page(page.c, e),
    }
}

// ------------------------------------------------------------------ sites

pub struct SiteView {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub kept_out: i64,
    pub checks: Vec<Row>,
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    c: Chrome,
    error: String,
    sites: Vec<SiteView>,
    outcomes: Vec<Opt>,
    can_write: bool,
}

const OUTCOMES: [&str; 5] = [
    "access_denied",
    "obstructed",
    "seen_safe",
    "concerns",
    "not_found",
];

async fn sites_page(state: &AppState, page: Page, error: String) -> Response {
    let built = async {
        let t = &page.c.t;
        let mut q = scoped(&page, Kind::Site);
        q.limit = 200;
        let mut sites = Vec::new();
        for (rec, r) in fetch(state, &page, &q).await?.0 {
            let checks = state
                .store
                .records_with_field(
                    page.auth.viewer.agency_id,
                    Kind::WelfareCheck,
                    "site_id",
                    &rec.id.to_string(),
                )
                .await?;
            let mut rows = Vec::new();
            let mut kept_out = 0;
            for ch in checks
                .iter()
                .filter(|c| can_see(&page.auth.viewer, &c.scope(), &c.data))
            {
                let outcome = s(&ch.data, "outcome").to_string();
                if outcome == "access_denied" || outcome == "obstructed" {
                    kept_out += 1;
                }
                let visitors = ch
                    .data
                    .get("visitors")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                rows.push(Row {
                    version: outcome.clone(),
                    when: t.when(s(&ch.data, "done_at")),
                    who: visitors,
                    what: format!(
                        "{}{}",
                        t.get(&format!("outcome-{outcome}")),
                        match s(&ch.data, "refused_by") {
                            "" => String::new(),
                            r => format!(" ({r})"),
                        }
                    ),
                });
            }
            rows.reverse();
            sites.push(SiteView {
                id: rec.id.to_string(),
                name: s(r.value(), "name").to_string(),
                summary: t.with(
                    "site-summary",
                    &[
                        ("checks", rows.len().to_string()),
                        ("kept", kept_out.to_string()),
                    ],
                ),
                kept_out,
                checks: rows,
            });
        }
        Ok::<Vec<SiteView>, ApiError>(sites)
    }
    .await;
    match built {
        Ok(sites) => {
            let outcomes = OUTCOMES
                .iter()
                .map(|o| Opt {
                    key: (*o).into(),
                    label: page.c.t.get(&format!("outcome-{o}")),
                })
                .collect();
            let can_write = page.auth.viewer.has(Capability::CaseWrite);
            let status = if error.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut r = render(&SitesPage {
                c: page.c,
                error,
                sites,
                outcomes,
                can_write,
            });
            *r.status_mut() = status;
            r
        }
        Err(e) => error_page(page.c, e),
    }
}

pub async fn sites(State(state): State<AppState>, page: Page) -> Response {
    sites_page(&state, page, String::new()).await
}

pub async fn site_check(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return sites_page(&state, page, msg).await;
    }
    let result = async {
        let site = visible(&state, &page.auth, Kind::Site, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("welfare checks"));
        }
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let when = super::custody::local_to_utc(&get("done_at")).ok_or_else(|| ApiError::bad_request("done_at: give the date and time of the visit"))?;
        let mut value = json!({"site_id": site.id, "done_at": when, "outcome": get("outcome"),
            "visitors": get("visitors").split(',').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>()});
        for k in ["refused_by", "notes"] {
            if !get(k).is_empty() {
                value[k] = json!(get(k));
            }
        }
        let mut check: amparo_domain::records::WelfareCheck = serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
        check.prepare(&ctx()).map_err(ApiError::invalid)?;
        state.store.create(&actor(&page.auth), check).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/sites").into_response(),
        Err(e) => sites_page(&state, page, e.detail).await,
    }
}

// ------------------------------------------------------------------ tasks

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    c: Chrome,
    error: String,
    tasks: Vec<Item>,
    can_write: bool,
    today: String,
}

async fn tasks_page(state: &AppState, page: Page, error: String) -> Response {
    let t = page.c.t.clone();
    let today = chrono::Utc::now().date_naive();
    let mut q = scoped(&page, Kind::Task);
    q.status = Some("open".into());
    q.limit = 500;
    let tasks = match fetch(state, &page, &q).await {
        Ok((rows, _)) => {
            let mut list: Vec<(String, Item)> = rows
                .into_iter()
                .filter_map(|(rec, _)| {
                    let task: amparo_domain::records::Task = rec.typed().ok()?;
                    let overdue = task.due < today;
                    Some((
                        task.due.to_string(),
                        Item {
                            id: rec.id.to_string(),
                            label: task.title.to_string(),
                            extra: format!(
                                "{} · {}{}",
                                task.assignee,
                                t.date(task.due),
                                if overdue {
                                    format!(" · {}!", t.get("tasks-overdue"))
                                } else {
                                    String::new()
                                }
                            ),
                        },
                    ))
                })
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            list.into_iter().map(|(_, i)| i).collect()
        }
        Err(e) => return error_page(page.c, e),
    };
    let can_write = page.auth.viewer.has(Capability::CaseWrite);
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&TasksPage {
        c: page.c,
        error,
        tasks,
        can_write,
        today: today.to_string(),
    });
    *r.status_mut() = status;
    r
}

pub async fn tasks(State(state): State<AppState>, page: Page) -> Response {
    tasks_page(&state, page, String::new()).await
}

pub async fn task_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return tasks_page(&state, page, msg).await;
    }
    let result = async {
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("tasks"));
        }
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let mut task: amparo_domain::records::Task = serde_json::from_value(json!({
            "title": get("title"), "assignee": get("assignee"), "due": get("due")}))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        task.prepare(&ctx()).map_err(ApiError::invalid)?;
        state.store.create(&actor(&page.auth), task).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/tasks").into_response(),
        Err(e) => tasks_page(&state, page, e.detail).await,
    }
}

pub async fn task_done(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return tasks_page(&state, page, msg).await;
    }
    let result = async {
        let rec = visible(&state, &page.auth, Kind::Task, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("tasks"));
        }
        let mut task: amparo_domain::records::Task = rec.typed()?;
        task.status = amparo_domain::records::TaskStatus::Done;
        state
            .store
            .update(&actor(&page.auth), rec.id, rec.version, task)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/tasks").into_response(),
        Err(e) => tasks_page(&state, page, e.detail).await,
    }
}

/// Record a welfare check on a child from the child page.
pub async fn child_check(
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
    let result = async {
        let child = visible(&state, &page.auth, Kind::Child, &id).await?;
        if !page.auth.viewer.has(Capability::CaseWrite) {
            return Err(ApiError::forbidden("welfare checks"));
        }
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let when = super::custody::local_to_utc(&get("done_at"))
            .ok_or_else(|| ApiError::bad_request("give the date and time of the check"))?;
        let mut value = json!({"child_id": child.id, "done_at": when, "outcome": get("outcome"),
            "visitors": get("visitors").split(',').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>()});
        if !get("notes").is_empty() {
            value["notes"] = json!(get("notes"));
        }
        let mut check: amparo_domain::records::WelfareCheck =
            serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
        check.prepare(&ctx()).map_err(ApiError::invalid)?;
        state.store.create(&actor(&page.auth), check).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/children/{id}")).into_response(),
        Err(e) => error_page(page.c, e),
    }
}
