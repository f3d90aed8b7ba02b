//! The duplicates page: pairs side by side with the reasons; merge and undo.
use super::children::Row;
use super::view::{self, s, title, Item};
use super::{error_page, form_fields, message, render, Chrome, Page};
use crate::duplicates::{find, merge_children, unmerge_child, MergeInput};
use crate::error::ApiError;
use crate::state::AppState;
use amparo_domain::policy::Capability;
use amparo_domain::records::Kind;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

pub struct PairView {
    /// "Possible person 2 · 3 records", on the first pair of each group.
    pub group: String,
    pub probability: String,
    pub a_id: String,
    pub a_label: String,
    pub a_extra: String,
    pub b_id: String,
    pub b_label: String,
    pub b_extra: String,
    pub explanation: Vec<Row>,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    c: Chrome,
    notice: String,
    error: String,
    pairs: Vec<PairView>,
    merged: Vec<Item>,
    can_write: bool,
}

async fn show(state: &AppState, page: Page, notice: String, error: String) -> Response {
    let t = page.c.t.clone();
    let today = chrono::Utc::now().date_naive();
    let (items, children) = match find(state, &page.auth, None).await {
        Ok(x) => x,
        Err(e) => {
            let msg = e.detail.clone();
            return message(page.c, e.status, msg);
        }
    };
    let describe = |v: &Value| {
        [
            s(v, "case_number").to_string(),
            format!("#{}", s(v, "wristband")),
            view::birth_label(&t, v),
            view::age_label(&t, v, today),
        ]
        .join(" · ")
    };
    let mut last_group = None;
    let pairs = items
        .iter()
        .map(|p| PairView {
            group: {
                let g = p["group"].as_u64();
                if g == last_group {
                    String::new()
                } else {
                    last_group = g;
                    t.with(
                        "dup-group",
                        &[
                            ("n", g.unwrap_or(0).to_string()),
                            ("size", p["group_size"].as_u64().unwrap_or(2).to_string()),
                        ],
                    )
                }
            },
            probability: format!("{:.0}%", p["probability"].as_f64().unwrap_or(0.0) * 100.0),
            a_id: s(&p["a"], "id").to_string(),
            a_label: title(&p["a"]),
            a_extra: describe(&p["a"]),
            b_id: s(&p["b"], "id").to_string(),
            b_label: title(&p["b"]),
            b_extra: describe(&p["b"]),
            explanation: p["explanation"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .map(|e| Row {
                            version: s(e, "field").replace('_', " "),
                            when: String::new(),
                            who: e["level"]
                                .as_u64()
                                .map(|l| format!("level {l}"))
                                .unwrap_or_else(|| "—".into()),
                            what: format!("{:+.1}", e["weight"].as_f64().unwrap_or(0.0)),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let mut q = crate::custody::scoped(&page.auth, Kind::Child);
    q.status = Some("merged".into());
    let merged = match super::dashboard::fetch(state, &page, &q).await {
        Ok((rows, _)) => {
            let mut merged = Vec::new();
            for (rec, v) in rows {
                let into = s(v.value(), "merged_into").to_string();
                let into_label = match children.iter().find(|c| c.id.to_string() == into) {
                    Some(c) => match crate::records::shown(state, &page.auth, c).await {
                        Ok(r) => title(r.value()),
                        Err(e) => return error_page(page.c, e),
                    },
                    None => into,
                };
                merged.push(Item {
                    id: rec.id.to_string(),
                    label: title(v.value()),
                    extra: format!("→ {into_label}"),
                });
            }
            merged
        }
        Err(e) => return error_page(page.c, e),
    };
    let can_write = page.auth.viewer.has(Capability::CaseWrite);
    render(&DuplicatesPage {
        c: page.c,
        notice,
        error,
        pairs,
        merged,
        can_write,
    })
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    show(&state, page, String::new(), String::new()).await
}

fn uuid_of(f: &HashMap<String, String>, k: &str) -> Result<Uuid, ApiError> {
    f.get(k)
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| ApiError::bad_request(format!("{k} is missing")))
}

pub async fn merge(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return show(&state, page, String::new(), msg).await;
    }
    let result = async {
        let input = MergeInput {
            keep: uuid_of(&f, "keep")?,
            duplicate: uuid_of(&f, "duplicate")?,
        };
        merge_children(&state, &page.auth, &input).await
    }
    .await;
    match result {
        Ok(()) => {
            let notice = page.c.t.get("dup-merged-notice");
            show(&state, page, notice, String::new()).await
        }
        Err(e) => show(&state, page, String::new(), e.detail).await,
    }
}

pub async fn unmerge(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return show(&state, page, String::new(), msg).await;
    }
    let result = async { unmerge_child(&state, &page.auth, uuid_of(&f, "id")?).await }.await;
    match result {
        Ok(()) => show(&state, page, String::new(), String::new()).await,
        Err(e) => show(&state, page, String::new(), e.detail).await,
    }
}
