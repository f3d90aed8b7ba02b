//! The family page: a household's members and relationships, and a family graph
//! drawn as SVG on the server.
use super::view::{age_now, s, title, Item};
use super::{message, render, Chrome, Page};
use crate::error::ApiError;
use crate::records::visible;
use crate::state::AppState;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::policy::{can_see, redact};
use amparo_domain::records::Kind;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    c: Chrome,
    label: String,
    svg: String,
    members: Vec<Item>,
    relations: Vec<Item>,
}

/// One person drawn in the graph.
pub struct Node {
    pub id: Uuid,
    pub name: String,
    pub country: String,
    pub minor: bool,
    pub in_care: bool,
}

pub struct Edge {
    pub from: Uuid,
    pub to: Uuid,
    pub kind: String,
    pub child_marriage: bool,
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const PARENT_KINDS: [&str; 3] = ["mother", "father", "guardian"];
const W: i32 = 170;
const H: i32 = 54;

/// Parents on the top row, children below; spouses beside each other.
pub fn draw(nodes: &[Node], edges: &[Edge], minor_label: &str, marriage_label: &str) -> String {
    let parents: HashSet<Uuid> = edges
        .iter()
        .filter(|e| PARENT_KINDS.contains(&e.kind.as_str()) || e.kind == "grandparent")
        .map(|e| e.from)
        .collect();
    let (top, bottom): (Vec<&Node>, Vec<&Node>) = nodes
        .iter()
        .partition(|n| parents.contains(&n.id) || (!n.minor && !n.in_care));
    let cols = top.len().max(bottom.len()).max(1) as i32;
    let width = cols * (W + 30) + 30;
    let height = 2 * (H + 90) + 40;
    let mut pos: HashMap<Uuid, (i32, i32)> = HashMap::new();
    for (row, list) in [(0, &top), (1, &bottom)] {
        let offset = (cols - list.len() as i32) * (W + 30) / 2;
        for (i, n) in list.iter().enumerate() {
            pos.insert(
                n.id,
                (30 + offset + i as i32 * (W + 30), 30 + row * (H + 110)),
            );
        }
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"family graph\" font-family=\"sans-serif\" font-size=\"13\">"
    );
    for e in edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        // Fathers' lines reach a child's left side, mothers' its right, so that the
        // labels of the two do not sit on top of each other.
        let arrive = match e.kind.as_str() {
            "father" => W / 4,
            "mother" => 3 * W / 4,
            _ => W / 2,
        };
        let (ax, ay, bx, by) = if y1 == y2 {
            (x1 + W / 2, y1 + H, x2 + W / 2, y2 + H)
        } else {
            (x1 + W / 2, y1 + H, x2 + arrive, y2)
        };
        let sibling = e.kind.contains("sibling");
        let (colour, dash, thick) = if e.child_marriage {
            ("#b00020", "", 4)
        } else if sibling {
            ("#777777", " stroke-dasharray=\"5 4\"", 1)
        } else {
            ("#1f4e79", "", 2)
        };
        if y1 == y2 {
            // Same row: a curve below the boxes so it does not cross them.
            let mid = (ax + bx) / 2;
            let dip = ay + 24 + ((bx - ax).abs() / 12).min(40);
            let _ = write!(
                svg,
                "<path d=\"M{ax},{ay} Q{mid},{dip} {bx},{by}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{thick}\"{dash}/>"
            );
            let label = if e.child_marriage {
                format!("⚠ {} ({marriage_label})", e.kind)
            } else {
                e.kind.clone()
            };
            let _ = write!(
                svg,
                "<text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"11\">{}</text>",
                dip - 4,
                esc(&label)
            );
        } else {
            let _ = write!(
                svg,
                "<line x1=\"{ax}\" y1=\"{ay}\" x2=\"{bx}\" y2=\"{by}\" stroke=\"{colour}\" stroke-width=\"{thick}\"{dash}/>"
            );
            let label = if e.child_marriage {
                format!("⚠ {} ({marriage_label})", e.kind)
            } else {
                e.kind.clone()
            };
            // Near the child's end, where lines from different parents have parted.
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"11\">{}</text>",
                ax + (bx - ax) * 4 / 5,
                ay + (by - ay) * 4 / 5 - 3,
                esc(&label)
            );
        }
    }
    for n in nodes {
        let Some(&(x, y)) = pos.get(&n.id) else {
            continue;
        };
        let (fill, stroke, rx) = if n.minor {
            ("#fff4d6", "#a15c00", 22)
        } else {
            ("#e8f0fa", "#1f4e79", 4)
        };
        let _ = write!(
            svg,
            "<g><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>",
            esc(&n.name)
        );
        let name: String = n.name.chars().take(24).collect();
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
            x + W / 2,
            y + 22,
            esc(&name)
        );
        let sub = match (n.minor, n.country.is_empty()) {
            (true, false) => format!("{minor_label} · {}", n.country),
            (true, true) => minor_label.to_string(),
            (false, _) => n.country.clone(),
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333333\">{}</text></g>",
            x + W / 2,
            y + 42,
            esc(&sub)
        );
    }
    svg.push_str("</svg>");
    svg
}

pub async fn page(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match build(&state, &page, &id).await {
        Ok(p) => render(&FamilyPage { c: page.c, ..p }),
        Err(e) => {
            let msg = if e.status == StatusCode::NOT_FOUND {
                page.c.t.get("error-not-found")
            } else {
                e.detail.clone()
            };
            message(page.c, e.status, msg)
        }
    }
}

async fn build(state: &AppState, page: &Page, id: &str) -> Result<FamilyPage, ApiError> {
    let viewer = &page.auth.viewer;
    let t = &page.c.t;
    let household = visible(state, &page.auth, Kind::Household, id).await?;
    let today = chrono::Utc::now().date_naive();
    let member_ids: Vec<Uuid> = household
        .data
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default();
    let mut nodes = Vec::new();
    let mut members = Vec::new();
    let mut reads = vec![NewEntry {
        actor: page.auth.user.username.clone(),
        action: Action::Read,
        record_kind: Some("household".into()),
        record_id: Some(household.id.to_string()),
        summary: "family page".into(),
    }];
    for mid in &member_ids {
        let Some(rec) = state.store.get(*mid).await? else {
            continue;
        };
        if !can_see(viewer, &rec.scope(), &rec.data) {
            continue;
        }
        let r = redact(viewer, rec.kind, rec.to_json());
        let v = r.value();
        let age = age_now(v, today);
        let in_care = rec.kind == Kind::Child;
        let country = {
            let c = s(v, "country_of_residence");
            if c.is_empty() {
                v.get("nationalities")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            } else {
                c.to_string()
            }
        };
        let minor = age.map(|a| a < 18).unwrap_or(in_care);
        members.push(Item {
            id: if in_care {
                rec.id.to_string()
            } else {
                String::new()
            },
            label: title(v),
            extra: [
                s(v, "case_number").to_string(),
                age.map(|a| t.with("age-years", &[("age", a.to_string())]))
                    .unwrap_or_default(),
                country.clone(),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
        });
        if r.is_sensitive() {
            reads.push(NewEntry {
                actor: page.auth.user.username.clone(),
                action: Action::Read,
                record_kind: Some(rec.kind.as_str().into()),
                record_id: Some(rec.id.to_string()),
                summary: "family page".into(),
            });
        }
        nodes.push(Node {
            id: rec.id,
            name: title(v),
            country,
            minor,
            in_care,
        });
    }
    let shown: HashSet<Uuid> = nodes.iter().map(|n| n.id).collect();
    let names: HashMap<Uuid, String> = nodes.iter().map(|n| (n.id, n.name.clone())).collect();
    // Relationships among the members, and which spouse links raised a flag.
    let mut edges = Vec::new();
    let mut relations = Vec::new();
    let mut seen = HashSet::new();
    for mid in &member_ids {
        if !shown.contains(mid) {
            continue;
        }
        for rel in state.store.records_naming(viewer.agency_id, *mid).await? {
            if rel.kind != Kind::Relationship
                || !seen.insert(rel.id)
                || !can_see(viewer, &rel.scope(), &rel.data)
            {
                continue;
            }
            let from = Uuid::parse_str(s(&rel.data, "from")).ok();
            let to = Uuid::parse_str(s(&rel.data, "to")).ok();
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if !shown.contains(&from) || !shown.contains(&to) {
                continue;
            }
            let kind = s(&rel.data, "kind").to_string();
            let mut child_marriage = false;
            if kind == "spouse" {
                for side in [from, to] {
                    let mut q = super::dashboard::scoped(page, Kind::RiskFlag);
                    q.child_id = Some(side);
                    let flags = state.store.list(&q).await?;
                    child_marriage |= flags
                        .items
                        .iter()
                        .any(|f| s(&f.data, "source_record") == rel.id.to_string());
                }
            }
            relations.push(Item {
                id: String::new(),
                label: format!(
                    "{} → {}: {}",
                    names.get(&from).cloned().unwrap_or_default(),
                    names.get(&to).cloned().unwrap_or_default(),
                    kind.replace('_', " ")
                ),
                extra: if child_marriage {
                    format!("⚠ {}", t.get("family-child-marriage"))
                } else {
                    s(&rel.data, "verification").to_string()
                },
            });
            edges.push(Edge {
                from,
                to,
                kind: kind.replace('_', " "),
                child_marriage,
            });
        }
    }
    state.store.audit_reads(reads).await?;
    let svg = draw(
        &nodes,
        &edges,
        &t.get("family-minor"),
        &t.get("family-child-marriage"),
    );
    Ok(FamilyPage {
        c: Chrome::new(t.clone(), String::new(), None, String::new()),
        label: s(&household.data, "label").to_string(),
        svg,
        members,
        relations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn graph_escapes_and_marks() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let svg = draw(
            &[
                Node {
                    id: a,
                    name: "<Adult & co>".into(),
                    country: "US".into(),
                    minor: false,
                    in_care: false,
                },
                Node {
                    id: b,
                    name: "Rivka".into(),
                    country: "GT".into(),
                    minor: true,
                    in_care: true,
                },
            ],
            &[Edge {
                from: a,
                to: b,
                kind: "spouse".into(),
                child_marriage: true,
            }],
            "minor",
            "child marriage",
        );
        assert!(svg.contains("&lt;Adult &amp; co&gt;"));
        assert!(!svg.contains("<Adult"));
        assert!(svg.contains("child marriage"));
        assert!(svg.contains("#b00020"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
