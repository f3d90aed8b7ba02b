//! Fast intake (text fields parsed on the server, idempotent) and child photos.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, ctx, require, visible};
use crate::state::AppState;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::birth::parse_birth_text;
use amparo_domain::policy::{Capability, Sensitivity};
use amparo_domain::records::{Child, Kind, Record, Relationship};
use amparo_domain::Invalid;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

pub const MAX_PHOTO: usize = 5 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntakeInput {
    operation_id: Uuid,
    #[serde(default)]
    wristband: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    sex: Option<String>,
    /// "7", "about 7", "2015", "31/12/2015"...
    #[serde(default)]
    birth: String,
    #[serde(default)]
    languages: String,
    /// Wristband number of a sibling already registered.
    #[serde(default)]
    sibling_of: String,
}

/// Register one child from the fields of the intake form. With an Idempotency-Key
/// header a repeat returns the first registration (200) instead of a duplicate.
pub async fn intake(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "register children").await?;
    let input: IntakeInput = typed(json_value(body)?)?;
    let today = ctx().today;
    let mut errs = Invalid::default();
    let birth = match parse_birth_text(&input.birth, today) {
        Ok(b) => Some(b),
        Err(m) => {
            errs.push("birth", m);
            None
        }
    };
    let mut name = serde_json::Map::new();
    for (k, v) in [("given", &input.given), ("family", &input.family)] {
        if !v.trim().is_empty() {
            name.insert(k.into(), json!(v.trim()));
        }
    }
    name.insert("kind".into(), json!("as_given"));
    let names = if name.len() > 1 {
        vec![serde_json::Value::Object(name)]
    } else {
        vec![]
    };
    let languages: Vec<String> = input
        .languages
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut value = json!({
        "operation_id": input.operation_id,
        "names": names,
        "sex": input.sex.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "unknown".into()),
        "languages": languages,
    });
    if let Some(b) = birth {
        value["birth"] = serde_json::to_value(b).map_err(|_| ApiError::internal())?;
    }
    if !input.wristband.trim().is_empty() {
        value["wristband"] = json!(input.wristband.trim());
    }
    let mut child: Child = match typed(value) {
        Ok(c) => c,
        Err(e) => {
            errs.extend(Invalid(e.errors));
            return Err(ApiError::invalid(errs));
        }
    };
    if let Err(e) = child.prepare(&ctx()) {
        errs.extend(e);
    }
    let sibling = if input.sibling_of.trim().is_empty() {
        None
    } else {
        let found = state
            .store
            .child_by_wristband(
                auth.user.agency_id,
                input.operation_id,
                input.sibling_of.trim(),
            )
            .await?;
        if found.is_none() {
            errs.push(
                "sibling_of",
                format!(
                    "no child with wristband {} in this operation yet",
                    input.sibling_of.trim()
                ),
            );
        }
        found
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let who = actor(&auth);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 100)
        .map(str::to_string);
    let (stored, created) = match key {
        Some(k) => state.store.create_once(&who, &k, child).await?,
        None => (state.store.create(&who, child).await?, true),
    };
    if let (true, Some(sib)) = (created, sibling) {
        let rel: Relationship = typed(json!({
            "from": sib.id, "to": stored.id, "kind": "sibling",
            "verification": "claimed", "source": "intake family hint"
        }))?;
        state.store.create(&who, rel).await?;
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "id": stored.id,
            "case_number": stored.case_number,
            "version": stored.version,
            "replayed": !created,
        })),
    )
        .into_response())
}

/// Recognise an image by its first bytes, never by what the client claims.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

pub async fn put_photo(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, Kind::Child, &id).await?;
    require(&state, &auth, Capability::CaseWrite, "change photos").await?;
    let bytes = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The photo is larger than 5 MiB. Take it again at a lower resolution.",
        )
    })?;
    if image_type(&bytes).is_none() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a photo",
            "This file is not a JPEG, PNG or WebP image. Take the photo again with the camera.",
        ));
    }
    let files = state.files.clone();
    let sha = tokio::task::spawn_blocking(move || files.put(&bytes))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "could not store a photo");
            ApiError::internal()
        })?;
    let mut child: Child = rec.typed()?;
    child.photo = Some(serde_json::from_value(json!(sha)).map_err(|_| ApiError::internal())?);
    child.prepare(&ctx()).map_err(ApiError::invalid)?;
    let stored = state
        .store
        .update(&actor(&auth), rec.id, rec.version, child)
        .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", stored.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

pub async fn get_photo(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = visible(&state, &auth, Kind::Child, &id).await?;
    if !auth.viewer.may_see(Sensitivity::Identity) {
        return Err(ApiError::not_found());
    }
    let sha = rec
        .data
        .get("photo")
        .and_then(|p| p.as_str())
        .ok_or_else(ApiError::not_found)?
        .to_string();
    let files = state.files.clone();
    let bytes = tokio::task::spawn_blocking(move || files.get(&sha))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "photo unreadable");
            ApiError::internal()
        })?
        .ok_or_else(ApiError::not_found)?;
    state
        .store
        .audit_reads(vec![NewEntry {
            actor: auth.user.username.clone(),
            action: Action::Read,
            record_kind: Some("child".into()),
            record_id: Some(rec.id.to_string()),
            summary: "viewed photo".into(),
        }])
        .await?;
    let content_type = image_type(&bytes).unwrap_or("application/octet-stream");
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"photo\""),
    );
    Ok(r)
}
