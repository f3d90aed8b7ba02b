//! Scenes S5, S6, S7, S10: welfare checks, allegations seen only by investigators,
//! evidence with chain of custody, care plans, tasks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A tiny valid PNG header is enough for the content check.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00evidence-bytes";

/// Read the files out of a ustar archive.
fn untar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let h = &bytes[at..at + 512];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let name = String::from_utf8_lossy(&h[..100])
            .trim_end_matches('\0')
            .to_string();
        let size_text = String::from_utf8_lossy(&h[124..135])
            .trim_end_matches('\0')
            .to_string();
        let size = usize::from_str_radix(size_text.trim(), 8).unwrap();
        out.push((name, bytes[at + 512..at + 512 + size].to_vec()));
        at += 512 + size.div_ceil(512) * 512;
    }
    out
}

async fn allegations_are_invisible_to_others(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "a").await;
    let inv = server.user("ainv", "investigator", "Agency One", &[]);
    let staff = server.user("astaff", "shelter_staff", "Agency One", &[&w.facility_a]);
    let partner = server.user("apartner", "partner", "Agency One", &[]);
    let suspect = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Zalman", "family": "Suspectman"}]}),
        )
        .await;
    let refused = w
        .caseworker
        .post(
            "/allegations",
            json!({"kind": "sexual_abuse", "victims": [w.child_a], "reported_by": "x",
                                      "reported_at": "2026-11-21T10:00:00Z", "summary": "s"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let allegation = inv
        .create(
            "/allegations",
            json!({"kind": "forced_pregnancy", "victims": [w.child_a], "perpetrators": [suspect["id"]],
                   "reported_by": "Fiscalía de la Mujer (test)", "reported_at": "2026-11-21T10:00:00Z",
                   "place": "the farm", "prosecutor_reference": "MP-FEM-2026-12",
                   "other_jurisdictions": [{"country": "MX", "agency": "FGR (test)", "reference": "CHIS-2019-8"}],
                   "summary": "Statement taken at intake."}),
        )
        .await;
    let id = allegation["id"].as_str().unwrap().to_string();
    assert_eq!(
        inv.get(&format!("/allegations/{id}")).await.status,
        StatusCode::OK
    );
    // Evidence on it, with its chain of custody.
    let up = inv
        .raw(
            Method::POST,
            &format!("/evidence?allegation={id}"),
            Some(PNG.to_vec()),
            &[
                ("x-filename", "photo-1.png"),
                ("x-description", "photo of the room"),
            ],
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let evidence = up.body["id"].as_str().unwrap().to_string();
    let html = inv
        .raw(
            Method::POST,
            &format!("/evidence?allegation={id}"),
            Some(b"<html><script>x</script>".to_vec()),
            &[],
        )
        .await;
    assert_eq!(
        html.status.as_u16(),
        415,
        "HTML is never accepted as evidence"
    );
    let handed = inv
        .post(
            &format!("/evidence/{evidence}/handover"),
            json!({"from": "ainv", "to": "Fiscalía (test)", "purpose": "forensic analysis"}),
        )
        .await;
    assert_eq!(handed.status, StatusCode::OK, "{}", handed.body);
    assert_eq!(handed.body["custody"].as_array().unwrap().len(), 2);
    let file = inv
        .raw(
            Method::GET,
            &format!("/evidence/{evidence}/file"),
            None,
            &[],
        )
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(
        file.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );

    // Nobody else gets a trace: not the record, not a count, not a search hit, not
    // the evidence, not the audit trail.
    for (who, api) in [
        ("caseworker", &w.caseworker),
        ("shelter", &staff),
        ("partner", &partner),
    ] {
        for path in [
            format!("/allegations/{id}"),
            format!("/allegations/{id}/history"),
            format!("/evidence/{evidence}"),
            format!("/evidence/{evidence}/file"),
            format!("/allegations/{id}/bundle"),
        ] {
            let r = api.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}");
        }
        for path in ["/allegations", "/evidence"] {
            let r = api.get(path).await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::FORBIDDEN,
                "{who} {path}"
            );
            if r.status == StatusCode::OK {
                assert_eq!(r.body["total"], 0, "{who} {path}");
            }
        }
        let child = api.get(&format!("/children/{}", w.child_a)).await;
        let text = child.body.to_string();
        assert!(
            !text.contains(&id) && !text.contains("forced") && !text.contains("MP-FEM"),
            "{who}: {text}"
        );
        let audit = api.get(&format!("/audit?record={id}")).await;
        assert_ne!(audit.status, StatusCode::OK, "{who} reads no audit of it");
    }
    let search = w
        .caseworker
        .post("/allegations/search", json!({"q": "Suspectman"}))
        .await;
    assert_eq!(search.body["total"], 0);
    // The investigator's reads are in the audit trail.
    let trail = inv
        .get(&format!("/audit?record={id}"))
        .await
        .body
        .to_string();
    assert!(trail.contains("\"read\""), "{trail}");

    // The bundle: files, a manifest whose hashes match them, custody, audit.
    let bundle = inv
        .client
        .get(format!("{}/api/v1/allegations/{id}/bundle", inv.base))
        .bearer_auth(inv.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    let files = untar(&bundle.bytes().await.unwrap());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"manifest.json")
            && names.contains(&"chain-of-custody.json")
            && names.contains(&"audit.json"),
        "{names:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    for item in manifest["items"].as_array().unwrap() {
        let path = item["file"].as_str().unwrap();
        let data = &files.iter().find(|(n, _)| n == path).unwrap().1;
        assert_eq!(
            amparo_store::sha256_hex(data),
            item["sha256"].as_str().unwrap()
        );
    }

    // A file altered on disk is reported, and not served.
    let sha = up.body["sha256"].as_str().unwrap().to_string();
    let path = server.data_dir.join("files").join(&sha[..2]).join(&sha);
    let ok = inv.get(&format!("/evidence/{evidence}/verify")).await;
    assert_eq!(ok.body["intact"], true);
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nsomething else").unwrap();
    let bad = inv.get(&format!("/evidence/{evidence}/verify")).await;
    assert_eq!(bad.body["intact"], false, "{}", bad.body);
    assert_eq!(
        inv.raw(
            Method::GET,
            &format!("/evidence/{evidence}/file"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
}
on_both!(allegations, allegations_are_invisible_to_others);

async fn care_plans_welfare_checks_and_tasks(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "c").await;
    let partner = server.user("cpartner", "partner", "Agency One", &[]);
    w.caseworker
        .create(
            "/care-plans",
            json!({"child_id": w.child_a, "religion": "Jewish (Orthodox)", "religious_practice": "Shabbat observance",
                   "diet": "kosher", "languages": ["yi", "es"], "interpreter_needed": true,
                   "education": "Primary, Yiddish-medium", "contact_arrangements": "Supervised, mother only",
                   "placement_goal": "kinship_care"}),
        )
        .await;
    let seen = partner
        .get(&format!("/care-plans?child={}", w.child_a))
        .await
        .body;
    let plan = &seen["items"][0];
    assert_eq!(plan["diet"], "kosher");
    assert_eq!(plan["languages"], json!(["yi", "es"]));
    for hidden in [
        "religion",
        "religious_practice",
        "education",
        "contact_arrangements",
        "placement_goal",
        "health_notes",
    ] {
        assert!(plan.get(hidden).is_none(), "partner saw {hidden}");
    }
    let child = partner.get(&format!("/children/{}", w.child_a)).await.body;
    assert!(child.get("names").is_none() && child.get("birth").is_none());
    // Health notes are restricted: a caseworker may not write them.
    let plans = w
        .caseworker
        .get(&format!("/care-plans?child={}", w.child_a))
        .await
        .body;
    let pid = plans["items"][0]["id"].as_str().unwrap().to_string();
    let etag = w
        .caseworker
        .get(&format!("/care-plans/{pid}"))
        .await
        .etag
        .unwrap();
    let r = w
        .caseworker
        .patch(
            &format!("/care-plans/{pid}"),
            &etag,
            json!({"health_notes": "x"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422);

    // The farm: two visits where officials were kept out, seen at a glance.
    let farm = w
        .caseworker
        .create(
            "/sites",
            json!({"name": "The farm (test)", "address": "Near Oratorio"}),
        )
        .await;
    let fid = farm["id"].as_str().unwrap();
    for (day, outcome) in [
        ("2026-10-02T15:00:00Z", "access_denied"),
        ("2026-10-20T15:00:00Z", "obstructed"),
        ("2026-11-20T08:00:00Z", "seen_safe"),
    ] {
        w.caseworker
            .create("/welfare-checks", json!({"site_id": fid, "done_at": day, "visitors": ["PGN (test)"],
                                               "outcome": outcome, "refused_by": "community guards"}))
            .await;
    }
    let planned = w
        .caseworker
        .post(
            "/welfare-checks",
            json!({"child_id": w.child_b, "planned_for": "2026-12-01"}),
        )
        .await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
    let bad = w
        .caseworker
        .post(
            "/welfare-checks",
            json!({"site_id": fid, "outcome": "obstructed"}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "an outcome needs a time");
    let history = w
        .caseworker
        .get(&format!("/sites/{fid}/welfare"))
        .await
        .body;
    assert_eq!(history["access_denied_or_obstructed"], 2, "{history}");
    assert_eq!(history["checks"], 3);

    // Tasks: mine today, overdue first.
    let today = chrono_today();
    w.caseworker
        .create(
            "/tasks",
            json!({"title": "Follow up at the farm", "assignee": "ccw", "due": today}),
        )
        .await;
    w.caseworker
        .create(
            "/tasks",
            json!({"title": "Overdue report", "assignee": "ccw", "due": "2026-01-01"}),
        )
        .await;
    w.caseworker
        .create(
            "/tasks",
            json!({"title": "Someone else's", "assignee": "other", "due": today}),
        )
        .await;
    let mine = w.caseworker.get("/tasks/mine").await.body;
    assert_eq!(mine["total"], 2, "{mine}");
    assert_eq!(mine["items"][0]["overdue"], true);
}
on_both!(care_and_welfare, care_plans_welfare_checks_and_tasks);

fn chrono_today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}
