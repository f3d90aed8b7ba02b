//! Data in and out over HTTP: children imported from a spreadsheet, children
//! exported as the viewer may see them, and the court case file.
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, require, visible};
use crate::state::AppState;
use amparo_domain::policy::{can_see, Capability};
use amparo_domain::records::Kind;
use amparo_io::export::{self, Format};
use amparo_io::import::{import_children, read_table, ImportError, Mode, Report, Request};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use uuid::Uuid;

/// Query options of an import: `mode` and any number of `map=COLUMN=FIELD`.
pub(crate) fn import_options(
    pairs: &[(String, String)],
) -> ApiResult<(Mode, Vec<(String, String)>)> {
    let mut mode = Mode::DryRun;
    let mut map = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "mode" => {
                mode = match v.as_str() {
                    "dry_run" => Mode::DryRun,
                    "all_or_nothing" => Mode::AllOrNothing,
                    "good_rows" => Mode::GoodRows,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "mode '{v}' is not known: use dry_run, all_or_nothing or good_rows"
                        )))
                    }
                }
            }
            "map" => {
                let (col, field) = v.rsplit_once('=').ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "map '{v}' must be COLUMN=FIELD, e.g. Nombre del niño=given_name"
                    ))
                })?;
                map.push((col.trim().to_string(), field.trim().to_string()));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{other}' is not an import option: use mode and map"
                )))
            }
        }
    }
    Ok((mode, map))
}

/// Check and import a spreadsheet of children; shared by the API and the page.
pub(crate) async fn run_import(
    state: &AppState,
    auth: &Auth,
    operation: Uuid,
    bytes: &[u8],
    mode: Mode,
    map: &[(String, String)],
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> ApiResult<Report> {
    require(state, auth, Capability::CaseWrite, "import children").await?;
    let table = read_table(bytes).map_err(import_error)?;
    let who = actor(auth);
    let mut existing = crate::custody::scoped(auth, Kind::Child);
    existing.operation_id = Some(operation);
    let report = import_children(
        &state.store,
        Request {
            actor: &who,
            operation,
            table: &table,
            map,
            mode,
            today: chrono::Utc::now().date_naive(),
            existing,
        },
        progress,
    )
    .await
    .map_err(import_error)?;
    Ok(report)
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::File(problems) => {
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "File cannot be imported",
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            err.errors = problems
                .into_iter()
                .map(|p| amparo_domain::FieldError {
                    field: "file".into(),
                    message: p.message,
                })
                .collect();
            err
        }
        ImportError::NoOperation => ApiError::not_found(),
        ImportError::Store(s) => s.into(),
    }
}

/// `POST /api/v1/operations/{id}/imports?mode=...&map=...` with the file as the body.
pub async fn import_api(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let op = visible(&state, &auth, Kind::Operation, &id).await?;
    let Query(pairs) = query.map_err(|_| {
        ApiError::bad_request("the query cannot be read: use mode=dry_run|all_or_nothing|good_rows and map=COLUMN=FIELD")
    })?;
    let (mode, map) = import_options(&pairs)?;
    let bytes = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            format!(
                "The file is larger than {} MiB. Split it into smaller files.",
                amparo_io::table::MAX_FILE / 1024 / 1024
            ),
        )
    })?;
    let report = run_import(&state, &auth, op.id, &bytes, mode, &map, &|_, _| {}).await?;
    let body = serde_json::to_value(&report).map_err(|_| ApiError::internal())?;
    if mode == Mode::AllOrNothing && !report.problems.is_empty() {
        let problem = json!({
            "type": "about:blank",
            "title": "Rows with problems",
            "status": 422,
            "detail": format!("{} rows have problems; nothing was imported. Fix them and send the file again, or send mode=good_rows to import the others.", report.bad_rows.len()),
            "errors": report.problems.iter().map(|p| json!({"field": format!("row {} {}", p.row, p.column), "message": p.message})).collect::<Vec<_>>(),
            "report": body,
        });
        let mut resp = (StatusCode::UNPROCESSABLE_ENTITY, problem.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        return Ok(resp);
    }
    let status = if report.committed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(body)).into_response())
}

/// The children of an operation as the viewer may see them, every read audited.
pub(crate) async fn export_children(
    state: &AppState,
    auth: &Auth,
    operation: Uuid,
    format: Format,
) -> ApiResult<(Vec<u8>, usize)> {
    let mut q = crate::custody::scoped(auth, Kind::Child);
    q.operation_id = Some(operation);
    q.limit = 1_000_000;
    let children: Vec<_> = state
        .store
        .list(&q)
        .await?
        .items
        .into_iter()
        .filter(|c| can_see(&auth.viewer, &c.scope(), &c.data))
        .collect();
    let refs: Vec<&amparo_store::StoredRecord> = children.iter().collect();
    let shown = crate::records::reveal(state, auth, &refs, "exported").await?;
    let columns = export::child_columns(&auth.viewer);
    let count = shown.len();
    let bytes = match format {
        Format::Json => {
            serde_json::to_vec(&shown.iter().map(|r| r.value().clone()).collect::<Vec<_>>())
                .map_err(|_| ApiError::internal())?
        }
        Format::Csv | Format::Xlsx => {
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|r| export::child_cells(r.value(), &columns))
                .collect();
            if format == Format::Csv {
                export::csv(&columns, &rows)
            } else {
                export::xlsx(&columns, &rows).map_err(|m| {
                    tracing::error!(error = %m, "export failed");
                    ApiError::internal()
                })?
            }
        }
    };
    state
        .store
        .audit_note(
            &auth.user.username,
            amparo_domain::audit::Action::Export,
            "operation",
            Some(operation),
            format!("{count} children exported as {}", format.extension()),
        )
        .await?;
    Ok((bytes, count))
}

/// A file to save, never shown inline. The name keeps only ASCII letters, digits and
/// `.-_`, so no header can be broken by what a user typed.
pub(crate) fn download(bytes: Vec<u8>, content_type: &str, filename: &str) -> Response {
    let filename: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/v1/operations/{id}/children/export?format=csv|xlsx|json`
pub async fn export_api(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let op = visible(&state, &auth, Kind::Operation, &id).await?;
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("use format=csv, format=xlsx or format=json"))?;
    let raw = q.format.unwrap_or_else(|| "csv".into());
    let format = Format::parse(&raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "format '{raw}' is not offered: use csv, xlsx or json"
        ))
    })?;
    let (bytes, _) = export_children(&state, &auth, op.id, format).await?;
    let name = format!(
        "children-{}.{}",
        chrono::Utc::now().format("%Y%m%d-%H%M"),
        format.extension()
    );
    Ok(download(bytes, format.content_type(), &name))
}

/// Uploaded files waiting for the person to confirm, and imports running in the
/// background for the page. Held in memory only, for the user who uploaded them, and
/// dropped after an hour: the file never touches the disk.
#[derive(Default)]
pub struct ImportJobs {
    inner: std::sync::Mutex<JobsInner>,
}

#[derive(Default)]
struct JobsInner {
    uploads: HashMap<Uuid, Upload>,
    jobs: HashMap<Uuid, Arc<Job>>,
}

struct Upload {
    owner: Uuid,
    at: std::time::Instant,
    bytes: Arc<Vec<u8>>,
}

pub struct Job {
    pub owner: Uuid,
    pub operation: Uuid,
    at: std::time::Instant,
    pub done: AtomicUsize,
    pub total: AtomicUsize,
    pub result: std::sync::Mutex<Option<Result<Report, String>>>,
}

/// Ids of uploads and jobs are unguessable (and tied to their owner besides).
fn random_id() -> Uuid {
    let mut b = [0u8; 16];
    match getrandom::fill(&mut b) {
        Ok(()) => uuid::Builder::from_random_bytes(b).into_uuid(),
        Err(_) => Uuid::now_v7(),
    }
}

const KEEP: std::time::Duration = std::time::Duration::from_secs(3600);
/// Uploads kept per user: a new one drops the oldest.
const UPLOADS_PER_USER: usize = 3;

impl ImportJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobsInner> {
        // A panic while holding the lock cannot leave the maps half-changed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_upload(&self, owner: Uuid, bytes: Vec<u8>) -> Uuid {
        let mut g = self.lock();
        g.uploads.retain(|_, u| u.at.elapsed() < KEEP);
        g.jobs.retain(|_, j| j.at.elapsed() < KEEP);
        let mut mine: Vec<(Uuid, std::time::Instant)> = g
            .uploads
            .iter()
            .filter(|(_, u)| u.owner == owner)
            .map(|(id, u)| (*id, u.at))
            .collect();
        mine.sort_by_key(|(_, at)| *at);
        while mine.len() >= UPLOADS_PER_USER {
            let (oldest, _) = mine.remove(0);
            g.uploads.remove(&oldest);
        }
        let id = random_id();
        g.uploads.insert(
            id,
            Upload {
                owner,
                at: std::time::Instant::now(),
                bytes: Arc::new(bytes),
            },
        );
        id
    }

    pub fn upload(&self, owner: Uuid, id: Uuid) -> Option<Arc<Vec<u8>>> {
        let g = self.lock();
        g.uploads
            .get(&id)
            .filter(|u| u.owner == owner && u.at.elapsed() < KEEP)
            .map(|u| u.bytes.clone())
    }

    pub fn start(&self, owner: Uuid, operation: Uuid, upload: Uuid) -> (Uuid, Arc<Job>) {
        let job = Arc::new(Job {
            owner,
            operation,
            at: std::time::Instant::now(),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            result: std::sync::Mutex::new(None),
        });
        let id = random_id();
        let mut g = self.lock();
        // The file is used once: a second confirm cannot start a second import.
        g.uploads.remove(&upload);
        g.jobs.insert(id, job.clone());
        (id, job)
    }

    pub fn job(&self, owner: Uuid, id: Uuid) -> Option<Arc<Job>> {
        self.lock()
            .jobs
            .get(&id)
            .filter(|j| j.owner == owner)
            .cloned()
    }
}
