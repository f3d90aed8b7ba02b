//! Releasing a child to an adult: the assessment, a refusal when the adult is under a
//! restriction or is an alleged perpetrator against this child, and two approvals by
//! two users other than the proposer before anything happens.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::protective::{likely_same, names_of};
use crate::records::{actor, require, shown, visible};
use crate::state::AppState;
use amparo_domain::policy::{Capability, Sensitivity};
use amparo_domain::records::{
    Allegation, Approval, Child, ChildStatus, Kind, LegalBasis, Placement, Release, ReleaseStatus,
    Restriction,
};
use amparo_domain::text::{LongText, Text};
use amparo_store::StoredRecord;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Proposal {
    pub child_id: Uuid,
    pub to_person: Uuid,
    pub relationship_verification: LongText,
    pub child_views: LongText,
    #[serde(default)]
    pub receiving_household: Option<Uuid>,
    pub legal_basis: LegalBasis,
}

/// Is `adult` (or someone whose name is likely the same) barred from this child?
/// Checked whatever the asking user may see: this check protects. Returns the reason
/// to record (for those who may read it) or `None`.
async fn barred(
    state: &AppState,
    auth: &Auth,
    child: &StoredRecord,
    adult: &StoredRecord,
) -> ApiResult<Option<String>> {
    let agency = auth.viewer.agency_id;
    let child_op = child
        .data
        .get("operation_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok());
    let adult_names = names_of(adult);
    let same_person =
        |other: &StoredRecord| other.id == adult.id || likely_same(&adult_names, &names_of(other));
    let today = Utc::now().date_naive();
    let mut q = crate::custody::scoped(auth, Kind::Restriction);
    q.facilities = None;
    q.gates = vec![Sensitivity::Identity];
    q.limit = 100_000;
    for r in state.store.list(&q).await?.items {
        let restriction: Restriction = r.typed()?;
        if !restriction.in_force_on(today) || !restriction.covers(child.id, child_op) {
            continue;
        }
        if let Some(person) = state.store.get(restriction.person_id).await? {
            if same_person(&person) {
                return Ok(Some(format!(
                    "the adult is under a restriction covering this child ({} {})",
                    restriction.authority.issuing_authority, restriction.authority.reference
                )));
            }
        }
    }
    for a in state
        .store
        .records_mentioning(agency, &[Kind::Allegation], child.id)
        .await?
    {
        let allegation: Allegation = a.typed()?;
        if !allegation.victims.contains(&child.id) {
            continue;
        }
        for p in &allegation.perpetrators {
            if let Some(person) = state.store.get(*p).await? {
                if same_person(&person) {
                    return Ok(Some(format!(
                        "the adult is named as an alleged perpetrator in allegation {} about this child",
                        a.id
                    )));
                }
            }
        }
    }
    Ok(None)
}

fn long(text: &str) -> Result<LongText, String> {
    LongText::try_from(text.to_string())
}

/// What a user who may not read allegations is told: enough to stop, nothing more.
const REFUSED: &str = "This release is refused: the adult may not receive this child (a restriction or an investigation concerns them). Nothing was released. Talk to the investigating team.";

fn created(value: serde_json::Value, status: StatusCode) -> Response {
    (status, Json(value)).into_response()
}

pub(crate) async fn propose_release(
    state: &AppState,
    auth: &Auth,
    input: Proposal,
) -> ApiResult<StoredRecord> {
    require(state, auth, Capability::CaseWrite, "propose releases").await?;
    let child = visible(state, auth, Kind::Child, &input.child_id.to_string()).await?;
    let adult = visible(state, auth, Kind::Person, &input.to_person.to_string()).await?;
    let status = child.typed::<Child>()?.status;
    if !matches!(
        status,
        ChildStatus::InCare | ChildStatus::Hospitalised | ChildStatus::Intake
    ) {
        return Err(ApiError::conflict(format!(
            "the child is {}: only a child in care can be released",
            status.as_str()
        )));
    }
    let mut release = Release {
        child_id: child.id,
        to_person: adult.id,
        relationship_verification: input.relationship_verification,
        child_views: input.child_views,
        receiving_household: input.receiving_household,
        legal_basis: input.legal_basis,
        status: ReleaseStatus::Proposed,
        proposed_by: Text::parse(&auth.user.username).ok(),
        approvals: Vec::new(),
        checks: None,
        refusal_reason: None,
        released_at: None,
    };
    let who = actor(auth);
    if let Some(reason) = barred(state, auth, &child, &adult).await? {
        // The refusal is recorded (for the investigators) and the proposer is told no.
        release.status = ReleaseStatus::Refused;
        release.refusal_reason = long(REFUSED).ok();
        release.checks = long(&format!("Refused when proposed: {reason}.")).ok();
        state.store.create(&who, release).await?;
        return Err(ApiError::conflict(REFUSED));
    }
    release.checks = long(&format!(
        "No restriction covering this child names the adult, and no allegation about this child names them as alleged perpetrator (checked {}).",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    ))
    .ok();
    Ok(state.store.create(&who, release).await?)
}

pub async fn propose(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "propose releases").await?;
    let input: Proposal = typed(json_value(body)?)?;
    let rec = propose_release(&state, &auth, input).await?;
    let value = shown(&state, &auth, &rec).await?.value().clone();
    Ok(created(value, StatusCode::CREATED))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decision {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approve; the second approval releases the child in the same transaction.
pub(crate) async fn approve_release(
    state: &AppState,
    auth: &Auth,
    id: &str,
    note: Option<String>,
) -> ApiResult<StoredRecord> {
    let rec = visible(state, auth, Kind::Release, id).await?;
    require(state, auth, Capability::ReleaseApprove, "approve releases").await?;
    let mut release: Release = rec.typed()?;
    if release.status != ReleaseStatus::Proposed {
        return Err(ApiError::conflict(format!(
            "this release is {} already: nothing to approve",
            serde_json::to_value(release.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )));
    }
    let me = auth.user.username.as_str();
    if release
        .proposed_by
        .as_ref()
        .is_some_and(|p| p.as_str() == me)
    {
        return Err(ApiError::forbidden(
            "You proposed this release: two other people must approve it.",
        ));
    }
    if release.approvals.iter().any(|a| a.by.as_str() == me) {
        return Err(ApiError::conflict(
            "You approved this release already: a second, different person must approve it.",
        ));
    }
    let child = state
        .store
        .get(release.child_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let adult = state
        .store
        .get(release.to_person)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let who = actor(auth);
    // Checked again: a restriction or allegation may have been recorded since.
    if let Some(reason) = barred(state, auth, &child, &adult).await? {
        release.status = ReleaseStatus::Refused;
        release.refusal_reason = long(REFUSED).ok();
        release.checks = long(&format!("Refused at approval by {me}: {reason}.")).ok();
        let mut tx = state.store.begin().await?;
        tx.update(&who, rec, release, "refused: the adult is barred")
            .await?;
        tx.commit().await?;
        return Err(ApiError::conflict(REFUSED));
    }
    release.approvals.push(Approval {
        by: Text::parse(me).map_err(|m| ApiError::bad_request(m.to_string()))?,
        at: Utc::now(),
        note: note
            .filter(|n| !n.trim().is_empty())
            .map(|n| long(&n))
            .transpose()
            .map_err(|m| ApiError::invalid(amparo_domain::Invalid::one("note", m.to_string())))?,
    });
    // Taken before the transaction starts, so the placement ends before the moment
    // the transaction derives the child's location at.
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    // Read again inside the transaction: two approvers at once must not both pass.
    let current = tx.get(rec.id).await?.ok_or_else(ApiError::not_found)?;
    if current.version != rec.version {
        return Err(ApiError::conflict(
            "Someone else approved or changed this release at the same moment: reload it and approve again.",
        ));
    }
    if release.approvals.len() >= 2 {
        release.status = ReleaseStatus::Released;
        release.released_at = Some(now);
        // End the current placement, then release the child.
        // Every open placement ends, whatever the approver's own view of placements.
        let mut q = crate::custody::scoped(auth, Kind::Placement);
        q.facilities = None;
        q.gates = vec![
            Sensitivity::Basic,
            Sensitivity::Identity,
            Sensitivity::Location,
            Sensitivity::Restricted,
        ];
        q.child_id = Some(child.id);
        q.limit = 10_000;
        for p in state.store.list(&q).await?.items {
            let mut placement: Placement = p.typed()?;
            if placement.to.is_none() {
                placement.to = Some(now);
                let current_p = tx.get(p.id).await?.ok_or_else(ApiError::not_found)?;
                tx.update(&who, current_p, placement, "ended: child released")
                    .await?;
            }
        }
        let child_now = tx.get(child.id).await?.ok_or_else(ApiError::not_found)?;
        let mut c: Child = child_now.typed()?;
        c.status = ChildStatus::Released;
        tx.update(&who, child_now, c, "released after two approvals")
            .await?;
    }
    let why = if release.status == ReleaseStatus::Released {
        "second approval: released"
    } else {
        "first approval"
    };
    let stored = tx.update(&who, current, release, why).await?;
    tx.commit().await?;
    Ok(stored)
}

pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let value = json_value(body)?;
    let d: Decision = if value.as_object().is_some_and(|o| o.is_empty()) {
        Decision::default()
    } else {
        typed(value)?
    };
    let rec = approve_release(&state, &auth, &id, d.note).await?;
    let value = shown(&state, &auth, &rec).await?.value().clone();
    Ok(created(value, StatusCode::OK))
}

pub(crate) async fn refuse_release(
    state: &AppState,
    auth: &Auth,
    id: &str,
    reason: &str,
) -> ApiResult<StoredRecord> {
    let rec = visible(state, auth, Kind::Release, id).await?;
    require(state, auth, Capability::ReleaseApprove, "refuse releases").await?;
    let mut release: Release = rec.typed()?;
    if release.status != ReleaseStatus::Proposed {
        return Err(ApiError::conflict("this release is decided already"));
    }
    if reason.trim().is_empty() {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "reason",
            "is empty: say why the release is refused",
        )));
    }
    release.status = ReleaseStatus::Refused;
    release.refusal_reason = Some(long(reason).map_err(|m| {
        ApiError::invalid(amparo_domain::Invalid::one(
            "reason",
            format!("{m}: say why the release is refused"),
        ))
    })?);
    let mut tx = state.store.begin().await?;
    let stored = tx
        .update(&actor(auth), rec, release, "refused by an approver")
        .await?;
    tx.commit().await?;
    Ok(stored)
}

pub async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let d: Decision = typed(json_value(body)?)?;
    let rec = refuse_release(&state, &auth, &id, d.reason.as_deref().unwrap_or("")).await?;
    let value = shown(&state, &auth, &rec).await?.value().clone();
    Ok(created(value, StatusCode::OK))
}
