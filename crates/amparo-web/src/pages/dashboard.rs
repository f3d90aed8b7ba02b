//! The operation dashboard: counts by status, facility, age band and sex; open
//! risk flags; recent changes. Every number links to its list.
use super::view::{s, title, Item, STATUSES};
use super::{render, Chrome, Page};
use crate::error::ApiError;
use crate::state::AppState;
use amparo_domain::policy::{can_see, Redacted, Sensitivity};
use amparo_domain::records::Kind;
use amparo_store::{ListQuery, StoredRecord};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use uuid::Uuid;

pub struct Count {
    pub key: String,
    pub label: String,
    pub count: i64,
    pub extra: String,
}

pub struct AgeRow {
    pub label: String,
    pub female: i64,
    pub male: i64,
    pub unknown: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    operation_name: String,
    total: i64,
    by_status: Vec<Count>,
    by_facility: Vec<Count>,
    by_age: Vec<AgeRow>,
    flagged: Vec<Item>,
    recent: Vec<Item>,
    /// My open tasks; `id` is "overdue" for those past their date.
    tasks: Vec<Item>,
}

/// The viewer's scoped query for a kind; callers narrow it further.
pub(crate) fn scoped(page: &Page, kind: Kind) -> ListQuery {
    let v = &page.auth.viewer;
    ListQuery {
        kind,
        agency_id: v.agency_id,
        gates: [
            Sensitivity::Basic,
            Sensitivity::Identity,
            Sensitivity::Location,
            Sensitivity::Restricted,
        ]
        .into_iter()
        .filter(|s| v.may_see(*s))
        .collect(),
        facilities: match (kind, &v.facilities) {
            (_, None) | (Kind::Operation, _) => None,
            (k, Some(f)) if amparo_domain::policy::facility_bound(k) => Some(f.clone()),
            (_, Some(_)) => Some(Vec::new()),
        },
        operation_id: None,
        status: None,
        child_id: None,
        search: None,
        recent_first: false,
        limit: 50,
        offset: 0,
        after: None,
    }
}

/// Records through the policy, with sensitive reads audited in one group commit.
pub(crate) async fn fetch(
    state: &AppState,
    page: &Page,
    q: &ListQuery,
) -> Result<(Vec<(StoredRecord, Redacted)>, i64), ApiError> {
    let (rows, listed) = fetch_counted(state, page, q).await?;
    Ok((rows, listed.total))
}

/// As `fetch`, with the store's page (whether its total is exact, the next cursor).
pub(crate) async fn fetch_counted(
    state: &AppState,
    page: &Page,
    q: &ListQuery,
) -> Result<(Vec<(StoredRecord, Redacted)>, amparo_store::Page), ApiError> {
    let mut result = state.store.list(q).await?;
    let visible: Vec<StoredRecord> = std::mem::take(&mut result.items)
        .into_iter()
        .filter(|rec| can_see(&page.auth.viewer, &rec.scope(), &rec.data))
        .collect();
    let refs: Vec<&StoredRecord> = visible.iter().collect();
    let shown = crate::records::reveal(state, &page.auth, &refs, "shown in a page").await?;
    Ok((visible.into_iter().zip(shown).collect(), result))
}

const AGE_BANDS: [(u32, u32, &str); 5] = [
    (0, 5, "0–5"),
    (6, 11, "6–11"),
    (12, 14, "12–14"),
    (15, 17, "15–17"),
    (18, 200, "18+"),
];

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    if !page.auth.viewer.may_see(Sensitivity::Basic) {
        return Redirect::to("/users").into_response();
    }
    match build(&state, &page).await {
        Ok(p) => render(&DashboardPage { c: page.c, ..p }),
        Err(e) => e.into_response(),
    }
}

async fn build(state: &AppState, page: &Page) -> Result<DashboardPage, ApiError> {
    let t = &page.c.t;
    let today = chrono::Utc::now().date_naive();
    let mut ops = scoped(page, Kind::Operation);
    ops.limit = 1;
    ops.recent_first = true;
    let operation_name = fetch(state, page, &ops)
        .await?
        .0
        .first()
        .map(|(_, r)| s(r.value(), "name").to_string())
        .unwrap_or_default();
    let children = scoped(page, Kind::Child);
    // One narrow query gives every count on the page.
    let summaries = state.store.summaries(&children).await?;
    // Merged duplicates are the same children counted under another record.
    let summaries: Vec<_> = summaries
        .into_iter()
        .filter(|c| c.status != "merged")
        .collect();
    let total: i64 = summaries.iter().map(|c| c.count).sum();
    let by_status = STATUSES
        .iter()
        .map(|st| Count {
            key: (*st).into(),
            label: t.get(&format!("status-{st}")),
            count: summaries
                .iter()
                .filter(|c| c.status == *st)
                .map(|c| c.count)
                .sum(),
            extra: String::new(),
        })
        .collect();
    let mut by_facility = Vec::new();
    if page.auth.viewer.may_see(Sensitivity::Location) {
        let mut fq = scoped(page, Kind::Facility);
        fq.limit = 200;
        for (rec, r) in fetch(state, page, &fq).await?.0 {
            let cap = r.value().get("capacity").and_then(|c| c.as_i64());
            by_facility.push(Count {
                key: rec.id.to_string(),
                label: s(r.value(), "name").to_string(),
                count: summaries
                    .iter()
                    .filter(|c| c.facility_id == Some(rec.id))
                    .count() as i64,
                extra: cap
                    .map(|c| t.with("dash-capacity", &[("capacity", c.to_string())]))
                    .unwrap_or_default(),
            });
        }
    }
    let mut by_age = Vec::new();
    if page.auth.viewer.may_see(Sensitivity::Identity) {
        // Ages are derived from births: identity data, so only for those who see it.
        let mut rows: Vec<AgeRow> = AGE_BANDS
            .iter()
            .map(|(_, _, l)| (*l).to_string())
            .chain(std::iter::once(t.get("age-unknown")))
            .map(|label| AgeRow {
                label,
                female: 0,
                male: 0,
                unknown: 0,
            })
            .collect();
        for c in &summaries {
            let age = c.born.and_then(|(lo, hi)| {
                let young = amparo_domain::birth::age_on(hi, today)?;
                let old = amparo_domain::birth::age_on(lo, today)?;
                Some((young + old) / 2)
            });
            let band = age
                .and_then(|a| {
                    AGE_BANDS
                        .iter()
                        .position(|(lo, hi, _)| a >= *lo && a <= *hi)
                })
                .unwrap_or(AGE_BANDS.len());
            let row = &mut rows[band];
            match c.sex.as_str() {
                "female" => row.female += c.count,
                "male" => row.male += c.count,
                _ => row.unknown += c.count,
            }
        }
        by_age = rows;
    }
    // Open flags the viewer may see, with the child each concerns.
    let mut flags_q = scoped(page, Kind::RiskFlag);
    flags_q.status = Some("open".into());
    flags_q.limit = 100;
    let mut flagged = Vec::new();
    let mut by_child: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (_, r) in fetch(state, page, &flags_q).await?.0 {
        if let Ok(child) = Uuid::parse_str(s(r.value(), "child_id")) {
            by_child
                .entry(child)
                .or_default()
                .push(s(r.value(), "kind").replace('_', " "));
        }
    }
    for (child, kinds) in by_child {
        if let Some(rec) = state.store.get(child).await? {
            if can_see(&page.auth.viewer, &rec.scope(), &rec.data) {
                let r = crate::records::shown(state, &page.auth, &rec).await?;
                flagged.push(Item {
                    id: child.to_string(),
                    label: title(r.value()),
                    extra: kinds.join(", "),
                });
            }
        }
    }
    flagged.sort_by(|a, b| a.label.cmp(&b.label));
    let mut recent_q = children.clone();
    recent_q.recent_first = true;
    recent_q.limit = 8;
    let recent = fetch(state, page, &recent_q)
        .await?
        .0
        .into_iter()
        .map(|(rec, r)| Item {
            id: rec.id.to_string(),
            label: title(r.value()),
            extra: format!("{} · {}", rec.updated_by, t.when(&rec.updated_at)),
        })
        .collect();
    let mut tasks = Vec::new();
    for rec in state
        .store
        .records_with_field(
            page.auth.viewer.agency_id,
            Kind::Task,
            "assignee",
            &page.auth.user.username,
        )
        .await?
    {
        let Ok(task) = rec.typed::<amparo_domain::records::Task>() else {
            continue;
        };
        if task.status == amparo_domain::records::TaskStatus::Open && task.due <= today {
            let overdue = task.due < today;
            tasks.push(Item {
                id: if overdue {
                    "overdue".into()
                } else {
                    String::new()
                },
                label: task.title.to_string(),
                extra: if overdue {
                    format!("{} · {}", t.get("tasks-overdue"), t.date(task.due))
                } else {
                    t.date(task.due)
                },
            });
        }
    }
    Ok(DashboardPage {
        c: super::Chrome::new(t.clone(), String::new(), None, String::new()),
        operation_name,
        total,
        by_status,
        by_facility,
        by_age,
        flagged,
        recent,
        tasks,
    })
}
