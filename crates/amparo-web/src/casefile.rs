//! The court case file of one child: what the viewer may see of the child and of
//! every record about them, as a PDF footed with the audit-chain position at printing.
//! Every record printed is an audited read.
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::i18n::{Lang, Tr};
use crate::pages::view::{birth_label, full, s};
use crate::records::{reveal, visible};
use crate::state::AppState;
use amparo_domain::policy::can_see;
use amparo_domain::records::Kind;
use amparo_io::casefile::{render, CaseFile, Line, Section};
use amparo_store::StoredRecord;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;

/// Enum values read as words: `protective_order` -> `protective order`.
fn words(v: &str) -> String {
    v.replace('_', " ")
}

fn text(tr: &Tr, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(t) => {
            if t.len() >= 20 && t.as_bytes().get(10) == Some(&b'T') {
                tr.when(t)
            } else if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
                tr.date(d)
            } else {
                t.clone()
            }
        }
        Value::Array(items) => items
            .iter()
            .map(|i| text(tr, i))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => v.to_string(),
    }
}

struct Lines<'a> {
    tr: &'a Tr,
    lines: Vec<Line>,
}

impl Lines<'_> {
    fn field(&mut self, key: &str, value: String) {
        if !value.trim().is_empty() {
            self.lines.push(Line::Field(self.tr.get(key), value));
        }
    }
    fn of(&mut self, key: &str, rec: &Value, field: &str) {
        let v = text(self.tr, rec.get(field).unwrap_or(&Value::Null));
        self.field(key, v);
    }
    fn word(&mut self, key: &str, rec: &Value, field: &str) {
        self.field(key, words(s(rec, field)));
    }
    fn item(&mut self, t: String) {
        self.lines.push(Line::Item(t));
    }
    fn section(self, heading: &str) -> Section {
        let mut lines = self.lines;
        if lines.is_empty() {
            lines.push(Line::Text(self.tr.get("cf-none")));
        }
        Section {
            heading: self.tr.get(heading),
            lines,
        }
    }
}

fn lines(tr: &Tr) -> Lines<'_> {
    Lines {
        tr,
        lines: Vec::new(),
    }
}

/// The records of the file, filtered to what the viewer may know of.
async fn gather(
    state: &AppState,
    auth: &Auth,
    child: &StoredRecord,
) -> ApiResult<HashMap<&'static str, Vec<StoredRecord>>> {
    let agency = auth.viewer.agency_id;
    let mut out: HashMap<&'static str, Vec<StoredRecord>> = HashMap::new();
    for (name, kind) in [
        ("placements", Kind::Placement),
        ("flags", Kind::RiskFlag),
        ("welfare", Kind::WelfareCheck),
    ] {
        let mut q = crate::custody::scoped(auth, kind);
        q.child_id = Some(child.id);
        q.limit = 10_000;
        out.insert(name, state.store.list(&q).await?.items);
    }
    let id = Value::String(child.id.to_string());
    let mentions = |rec: &StoredRecord, field: &str| {
        rec.data
            .get(field)
            .and_then(Value::as_array)
            .is_some_and(|l| l.contains(&id))
    };
    let incidents = state
        .store
        .records_mentioning(agency, &[Kind::Incident], child.id)
        .await?
        .into_iter()
        .filter(|r| mentions(r, "children"))
        .collect();
    out.insert("incidents", incidents);
    let allegations: Vec<StoredRecord> = state
        .store
        .records_mentioning(agency, &[Kind::Allegation], child.id)
        .await?
        .into_iter()
        .filter(|r| mentions(r, "victims"))
        .collect();
    let mut evidence = Vec::new();
    for a in &allegations {
        if can_see(&auth.viewer, &a.scope(), &a.data) {
            evidence.extend(
                state
                    .store
                    .records_with_field(agency, Kind::Evidence, "allegation_id", &a.id.to_string())
                    .await?,
            );
        }
    }
    out.insert("allegations", allegations);
    out.insert("evidence", evidence);
    out.insert(
        "tasks",
        state
            .store
            .records_with_field(agency, Kind::Task, "record_id", &child.id.to_string())
            .await?,
    );
    for list in out.values_mut() {
        list.retain(|r| can_see(&auth.viewer, &r.scope(), &r.data));
    }
    Ok(out)
}

/// Names of facilities and the operation, which are basic (not personal) data.
async fn label_of(state: &AppState, auth: &Auth, id: &str) -> String {
    let Ok(uuid) = uuid::Uuid::parse_str(id) else {
        return String::new();
    };
    match state.store.get(uuid).await {
        Ok(Some(r)) if can_see(&auth.viewer, &r.scope(), &r.data) => s(&r.data, "name").to_string(),
        _ => String::new(),
    }
}

pub(crate) async fn build(
    state: &AppState,
    auth: &Auth,
    child_id: &str,
    tr: &Tr,
) -> ApiResult<(Vec<u8>, String)> {
    let child = visible(state, auth, Kind::Child, child_id).await?;
    let (seq, hash) = state.store.audit_head().await?;
    let related = gather(state, auth, &child).await?;
    let order = [
        "placements",
        "flags",
        "welfare",
        "incidents",
        "tasks",
        "allegations",
        "evidence",
    ];
    let mut all: Vec<&StoredRecord> = vec![&child];
    for name in order {
        all.extend(related.get(name).into_iter().flatten());
    }
    let shown = reveal(state, auth, &all, "printed in the case file").await?;
    let mut shown = shown.into_iter().map(|r| r.value().clone());
    let c = shown.next().unwrap_or(Value::Null);
    let mut by_section: HashMap<&str, Vec<Value>> = HashMap::new();
    for name in order {
        let n = related.get(name).map(Vec::len).unwrap_or(0);
        by_section.insert(name, shown.by_ref().take(n).collect());
    }
    let case_number = s(&c, "case_number").to_string();
    let mut sections = Vec::new();

    let mut id = lines(tr);
    id.field(
        "cf-names",
        c.get("names")
            .and_then(Value::as_array)
            .map(|ns| {
                ns.iter()
                    .map(|n| format!("{} ({})", full(n), words(s(n, "kind"))))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
    );
    id.word("cf-sex", &c, "sex");
    if c.get("birth").is_some() {
        id.field("cf-birth", birth_label(tr, &c));
    }
    id.of("cf-languages", &c, "languages");
    id.of("cf-nationalities", &c, "nationalities");
    id.of("cf-wristband", &c, "wristband");
    id.word("cf-status", &c, "status");
    id.field(
        "cf-operation",
        label_of(state, auth, s(&c, "operation_id")).await,
    );
    id.field(
        "cf-facility",
        label_of(state, auth, s(&c, "current_facility_id")).await,
    );
    id.of("cf-notes", &c, "protection_notes");
    sections.push(id.section("cf-identity"));

    let mut pl = lines(tr);
    for p in by_section.get("placements").into_iter().flatten() {
        let facility = label_of(state, auth, s(p, "facility_id")).await;
        let current = if p.get("to").is_none_or(Value::is_null) {
            format!(" ({})", tr.get("cf-current"))
        } else {
            String::new()
        };
        pl.item(format!("{facility}{current}"));
        pl.of("cf-from", p, "from");
        pl.of("cf-to", p, "to");
        if let Some(lb) = p.get("legal_basis") {
            pl.field(
                "cf-legal-basis",
                format!(
                    "{} · {} · {} · {}",
                    words(s(lb, "kind")),
                    s(lb, "issuing_authority"),
                    s(lb, "reference"),
                    text(tr, lb.get("date").unwrap_or(&Value::Null))
                ),
            );
        }
        pl.of("cf-authorised-by", p, "authorised_by");
        pl.of("cf-reason", p, "reason");
    }
    sections.push(pl.section("cf-placements"));

    let mut fl = lines(tr);
    for f in by_section.get("flags").into_iter().flatten() {
        fl.item(format!(
            "{} · {}",
            words(s(f, "kind")),
            words(s(f, "status"))
        ));
        fl.of("cf-reason", f, "reason");
        fl.of("cf-reason", f, "cleared_reason");
    }
    sections.push(fl.section("cf-flags"));

    let mut wl = lines(tr);
    for w in by_section.get("welfare").into_iter().flatten() {
        let when = w
            .get("done_at")
            .or(w.get("planned_for"))
            .unwrap_or(&Value::Null);
        wl.item(text(tr, when));
        wl.word("cf-outcome", w, "outcome");
        wl.of("cf-visitors", w, "visitors");
        wl.of("cf-notes", w, "notes");
    }
    sections.push(wl.section("cf-welfare"));

    let mut il = lines(tr);
    for i in by_section.get("incidents").into_iter().flatten() {
        il.item(format!(
            "{} · {}",
            text(tr, i.get("occurred_at").unwrap_or(&Value::Null)),
            words(s(i, "kind"))
        ));
        il.word("cf-severity", i, "severity");
        il.of("cf-description", i, "description");
        il.of("cf-police-report", i, "police_report");
        il.of("cf-actions", i, "actions_taken");
    }
    sections.push(il.section("cf-incidents"));

    let mut tl = lines(tr);
    for t in by_section.get("tasks").into_iter().flatten() {
        tl.item(format!("{} · {}", s(t, "title"), words(s(t, "status"))));
        tl.of("cf-assignee", t, "assignee");
        tl.of("cf-due", t, "due");
    }
    sections.push(tl.section("cf-tasks"));

    // Allegations and evidence appear only for those who may see them (investigators);
    // for others the sections are left out, not shown empty.
    let allegations = by_section.get("allegations").cloned().unwrap_or_default();
    if auth
        .viewer
        .may_see(amparo_domain::policy::Sensitivity::Restricted)
    {
        let mut al = lines(tr);
        for a in &allegations {
            al.item(format!(
                "{} · {}",
                words(s(a, "kind")),
                words(s(a, "status"))
            ));
            al.of("cf-reported", a, "reported_at");
            al.of("cf-prosecutor", a, "prosecutor_reference");
            al.of("cf-summary", a, "summary");
        }
        sections.push(al.section("cf-allegations"));
        let mut el = lines(tr);
        for e in by_section.get("evidence").into_iter().flatten() {
            el.item(s(e, "filename").to_string());
            el.field("SHA-256", s(e, "sha256").to_string());
            el.of("cf-size", e, "size");
            el.of("cf-description", e, "description");
            let custody: Vec<String> = e
                .get("custody")
                .and_then(Value::as_array)
                .map(|steps| {
                    steps
                        .iter()
                        .map(|st| {
                            format!(
                                "{} → {} ({}, {})",
                                s(st, "from"),
                                s(st, "to"),
                                text(tr, st.get("at").unwrap_or(&Value::Null)),
                                s(st, "purpose")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            el.field("cf-custody", custody.join("; "));
        }
        sections.push(el.section("cf-evidence"));
    }

    let now = tr.datetime(chrono::Utc::now());
    let file = CaseFile {
        title: tr.get("cf-title"),
        case_number: case_number.clone(),
        printed: tr.with(
            "cf-printed",
            &[("user", auth.user.username.clone()), ("when", now)],
        ),
        audit_position: tr.with(
            "cf-audit",
            &[
                ("seq", seq.to_string()),
                ("hash", hash.chars().take(16).collect()),
            ],
        ),
        page_label: tr.get("cf-page"),
        sections,
    };
    let bytes = tokio::task::spawn_blocking(move || render(&file))
        .await
        .map_err(|_| ApiError::internal())?;
    state
        .store
        .audit_note(
            &auth.user.username,
            amparo_domain::audit::Action::Export,
            "child",
            Some(child.id),
            format!("case file printed ({})", tr.code()),
        )
        .await?;
    Ok((bytes, case_number))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFileQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /api/v1/children/{id}/case-file?lang=es|en`
pub async fn api(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<CaseFileQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("use lang=es or lang=en"))?;
    let lang = match q.lang.as_deref() {
        None => Lang::parse(&auth.user.language).unwrap_or(Lang::Es),
        Some(l) => Lang::parse(l).ok_or_else(|| {
            ApiError::bad_request(format!("lang '{l}' is not offered: use es or en"))
        })?,
    };
    let tr = Tr::new(lang);
    let (bytes, case) = build(&state, &auth, &id, &tr).await?;
    Ok(crate::dataio::download(
        bytes,
        "application/pdf",
        &format!("{case}.pdf"),
    ))
}

/// `GET /children/{id}/case-file`: the PDF in the page's language.
pub async fn page(
    State(state): State<AppState>,
    page: crate::pages::Page,
    Path(id): Path<String>,
) -> Response {
    match build(&state, &page.auth, &id, &page.c.t).await {
        Ok((bytes, case)) => {
            crate::dataio::download(bytes, "application/pdf", &format!("{case}.pdf"))
        }
        Err(e) => crate::pages::error_page(page.c, e),
    }
}
