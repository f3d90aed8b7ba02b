//! Search, the child page (edit in place with the version check), intake, roster.
use super::dashboard::{fetch, scoped};
use super::view::{self, s, title, Item, NameRow, Opt};
use super::{error_page, form_fields, message, render, Chrome, Page};
use crate::error::ApiError;
use crate::records::{ctx, shown, visible};
use crate::state::AppState;
use amparo_domain::birth::parse_birth_text;
use amparo_domain::policy::{can_see, redact, Capability, Sensitivity};
use amparo_domain::records::{Child, Kind, Record};
use amparo_store::StoreError;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

// ------------------------------------------------------------------ search

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    status: String,
    count_label: String,
    results: Vec<Item>,
}

async fn search_results(
    state: &AppState,
    page: &Page,
    q: &str,
    status: &str,
) -> Result<(Vec<Item>, i64, bool), ApiError> {
    let mut lq = scoped(page, Kind::Child);
    lq.limit = 100;
    if !q.trim().is_empty() {
        if !page.auth.viewer.may_see(Sensitivity::Identity) {
            return Err(ApiError::forbidden("search by name"));
        }
        lq.search = Some(q.chars().take(200).collect());
    }
    if view::STATUSES.contains(&status) {
        lq.status = Some(status.to_string());
    }
    let (rows, listed) = super::dashboard::fetch_counted(state, page, &lq).await?;
    let t = &page.c.t;
    let today = chrono::Utc::now().date_naive();
    Ok((
        rows.into_iter()
            .map(|(rec, r)| {
                let v = r.value();
                let mut extra = vec![s(v, "case_number").to_string()];
                if !s(v, "wristband").is_empty() {
                    extra.push(format!("#{}", s(v, "wristband")));
                }
                if v.get("birth").is_some() {
                    extra.push(view::age_label(t, v, today));
                }
                extra.push(t.get(&format!("status-{}", s(v, "status"))));
                Item {
                    id: rec.id.to_string(),
                    label: title(v),
                    extra: extra.join(" · "),
                }
            })
            .collect(),
        listed.total,
        listed.total_exact,
    ))
}

pub async fn search_page(
    State(state): State<AppState>,
    page: Page,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let status = p.get("status").cloned().unwrap_or_default();
    show_search(&state, page, String::new(), status).await
}

async fn show_search(state: &AppState, page: Page, q: String, status: String) -> Response {
    match search_results(state, &page, &q, &status).await {
        Ok((results, total, exact)) => {
            let key = if exact {
                "search-results"
            } else {
                "search-results-more"
            };
            let count_label = page.c.t.with(key, &[("count", total.to_string())]);
            render(&SearchPage {
                c: page.c,
                q,
                status,
                count_label,
                results,
            })
        }
        Err(e) => error_page(page.c, e),
    }
}

/// Search by POST so that names never appear in URLs.
pub async fn search_submit(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return message(page.c, StatusCode::FORBIDDEN, msg);
    }
    let q = f.get("q").cloned().unwrap_or_default();
    let status = f.get("status").cloned().unwrap_or_default();
    show_search(&state, page, q, status).await
}

// ------------------------------------------------------------------ child page

pub struct ChildView {
    pub id: String,
    pub case_number: String,
    pub title: String,
    pub status_key: String,
    pub status_label: String,
    pub version: i64,
    pub show_identity: bool,
    pub show_location: bool,
    pub names: Vec<NameRow>,
    pub sex_label: String,
    pub birth_label: String,
    pub languages: String,
    pub nationalities: String,
    pub wristband: String,
    pub photo: bool,
    pub facility_id: String,
    pub facility_name: String,
    pub flags: Vec<Item>,
    pub relations: Vec<Item>,
    pub households: Vec<Item>,
}

#[derive(Default)]
pub struct EditForm {
    pub version: i64,
    pub given: String,
    pub family: String,
    pub sex: String,
    pub status: String,
    pub birth: String,
    pub wristband: String,
    pub languages: String,
}

#[derive(Default)]
pub struct FieldErrors {
    pub status: String,
    pub birth: String,
    pub wristband: String,
    pub languages: String,
    pub other: String,
}

pub struct Row {
    pub version: String,
    pub when: String,
    pub who: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "child.html")]
struct ChildPage {
    c: Chrome,
    v: ChildView,
    f: EditForm,
    errors: FieldErrors,
    can_edit: bool,
    notice: String,
    stale: Vec<String>,
    sexes: Vec<Opt>,
    statuses: Vec<Opt>,
    flag_kinds: Vec<Opt>,
    outcomes: Vec<Opt>,
    checks: Vec<Row>,
    history: Vec<Row>,
    audit: Vec<Row>,
}

/// The child's welfare checks, newest first, as far as the viewer may see them.
async fn welfare_rows(state: &AppState, page: &Page, child: Uuid) -> Result<Vec<Row>, ApiError> {
    let t = &page.c.t;
    let mut rows = Vec::new();
    for ch in state
        .store
        .records_with_field(
            page.auth.viewer.agency_id,
            Kind::WelfareCheck,
            "child_id",
            &child.to_string(),
        )
        .await?
    {
        if !can_see(&page.auth.viewer, &ch.scope(), &ch.data) {
            continue;
        }
        let outcome = s(&ch.data, "outcome");
        let when = match s(&ch.data, "done_at") {
            "" => s(&ch.data, "planned_for").to_string(),
            d => t.when(d),
        };
        rows.push(Row {
            version: String::new(),
            when,
            who: ch
                .data
                .get("visitors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            what: if outcome.is_empty() {
                "—".into()
            } else {
                t.get(&format!("outcome-{outcome}"))
            },
        });
    }
    rows.reverse();
    Ok(rows)
}

fn outcomes(c: &Chrome) -> Vec<Opt> {
    [
        "seen_safe",
        "concerns",
        "not_found",
        "access_denied",
        "obstructed",
    ]
    .iter()
    .map(|o| Opt {
        key: (*o).into(),
        label: c.t.get(&format!("outcome-{o}")),
    })
    .collect()
}

/// Flags a person may raise by hand (the others are raised by rules).
const FLAG_KINDS: [&str; 7] = [
    "pregnancy_minor",
    "sexual_abuse_suspected",
    "physical_punishment",
    "neglect",
    "trafficking_risk",
    "medical_urgent",
    "child_marriage",
];

fn flag_kinds(restricted_too: bool) -> Vec<Opt> {
    FLAG_KINDS
        .iter()
        .filter(|k| {
            restricted_too
                || serde_json::from_value::<amparo_domain::records::RiskKind>(serde_json::json!(k))
                    .map(|kind| !kind.is_restricted())
                    .unwrap_or(false)
        })
        .map(|k| Opt {
            key: (*k).into(),
            label: k.replace('_', " "),
        })
        .collect()
}

fn first_as_given(v: &Value) -> (String, String) {
    v.get("names")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find(|n| s(n, "kind") == "as_given").or(l.first()))
        .map(|n| (s(n, "given").to_string(), s(n, "family").to_string()))
        .unwrap_or_default()
}

fn form_of(v: &Value, version: i64) -> EditForm {
    let (given, family) = first_as_given(v);
    EditForm {
        version,
        given,
        family,
        sex: s(v, "sex").to_string(),
        status: s(v, "status").to_string(),
        birth: view::birth_input(v, chrono::Utc::now().date_naive()),
        wristband: s(v, "wristband").to_string(),
        languages: view::list_text(v, "languages"),
    }
}

async fn build_child(
    state: &AppState,
    page: &Page,
    id: &str,
) -> Result<
    (
        ChildView,
        Vec<Row>,
        Vec<Row>,
        Value,
        amparo_store::StoredRecord,
    ),
    ApiError,
> {
    let t = &page.c.t;
    let rec = visible(state, &page.auth, Kind::Child, id).await?;
    let r = shown(state, &page.auth, &rec).await?;
    let v = r.value().clone();
    let viewer = &page.auth.viewer;
    let mut facility_name = String::new();
    let facility_id = s(&v, "current_facility_id").to_string();
    if let Ok(fid) = Uuid::parse_str(&facility_id) {
        if let Some(f) = state.store.get(fid).await? {
            facility_name = s(&f.data, "name").to_string();
        }
    }
    // Flags the viewer may see.
    let mut fq = scoped(page, Kind::RiskFlag);
    fq.child_id = Some(rec.id);
    fq.status = Some("open".into());
    let flags = fetch(state, page, &fq)
        .await?
        .0
        .into_iter()
        .map(|(frec, f)| Item {
            id: frec.id.to_string(),
            label: s(f.value(), "kind").replace('_', " "),
            extra: s(f.value(), "reason").to_string(),
        })
        .collect();
    // Relationships and households that name this child.
    let mut relations = Vec::new();
    let mut households = Vec::new();
    if viewer.may_see(Sensitivity::Identity) && viewer.facilities.is_none() {
        for related in state.store.records_naming(viewer.agency_id, rec.id).await? {
            if !can_see(viewer, &related.scope(), &related.data) {
                continue;
            }
            match related.kind {
                Kind::Relationship => {
                    let from = s(&related.data, "from").to_string();
                    let to = s(&related.data, "to").to_string();
                    let other = if from == rec.id.to_string() {
                        &to
                    } else {
                        &from
                    };
                    let other_name = match Uuid::parse_str(other) {
                        Ok(oid) => match state.store.get(oid).await? {
                            Some(o) if can_see(viewer, &o.scope(), &o.data) => {
                                title(shown(state, &page.auth, &o).await?.value())
                            }
                            _ => continue,
                        },
                        Err(_) => continue,
                    };
                    let kind = s(&related.data, "kind").replace('_', " ");
                    let label = if from == rec.id.to_string() {
                        format!("{kind} → {other_name}")
                    } else {
                        format!("{other_name}: {kind}")
                    };
                    relations.push(Item {
                        id: other.clone(),
                        label,
                        extra: s(&related.data, "verification").to_string(),
                    });
                }
                Kind::Household => households.push(Item {
                    id: related.id.to_string(),
                    label: s(&related.data, "label").to_string(),
                    extra: String::new(),
                }),
                _ => {}
            }
        }
    }
    let sex = s(&v, "sex");
    let view = ChildView {
        id: rec.id.to_string(),
        case_number: rec.case_number.clone().unwrap_or_default(),
        title: title(&v),
        status_key: s(&v, "status").to_string(),
        status_label: t.get(&format!("status-{}", s(&v, "status"))),
        version: rec.version,
        show_identity: v.get("names").is_some(),
        show_location: v.get("current_facility_id").is_some(),
        names: view::names(t, &v),
        sex_label: t.get(&format!(
            "sex-{}",
            if sex.is_empty() { "unknown" } else { sex }
        )),
        birth_label: view::birth_label(t, &v),
        languages: view::list_text(&v, "languages"),
        nationalities: view::list_text(&v, "nationalities"),
        wristband: s(&v, "wristband").to_string(),
        photo: !s(&v, "photo").is_empty(),
        facility_id,
        facility_name,
        flags,
        relations,
        households,
    };
    // History, each version redacted, described by the fields that changed.
    let mut history = Vec::new();
    let mut prev: Option<Value> = None;
    for h in state.store.history(rec.id).await? {
        let data = redact(viewer, Kind::Child, h.data).value().clone();
        let what = match &prev {
            None => t.get("hist-created"),
            Some(p) => amparo_store::changed_fields(p, &data).join(", "),
        };
        history.push(Row {
            version: h.version.to_string(),
            when: t.when(&h.changed_at),
            who: h.changed_by,
            what,
        });
        prev = Some(data);
    }
    history.reverse();
    let mut audit = Vec::new();
    if viewer.has(Capability::AuditRead) {
        for a in state
            .store
            .audit_for_record(&rec.id.to_string(), 50)
            .await?
        {
            audit.push(Row {
                version: a.seq.to_string(),
                when: t.when(&a.at),
                who: a.actor,
                what: format!("{}: {}", a.action, a.summary),
            });
        }
    }
    Ok((view, history, audit, v, rec))
}

fn sexes(c: &Chrome) -> Vec<Opt> {
    view::options(&c.t, "sex", &["unknown", "female", "male"])
}

pub async fn child_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    match build_child(&state, &page, &id).await {
        Ok((v, history, audit, value, rec)) => {
            let checks = match welfare_rows(&state, &page, rec.id).await {
                Ok(c) => c,
                Err(e) => return error_page(page.c, e),
            };
            let can_edit = page.auth.viewer.has(Capability::CaseWrite);
            let statuses = view::options(&page.c.t, "status", &view::STATUSES);
            render(&ChildPage {
                outcomes: outcomes(&page.c),
                checks,
                sexes: sexes(&page.c),
                statuses,
                flag_kinds: flag_kinds(page.auth.viewer.has(Capability::ReadRestricted)),
                f: form_of(&value, rec.version),
                c: page.c,
                v,
                errors: FieldErrors::default(),
                can_edit,
                notice: String::new(),
                stale: vec![],
                history,
                audit,
            })
        }
        Err(e) => error_page(page.c, e),
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', ';', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn child_edit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let typed = EditForm {
        version: get("version").parse().unwrap_or(0),
        given: get("given"),
        family: get("family"),
        sex: get("sex"),
        status: get("status"),
        birth: get("birth"),
        wristband: get("wristband"),
        languages: get("languages"),
    };
    let (v, history, audit, value, rec) = match build_child(&state, &page, &id).await {
        Ok(x) => x,
        Err(e) => return error_page(page.c, e),
    };
    let mut errors = FieldErrors::default();
    let mut stale = Vec::new();
    let t = page.c.t.clone();
    let mut notice = String::new();
    if !page.check_csrf(f.get("csrf_token")) {
        errors.other = t.get("form-csrf");
    } else if !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(page.c, ApiError::forbidden("edit"));
    } else if typed.version != rec.version {
        // Someone changed it meanwhile: say who changed what, keep what was typed.
        let versions = state.store.history(rec.id).await.unwrap_or_default();
        for pair in versions.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            if new.version > typed.version {
                let o = redact(&page.auth.viewer, Kind::Child, old.data.clone());
                let n = redact(&page.auth.viewer, Kind::Child, new.data.clone());
                stale.push(t.with(
                    "child-stale-change",
                    &[
                        ("who", new.changed_by.clone()),
                        (
                            "fields",
                            amparo_store::changed_fields(o.value(), n.value()).join(", "),
                        ),
                        ("when", t.when(&new.changed_at)),
                    ],
                ));
            }
        }
    } else {
        match apply_edit(&state, &page, &rec, &value, &typed).await {
            Ok(()) => {
                notice = t.get("child-saved");
            }
            Err(EditError::Field(field, msg)) => match field {
                "status" => errors.status = msg,
                "birth" => errors.birth = msg,
                "wristband" => errors.wristband = msg,
                "languages" => errors.languages = msg,
                _ => errors.other = msg,
            },
            Err(EditError::Stale) => errors.other = t.get("child-stale"),
            Err(EditError::Api(e)) => return error_page(page.c, e),
        }
    }
    let failed = !stale.is_empty()
        || !errors.other.is_empty()
        || !errors.status.is_empty()
        || !errors.birth.is_empty()
        || !errors.wristband.is_empty()
        || !errors.languages.is_empty();
    // After a save, show the new state; after a failure, keep what was typed.
    let (v, history, audit, form) = if failed {
        let mut keep = typed;
        keep.version = rec.version;
        (v, history, audit, keep)
    } else {
        match build_child(&state, &page, &id).await {
            Ok((v2, h2, a2, val2, rec2)) => (v2, h2, a2, form_of(&val2, rec2.version)),
            Err(e) => return error_page(page.c, e),
        }
    };
    let statuses = view::options(&t, "status", &view::STATUSES);
    let checks = welfare_rows(&state, &page, rec.id)
        .await
        .unwrap_or_default();
    let mut r = render(&ChildPage {
        outcomes: outcomes(&page.c),
        checks,
        sexes: sexes(&page.c),
        statuses,
        flag_kinds: flag_kinds(page.auth.viewer.has(Capability::ReadRestricted)),
        c: page.c,
        v,
        f: form,
        errors,
        can_edit: true,
        notice,
        stale,
        history,
        audit,
    });
    if failed {
        *r.status_mut() = StatusCode::CONFLICT;
    }
    r
}

enum EditError {
    Field(&'static str, String),
    Stale,
    Api(ApiError),
}

async fn apply_edit(
    state: &AppState,
    page: &Page,
    rec: &amparo_store::StoredRecord,
    shown_value: &Value,
    f: &EditForm,
) -> Result<(), EditError> {
    let mut data = rec.data.clone();
    // Names: the first as-given name is what the form edits.
    let names = data
        .get_mut("names")
        .and_then(Value::as_array_mut)
        .ok_or(EditError::Field("other", "names".into()))?;
    let idx = names.iter().position(|n| s(n, "kind") == "as_given");
    let entry = json!({"given": f.given.trim(), "family": f.family.trim(), "kind": "as_given"});
    let entry = match entry.as_object() {
        Some(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| v.as_str() != Some(""))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => entry,
    };
    let has_name = !f.given.trim().is_empty() || !f.family.trim().is_empty();
    match (idx, has_name) {
        (Some(i), true) => {
            let mut merged = names[i].clone();
            for k in ["given", "family"] {
                match entry.get(k) {
                    Some(v) => merged[k] = v.clone(),
                    None => {
                        if let Some(o) = merged.as_object_mut() {
                            o.remove(k);
                        }
                    }
                }
            }
            if first_as_given(shown_value)
                != (f.given.trim().to_string(), f.family.trim().to_string())
            {
                if let Some(o) = merged.as_object_mut() {
                    o.remove("script");
                }
            }
            names[i] = merged;
        }
        (Some(i), false) => {
            names.remove(i);
        }
        (None, true) => names.insert(0, entry),
        (None, false) => {}
    }
    data["sex"] = json!(if f.sex.is_empty() { "unknown" } else { &f.sex });
    // A merged duplicate keeps its status here: merges are undone on the duplicates page,
    // which also clears `merged_into`.
    if s(&rec.data, "status") != "merged" {
        data["status"] = json!(f.status);
    }
    if f.wristband.trim().is_empty() {
        if let Some(o) = data.as_object_mut() {
            o.remove("wristband");
        }
    } else {
        data["wristband"] = json!(f.wristband.trim());
    }
    data["languages"] = json!(split_list(&f.languages));
    let today = chrono::Utc::now().date_naive();
    if f.birth.trim() != view::birth_input(shown_value, today) {
        let b = parse_birth_text(&f.birth, today).map_err(|m| EditError::Field("birth", m))?;
        data["birth"] =
            serde_json::to_value(b).map_err(|e| EditError::Field("birth", e.to_string()))?;
    }
    let mut child: Child = serde_json::from_value(data).map_err(|e| {
        let m = e.to_string();
        let field = if m.contains("language") {
            "languages"
        } else {
            "other"
        };
        EditError::Field(field, m)
    })?;
    child.prepare(&ctx()).map_err(|e| {
        let first = e.0.first();
        let field = match first.map(|f| f.field.as_str()).unwrap_or("") {
            f if f.starts_with("birth") => "birth",
            f if f.starts_with("languages") => "languages",
            _ => "other",
        };
        EditError::Field(field, e.to_string())
    })?;
    match state
        .store
        .update(
            &crate::records::actor(&page.auth),
            rec.id,
            rec.version,
            child,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::Stale { .. }) => Err(EditError::Stale),
        Err(StoreError::Invalid(i)) => {
            let field = if i.0.iter().any(|f| f.field == "status") {
                "status"
            } else {
                "other"
            };
            Err(EditError::Field(
                field,
                i.0.iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ))
        }
        Err(StoreError::Conflict(m)) => Err(EditError::Field("wristband", m)),
        Err(e) => Err(EditError::Api(e.into())),
    }
}

// ------------------------------------------------------------------ intake

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    c: Chrome,
    operations: Vec<Opt>,
    sexes: Vec<Opt>,
}

pub async fn intake_page(State(state): State<AppState>, page: Page) -> Response {
    if !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(page.c, ApiError::forbidden("intake"));
    }
    let mut q = scoped(&page, Kind::Operation);
    q.recent_first = true;
    q.limit = 50;
    let operations = match fetch(&state, &page, &q).await {
        Ok((rows, _)) => rows
            .into_iter()
            .map(|(rec, r)| Opt {
                key: rec.id.to_string(),
                label: s(r.value(), "name").to_string(),
            })
            .collect(),
        Err(e) => return error_page(page.c, e),
    };
    render(&IntakePage {
        sexes: sexes(&page.c),
        c: page.c,
        operations,
    })
}

// ------------------------------------------------------------------ roster

pub struct RosterChild {
    pub id: String,
    pub label: String,
    pub extra: String,
    pub photo: bool,
    pub flag: String,
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    c: Chrome,
    facility: String,
    facility_id: String,
    can_rollcall: bool,
    children: Vec<RosterChild>,
}

pub async fn roster(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    let facility = match visible(&state, &page.auth, Kind::Facility, &id).await {
        Ok(f) => f,
        Err(e) => return error_page(page.c, e),
    };
    if !page.auth.viewer.may_see(Sensitivity::Location) {
        return error_page(page.c, ApiError::forbidden("roster"));
    }
    let mut q = scoped(&page, Kind::Child);
    q.facilities = match &page.auth.viewer.facilities {
        Some(f) if !f.contains(&facility.id) => Some(vec![]),
        _ => Some(vec![facility.id]),
    };
    q.limit = 500;
    let rows = match fetch(&state, &page, &q).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(page.c, e),
    };
    let mut fq = scoped(&page, Kind::RiskFlag);
    fq.status = Some("open".into());
    fq.limit = 500;
    let flags: Vec<(String, String)> = match fetch(&state, &page, &fq).await {
        Ok((f, _)) => f
            .into_iter()
            .map(|(_, r)| {
                (
                    s(r.value(), "child_id").to_string(),
                    s(r.value(), "kind").replace('_', " "),
                )
            })
            .collect(),
        Err(_) => vec![],
    };
    let t = &page.c.t;
    let today = chrono::Utc::now().date_naive();
    let children = rows
        .into_iter()
        .map(|(rec, r)| {
            let v = r.value();
            let id = rec.id.to_string();
            RosterChild {
                label: title(v),
                extra: format!(
                    "#{} · {} · {}",
                    s(v, "wristband"),
                    view::age_label(t, v, today),
                    t.get(&format!("sex-{}", s(v, "sex")))
                ),
                photo: !s(v, "photo").is_empty(),
                flag: flags
                    .iter()
                    .filter(|(c, _)| *c == id)
                    .map(|(_, k)| k.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                id,
            }
        })
        .collect();
    render(&RosterPage {
        facility: s(&facility.data, "name").to_string(),
        facility_id: facility.id.to_string(),
        can_rollcall: page.auth.viewer.has(Capability::RollcallRun),
        c: page.c,
        children,
    })
}
