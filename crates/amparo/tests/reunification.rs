//! Releasing a child: two approvals by two people other than the proposer, and an
//! outright refusal for restricted persons and alleged perpetrators.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn proposal(child: &str, person: &Value) -> Value {
    json!({"child_id": child, "to_person": person["id"],
           "relationship_verification": "Birth certificate GT-RC-2014-123 (test) and the mother's statement",
           "child_views": "He wants to live with his mother.",
           "legal_basis": {"kind": "court_order", "issuing_authority": "Juzgado de Niñez (prueba)",
                           "reference": "JN-REL-1", "date": "2026-11-20"}})
}

async fn two_approvals_release(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Release Agency", "rl").await;
    let sup1 = server.user("rlsup1", "supervisor", "Release Agency", &[]);
    let sup2 = server.user("rlsup2", "supervisor", "Release Agency", &[]);
    let inv = server.user("rlinv", "investigator", "Release Agency", &[]);
    let mother = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Perla", "family": "Madreprueba"}], "sex": "female"}),
        )
        .await;
    let rel = w
        .caseworker
        .create("/releases", proposal(&w.child_a, &mother))
        .await;
    assert_eq!(rel["status"], "proposed");
    assert!(
        rel.get("checks").is_none(),
        "the server's findings are for investigators"
    );
    let id = rel["id"].as_str().unwrap();
    // The proposer's role cannot approve; nor can a proposing supervisor approve their own.
    let r = w
        .caseworker
        .post(&format!("/releases/{id}/approve"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let own = sup1
        .create("/releases", proposal(&w.child_b, &mother))
        .await;
    let r = sup1
        .post(
            &format!("/releases/{}/approve", own["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("You proposed"));

    // One approval does nothing to the child.
    let r = sup1
        .post(
            &format!("/releases/{id}/approve"),
            json!({"note": "Documents seen."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "proposed");
    assert_eq!(r.body["approvals"].as_array().unwrap().len(), 1);
    let child = w
        .caseworker
        .get(&format!("/children/{}", w.child_a))
        .await
        .body;
    assert_eq!(child["status"], "in_care");
    assert!(child["current_facility_id"].is_string());
    // The same approver twice is not two approvals.
    let r = sup1
        .post(&format!("/releases/{id}/approve"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The second, different approver releases: placement ended, status released.
    let r = sup2
        .post(&format!("/releases/{id}/approve"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "released");
    let child = w
        .caseworker
        .get(&format!("/children/{}", w.child_a))
        .await
        .body;
    assert_eq!(child["status"], "released");
    assert!(child["current_facility_id"].is_null(), "{child}");
    let placements = w
        .caseworker
        .get(&format!("/placements?child={}", w.child_a))
        .await
        .body;
    assert!(
        placements["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["to"].is_string()),
        "{placements}"
    );
    // Decided is decided.
    let r = sup1
        .post(&format!("/releases/{id}/refuse"), json!({"reason": "late"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Every step is in the child's and the release's history and the audit chain.
    let history = w
        .caseworker
        .get(&format!("/releases/{id}/history"))
        .await
        .body;
    assert_eq!(history["items"].as_array().unwrap().len(), 3, "{history}");
    let audit = inv.get(&format!("/audit?record={id}")).await;
    assert!(
        audit.body.to_string().contains("second approval"),
        "{}",
        audit.body
    );
    assert!(server.cli(&["audit", "verify"], None).1.contains("intact"));
}
on_both!(two_approvals, two_approvals_release);

async fn barred_adults_are_refused(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Barred Agency", "br").await;
    let sup1 = server.user("brsup1", "supervisor", "Barred Agency", &[]);
    let sup2 = server.user("brsup2", "supervisor", "Barred Agency", &[]);
    let inv = server.user("brinv", "investigator", "Barred Agency", &[]);
    // A restricted father.
    let father = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Zalman", "family": "Restringido"}], "sex": "male"}),
        )
        .await;
    w.caseworker
        .create("/restrictions", json!({"person_id": father["id"], "children": [w.child_a],
            "authority": {"kind": "court_order", "issuing_authority": "Juzgado (prueba)", "reference": "JN-R-9", "date": "2026-01-12"},
            "barred": ["contact"]}))
        .await;
    let r = w
        .caseworker
        .post("/releases", proposal(&w.child_a, &father))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("refused"));
    // The same man registered again under another spelling is refused too.
    let again = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Salman", "family": "Restringuido"}], "sex": "male"}),
        )
        .await;
    let r = w
        .caseworker
        .post("/releases", proposal(&w.child_a, &again))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // An alleged perpetrator against this child.
    let uncle = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Mendel", "family": "Acusadoprueba"}], "sex": "male"}),
        )
        .await;
    inv.create("/allegations", json!({"kind": "physical_abuse", "victims": [w.child_b], "perpetrators": [uncle["id"]],
        "reported_by": "Fiscalía (prueba)", "reported_at": "2026-11-21T10:00:00Z", "summary": "Golpes."}))
        .await;
    let r = w
        .caseworker
        .post("/releases", proposal(&w.child_b, &uncle))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("allegation "),
        "the proposer learns no investigation detail: {detail}"
    );
    // An allegation recorded after the proposal stops it at approval.
    let aunt = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Golda", "family": "Tardeprueba"}], "sex": "female"}),
        )
        .await;
    let rel = w
        .caseworker
        .create("/releases", proposal(&w.child_b, &aunt))
        .await;
    let id = rel["id"].as_str().unwrap();
    sup1.post(&format!("/releases/{id}/approve"), json!({}))
        .await;
    inv.create("/allegations", json!({"kind": "neglect", "victims": [w.child_b], "perpetrators": [aunt["id"]],
        "reported_by": "Fiscalía (prueba)", "reported_at": "2026-11-22T10:00:00Z", "summary": "Abandono."}))
        .await;
    let r = sup2
        .post(&format!("/releases/{id}/approve"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let rel = inv.get(&format!("/releases/{id}")).await.body;
    assert_eq!(rel["status"], "refused");
    assert!(
        rel["checks"]
            .as_str()
            .unwrap()
            .contains("alleged perpetrator"),
        "{rel}"
    );
    for child in [&w.child_a, &w.child_b] {
        let c = w.caseworker.get(&format!("/children/{child}")).await.body;
        assert_eq!(c["status"], "in_care", "nobody was released");
    }
    // Refusing with a reason.
    let niece = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Raquel", "family": "Sobrinaprueba"}], "sex": "female"}),
        )
        .await;
    let rel = w
        .caseworker
        .create("/releases", proposal(&w.child_a, &niece))
        .await;
    let id = rel["id"].as_str().unwrap();
    let r = sup1
        .post(&format!("/releases/{id}/refuse"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = sup1
        .post(
            &format!("/releases/{id}/refuse"),
            json!({"reason": "Not verified."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "refused");
}
on_both!(barred, barred_adults_are_refused);

fn tracing(sought: Value, requester: Value) -> Value {
    json!({"sought_names": sought, "sought_sex": "male", "sought_birth": {"precision": "year", "year": 2014},
           "last_seen_place": "Comunidad del norte (prueba)", "parents": ["Perla Madreprueba"],
           "requester_name": requester, "relationship_claimed": "mother", "contact": "+1 555 0100 (test)",
           "requester_country": "CA", "consent_to_share": true})
}

async fn tracing_requests_match_and_alert(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Tracing Agency", "tr").await;
    let inv = server.user("trinv", "investigator", "Tracing Agency", &[]);
    let mut ids = Vec::new();
    for (given, family, sex, year) in [
        ("Jacobo", "Vaingarten", "male", 2014),
        ("Rivka", "Vaingarten", "female", 2015),
        ("Moisés", "Fridman", "male", 2014),
        ("Shloime", "Weiss", "male", 2013),
    ] {
        let c = w
            .caseworker
            .create(
                "/children",
                json!({"operation_id": w.operation, "names": [{"given": given, "family": family}],
                "sex": sex, "birth": {"precision": "year", "year": year}}),
            )
            .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    // The mother in Canada spells him the Yiddish way, and in Hebrew script.
    let req = w
        .caseworker
        .create("/tracing-requests", tracing(
            json!([{"given": "Yankel", "family": "Weingarten"}, {"given": "יעקב", "family": "ווינגארטן"}]),
            json!({"given": "Perla", "family": "Madreprueba"})))
        .await;
    assert_eq!(req["status"], "open");
    let id = req["id"].as_str().unwrap();
    let c = w
        .caseworker
        .get(&format!("/tracing-requests/{id}/candidates"))
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    let items = c.body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{}", c.body);
    assert_eq!(items[0]["child"]["id"], ids[0].as_str(), "{}", c.body);
    assert!(
        items[0]["probability"].as_f64().unwrap() > 0.5,
        "{}",
        items[0]
    );
    assert_eq!(items[0]["explanation"].as_array().unwrap().len(), 4);
    assert!(!items.iter().any(|i| i["child"]["id"] == ids[1].as_str()
        && i["probability"].as_f64().unwrap() > items[0]["probability"].as_f64().unwrap()));
    // Confirm the first, reject another: both records keep the decision.
    let r = w
        .caseworker
        .post(
            &format!("/tracing-requests/{id}/decisions"),
            json!({"child_id": ids[0], "decision": "confirmed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "matched");
    let child = w
        .caseworker
        .get(&format!("/children/{}", ids[0]))
        .await
        .body;
    assert_eq!(child["tracing_requests"], json!([id]));
    let h = w
        .caseworker
        .get(&format!("/children/{}/history", ids[0]))
        .await
        .body;
    assert_eq!(h["items"].as_array().unwrap().len(), 2, "{h}");
    let r = w
        .caseworker
        .post(
            &format!("/tracing-requests/{id}/decisions"),
            json!({"child_id": ids[3], "decision": "rejected"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = w
        .caseworker
        .get(&format!("/tracing-requests/{id}/candidates"))
        .await
        .body;
    assert_eq!(c["items"][0]["decision"]["decision"], "confirmed", "{c}");
    // The status is the server's: a client cannot set it.
    let mut forged = tracing(
        json!([{"given": "Yankel", "family": "Weingarten"}]),
        json!({"given": "Ana", "family": "Prueba"}),
    );
    forged["status"] = json!("matched");
    assert_eq!(
        w.caseworker.post("/tracing-requests", forged).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A restricted father asks (under another spelling): an alert, no candidates.
    let father = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Zalman", "family": "Restringido"}], "sex": "male"}),
        )
        .await;
    w.caseworker
        .create("/restrictions", json!({"person_id": father["id"], "children": [ids[0]],
            "authority": {"kind": "court_order", "issuing_authority": "Juzgado (prueba)", "reference": "JN-T-1", "date": "2026-01-12"},
            "barred": ["contact", "location_information"]}))
        .await;
    let req = w
        .caseworker
        .create(
            "/tracing-requests",
            tracing(
                json!([{"given": "Yankel", "family": "Weingarten"}]),
                json!({"given": "Salman", "family": "Restringuido"}),
            ),
        )
        .await;
    assert_eq!(req["status"], "alert", "{req}");
    assert!(req["alert"].as_str().unwrap().contains("restriction"));
    let aid = req["id"].as_str().unwrap();
    let c = w
        .caseworker
        .get(&format!("/tracing-requests/{aid}/candidates"))
        .await
        .body;
    assert_eq!(c["items"], json!([]), "{c}");
    assert!(!c.to_string().contains("Vaingarten"));
    let r = w
        .caseworker
        .post(
            &format!("/tracing-requests/{aid}/decisions"),
            json!({"child_id": ids[0], "decision": "confirmed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // An alleged perpetrator named as the contact: an alert too.
    let uncle = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Mendel", "family": "Acusadoprueba"}], "sex": "male"}),
        )
        .await;
    inv.create("/allegations", json!({"kind": "physical_abuse", "victims": [ids[1]], "perpetrators": [uncle["id"]],
        "reported_by": "Fiscalía (prueba)", "reported_at": "2026-11-21T10:00:00Z", "summary": "Golpes."}))
        .await;
    let mut via_contact = tracing(
        json!([{"given": "Rivke", "family": "Weingarten"}]),
        json!({"given": "Ana", "family": "Vecinaprueba"}),
    );
    via_contact["contact_name"] = json!({"given": "Mendl", "family": "Acusadoprueba"});
    let req = w.caseworker.create("/tracing-requests", via_contact).await;
    assert_eq!(req["status"], "alert", "{req}");
    // PFIF 1.4 export: who is sought, in every spelling; no match, no alert request.
    let r = w
        .caseworker
        .client
        .get(format!(
            "{}/api/v1/tracing-requests/pfif",
            w.caseworker.base
        ))
        .bearer_auth(w.caseworker.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains("xmlns:pfif=\"http://zesty.ca/pfif/1.4\""),
        "{xml}"
    );
    assert!(
        xml.contains("<pfif:full_name>Yankel Weingarten</pfif:full_name>"),
        "{xml}"
    );
    assert!(xml.contains("יעקב"), "{xml}");
    assert!(
        !xml.contains("Vaingarten") && !xml.contains("matched"),
        "no match leaves in PFIF: {xml}"
    );
    assert!(
        !xml.contains("Salman"),
        "a request in alert is not exported: {xml}"
    );
    assert!(server.cli(&["audit", "verify"], None).1.contains("intact"));
}
on_both!(tracing_requests, tracing_requests_match_and_alert);

fn keys_of(server: &Server) -> (String, String) {
    let (code, out) = server.cli(&["partner", "key"], None);
    assert_eq!(code, 0, "{out}");
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap()
            .trim()
            .to_string()
    };
    (get("signing-key "), get("age-recipient "))
}

async fn package(api: &Api, path: &str) -> (StatusCode, Vec<u8>) {
    let r = api
        .client
        .post(format!("{}/api/v1{path}", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

async fn send_package(api: &Api, bytes: Vec<u8>) -> reqwest::Response {
    api.client
        .post(format!("{}/api/v1/referrals/import", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Two servers, two databases, two sets of keys: Canada asks, Guatemala finds the
/// child under another spelling and answers; a changed package is refused.
async fn two_agencies_exchange(db: Db) {
    let Some(gt) = Server::start(db).await else {
        return;
    };
    let Some(ca) = Server::start(db).await else {
        return;
    };
    let w = world(&gt, "Agencia Guatemala", "gt").await;
    let son = w
        .caseworker
        .create("/children", json!({"operation_id": w.operation, "names": [{"given": "Jacobo", "family": "Vaingarten"}],
            "sex": "male", "birth": {"precision": "year", "year": 2014}}))
        .await;
    let ca_cw = ca.user("cacw", "caseworker", "Agence Canada", &[]);
    // Each registers the other with the keys it printed.
    let (gt_sign, gt_age) = keys_of(&gt);
    let (ca_sign, ca_age) = keys_of(&ca);
    let (code, out) = gt.cli(
        &[
            "partner",
            "add",
            "--agency",
            "Agencia Guatemala",
            "--name",
            "Agence Canada",
            "--country",
            "CA",
            "--signing-key",
            &ca_sign,
            "--age-recipient",
            &ca_age,
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let ca_at_gt = out.lines().next().unwrap().trim().to_string();
    let (code, out) = ca.cli(
        &[
            "partner",
            "add",
            "--agency",
            "Agence Canada",
            "--name",
            "Agencia Guatemala",
            "--country",
            "GT",
            "--signing-key",
            &gt_sign,
            "--age-recipient",
            &gt_age,
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let gt_at_ca = out.lines().next().unwrap().trim().to_string();

    // Canada: the mother's request, sent as a package.
    let req = ca_cw
        .create(
            "/tracing-requests",
            tracing(
                json!([{"given": "Yankel", "family": "Weingarten"}]),
                json!({"given": "Perla", "family": "Madreprueba"}),
            ),
        )
        .await;
    let ca_req = req["id"].as_str().unwrap().to_string();
    let (status, pkg) = package(
        &ca_cw,
        &format!("/tracing-requests/{ca_req}/referral?partner={gt_at_ca}"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{} (partner id '{gt_at_ca}')",
        String::from_utf8_lossy(&pkg)
    );
    assert!(
        !String::from_utf8_lossy(&pkg).contains("Weingarten"),
        "the package is encrypted"
    );

    // A package changed on the way is refused, with a message, and nothing is created.
    let mut bad = pkg.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x40;
    let r = send_package(&w.caseworker, bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("changed or damaged"),
        "{body}"
    );
    // A package from an agency that is not a partner is refused too.
    let stranger = Server::start(db).await.unwrap();
    let st_cw = stranger.user("stcw", "caseworker", "Unknown agency", &[]);
    let (code, out) = stranger.cli(
        &[
            "partner",
            "add",
            "--agency",
            "Unknown agency",
            "--name",
            "GT",
            "--country",
            "GT",
            "--signing-key",
            &gt_sign,
            "--age-recipient",
            &gt_age,
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let st_req = st_cw
        .create(
            "/tracing-requests",
            tracing(
                json!([{"given": "Yankel", "family": "Weingarten"}]),
                json!({"given": "X", "family": "Y"}),
            ),
        )
        .await;
    let (_, forged) = package(
        &st_cw,
        &format!(
            "/tracing-requests/{}/referral?partner={}",
            st_req["id"].as_str().unwrap(),
            out.lines().next().unwrap().trim()
        ),
    )
    .await;
    let r = send_package(&w.caseworker, forged).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not registered as a partner"),
        "{body}"
    );
    assert_eq!(w.caseworker.get("/tracing-requests").await.body["total"], 0);

    // Guatemala imports the real one, finds the child, confirms, answers.
    let r = send_package(&w.caseworker, pkg).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    let gt_req = body["id"].as_str().unwrap().to_string();
    let imported = w
        .caseworker
        .get(&format!("/tracing-requests/{gt_req}"))
        .await
        .body;
    assert_eq!(imported["referral_from"], "Agence Canada");
    assert_eq!(imported["referral_reference"], ca_req.as_str());
    let c = w
        .caseworker
        .get(&format!("/tracing-requests/{gt_req}/candidates"))
        .await
        .body;
    assert_eq!(c["items"][0]["child"]["id"], son["id"], "{c}");
    let r = w
        .caseworker
        .post(
            &format!("/tracing-requests/{gt_req}/decisions"),
            json!({"child_id": son["id"], "decision": "confirmed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The answer travels as a file: exported and imported with the CLI.
    let _ = ca_at_gt;
    let file = temp_dir("referral").join("answer.amparo");
    let (code, out) = gt.cli(
        &[
            "referral",
            "export",
            "--as",
            "gtcw",
            "--partner",
            "Agence Canada",
            "--child",
            son["id"].as_str().unwrap(),
            "--sections",
            "identity,status",
            "--in-reply-to",
            &ca_req,
            "--output",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = ca.cli(
        &["referral", "import", "--as", "cacw", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reply"), "{out}");
    let back = ca_cw.get(&format!("/tracing-requests/{ca_req}")).await.body;
    let reply = &back["replies"][0];
    assert_eq!(reply["from"], "Agencia Guatemala");
    assert_eq!(reply["shared"]["child"]["names"][0]["given"], "Jacobo");
    assert!(
        reply["shared"]["child"]
            .get("current_facility_id")
            .is_none(),
        "never a location: {reply}"
    );
    assert!(
        !back.to_string().contains(&w.facility_a),
        "no facility id travels"
    );
    for s in [&gt, &ca] {
        assert!(s.cli(&["audit", "verify"], None).1.contains("intact"));
    }
}
on_both!(two_agencies, two_agencies_exchange);
