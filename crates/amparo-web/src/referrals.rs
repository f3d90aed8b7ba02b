//! Referral packages between agencies over the API: partners and their keys, a
//! tracing request or a child's case (only the sections the sender chooses, never a
//! location) sealed for one partner, and packages received: verified, then imported
//! into a new record or appended as a reply, never overwriting anything.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, require, shown, visible};
use crate::state::AppState;
use amparo_domain::audit::Action;
use amparo_domain::policy::Capability;
use amparo_domain::records::{Kind, ReferralReply, TracingRequest};
use amparo_domain::text::Text;
use amparo_store::Partner;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub async fn partners(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require(&state, &auth, Capability::CaseWrite, "see partner agencies").await?;
    let list = state.store.partners(auth.viewer.agency_id).await?;
    let total = list.len();
    Ok(Json(json!({"items": list, "total": total})))
}

pub async fn own_keys(State(state): State<AppState>, _auth: Auth) -> Json<Value> {
    Json(json!(state.keys.public()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPartner {
    name: String,
    country: String,
    signing_key: String,
    age_recipient: String,
}

pub async fn add_partner(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(
        &state,
        &auth,
        Capability::UserAdmin,
        "register partner agencies",
    )
    .await?;
    let p: NewPartner = typed(json_value(body)?)?;
    let name = Text::parse(&p.name)
        .map_err(|m| ApiError::invalid(amparo_domain::Invalid::one("name", m)))?;
    let country = amparo_domain::country::Country::parse(&p.country)
        .map_err(|m| ApiError::invalid(amparo_domain::Invalid::one("country", m)))?;
    amparo_io::referral::check_public_keys(&p.signing_key, &p.age_recipient)
        .map_err(|m| ApiError::invalid(amparo_domain::Invalid::one("keys", m)))?;
    let partner = state
        .store
        .add_partner(
            &auth.user.username,
            auth.viewer.agency_id,
            name.as_str(),
            country.as_str(),
            p.signing_key.trim(),
            p.age_recipient.trim(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(partner))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    partner: Uuid,
    /// Comma-separated: identity, status, care. Location is never sent.
    #[serde(default)]
    sections: Option<String>,
    /// For an answer: the partner's own id of the request answered.
    #[serde(default)]
    in_reply_to: Option<Uuid>,
}

async fn partner_of(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<Partner> {
    state
        .store
        .partners(auth.viewer.agency_id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| {
            ApiError::invalid(amparo_domain::Invalid::one(
                "partner",
                "is not a partner of your agency: register it first",
            ))
        })
}

fn package_response(bytes: Vec<u8>) -> Response {
    crate::dataio::download(bytes, "application/octet-stream", "referral.amparo")
}

fn our_name(auth: &Auth) -> String {
    auth.user.agency_id.to_string()
}

/// A tracing request, sealed for a partner (whole: the partner needs it to search).
pub async fn export_tracing_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "send referrals").await?;
    let Query(q) = query.map_err(|_| ApiError::bad_request("give partner=ID"))?;
    Ok(package_response(
        seal_tracing_request(&state, &auth, &id, q.partner).await?,
    ))
}

/// The package of a tracing request for one partner (API and CLI).
pub async fn seal_tracing_request(
    state: &AppState,
    auth: &Auth,
    id: &str,
    partner: Uuid,
) -> ApiResult<Vec<u8>> {
    let (state, auth) = (state.clone(), auth.clone());
    require(&state, &auth, Capability::CaseWrite, "send referrals").await?;
    let rec = visible(&state, &auth, Kind::TracingRequest, id).await?;
    let partner = partner_of(&state, &auth, partner).await?;
    let request: TracingRequest = rec.typed()?;
    if !request.consent_to_share {
        return Err(ApiError::conflict(
            "The requester did not consent to sharing their details with partner agencies: ask them first.",
        ));
    }
    let mut data = shown(&state, &auth, &rec).await?.value().clone();
    if let Some(o) = data.as_object_mut() {
        for internal in [
            "status",
            "alert",
            "decisions",
            "replies",
            "operation_id",
            "created_by",
            "updated_by",
        ] {
            o.remove(internal);
        }
    }
    let payload = json!({
        "kind": "tracing_request", "from_agency": our_name(&auth), "sent_at": Utc::now(),
        "reference": rec.id, "tracing_request": data,
    });
    let bytes = state
        .keys
        .seal(&payload, &partner.age_recipient)
        .map_err(ApiError::bad_request)?;
    state
        .store
        .audit_note(
            &auth.user.username,
            Action::Export,
            "tracing_request",
            Some(rec.id),
            format!("referral package sent to partner {}", partner.name),
        )
        .await?;
    Ok(bytes)
}

/// The chosen sections of a child's case, sealed for a partner. Names and birth
/// ("identity"), case number and status ("status"), languages and diet from the care
/// plan ("care"). Never where the child is.
pub async fn export_child(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "send referrals").await?;
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("give partner=ID and sections=identity,status"))?;
    Ok(package_response(
        seal_child(
            &state,
            &auth,
            &id,
            q.partner,
            q.sections.as_deref(),
            q.in_reply_to,
        )
        .await?,
    ))
}

/// The package of a child's case for one partner (API and CLI).
pub async fn seal_child(
    state: &AppState,
    auth: &Auth,
    id: &str,
    partner: Uuid,
    sections: Option<&str>,
    in_reply_to: Option<Uuid>,
) -> ApiResult<Vec<u8>> {
    let (state, auth) = (state.clone(), auth.clone());
    require(&state, &auth, Capability::CaseWrite, "send referrals").await?;
    let rec = visible(&state, &auth, Kind::Child, id).await?;
    let partner = partner_of(&state, &auth, partner).await?;
    let sections: Vec<String> = sections
        .unwrap_or("status")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let child = shown(&state, &auth, &rec).await?.value().clone();
    let mut shared = serde_json::Map::new();
    for s in &sections {
        let fields: &[&str] = match s.as_str() {
            "identity" => &["names", "sex", "birth", "languages", "nationalities"],
            "status" => &["case_number", "status"],
            "care" => &[],
            other => {
                return Err(ApiError::bad_request(format!(
                    "section '{other}' is not offered: use identity, status or care (a location is never sent)"
                )))
            }
        };
        for f in fields {
            if let Some(v) = child.get(*f) {
                shared.insert((*f).to_string(), v.clone());
            }
        }
        if s == "care" {
            let mut cq = crate::custody::scoped(&auth, Kind::CarePlan);
            cq.child_id = Some(rec.id);
            if let Some(plan) = state.store.list(&cq).await?.items.into_iter().next() {
                let p = shown(&state, &auth, &plan).await?.value().clone();
                for f in ["languages", "diet", "interpreter_needed"] {
                    if let Some(v) = p.get(f) {
                        shared.insert(format!("care_{f}"), v.clone());
                    }
                }
            }
        }
    }
    let payload = json!({
        "kind": "child_case", "from_agency": our_name(&auth), "sent_at": Utc::now(),
        "reference": rec.id, "in_reply_to": in_reply_to, "sections": sections, "child": shared,
    });
    let bytes = state
        .keys
        .seal(&payload, &partner.age_recipient)
        .map_err(ApiError::bad_request)?;
    state
        .store
        .audit_note(
            &auth.user.username,
            Action::Export,
            "child",
            Some(rec.id),
            format!(
                "referral package ({}) sent to partner {}",
                sections.join(", "),
                partner.name
            ),
        )
        .await?;
    Ok(bytes)
}

/// Receive a package: verified against the registered partners, then a new tracing
/// request, or a reply appended to the request it answers.
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let bytes = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The package is larger than 8 MiB.",
        )
    })?;
    let answer = receive(&state, &auth, &bytes).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Verify and import a package (API and CLI): `{"kind": ..., "id": ...}`.
pub async fn receive(state: &AppState, auth: &Auth, bytes: &[u8]) -> ApiResult<Value> {
    let (state, auth) = (state.clone(), auth.clone());
    require(&state, &auth, Capability::CaseWrite, "receive referrals").await?;
    let partners = state.store.partners(auth.viewer.agency_id).await?;
    let keys: Vec<String> = partners.iter().map(|p| p.signing_key.clone()).collect();
    let (payload, who) = state
        .keys
        .open(bytes, &keys)
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Package refused", m))?;
    let partner = &partners[who];
    let from = Text::parse(&partner.name).map_err(ApiError::bad_request)?;
    let who_acts = actor(&auth);
    match payload["kind"].as_str() {
        Some("tracing_request") => {
            let mut data = payload["tracing_request"].clone();
            if let Some(o) = data.as_object_mut() {
                o.retain(|k, _| {
                    !matches!(
                        k.as_str(),
                        "id" | "version"
                            | "created_at"
                            | "updated_at"
                            | "case_number"
                            | "created_by"
                            | "updated_by"
                    )
                });
            }
            let mut request: TracingRequest = serde_json::from_value(data).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Package refused",
                    format!("the tracing request in the package cannot be read: {e}"),
                )
            })?;
            // What the sender's server decided is not ours: start afresh.
            request.status = amparo_domain::records::TracingStatus::Open;
            request.decisions.clear();
            request.alert = None;
            request.replies.clear();
            request.operation_id = None;
            request.referral_from = Some(from);
            request.referral_reference = payload["reference"]
                .as_str()
                .and_then(|r| Uuid::parse_str(r).ok());
            request.requester_agency = Text::parse(&partner.name).ok();
            let value = serde_json::to_value(&request).map_err(|_| ApiError::internal())?;
            let rec = crate::tracing_requests::create_imported(&state, &auth, value).await?;
            state
                .store
                .audit_note(
                    &auth.user.username,
                    Action::Create,
                    "tracing_request",
                    Some(rec.id),
                    format!("received from partner {}", partner.name),
                )
                .await?;
            Ok(json!({"kind": "tracing_request", "id": rec.id}))
        }
        Some("child_case") => {
            let answered = payload["in_reply_to"]
                .as_str()
                .and_then(|r| Uuid::parse_str(r).ok())
                .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Package refused", "this child's case answers no request of this agency (in_reply_to is missing)"))?;
            let rec = visible(&state, &auth, Kind::TracingRequest, &answered.to_string()).await?;
            let mut request: TracingRequest = rec.typed()?;
            request.replies.push(ReferralReply {
                from,
                received_at: Utc::now(),
                shared: json!({"sections": payload["sections"], "child": payload["child"], "their_reference": payload["reference"]}),
            });
            let mut tx = state.store.begin().await?;
            let current = tx.get(rec.id).await?.ok_or_else(ApiError::not_found)?;
            let stored = tx
                .update(
                    &who_acts,
                    current,
                    request,
                    &format!("reply received from partner {}", partner.name),
                )
                .await?;
            tx.commit().await?;
            Ok(json!({"kind": "reply", "id": stored.id}))
        }
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Package refused",
            "the package holds nothing amparo can import",
        )),
    }
}
