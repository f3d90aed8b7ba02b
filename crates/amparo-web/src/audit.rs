//! "Who saw or changed this record, and when" for admins and investigators.
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use amparo_domain::policy::Capability;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    if !auth.viewer.has(Capability::AuditRead) {
        return Err(ApiError::forbidden(
            "Only administrators and investigators may read the audit log.",
        ));
    }
    let Query(p) = params
        .map_err(|e| ApiError::bad_request(format!("The query string could not be read: {e}")))?;
    let limit = match p.get("limit") {
        None => 200,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .ok_or_else(|| ApiError::bad_request("limit must be a whole number from 1 to 5000"))?,
    };
    let rows = match p.get("record") {
        Some(raw) => {
            let id = Uuid::parse_str(raw).map_err(|_| {
                ApiError::bad_request(format!("record '{raw}' is not an id: use a record's UUID"))
            })?;
            // A record of another agency is not found, as everywhere else.
            if let Some(rec) = state.store.get(id).await? {
                if rec.agency_id != auth.user.agency_id {
                    return Err(ApiError::not_found());
                }
            }
            state.store.audit_for_record(&id.to_string(), limit).await?
        }
        // Only what concerns the caller's agency: another agency's activity is not theirs.
        None => state.store.audit_recent(auth.user.agency_id, limit).await?,
    };
    let total = rows.len();
    Ok(Json(json!({"items": rows, "total": total})).into_response())
}
