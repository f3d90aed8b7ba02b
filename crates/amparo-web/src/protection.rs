//! Protection and investigation: evidence files with their chain of custody and
//! the bundle for the prosecutor; "my tasks"; a site's welfare-check history.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, ctx, require, visible};
use crate::state::AppState;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::policy::{can_see, Capability};
use amparo_domain::records::{CustodyStep, Evidence, Kind, Record, Task, TaskStatus, WelfareCheck};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub const MAX_EVIDENCE: usize = 50 * 1024 * 1024;

/// Recognise a file by its first bytes. Anything else (HTML, scripts, archives of
/// unknown content) is refused.
pub fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    if let Some(t) = crate::intake::image_type(bytes) {
        return Some(t);
    }
    let starts = |p: &[u8]| bytes.starts_with(p);
    if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"ID3") || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some("audio/wav")
    } else if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

/// A header value, percent-decoded (browsers may only send ASCII in headers).
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = headers.get(name).and_then(|v| v.to_str().ok())?.trim();
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&out).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Upload evidence: the body is the file; `?allegation=ID` or `?incident=ID`;
/// `X-Filename` and `X-Description` headers describe it.
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::AllegationWrite, "add evidence").await?;
    let Query(p) = params.map_err(|e| ApiError::bad_request(format!("query: {e}")))?;
    let parent = |k: &str| {
        p.get(k).map(|v| {
            Uuid::parse_str(v).map_err(|_| ApiError::bad_request(format!("{k} '{v}' is not an id")))
        })
    };
    let allegation = parent("allegation").transpose()?;
    let incident = parent("incident").transpose()?;
    if let Some(a) = allegation {
        visible(&state, &auth, Kind::Allegation, &a.to_string()).await?;
    }
    if let Some(i) = incident {
        visible(&state, &auth, Kind::Incident, &i.to_string()).await?;
    }
    let bytes = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The file is larger than 50 MiB. Split it or ask for a larger limit.",
        )
    })?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("The file is empty."));
    }
    let content_type = evidence_type(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "File type not accepted",
            "Evidence must be a photo (JPEG, PNG, WebP), a PDF document or an audio or video recording (MP3, OGG, WAV, MP4).",
        )
    })?;
    let files = state.files.clone();
    let data = bytes.to_vec();
    let size = data.len() as u64;
    let sha = tokio::task::spawn_blocking(move || files.put(&data))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "could not store evidence");
            ApiError::internal()
        })?;
    let filename =
        header_text(&headers, "x-filename").unwrap_or_else(|| format!("evidence-{}", &sha[..12]));
    let mut ev: Evidence = typed(json!({
        "allegation_id": allegation, "incident_id": incident, "sha256": sha, "size": size,
        "content_type": content_type, "filename": filename.chars().take(200).collect::<String>(),
        "description": header_text(&headers, "x-description"),
        "custody": [{"from": "uploader", "to": auth.user.username, "at": Utc::now(), "purpose": "received and stored"}],
    }))?;
    ev.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = state.store.create(&actor(&auth), ev).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::records::shown(&state, &auth, &stored).await?),
    )
        .into_response())
}

/// The file, always as a download (never rendered inline); every access is audited.
pub async fn file(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, Kind::Evidence, &id).await?;
    let ev: Evidence = rec.typed()?;
    let files = state.files.clone();
    let sha = ev.sha256.to_string();
    let bytes = tokio::task::spawn_blocking(move || files.get(&sha))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::conflict("The stored file no longer matches its hash: it was altered on disk. It is not served; report this."))?
        .ok_or_else(|| ApiError::conflict("The stored file is missing from the data directory."))?;
    state
        .store
        .audit_reads(vec![NewEntry {
            actor: auth.user.username.clone(),
            action: Action::Read,
            record_kind: Some("evidence".into()),
            record_id: Some(rec.id.to_string()),
            summary: "evidence file accessed".into(),
        }])
        .await?;
    Ok(crate::dataio::download(
        bytes,
        "application/octet-stream",
        ev.filename.as_str(),
    ))
}

/// Re-hash the stored file and say whether it is still what was received.
pub async fn verify(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, Kind::Evidence, &id).await?;
    let ev: Evidence = rec.typed()?;
    let files = state.files.clone();
    let sha = ev.sha256.to_string();
    let outcome = tokio::task::spawn_blocking(move || files.get(&sha))
        .await
        .map_err(|_| ApiError::internal())?;
    let (intact, detail) = match outcome {
        Ok(Some(_)) => (
            true,
            "the file matches the hash recorded when it was received",
        ),
        Ok(None) => (false, "the file is missing"),
        Err(_) => (false, "the file was altered: its hash no longer matches"),
    };
    state
        .store
        .audit_reads(vec![NewEntry {
            actor: auth.user.username.clone(),
            action: Action::Read,
            record_kind: Some("evidence".into()),
            record_id: Some(rec.id.to_string()),
            summary: format!(
                "evidence verified: {}",
                if intact { "intact" } else { "NOT intact" }
            ),
        }])
        .await?;
    Ok(
        Json(json!({"id": rec.id, "sha256": ev.sha256, "intact": intact, "detail": detail}))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Handover {
    from: String,
    to: String,
    purpose: String,
}

pub async fn handover(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, Kind::Evidence, &id).await?;
    require(
        &state,
        &auth,
        Capability::AllegationWrite,
        "hand over evidence",
    )
    .await?;
    let input: Handover = typed(json_value(body)?)?;
    let step: CustodyStep = typed(
        json!({"from": input.from, "to": input.to, "at": Utc::now(), "purpose": input.purpose}),
    )?;
    let mut ev: Evidence = rec.typed()?;
    ev.custody.push(step);
    let mut tx = state.store.begin().await?;
    let current = tx.get(rec.id).await?.ok_or_else(ApiError::not_found)?;
    let updated = tx
        .update(
            &actor(&auth),
            current,
            ev,
            "hand-over in the chain of custody",
        )
        .await?;
    tx.commit().await?;
    Ok(Json(crate::records::shown(&state, &auth, &updated).await?).into_response())
}

/// A tar archive (POSIX ustar) written by hand: a few lines spare a dependency.
pub struct Tar(Vec<u8>);

impl Tar {
    pub fn new() -> Tar {
        Tar(Vec::new())
    }
    pub fn add(&mut self, name: &str, data: &[u8]) {
        let mut h = [0u8; 512];
        let name = name.as_bytes();
        let n = name.len().min(99);
        h[..n].copy_from_slice(&name[..n]);
        let octal = |h: &mut [u8; 512], at: usize, width: usize, v: u64| {
            let s = format!("{v:0w$o}\0", w = width - 1);
            h[at..at + width].copy_from_slice(&s.as_bytes()[..width]);
        };
        octal(&mut h, 100, 8, 0o644);
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, data.len() as u64);
        octal(&mut h, 136, 12, Utc::now().timestamp().max(0) as u64);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| *b as u32).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
    }
    pub fn finish(mut self) -> Vec<u8> {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        self.0
    }
}

impl Default for Tar {
    fn default() -> Self {
        Tar::new()
    }
}

/// Everything the prosecutor needs for one allegation, in one archive: the files, a
/// manifest with their hashes, the chain of custody and the relevant audit entries.
pub async fn bundle(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let allegation = visible(&state, &auth, Kind::Allegation, &id).await?;
    let items = state
        .store
        .records_with_field(
            auth.viewer.agency_id,
            Kind::Evidence,
            "allegation_id",
            &allegation.id.to_string(),
        )
        .await?;
    let mut tar = Tar::new();
    let mut manifest = Vec::new();
    let mut custody = Vec::new();
    let mut audit = state
        .store
        .audit_for_record(&allegation.id.to_string(), 5000)
        .await?;
    for rec in items
        .iter()
        .filter(|r| can_see(&auth.viewer, &r.scope(), &r.data))
    {
        let ev: Evidence = rec.typed()?;
        let files = state.files.clone();
        let sha = ev.sha256.to_string();
        let bytes = tokio::task::spawn_blocking(move || files.get(&sha))
            .await
            .map_err(|_| ApiError::internal())?;
        let (intact, data) = match bytes {
            Ok(Some(b)) => (true, b),
            _ => (false, Vec::new()),
        };
        let path = format!(
            "files/{}-{}",
            &ev.sha256.as_str()[..12],
            ev.filename
                .as_str()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect::<String>()
        );
        if intact {
            tar.add(&path, &data);
        }
        manifest.push(json!({"evidence_id": rec.id, "file": if intact { Value::String(path) } else { Value::Null },
            "filename": ev.filename, "sha256": ev.sha256, "size": ev.size, "content_type": ev.content_type,
            "intact": intact}));
        custody.push(json!({"evidence_id": rec.id, "chain": ev.custody}));
        audit.extend(
            state
                .store
                .audit_for_record(&rec.id.to_string(), 5000)
                .await?,
        );
    }
    audit.sort_by_key(|a| a.seq);
    let (head_seq, head_hash) = state.store.audit_head().await?;
    let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    tar.add(
        "manifest.json",
        &pretty(&json!({
        "allegation_id": allegation.id, "case_file_by": auth.user.username, "made_at": Utc::now(),
        "audit_chain_position": {"seq": head_seq, "hash": head_hash}, "items": manifest})),
    );
    tar.add("chain-of-custody.json", &pretty(&json!(custody)));
    tar.add("audit.json", &pretty(&json!(audit)));
    state
        .store
        .audit_reads(vec![NewEntry {
            actor: auth.user.username.clone(),
            action: Action::Export,
            record_kind: Some("allegation".into()),
            record_id: Some(allegation.id.to_string()),
            summary: format!("evidence bundle exported ({} items)", items.len()),
        }])
        .await?;
    Ok(crate::dataio::download(
        tar.finish(),
        "application/x-tar",
        &format!("evidence-{}.tar", allegation.id),
    ))
}

/// The signed-in user's open tasks due today or earlier (overdue first), and later ones.
pub async fn my_tasks(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let today = ctx().today;
    let mut due = Vec::new();
    for rec in state
        .store
        .records_with_field(
            auth.viewer.agency_id,
            Kind::Task,
            "assignee",
            &auth.user.username,
        )
        .await?
    {
        if !can_see(&auth.viewer, &rec.scope(), &rec.data) {
            continue;
        }
        let task: Task = rec.typed()?;
        if task.status == TaskStatus::Open {
            let overdue = task.due < today;
            let mut v = crate::records::shown(&state, &auth, &rec)
                .await?
                .value()
                .clone();
            v["overdue"] = json!(overdue);
            v["due_today"] = json!(task.due == today);
            due.push((task.due, v));
        }
    }
    due.sort_by_key(|(d, _)| *d);
    let items: Vec<Value> = due.into_iter().map(|(_, v)| v).collect();
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})).into_response())
}

/// A site's checks at a glance: how often officials were kept out.
pub async fn site_history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let site = visible(&state, &auth, Kind::Site, &id).await?;
    let checks = state
        .store
        .records_with_field(
            auth.viewer.agency_id,
            Kind::WelfareCheck,
            "site_id",
            &site.id.to_string(),
        )
        .await?;
    let mut counts: HashMap<String, i64> = HashMap::new();
    let mut items = Vec::new();
    for rec in checks
        .iter()
        .filter(|r| can_see(&auth.viewer, &r.scope(), &r.data))
    {
        let c: WelfareCheck = rec.typed()?;
        if let Some(o) = c.outcome {
            let key = serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *counts.entry(key).or_default() += 1;
        }
        items.push(crate::records::shown(&state, &auth, rec).await?);
    }
    let kept_out = counts.get("access_denied").copied().unwrap_or(0)
        + counts.get("obstructed").copied().unwrap_or(0);
    Ok(Json(
        json!({"site_id": site.id, "checks": items.len(), "by_outcome": counts,
                   "access_denied_or_obstructed": kept_out, "items": items}),
    )
    .into_response())
}
