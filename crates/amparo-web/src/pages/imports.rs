//! The import page: upload a spreadsheet, see what amparo read and every problem,
//! then import all rows (or the good ones) with progress shown.
use super::view::{s, Opt};
use super::{error_page, form_fields, render, Chrome, Page};
use crate::dataio::run_import;
use crate::error::ApiError;
use crate::state::AppState;
use amparo_domain::policy::Capability;
use amparo_domain::records::Kind;
use amparo_io::import::{Mode, Report};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use uuid::Uuid;

pub struct ProblemRow {
    pub row: String,
    pub column: String,
    pub value: String,
    pub message: String,
}

pub struct Preview {
    pub upload: String,
    pub operation: String,
    pub map: String,
    pub rows: usize,
    pub ready: usize,
    pub recognised: usize,
    pub bad: usize,
    pub columns: Vec<(String, String)>,
    pub ignored: String,
    pub problems: Vec<ProblemRow>,
    pub suspects: Vec<ProblemRow>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    operations: Vec<Opt>,
    fields: String,
    error: String,
    preview: Option<Preview>,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    c: Chrome,
    running: bool,
    done: usize,
    total: usize,
    error: String,
    imported: usize,
    recognised: usize,
    bad: usize,
    job: String,
    has_rejected: bool,
    problems: Vec<ProblemRow>,
}

/// The problems in the page's language: amparo-io says them in English with a code;
/// the Spanish page says them from the message files.
fn problem_rows(t: &crate::i18n::Tr, r: &Report) -> Vec<ProblemRow> {
    r.problems
        .iter()
        .map(|p| {
            let key = format!("imp-{}", p.code);
            let said = t.get(&key);
            let message = if t.code() == "en" || said == key {
                p.message.clone()
            } else {
                said
            };
            ProblemRow {
                row: p.row.to_string(),
                column: p.column.clone(),
                value: p.value.clone(),
                message,
            }
        })
        .collect()
}

async fn operations(state: &AppState, page: &Page) -> Result<Vec<Opt>, ApiError> {
    let mut q = super::dashboard::scoped(page, Kind::Operation);
    q.recent_first = true;
    q.limit = 50;
    Ok(super::dashboard::fetch(state, page, &q)
        .await?
        .0
        .into_iter()
        .map(|(rec, r)| Opt {
            key: rec.id.to_string(),
            label: s(r.value(), "name").to_string(),
        })
        .collect())
}

async fn show(state: &AppState, page: Page, error: String, preview: Option<Preview>) -> Response {
    if !page.auth.viewer.has(Capability::CaseWrite) {
        return error_page(page.c, ApiError::forbidden("You may not import children."));
    }
    let operations = match operations(state, &page).await {
        Ok(o) => o,
        Err(e) => return error_page(page.c, e),
    };
    let fields = amparo_io::children::FIELDS
        .iter()
        .map(|(f, names)| {
            format!(
                "{f} ({})",
                names.iter().take(3).copied().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut resp = render(&ImportPage {
        c: page.c,
        operations,
        fields,
        error,
        preview,
    });
    *resp.status_mut() = status;
    resp
}

pub async fn form(State(state): State<AppState>, page: Page) -> Response {
    show(&state, page, String::new(), None).await
}

fn parse_map(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.rsplit_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| format!("'{l}': write each mapping as COLUMN=FIELD, one per line"))
        })
        .collect()
}

/// The upload: read the file, check every row (nothing written), show the preview.
pub async fn upload(
    State(state): State<AppState>,
    page: Page,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<Vec<u8>> = None;
    let Ok(mut multipart) = multipart else {
        let msg = page.c.t.get("import-no-file");
        return show(&state, page, msg, None).await;
    };
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    match field.bytes().await {
                        Ok(b) => file = Some(b.to_vec()),
                        Err(_) => {
                            let msg = page.c.t.get("import-too-large");
                            return show(&state, page, msg, None).await;
                        }
                    }
                } else if let Ok(text) = field.text().await {
                    fields.insert(name, text);
                }
            }
            Ok(None) => break,
            Err(_) => {
                let msg = page.c.t.get("import-too-large");
                return show(&state, page, msg, None).await;
            }
        }
    }
    if !page.check_csrf(fields.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return show(&state, page, msg, None).await;
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let msg = page.c.t.get("import-no-file");
        return show(&state, page, msg, None).await;
    };
    let Some(operation) = fields
        .get("operation_id")
        .and_then(|o| Uuid::parse_str(o).ok())
    else {
        let msg = page.c.t.get("import-no-operation");
        return show(&state, page, msg, None).await;
    };
    let map_text = fields.get("map").cloned().unwrap_or_default();
    let map = match parse_map(&map_text) {
        Ok(m) => m,
        Err(e) => return show(&state, page, e, None).await,
    };
    let report = match run_import(
        &state,
        &page.auth,
        operation,
        &bytes,
        Mode::DryRun,
        &map,
        &|_, _| {},
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return show(&state, page, e.detail, None).await,
    };
    let upload = state.imports.add_upload(page.auth.user.id, bytes);
    let preview = Preview {
        upload: upload.to_string(),
        operation: operation.to_string(),
        map: map_text,
        rows: report.rows,
        ready: report.ready,
        recognised: report.recognised.len(),
        bad: report.bad_rows.len(),
        columns: report
            .columns
            .iter()
            .map(|(f, c)| (c.clone(), f.clone()))
            .collect(),
        ignored: report.ignored_columns.join(", "),
        problems: problem_rows(&page.c.t, &report),
        suspects: report
            .suspected_duplicates
            .iter()
            .map(|d| ProblemRow {
                row: d.row.to_string(),
                column: d.existing_case_number.clone().unwrap_or_default(),
                value: d.existing_id.to_string(),
                message: format!("{:.0}%", d.probability * 100.0),
            })
            .collect(),
    };
    show(&state, page, String::new(), Some(preview)).await
}

/// The confirmation: import in the background and show its progress.
pub async fn run(
    State(state): State<AppState>,
    page: Page,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = form_fields(form);
    if !page.check_csrf(f.get("csrf_token")) {
        let msg = page.c.t.get("form-csrf");
        return show(&state, page, msg, None).await;
    }
    let upload = f.get("upload").and_then(|u| Uuid::parse_str(u).ok());
    let operation = f.get("operation_id").and_then(|o| Uuid::parse_str(o).ok());
    let mode = match f.get("mode").map(String::as_str) {
        Some("good_rows") => Mode::GoodRows,
        _ => Mode::AllOrNothing,
    };
    let (Some(upload), Some(operation)) = (upload, operation) else {
        let msg = page.c.t.get("import-expired");
        return show(&state, page, msg, None).await;
    };
    let owner = page.auth.user.id;
    let Some(bytes) = state.imports.upload(owner, upload) else {
        let msg = page.c.t.get("import-expired");
        return show(&state, page, msg, None).await;
    };
    let map = match parse_map(f.get("map").map(String::as_str).unwrap_or("")) {
        Ok(m) => m,
        Err(e) => return show(&state, page, e, None).await,
    };
    let (job_id, job) = state.imports.start(owner, operation, upload);
    let auth = page.auth;
    let bg = state.clone();
    tokio::spawn(async move {
        let progress_job = job.clone();
        let progress = move |done: usize, total: usize| {
            progress_job.total.store(total, Ordering::Relaxed);
            progress_job.done.store(done, Ordering::Relaxed);
        };
        let result = run_import(&bg, &auth, operation, &bytes, mode, &map, &progress)
            .await
            .map_err(|e| e.detail);
        if let Ok(mut slot) = job.result.lock() {
            *slot = Some(result);
        }
    });
    Redirect::to(&format!("/import/jobs/{job_id}")).into_response()
}

fn job_of(state: &AppState, page: &Page, id: &str) -> Option<std::sync::Arc<crate::dataio::Job>> {
    let id = Uuid::parse_str(id).ok()?;
    state.imports.job(page.auth.user.id, id)
}

pub async fn job(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    let Some(job) = job_of(&state, &page, &id) else {
        return error_page(page.c, ApiError::not_found());
    };
    let result = job.result.lock().ok().and_then(|r| r.clone());
    let mut view = JobPage {
        running: result.is_none(),
        done: job.done.load(Ordering::Relaxed),
        total: job.total.load(Ordering::Relaxed),
        error: String::new(),
        imported: 0,
        recognised: 0,
        bad: 0,
        job: id,
        has_rejected: false,
        problems: Vec::new(),
        c: page.c,
    };
    match result {
        Some(Ok(r)) => {
            view.imported = r.imported.len();
            view.recognised = r.recognised.len();
            view.bad = r.bad_rows.len();
            view.has_rejected = r.rejected_csv.is_some();
            view.problems = problem_rows(&view.c.t, &r);
            if r.mode == Mode::AllOrNothing && !r.problems.is_empty() {
                view.error = view.c.t.get("import-nothing");
            }
        }
        Some(Err(e)) => view.error = e,
        None => {}
    }
    render(&view)
}

pub async fn rejected(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let Some(job) = job_of(&state, &page, &id) else {
        return error_page(page.c, ApiError::not_found());
    };
    let csv = job.result.lock().ok().and_then(|r| {
        r.as_ref()
            .and_then(|r| r.as_ref().ok())
            .and_then(|r| r.rejected_csv.clone())
    });
    match csv {
        Some(csv) => crate::dataio::download(
            csv.into_bytes(),
            "text/csv; charset=utf-8",
            "rejected-rows.csv",
        ),
        None => error_page(page.c, ApiError::not_found()),
    }
}
