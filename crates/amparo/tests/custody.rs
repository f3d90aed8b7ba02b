//! Scenes S3 and S4: break-in, emergency transfer, roll call, missing-child alerts,
//! and the visitor check against restrictions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scene_s3_break_in_transfer_roll_call_missing_found() {
    let server = Server::start_with(temp_dir("s3"), None, "demo");
    let (_, token) = server.cli(&["token", "create", "--username", "caseworker"], None);
    let cw = Api::bearer(&server.base, token.lines().next().unwrap().trim());
    let facilities = cw.get("/facilities").await.body;
    let first = facilities["items"][0]["id"].as_str().unwrap().to_string();
    let children = cw.get("/children?limit=500").await.body;
    let all = ids(&children);
    assert_eq!(all.len(), 160);

    // The break-in, recorded; then from it, in one step, everyone moves to a
    // safe place and a roll call starts there.
    let incident = cw
        .create(
            "/incidents",
            json!({"kind": "break_in", "occurred_at": "2026-11-22T19:30:00Z", "facility_id": first,
                   "description": "Relatives forced the gate and tried to take children back.",
                   "adults_described": ["about 100 relatives at the gate"],
                   "staff_present": ["night shift"], "police_report": "PNC-2026-4471", "severity": "critical"}),
        )
        .await;
    let refuge = cw
        .create(
            "/facilities",
            json!({"name": "Refugio de emergencia (test)", "kind": "care_centre", "capacity": 200,
                   "address": "Undisclosed", "security_level": "high"}),
        )
        .await;
    let refuge_id = refuge["id"].as_str().unwrap().to_string();
    let r = cw
        .post(
            &format!("/incidents/{}/respond", incident["id"].as_str().unwrap()),
            json!({"children": all, "to_facility_id": refuge_id,
                   "legal_basis": {"kind": "emergency_measure", "issuing_authority": "PGN (test)",
                                   "reference": "EM-2026-0001", "date": "2026-11-22"},
                   "reason": "Emergency transfer after the break-in", "authorised_by": "Jefa de turno (test)"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let roll_call = r.body["roll_call_id"].as_str().unwrap().to_string();
    // Every child is now at the refuge, and its placement history says so.
    let now = cw.get("/children?limit=500").await.body;
    let at_refuge = now["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["current_facility_id"] == refuge_id.as_str())
        .count();
    assert_eq!(at_refuge, 160, "every child is at the refuge");
    let placements = cw.get(&format!("/placements?child={}", all[0])).await.body;
    assert_eq!(placements["total"], 2, "{placements}");
    let status = cw
        .get(&format!("/roll-calls/{roll_call}/status"))
        .await
        .body;
    assert_eq!(status["counts"]["expected"], 160);

    // Four staff mark at once; three children stay unaccounted.
    let missing: Vec<String> = all[157..].to_vec();
    let mut tasks = Vec::new();
    for (k, chunk) in all[..157].chunks(40).enumerate() {
        let api = cw.clone();
        let chunk = chunk.to_vec();
        let rc = roll_call.clone();
        tasks.push(tokio::spawn(async move {
            for (i, c) in chunk.iter().enumerate() {
                if k == 0 && i == 0 {
                    // First seen in the ambulance, then back: the latest mark counts.
                    let r = api
                        .post(&format!("/roll-calls/{rc}/marks"),
                              json!({"child_id": c, "mark": "elsewhere_known", "location": "Hospital Regional (ambulance)"}))
                        .await;
                    assert_eq!(r.body["counts"]["elsewhere_known"], 1, "{}", r.body);
                }
                let r = api
                    .post(&format!("/roll-calls/{rc}/marks"), json!({"child_id": c, "mark": "present"}))
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let status = cw
        .get(&format!("/roll-calls/{roll_call}/status"))
        .await
        .body;
    assert_eq!(status["counts"]["present"], 157);
    assert_eq!(status["counts"]["elsewhere_known"], 0);
    assert_eq!(status["counts"]["unaccounted"], 3);
    // A mark for a child not on the list is refused.
    let stranger = cw
        .post(
            &format!("/roll-calls/{roll_call}/marks"),
            json!({"child_id": refuge_id, "mark": "present"}),
        )
        .await;
    assert_eq!(stranger.status.as_u16(), 422);

    let closed = cw
        .post(&format!("/roll-calls/{roll_call}/close"), json!({}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let mut gone: Vec<String> = closed.body["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    gone.sort();
    let mut expected_missing = missing.clone();
    expected_missing.sort();
    assert_eq!(
        gone, expected_missing,
        "exactly the three unaccounted children are missing"
    );
    let listed = cw.get("/children?status=missing").await.body;
    assert_eq!(listed["total"], 3);
    let alerts = cw.get("/alerts").await.body;
    assert_eq!(alerts["total"], 3);
    let late = cw
        .post(
            &format!("/roll-calls/{roll_call}/marks"),
            json!({"child_id": missing[0], "mark": "present"}),
        )
        .await;
    assert_eq!(
        late.status,
        StatusCode::CONFLICT,
        "a closed roll call takes no marks"
    );

    // One is found: the alert clears with where, the child is in care again.
    let alert = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["child_id"] == missing[0].as_str())
        .unwrap();
    let found = cw
        .post(
            &format!("/alerts/{}/found", alert["id"].as_str().unwrap()),
            json!({"found_where": "At an aunt's house in Santa Rosa"}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["status"], "found");
    assert_eq!(cw.get("/children?status=missing").await.body["total"], 2);
    assert_eq!(
        cw.get(&format!("/children/{}", missing[0])).await.body["status"],
        "in_care"
    );
    // Every step is in the audit chain, and it verifies.
    let inv = {
        let (_, t) = server.cli(&["token", "create", "--username", "investigator"], None);
        Api::bearer(&server.base, t.lines().next().unwrap().trim())
    };
    let trail = inv.get(&format!("/audit?record={}", missing[0])).await.body;
    let text = trail.to_string();
    assert!(
        text.contains("unaccounted at roll call close")
            && text.contains("found after missing-child alert"),
        "{text}"
    );
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
    // Partners learn nothing of roll calls or alerts.
    let (_, t) = server.cli(&["token", "create", "--username", "partner"], None);
    let partner = Api::bearer(&server.base, t.lines().next().unwrap().trim());
    assert_eq!(partner.get("/alerts").await.body["total"], 0);
    assert_eq!(
        partner
            .get(&format!("/roll-calls/{roll_call}/status"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn restricted_person_is_stopped_at_the_gate(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "v").await;
    let person = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Yaakov", "family": "Weingarten", "kind": "legal"},
                             {"given": "יעקב", "family": "ווינגארטן", "kind": "alias"}],
                   "sex": "male", "country_of_residence": "US"}),
        )
        .await;
    let restriction = w
        .caseworker
        .create(
            "/restrictions",
            json!({"person_id": person["id"], "children": [w.child_a],
                   "authority": {"kind": "court_order", "issuing_authority": "Juzgado de Niñez (test)",
                                 "reference": "JN-2026-77", "date": "2026-01-12", "expires": "2027-01-12"},
                   "barred": ["visits", "contact", "location_information"]}),
        )
        .await;
    // Naming the child raised an abduction-risk flag.
    let flags = w
        .caseworker
        .get(&format!("/risk-flags?child={}", w.child_a))
        .await
        .body;
    assert!(flags.to_string().contains("abduction_risk"), "{flags}");
    let staff = server.user("vstaff", "shelter_staff", "Agency One", &[&w.facility_a]);
    let r = staff
        .post(
            "/visits",
            json!({"facility_id": w.facility_a, "visitor": {"given": "Jacobo", "family": "Vaingarten"},
                   "document": "Pasaporte X123", "relationship_claimed": "father", "child_id": w.child_a}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["outcome"], "blocked", "{}", r.body);
    assert_eq!(r.body["restriction_id"], restriction["id"]);
    assert!(r.body["reason"].as_str().unwrap().contains("JN-2026-77"));
    let incident = w
        .caseworker
        .get(&format!(
            "/incidents/{}",
            r.body["incident_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(incident.status, StatusCode::OK);
    assert_eq!(incident.body["persons"][0], person["id"]);
    // Someone else is let in, and both visits are in the log.
    let ok = staff
        .post(
            "/visits",
            json!({"facility_id": w.facility_a, "visitor": {"given": "Moshe", "family": "Klein"}, "child_id": w.child_a}),
        )
        .await;
    assert_eq!(ok.body["outcome"], "allowed", "{}", ok.body);
    assert_eq!(w.caseworker.get("/visits").await.body["total"], 2);
    // The answer never says where another child is: a visit for a child outside
    // the staff member's facility is simply not found.
    let elsewhere = staff
        .post(
            "/visits",
            json!({"facility_id": w.facility_a, "visitor": {"given": "Moshe", "family": "Klein"}, "child_id": w.child_b}),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
on_both!(visitor_check, restricted_person_is_stopped_at_the_gate);
