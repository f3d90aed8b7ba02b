//! Suspected duplicate children in an operation, found by amparo-match with the
//! reasons, and a merge that keeps both records and histories and can be undone.
use crate::auth::Auth;
use crate::body::{json_value, typed};
use crate::error::{ApiError, ApiResult};
use crate::records::{actor, ctx, require, visible};
use crate::state::AppState;
use amparo_domain::policy::{can_see, Capability, Sensitivity};
use amparo_domain::records::{Child, ChildStatus, Kind, Record};
use amparo_match::link::{dedupe, explain, Person};
use amparo_store::StoredRecord;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

fn person_of(rec: &StoredRecord) -> Option<Person> {
    let child: Child = rec.typed().ok()?;
    Some(amparo_io::person_of(&rec.id.to_string(), &child))
}

/// Candidate pairs among the children the viewer may see, grouped by the person they
/// seem to be (`link::dedupe`: one strong link cannot chain two people together), the
/// group with the strongest pair first, and best first within a group.
pub(crate) async fn find(
    state: &AppState,
    auth: &Auth,
    operation: Option<Uuid>,
) -> ApiResult<(Vec<Value>, Vec<StoredRecord>)> {
    if !auth.viewer.may_see(Sensitivity::Identity) {
        require(state, auth, Capability::CaseWrite, "look for duplicates").await?;
    }
    let mut q = crate::custody::scoped(auth, Kind::Child);
    q.operation_id = operation;
    let children: Vec<StoredRecord> = state
        .store
        .list(&q)
        .await?
        .items
        .into_iter()
        .filter(|c| can_see(&auth.viewer, &c.scope(), &c.data))
        .filter(|c| c.data.get("status").and_then(Value::as_str) != Some("merged"))
        .collect();
    let people: Vec<Person> = children.iter().filter_map(person_of).collect();
    let by_id: HashMap<String, &StoredRecord> =
        children.iter().map(|c| (c.id.to_string(), c)).collect();
    // Linkage is CPU work: off the async threads.
    let (people, result) = tokio::task::spawn_blocking(move || {
        let result = dedupe(&people, 0.5);
        (people, result)
    })
    .await
    .map_err(|_| ApiError::internal())?;
    // Only the children in suggested pairs are shown, and their reads audited.
    let mut in_pairs: Vec<&StoredRecord> = Vec::new();
    for p in &result.pairs {
        for id in [&people[p.a].id, &people[p.b].id] {
            if let Some(r) = by_id.get(id.as_str()).copied() {
                if !in_pairs.iter().any(|x| x.id == r.id) {
                    in_pairs.push(r);
                }
            }
        }
    }
    let revealed =
        crate::records::reveal(state, auth, &in_pairs, "suggested as a duplicate").await?;
    let shown: HashMap<String, Value> = in_pairs
        .iter()
        .zip(revealed)
        .map(|(r, v)| (r.id.to_string(), v.value().clone()))
        .collect();
    // Every pair inside a group is returned, so a record's group is the smallest
    // record index it is paired with (union-find over the pairs).
    let mut root: Vec<usize> = (0..people.len()).collect();
    fn find_root(root: &mut [usize], mut x: usize) -> usize {
        while root[x] != x {
            root[x] = root[root[x]];
            x = root[x];
        }
        x
    }
    for p in &result.pairs {
        let (ra, rb) = (find_root(&mut root, p.a), find_root(&mut root, p.b));
        root[ra.max(rb)] = ra.min(rb);
    }
    // Per group: its strongest pair and its records.
    let mut groups: HashMap<usize, (f64, std::collections::BTreeSet<usize>)> = HashMap::new();
    for p in &result.pairs {
        let g = find_root(&mut root, p.a);
        let e = groups.entry(g).or_default();
        e.0 = e.0.max(p.probability);
        e.1.extend([p.a, p.b]);
    }
    // Groups numbered from 1, strongest pair first.
    let mut order: Vec<(usize, f64)> = groups.iter().map(|(g, (best, _))| (*g, *best)).collect();
    order.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let number: HashMap<usize, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (g, _))| (*g, i + 1))
        .collect();
    let mut items = Vec::new();
    for p in &result.pairs {
        let (a, b) = (&people[p.a], &people[p.b]);
        let e = explain(&result.model, a, b);
        let show = |id: &str| shown.get(id).cloned().unwrap_or(Value::Null);
        let g = find_root(&mut root, p.a);
        let size = groups.get(&g).map_or(2, |x| x.1.len());
        items.push(json!({
            "a": show(&a.id), "b": show(&b.id), "probability": p.probability,
            "group": number.get(&g).copied().unwrap_or(0), "group_size": size,
            "explanation": e.levels.iter().map(|(f, l, w)| json!({"field": f, "level": l, "weight": w})).collect::<Vec<_>>(),
        }));
    }
    items.sort_by(|x, y| {
        x["group"].as_u64().cmp(&y["group"].as_u64()).then(
            y["probability"]
                .as_f64()
                .partial_cmp(&x["probability"].as_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    Ok((items, children))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = params.map_err(|e| ApiError::bad_request(format!("query: {e}")))?;
    let operation = match p.get("operation") {
        Some(v) => Some(
            Uuid::parse_str(v)
                .map_err(|_| ApiError::bad_request(format!("operation '{v}' is not an id")))?,
        ),
        None => None,
    };
    let (items, _) = find(&state, &auth, operation).await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeInput {
    pub keep: Uuid,
    pub duplicate: Uuid,
}

/// Merge: the duplicate becomes `merged` into the kept record; both keep their
/// histories; undone by `unmerge`.
pub(crate) async fn merge_children(
    state: &AppState,
    auth: &Auth,
    input: &MergeInput,
) -> ApiResult<()> {
    require(state, auth, Capability::CaseWrite, "merge records").await?;
    if input.keep == input.duplicate {
        return Err(ApiError::invalid(amparo_domain::Invalid::one(
            "duplicate",
            "is the same record as keep",
        )));
    }
    let keep = visible(state, auth, Kind::Child, &input.keep.to_string()).await?;
    let dup = visible(state, auth, Kind::Child, &input.duplicate.to_string()).await?;
    let mut child: Child = dup.typed()?;
    let kept: Child = keep.typed()?;
    if kept.status == ChildStatus::Merged {
        return Err(ApiError::conflict(
            "The record to keep is itself merged into another: keep that one.",
        ));
    }
    if child.status == ChildStatus::Merged {
        return Err(ApiError::conflict("This record is already merged."));
    }
    child.status_before_merge = Some(child.status);
    child.status = ChildStatus::Merged;
    child.merged_into = Some(keep.id);
    child.prepare(&ctx()).map_err(ApiError::invalid)?;
    state
        .store
        .update(&actor(auth), dup.id, dup.version, child)
        .await?;
    Ok(())
}

pub(crate) async fn unmerge_child(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<()> {
    require(state, auth, Capability::CaseWrite, "undo a merge").await?;
    let rec = visible(state, auth, Kind::Child, &id.to_string()).await?;
    let mut child: Child = rec.typed()?;
    if child.status != ChildStatus::Merged {
        return Err(ApiError::conflict("This record is not merged."));
    }
    child.status = child
        .status_before_merge
        .take()
        .unwrap_or(ChildStatus::InCare);
    child.merged_into = None;
    state
        .store
        .update(&actor(auth), rec.id, rec.version, child)
        .await?;
    Ok(())
}

pub async fn merge(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "merge records").await?;
    let input: MergeInput = typed(json_value(body)?)?;
    merge_children(&state, &auth, &input).await?;
    Ok(Json(json!({"merged": input.duplicate, "into": input.keep})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnmergeInput {
    id: Uuid,
}

pub async fn unmerge(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&state, &auth, Capability::CaseWrite, "undo a merge").await?;
    let input: UnmergeInput = typed(json_value(body)?)?;
    unmerge_child(&state, &auth, input.id).await?;
    Ok(Json(json!({"unmerged": input.id})).into_response())
}
