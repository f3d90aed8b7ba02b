//! Crash safety: the real server on a real database, concurrent writers (creates,
//! updates, placements, roll-call marks), SIGKILL at a random moment, restart, and
//! then: every acknowledged write is there, nothing is half there, the audit chain
//! verifies. Rounds: AMPARO_CRASH_ROUNDS (50 by default; the benchmark run uses 100).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Acked {
    /// child id -> (version acknowledged, languages written at that version)
    children: Vec<(String, i64, Value)>,
    placements: Vec<String>,
    marks: Vec<(String, String)>,
}

fn rounds() -> usize {
    std::env::var("AMPARO_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
}

/// Deterministic pseudo-random numbers, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A request that may find the server gone: `None` instead of a panic.
async fn call(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    etag: Option<&str>,
) -> Option<(StatusCode, Value, Option<String>)> {
    let mut req = api
        .client
        .request(method, format!("{}/api/v1{path}", api.base))
        .bearer_auth(api.token.as_deref()?);
    if let Some(e) = etag {
        req = req.header("If-Match", e);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Some((status, body, etag))
}

async fn writer(
    api: Api,
    op: String,
    facility: String,
    rc: String,
    expected: Vec<String>,
    tag: String,
    acked: Arc<Mutex<Acked>>,
) {
    use reqwest::Method;
    let mut i = 0u64;
    let mut mine: Vec<String> = Vec::new();
    loop {
        i += 1;
        let alive = match i % 4 {
            0 | 1 => {
                let r = call(
                    &api,
                    Method::POST,
                    "/children",
                    Some(json!({"operation_id": op,
                    "names": [{"given": format!("Crash{i}"), "family": "Prueba"}],
                    "wristband": format!("{tag}-{i}"), "languages": ["es"]})),
                    None,
                )
                .await;
                if let Some((StatusCode::CREATED, b, _)) = &r {
                    let id = b["id"].as_str().unwrap().to_string();
                    acked
                        .lock()
                        .unwrap()
                        .children
                        .push((id.clone(), 1, json!(["es"])));
                    mine.push(id);
                }
                r.is_some()
            }
            2 => {
                let Some(id) = mine.last().cloned() else {
                    continue;
                };
                let Some((_, _, Some(etag))) =
                    call(&api, Method::GET, &format!("/children/{id}"), None, None).await
                else {
                    return;
                };
                let langs = json!(["es", "yi"]);
                let r = call(
                    &api,
                    Method::PATCH,
                    &format!("/children/{id}"),
                    Some(json!({"languages": langs})),
                    Some(&etag),
                )
                .await;
                if let Some((StatusCode::OK, b, _)) = &r {
                    let v = b["version"].as_i64().unwrap();
                    acked.lock().unwrap().children.push((id, v, langs));
                }
                r.is_some()
            }
            _ => {
                if let Some(id) = mine.last().cloned() {
                    let r = call(&api, Method::POST, "/placements", Some(json!({"child_id": id, "facility_id": facility,
                        "from": "2026-01-10T10:00:00Z", "legal_basis": legal_basis(), "authorised_by": "Jueza de prueba"})), None).await;
                    match &r {
                        Some((StatusCode::CREATED, b, _)) => acked
                            .lock()
                            .unwrap()
                            .placements
                            .push(b["id"].as_str().unwrap().to_string()),
                        None => return,
                        _ => {}
                    }
                }
                let child = &expected[(i as usize) % expected.len()];
                let r = call(
                    &api,
                    Method::POST,
                    &format!("/roll-calls/{rc}/marks"),
                    Some(json!({"child_id": child, "mark": "present"})),
                    None,
                )
                .await;
                if let Some((StatusCode::CREATED, _, _)) = &r {
                    acked
                        .lock()
                        .unwrap()
                        .marks
                        .push((rc.clone(), child.clone()));
                }
                r.is_some()
            }
        };
        if !alive {
            return;
        }
    }
}

async fn crash_rounds(db: Db) {
    let Some(first) = Server::start(db).await else {
        return;
    };
    let data_dir = first.data_dir.clone();
    let url = first.database_url.clone();
    let w = world(&first, "Crash Agency", "cr").await;
    let inv = first.user("crinv", "investigator", "Crash Agency", &[]);
    let token = w.caseworker.token.clone().unwrap();
    let inv_token = inv.token.clone().unwrap();
    drop(first);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut rng = Lcg(42);
    let n = rounds();
    for round in 0..n {
        let mut server = Server::start_with(data_dir.clone(), url.clone(), "serve");
        let api = Api::bearer(&server.base, &token);
        // Verify what earlier rounds were told was saved (all of it every tenth round).
        verify(
            &api,
            &Api::bearer(&server.base, &inv_token),
            &acked,
            round % 10 == 9,
        )
        .await;
        // A roll call of the facility for this round's marks.
        let rc = api
            .post("/roll-calls", json!({"facility_id": w.facility_a}))
            .await;
        assert_eq!(rc.status, StatusCode::CREATED, "{}", rc.body);
        let rc_id = rc.body["id"].as_str().unwrap().to_string();
        let expected: Vec<String> = rc.body["expected"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| vec![w.child_a.clone()]);
        let expected = if expected.is_empty() {
            vec![w.child_a.clone()]
        } else {
            expected
        };
        let mut tasks = Vec::new();
        for t in 0..3 {
            tasks.push(tokio::spawn(writer(
                Api::bearer(&server.base, &token),
                w.operation.clone(),
                w.facility_a.clone(),
                rc_id.clone(),
                expected.clone(),
                format!("r{round}t{t}"),
                acked.clone(),
            )));
        }
        tokio::time::sleep(Duration::from_millis(40 + rng.next(400))).await;
        server.kill();
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(70), t).await;
        }
    }
    let server = Server::start_with(data_dir, url, "serve");
    verify(
        &Api::bearer(&server.base, &token),
        &Api::bearer(&server.base, &inv_token),
        &acked,
        true,
    )
    .await;
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
    let a = acked.lock().unwrap();
    eprintln!(
        "{n} kills: {} child writes, {} placements, {} marks acknowledged and found",
        a.children.len(),
        a.placements.len(),
        a.marks.len()
    );
    assert!(
        !a.children.is_empty() && !a.marks.is_empty(),
        "the writers wrote nothing"
    );
}

/// Every item of a list, page by page.
async fn every(api: &Api, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r = api
            .get(&format!("{path}?limit=200&offset={}", out.len()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return out;
        }
        out.extend(items);
    }
}

async fn verify(api: &Api, inv: &Api, acked: &Arc<Mutex<Acked>>, everything: bool) {
    let (children, placements, marks) = {
        let a = acked.lock().unwrap();
        (a.children.clone(), a.placements.clone(), a.marks.clone())
    };
    if !everything {
        // Between full checks, the acknowledged writes of the last round.
        let last = |n: usize| n.saturating_sub(40);
        for (id, version, langs) in &children[last(children.len())..] {
            let r = api.get(&format!("/children/{id}")).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "acknowledged child {id} is missing"
            );
            let v = r.body["version"].as_i64().unwrap();
            assert!(
                v >= *version,
                "child {id} at version {v}, {version} was acknowledged"
            );
            if v == *version {
                assert_eq!(&r.body["languages"], langs, "child {id}");
            }
        }
        for id in &placements[last(placements.len())..] {
            assert_eq!(
                api.get(&format!("/placements/{id}")).await.status,
                StatusCode::OK,
                "placement {id}"
            );
        }
        return;
    }
    for (id, version, langs) in &children {
        let r = api.get(&format!("/children/{id}")).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "acknowledged child {id} is missing"
        );
        let v = r.body["version"].as_i64().unwrap();
        assert!(
            v >= *version,
            "child {id} at version {v}, {version} was acknowledged"
        );
        if v == *version {
            assert_eq!(&r.body["languages"], langs, "child {id}");
        }
    }
    for id in &placements {
        let r = api.get(&format!("/placements/{id}")).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "acknowledged placement {id} is missing"
        );
    }
    let all = every(api, "/roll-call-marks").await;
    for (rc, child) in &marks {
        assert!(
            all.iter()
                .any(|m| m["roll_call_id"] == rc.as_str() && m["child_id"] == child.as_str()),
            "acknowledged mark for {child} in {rc} is missing"
        );
    }
    // Nothing half there: every child, acknowledged or not, has all its versions, and
    // each version its audit entry.
    for c in &every(api, "/children").await {
        let id = c["id"].as_str().unwrap();
        let version = c["version"].as_i64().unwrap();
        let h = api.get(&format!("/children/{id}/history")).await.body;
        assert_eq!(
            h["items"].as_array().unwrap().len() as i64,
            version,
            "child {id}: history and version disagree"
        );
        let audit = inv
            .get(&format!("/audit?record={id}&limit=1000"))
            .await
            .body;
        let writes = audit["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| matches!(e["action"].as_str(), Some("create") | Some("update")))
                    .count()
            })
            .unwrap_or(0) as i64;
        assert!(
            writes >= version,
            "child {id}: {version} versions but {writes} audited writes"
        );
    }
}

on_both!(crash, crash_rounds);
