//! Access matrix, generated from the OpenAPI document: every GET route and every
//! search, for every role, with ids inside and outside the user's agency and
//! facility. Canary values planted in records of each sensitivity must never appear
//! in a response to a role that may not see them, and another agency's records never.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use amparo_domain::policy::{Role, Sensitivity, Viewer};
use amparo_web::route_policy::{self, Rule};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const NAME: &str = "Canarioidentidad";
const ADDRESS: &str = "Canario-direccion-secreta";
const RESTRICTED: &str = "CANARIO-RESTRINGIDO";
const OTHER_AGENCY: &str = "Canariootraagencia";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_shows_what_a_role_may_not_see() {
    let server = Server::start(Db::Sqlite).await.unwrap();
    let w = world(&server, "Matrix Agency", "mx").await;
    // Canaries: a child's name (identity) and protection notes (restricted), a
    // facility's address (location), and another agency's child.
    let both = server.user("mxboth", "caseworker+investigator", "Matrix Agency", &[]);
    let c = w
        .caseworker
        .create(
            "/children",
            json!({"operation_id": w.operation, "names": [{"given": NAME, "family": "Prueba"}],
            "sex": "female", "wristband": "M1"}),
        )
        .await;
    let canary_child = c["id"].as_str().unwrap().to_string();
    let etag = both
        .get(&format!("/children/{canary_child}"))
        .await
        .etag
        .unwrap();
    let r = both
        .patch(
            &format!("/children/{canary_child}"),
            &etag,
            json!({"protection_notes": RESTRICTED}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let fac = w
        .caseworker
        .create("/facilities", json!({"name": "Casa canario", "kind": "care_centre", "address": ADDRESS, "capacity": 10}))
        .await;
    w.caseworker
        .create("/placements", json!({"child_id": canary_child, "facility_id": fac["id"], "from": "2026-01-10T10:00:00Z",
               "legal_basis": legal_basis(), "authorised_by": "Jueza de prueba"}))
        .await;
    both.create(
        "/allegations",
        json!({"kind": "neglect", "victims": [canary_child], "reported_by": "x",
        "reported_at": "2026-11-21T10:00:00Z", "summary": RESTRICTED}),
    )
    .await;
    let other = server.user("mxother", "caseworker", "Other Matrix Agency", &[]);
    let other_op = other
        .create("/operations", json!({"name": "Other op", "country": "GT", "start_date": "2026-01-10", "lead_agency": "x"}))
        .await;
    let other_child = other
        .create("/children", json!({"operation_id": other_op["id"], "names": [{"given": OTHER_AGENCY, "family": "Prueba"}], "wristband": "M1"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // One user per role; shelter staff tied to facility A (the canary child is elsewhere).
    let mut users: Vec<(Role, Api)> = Vec::new();
    for role in Role::ALL {
        let name = format!("mx{}", role.as_str().replace('_', ""));
        let facilities: Vec<&str> = if role == Role::ShelterStaff {
            vec![w.facility_a.as_str()]
        } else {
            vec![]
        };
        users.push((
            role,
            server.user(&name, role.as_str(), "Matrix Agency", &facilities),
        ));
    }
    // Every {id} route is tried with the canary child, another agency's child, the
    // canary facility and the operation.
    let record_ids = [
        canary_child.as_str(),
        other_child.as_str(),
        fac["id"].as_str().unwrap(),
        w.operation.as_str(),
    ];
    let ids_for = |p: &str| -> Vec<&str> {
        if p.contains("{id}") {
            record_ids.to_vec()
        } else {
            vec![""]
        }
    };
    let doc = w.caseworker.get("/openapi.json").await.body;
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    let mut writes: Vec<(String, String, Rule)> = Vec::new();
    let mut wrong: Vec<String> = Vec::new();
    for (path, ops) in paths {
        let p = path.trim_start_matches("/api/v1");
        for (method, op) in ops.as_object().unwrap() {
            let is_search = method == "post" && p.ends_with("/search");
            // Every route has a rule in the route policy; a new one without is a failure.
            let rule = route_policy::rule(method, path)
                .unwrap_or_else(|| panic!("{method} {path} is not in route_policy.rs"));
            if method != "get" && !is_search {
                writes.push((method.clone(), p.to_string(), rule));
                continue;
            }
            // Server-sent events stay open: read them through the status route instead.
            if p.ends_with("/events") {
                continue;
            }
            for id in ids_for(p) {
                let url = p.replace("{id}", id);
                let mut query = String::new();
                if let Some(params) = op["parameters"].as_array() {
                    for param in params {
                        if param["in"] == "query" && param["name"] == "format" {
                            query = "?format=json".into();
                        }
                    }
                }
                for (role, api) in &users {
                    let viewer = Viewer::new(
                        uuid::Uuid::nil(),
                        String::new(),
                        uuid::Uuid::nil(),
                        vec![*role],
                        vec![],
                    );
                    let r = if is_search {
                        api.raw(
                            Method::POST,
                            &url,
                            Some(json!({"q": NAME}).to_string().into_bytes()),
                            &[],
                        )
                        .await
                    } else {
                        api.raw(Method::GET, &format!("{url}{query}"), None, &[])
                            .await
                    };
                    let text = r.body.to_string();
                    assert!(
                        r.status.as_u16() < 500,
                        "{} {url} as {role:?}: {}",
                        method,
                        text
                    );
                    expect_rule(
                        &mut wrong,
                        rule,
                        *role,
                        &format!("{method} {url}"),
                        p.contains("{id}"),
                        &r,
                    );
                    checked += 1;
                    assert!(
                        !text.contains(OTHER_AGENCY),
                        "{method} {url} as {role:?} shows another agency's child: {text}"
                    );
                    if !viewer.may_see(Sensitivity::Restricted) {
                        assert!(
                            !text.contains(RESTRICTED),
                            "{method} {url} as {role:?} shows restricted data: {text}"
                        );
                    }
                    if !viewer.may_see(Sensitivity::Location) {
                        assert!(
                            !text.contains(ADDRESS),
                            "{method} {url} as {role:?} shows a location: {text}"
                        );
                    }
                    // Identity: roles without it, and shelter staff (the child is not at their facility).
                    if !viewer.may_see(Sensitivity::Identity) || *role == Role::ShelterStaff {
                        assert!(
                            !text.contains(NAME),
                            "{method} {url} as {role:?} shows a name: {text}"
                        );
                    }
                    if id == other_child {
                        assert!(
                            matches!(
                                r.status,
                                StatusCode::NOT_FOUND
                                    | StatusCode::FORBIDDEN
                                    | StatusCode::BAD_REQUEST
                                    | StatusCode::UNPROCESSABLE_ENTITY
                            ),
                            "{method} {url} as {role:?}: another agency's id answered {}",
                            r.status
                        );
                    }
                }
            }
        }
    }
    // Every write route, as every role, on records inside and outside the agency: an
    // empty body, so nothing valid is written; what matters is who is turned away.
    for (method, p, rule) in &writes {
        // Signing out would end the very token the matrix uses.
        if method == "delete" && p == "/session" {
            continue;
        }
        for id in ids_for(p) {
            let url = p.replace("{id}", id);
            for (role, api) in &users {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = if method == "put" {
                    vec![]
                } else {
                    b"{}".to_vec()
                };
                let r = api.raw(m, &url, Some(body), &[]).await;
                let text = r.body.to_string();
                assert!(
                    r.status.as_u16() < 500,
                    "{method} {url} as {role:?}: {text}"
                );
                assert!(
                    !text.contains(OTHER_AGENCY) && !text.contains(RESTRICTED),
                    "{method} {url} as {role:?} answered with hidden data: {text}"
                );
                expect_rule(
                    &mut wrong,
                    *rule,
                    *role,
                    &format!("{method} {url}"),
                    p.contains("{id}"),
                    &r,
                );
                checked += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ from the route policy:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 300, "only {checked} requests checked");
    // The audit log of an agency's administrator holds its own activity only.
    let admin = &users.iter().find(|(r, _)| *r == Role::Admin).unwrap().1;
    let log = admin.get("/audit?limit=5000").await;
    assert_eq!(log.status, StatusCode::OK);
    let entries = log.body["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["actor"] == "mxcw"), "{}", log.body);
    assert!(
        !entries.iter().any(|e| e["actor"] == "mxother"),
        "another agency's activity: {}",
        log.body
    );
    // The canaries are there for those who may see them (so the checks above bite).
    let as_role = |r: Role| &users.iter().find(|(x, _)| *x == r).unwrap().1;
    let cw = as_role(Role::Caseworker)
        .get(&format!("/children/{canary_child}"))
        .await
        .body
        .to_string();
    assert!(cw.contains(NAME) && !cw.contains(RESTRICTED), "{cw}");
    let inv = as_role(Role::Investigator)
        .get(&format!("/children/{canary_child}"))
        .await
        .body
        .to_string();
    assert!(inv.contains(RESTRICTED), "{inv}");
    let f = as_role(Role::Caseworker)
        .get(&format!("/facilities/{}", fac["id"].as_str().unwrap()))
        .await
        .body
        .to_string();
    assert!(f.contains(ADDRESS), "{f}");
    eprintln!("{checked} requests checked");
}

/// What the route policy says `role` must get: turned away (403, or 404 for a record
/// it may not know of) without the capability; never turned away with it. A wrong
/// answer is added to `wrong`, so that one run lists them all.
fn expect_rule(
    wrong: &mut Vec<String>,
    rule: Rule,
    role: Role,
    request: &str,
    by_id: bool,
    r: &Reply,
) {
    let allowed = match rule {
        Rule::Anyone | Rule::SignedIn => true,
        Rule::AnyOf(caps) => caps.iter().any(|c| role.capabilities().contains(c)),
    };
    let short: String = r.body.to_string().chars().take(160).collect();
    let turned_away =
        r.status == StatusCode::FORBIDDEN || (by_id && r.status == StatusCode::NOT_FOUND);
    if allowed && r.status == StatusCode::FORBIDDEN {
        wrong.push(format!(
            "{request} as {role:?}: let in by the policy, got 403: {short}"
        ));
    }
    if !allowed && !turned_away {
        wrong.push(format!(
            "{request} as {role:?}: turned away by the policy, got {}: {short}",
            r.status
        ));
    }
}
