//! The foundation's promises, on SQLite and on PostgreSQL, through real HTTP to
//! the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn stale_update_is_refused(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "s").await;
    let path = format!("/children/{}", w.child_a);
    let first = w.caseworker.get(&path).await;
    let etag = first.etag.clone().unwrap();
    let ok = w
        .caseworker
        .patch(&path, &etag, json!({"languages": ["es", "yi"]}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    // A second edit made on the old version is refused, whatever its body.
    for body in [
        json!({"languages": ["en"]}),
        json!({"birth": {"precision": "year", "year": 2031}}),
        json!({"languages": ["es", "yi"]}),
    ] {
        let stale = w.caseworker.patch(&path, &etag, body).await;
        assert_eq!(
            stale.status,
            StatusCode::PRECONDITION_FAILED,
            "{}",
            stale.body
        );
        assert!(stale.content_type.starts_with("application/problem+json"));
    }
    let after = w.caseworker.get(&path).await;
    assert_eq!(after.body["languages"], json!(["es", "yi"]));
    assert_eq!(after.body["version"], json!(ok.body["version"]));
    // Without If-Match the change is not attempted.
    let missing = w
        .caseworker
        .raw(Method::PATCH, &path, Some(b"{}".to_vec()), &[])
        .await;
    assert_eq!(missing.status.as_u16(), 428);
}
on_both!(stale_update, stale_update_is_refused);

async fn history_keeps_every_version(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "h").await;
    let path = format!("/children/{}", w.child_a);
    let mut etag = w.caseworker.get(&path).await.etag.unwrap();
    for (i, lang) in ["en", "yi", "he"].iter().enumerate() {
        let r = w
            .caseworker
            .patch(&path, &etag, json!({"languages": [lang]}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "edit {i}: {}", r.body);
        etag = r.etag.unwrap();
    }
    let h = w.caseworker.get(&format!("{path}/history")).await;
    assert_eq!(h.status, StatusCode::OK);
    let items = h.body["items"].as_array().unwrap();
    // created, placed in care (status change), then three edits
    assert_eq!(items.len(), 5, "{}", h.body);
    let versions: Vec<i64> = items
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5]);
    assert_eq!(items[4]["data"]["languages"], json!(["he"]));
    assert_eq!(items[2]["data"]["languages"], json!(["en"]));
    assert!(items
        .iter()
        .all(|i| i["changed_by"] == "hcw" || i["changed_by"].is_string()));
    assert_eq!(items[4]["changed_by"], "hcw");
    // Search finds the child by another spelling of the name, or in Hebrew script;
    // the last word may be the start of a name.
    for q in [
        "Yaakov Testman",
        "Jakob",
        "יעקב",
        "GT-2026",
        "Jac",
        "Yaakov Testm",
        "Testman Jakob",
    ] {
        let found = w.caseworker.post("/children/search", json!({"q": q})).await;
        let ids: Vec<&str> = found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&w.child_a.as_str()), "{q}: {}", found.body);
    }
    let other = w
        .caseworker
        .post("/children/search", json!({"q": "Moshe"}))
        .await;
    assert_eq!(other.body["total"], 0, "{}", other.body);
    // The child's audit trail shows the changes and the reads.
    let inv = server.user("hinv", "investigator", "Agency One", &[]);
    let audit = inv.get(&format!("/audit?record={}", w.child_a)).await;
    assert_eq!(audit.status, StatusCode::OK);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"create") && actions.contains(&"update") && actions.contains(&"read")
    );
}
on_both!(history, history_keeps_every_version);

async fn shelter_staff_sees_only_their_facility(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "f").await;
    // Restricted notes are written by an investigator-level process; here the
    // caseworker may not even write them.
    let path_a = format!("/children/{}", w.child_a);
    let etag = w.caseworker.get(&path_a).await.etag.unwrap();
    let refused = w
        .caseworker
        .patch(&path_a, &etag, json!({"protection_notes": "x"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let staff = server.user("fstaff", "shelter_staff", "Agency One", &[&w.facility_a]);
    let mine = staff.get(&path_a).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(mine.body.get("names").is_some());
    assert!(mine.body.get("protection_notes").is_none());
    let other = staff.get(&format!("/children/{}", w.child_b)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let unknown = staff
        .get(&format!("/children/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.body["detail"], unknown.body["detail"],
        "404s must not differ"
    );
    let list = staff.get("/children").await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], json!(w.child_a));
    let search = staff.post("/children/search", json!({"q": "rivka"})).await;
    assert_eq!(search.body["total"], 0);
    // A child they may not see is named "Testm": the start of the name of the child
    // they see. Whether "testm" is read as a whole name (and no longer finds
    // "Testman") is decided among the children they see, so their search cannot
    // tell that the hidden child exists.
    w.caseworker
        .create(
            "/children",
            json!({"operation_id": w.operation, "names": [{"given": "Ana", "family": "Testm"}]}),
        )
        .await;
    let start = staff.post("/children/search", json!({"q": "testm"})).await;
    assert_eq!(start.body["total"], 1, "{}", start.body);
    assert_eq!(start.body["items"][0]["id"], json!(w.child_a));
    assert_eq!(
        staff
            .get(&format!("/children/{}/history", w.child_b))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Family data is beyond their view.
    assert_eq!(staff.get("/persons").await.body["total"], 0);
    // And they may not change a child.
    let etag = mine.etag.unwrap();
    let edit = staff
        .patch(&path_a, &etag, json!({"languages": ["en"]}))
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    // A shelter_staff user without facilities sees no child at all.
    let none = server.user("fnone", "shelter_staff", "Agency One", &[]);
    assert_eq!(none.get("/children").await.body["total"], 0);
    assert_eq!(none.get(&path_a).await.status, StatusCode::NOT_FOUND);
    // Another agency's caseworker does not see the child either.
    let outsider = server.user("fout", "caseworker", "Agency Two", &[]);
    assert_eq!(outsider.get(&path_a).await.status, StatusCode::NOT_FOUND);
    assert_eq!(outsider.get("/children").await.body["total"], 0);
}
on_both!(shelter_scope, shelter_staff_sees_only_their_facility);

async fn partner_sees_no_names(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "p").await;
    let partner = server.user("ppartner", "partner", "Agency One", &[]);
    let child = partner.get(&format!("/children/{}", w.child_a)).await;
    assert_eq!(child.status, StatusCode::OK);
    for hidden in [
        "names",
        "birth",
        "wristband",
        "current_facility_id",
        "protection_notes",
        "languages",
    ] {
        assert!(
            child.body.get(hidden).is_none(),
            "partner saw {hidden}: {}",
            child.body
        );
    }
    assert!(child.body.get("case_number").is_some());
    let list = partner.get("/children").await;
    let text = list.body.to_string();
    assert!(
        !text.contains("Testman") && !text.contains("Jacobo"),
        "{text}"
    );
    assert_eq!(
        partner
            .post("/children/search", json!({"q": "jacobo"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Names never go in URLs.
    assert_eq!(
        partner.get("/children?q=jacobo").await.status,
        StatusCode::BAD_REQUEST
    );
    let facility = partner.get(&format!("/facilities/{}", w.facility_a)).await;
    assert!(facility.body.get("address").is_none());
    assert_eq!(partner.get("/placements").await.body["total"], 0);
    let history = partner
        .get(&format!("/children/{}/history", w.child_a))
        .await;
    assert!(!history.body.to_string().contains("Testman"));
}
on_both!(partner_view, partner_sees_no_names);

async fn tampered_audit_is_caught(db: Db) {
    let Some(mut server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "t").await;
    let _ = w.caseworker.get(&format!("/children/{}", w.child_a)).await;
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("entries checked"), "{out}");
    server.kill();
    let url = server
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", server.data_dir.join("amparo.db").display()));
    sqlx::any::install_default_drivers();
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit SET summary = 'nothing happened' WHERE seq = 5")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 5"), "{out}");
    // Deleting the last entries is caught too.
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE audit SET summary = (SELECT summary FROM audit WHERE seq = 4) WHERE seq = 5",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit WHERE seq > 3")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 4"), "{out}");
}
on_both!(tampered_audit, tampered_audit_is_caught);

async fn concurrent_updates_keep_exactly_the_acknowledged(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "c").await;
    let path = format!("/children/{}", w.child_a);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let api = w.caseworker.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            // Each writer reads, then writes what it read, like a person would.
            let current = api.get(&path).await;
            let etag = current.etag.unwrap();
            let r = api
                .patch(&path, &etag, json!({"wristband": format!("w{i}")}))
                .await;
            (i, r.status, r.body)
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => {
                acknowledged.push((body["version"].as_i64().unwrap(), format!("w{i}")))
            }
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!acknowledged.is_empty());
    acknowledged.sort();
    let history = w.caseworker.get(&format!("{path}/history")).await;
    let items = history.body["items"].as_array().unwrap();
    let edits: Vec<(i64, String)> = items
        .iter()
        .filter(|v| v["version"].as_i64().unwrap() > 2)
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["data"]["wristband"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        edits, acknowledged,
        "history must hold exactly the acknowledged writes"
    );
    let last = w.caseworker.get(&path).await;
    assert_eq!(
        last.body["wristband"],
        json!(acknowledged.last().unwrap().1)
    );
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
}
on_both!(
    concurrent_updates,
    concurrent_updates_keep_exactly_the_acknowledged
);

async fn brute_force_gets_429(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let _ = server.user("victim", "caseworker", "Agency One", &[]);
    let api = Api::cookies(&server.base);
    let mut statuses = Vec::new();
    for i in 0..7 {
        let r = api
            .post(
                "/session",
                json!({"username": "victim", "password": format!("guess-{i}")}),
            )
            .await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[5], 429, "{statuses:?}");
    // Even the right password waits now.
    let r = api
        .post(
            "/session",
            json!({"username": "victim", "password": password_of("victim")}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 429);
    assert!(r.headers.get("retry-after").is_some());
    // An unknown user gets the same answer as a wrong password.
    let a = api
        .post(
            "/session",
            json!({"username": "nobody", "password": "whatever-123"}),
        )
        .await;
    let b_user = server.user("other", "caseworker", "Agency One", &[]);
    drop(b_user);
    let b = api
        .post(
            "/session",
            json!({"username": "other", "password": "whatever-123"}),
        )
        .await;
    assert_eq!(a.status, b.status);
    assert_eq!(a.body, b.body);
    // Failed logins are in the audit chain.
    let (code, _) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0);
}
on_both!(brute_force, brute_force_gets_429);

async fn bad_input_gets_problem_json(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "b").await;
    let api = &w.caseworker;
    let cases: Vec<(Method, String, Vec<u8>, u16, &str)> = vec![
        (Method::POST, "/children".into(), b"{not json".to_vec(), 400, "not valid JSON"),
        (Method::POST, "/children".into(), b"".to_vec(), 400, "empty"),
        (Method::POST, "/children".into(), b"[1,2]".to_vec(), 422, "JSON object"),
        (Method::POST, "/children".into(),
            json!({"operation_id": w.operation, "names": [{"given": "A"}], "birth": {"precision": "year", "year": 2031}}).to_string().into_bytes(),
            422, "birth.year 2031 is in the future"),
        (Method::POST, "/children".into(),
            json!({"operation_id": w.operation, "names": [{"given": "A"}], "sex": "robot"}).to_string().into_bytes(),
            422, "sex"),
        (Method::POST, "/children".into(),
            json!({"operation_id": "not-a-uuid", "names": [{"given": "A"}]}).to_string().into_bytes(),
            422, "operation_id"),
        (Method::POST, "/children".into(),
            json!({"operation_id": uuid::Uuid::now_v7(), "names": [{"given": "A"}]}).to_string().into_bytes(),
            422, "operation_id"),
        (Method::POST, "/children".into(),
            json!({"operation_id": w.operation, "names": [{"given": "A"}], "wristband": "1"}).to_string().into_bytes(),
            409, "wristband 1 is already used"),
        (Method::POST, "/operations".into(),
            json!({"name": "x", "country": "XX", "start_date": "2026-01-01", "lead_agency": "a"}).to_string().into_bytes(),
            422, "country"),
        (Method::POST, "/operations".into(),
            json!({"name": "x", "country": "GT", "start_date": "2026-02-30", "lead_agency": "a"}).to_string().into_bytes(),
            422, "start_date"),
        (Method::POST, "/relationships".into(),
            json!({"from": w.child_a, "to": w.child_a, "kind": "sibling"}).to_string().into_bytes(),
            422, "same as from"),
        (Method::POST, "/children".into(), vec![b'['; 100_000], 400, "JSON"),
        (Method::GET, "/children?limit=abc".into(), vec![], 400, "limit"),
        (Method::GET, "/children?status=lost".into(), vec![], 400, "status"),
        (Method::GET, "/children?operation=zzz".into(), vec![], 400, "operation"),
        (Method::GET, "/children/not-an-id".into(), vec![], 404, "No record"),
        (Method::GET, "/nothing-here".into(), vec![], 404, "nothing"),
        (Method::DELETE, "/children".into(), vec![], 405, "method"),
    ];
    for (method, path, body, status, needle) in cases {
        let body = if body.is_empty() && method == Method::GET {
            None
        } else {
            Some(body)
        };
        let r = api.raw(method.clone(), &path, body, &[]).await;
        assert_eq!(r.status.as_u16(), status, "{method} {path}: {}", r.body);
        assert!(
            r.content_type.starts_with("application/problem+json"),
            "{method} {path}: {}",
            r.content_type
        );
        let detail = r.body["detail"].as_str().unwrap_or("");
        assert!(
            detail.to_lowercase().contains(&needle.to_lowercase()),
            "{method} {path}: {detail}"
        );
    }
    // An oversized body is refused (on its own connection: the server closes it).
    let fresh = Api::bearer(&api.base, api.token.as_deref().unwrap());
    let r = fresh
        .raw(
            Method::POST,
            "/children",
            Some(vec![b' '; 2 * 1024 * 1024]),
            &[],
        )
        .await;
    assert_eq!(r.status.as_u16(), 413);
    assert!(r.body["detail"].as_str().unwrap().contains("larger"));
    // Field errors name the field.
    let r = api
        .post(
            "/children",
            json!({"operation_id": w.operation, "names": [{"kind": "legal"}]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert_eq!(r.body["errors"][0]["field"], "names[0]");
    // Nothing half-written: still exactly two children.
    assert_eq!(api.get("/children").await.body["total"], 2);
}
on_both!(bad_input, bad_input_gets_problem_json);

async fn spouse_minor_raises_child_marriage(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency One", "m").await;
    let adult = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Mendel", "family": "Adultman"}], "sex": "male",
                   "birth": {"precision": "exact", "date": "1990-03-01"}, "country_of_residence": "US"}),
        )
        .await;
    w.caseworker
        .create(
            "/relationships",
            json!({"from": adult["id"], "to": w.child_b, "kind": "spouse", "source": "intake"}),
        )
        .await;
    let flags = w
        .caseworker
        .get(&format!("/risk-flags?child={}", w.child_b))
        .await;
    assert_eq!(flags.body["total"], 1, "{}", flags.body);
    assert_eq!(flags.body["items"][0]["kind"], "child_marriage");
    assert_eq!(flags.body["items"][0]["automatic"], true);
    // Not for a father, nor between adults.
    let other = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Golda"}], "birth": {"precision": "year", "year": 1992}}),
        )
        .await;
    w.caseworker
        .create(
            "/relationships",
            json!({"from": adult["id"], "to": other["id"], "kind": "spouse"}),
        )
        .await;
    w.caseworker
        .create(
            "/relationships",
            json!({"from": adult["id"], "to": w.child_a, "kind": "father"}),
        )
        .await;
    assert_eq!(w.caseworker.get("/risk-flags").await.body["total"], 1);
}
on_both!(child_marriage, spouse_minor_raises_child_marriage);

async fn sessions_csrf_and_disabled_accounts(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    // The first admin must change the one-time password before anything else.
    let admin = server.session("admin", &server.admin_password).await;
    let r = admin.get("/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("Change your password"));
    let r = admin
        .post(
            "/session/password",
            json!({"current_password": server.admin_password, "new_password": "short"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    let r = admin
        .post(
            "/session/password",
            json!({"current_password": server.admin_password, "new_password": "a much longer passphrase"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(admin.get("/users").await.status, StatusCode::OK);
    // Admins manage users but see no case data.
    let created = admin
        .post(
            "/users",
            json!({"username": "newcw", "roles": ["caseworker"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let user_id = created.body["user"]["id"].as_str().unwrap().to_string();
    let otp = created.body["one_time_password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(admin.get("/children").await.status, StatusCode::FORBIDDEN);
    // A cookie session without the CSRF header cannot change anything.
    let cw = server.session("newcw", &otp).await;
    let no_csrf = Api {
        csrf: None,
        ..cw.clone()
    };
    let r = no_csrf
        .post(
            "/session/password",
            json!({"current_password": otp, "new_password": "another long passphrase"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"].as_str().unwrap().contains("CSRF"));
    let r = cw
        .post(
            "/session/password",
            json!({"current_password": otp, "new_password": "another long passphrase"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(cw.get("/children").await.status, StatusCode::OK);
    let (code, token) = server.cli(&["token", "create", "--username", "newcw"], None);
    assert_eq!(code, 0);
    let bearer = Api::bearer(&server.base, token.lines().next().unwrap().trim());
    assert_eq!(bearer.get("/children").await.status, StatusCode::OK);
    // Disabling ends the session and the token at once.
    let r = admin
        .post(&format!("/users/{user_id}/disable"), json!({}))
        .await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(cw.get("/children").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer.get("/children").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Cookies are HttpOnly and SameSite=Strict; a tampered cookie is refused.
    let login = Api::cookies(&server.base)
        .post(
            "/session",
            json!({"username": "admin", "password": "a much longer passphrase"}),
        )
        .await;
    let cookie = login
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let forged = Api::cookies(&server.base)
        .raw(
            Method::GET,
            "/session",
            None,
            &[("cookie", "amparo_session=deadbeef")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    // A page form posted without its CSRF field changes nothing: the search form of
    // the web interface, with a valid session cookie, refused with 403.
    let r = admin
        .client
        .post(format!("{}/children/search", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("q=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Logging out ends the session.
    let r = admin.send(Method::DELETE, "/session", None).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(admin.get("/users").await.status, StatusCode::UNAUTHORIZED);
    // Sessions expire after 30 idle minutes and 8 hours in all, whatever the cookie says.
    let url = server
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", server.data_dir.join("amparo.db").display()));
    sqlx::any::install_default_drivers();
    use sqlx::Connection;
    for (column, age) in [("last_seen_unix", 31 * 60), ("created_unix", 8 * 3600 + 60)] {
        let late = server.session("admin", "a much longer passphrase").await;
        assert_eq!(late.get("/users").await.status, StatusCode::OK);
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("UPDATE sessions SET {column} = {column} - {age}"))
            .execute(&mut conn)
            .await
            .unwrap();
        drop(conn);
        let r = late.get("/users").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{column}");
        assert!(
            r.body["detail"].as_str().unwrap().contains("expired"),
            "{}",
            r.body
        );
    }
}
on_both!(sessions, sessions_csrf_and_disabled_accounts);

/// Every route the OpenAPI document names is served, and every response carries
/// the security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_matches_the_router() {
    let server = Server::start(Db::Sqlite).await.unwrap();
    let api = server.user("oa", "caseworker", "Agency One", &[]);
    let doc = api.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{}", paths.len());
    for collection in [
        "operations",
        "children",
        "persons",
        "relationships",
        "households",
        "facilities",
        "placements",
    ] {
        assert!(
            paths.contains_key(&format!("/api/v1/{collection}")),
            "{collection}"
        );
        assert!(paths.contains_key(&format!("/api/v1/{collection}/{{id}}/history")));
    }
    // The action routes are documented too, not only the record collections.
    for (path, method) in [
        ("/api/v1/intake", "post"),
        ("/api/v1/children/{id}/photo", "put"),
        ("/api/v1/roll-calls", "post"),
        ("/api/v1/roll-calls/{id}/marks", "post"),
        ("/api/v1/roll-calls/{id}/events", "get"),
        ("/api/v1/roll-calls/{id}/close", "post"),
        ("/api/v1/alerts/{id}/found", "post"),
        ("/api/v1/visits", "post"),
        ("/api/v1/transfers", "post"),
        ("/api/v1/incidents/{id}/respond", "post"),
        ("/api/v1/evidence", "post"),
        ("/api/v1/evidence/{id}/file", "get"),
        ("/api/v1/allegations/{id}/bundle", "get"),
        ("/api/v1/tasks/mine", "get"),
        ("/api/v1/duplicates", "get"),
        ("/api/v1/duplicates/merge", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    let id = uuid::Uuid::now_v7().to_string();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let p = path.trim_start_matches("/api/v1").replace("{id}", &id);
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = api
                .raw(
                    m.clone(),
                    &p,
                    Some(b"{}".to_vec()),
                    &[("If-Match", "\"1\"")],
                )
                .await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if r.status == StatusCode::NOT_FOUND {
                assert!(
                    r.body["detail"].as_str().unwrap().contains("No record"),
                    "{method} {path} is not routed"
                );
            }
            assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.body);
            assert_eq!(r.headers.get("x-frame-options").unwrap(), "DENY");
            assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
        }
    }
    let _: Value = doc.body;
}

/// Roles that read restricted data sign in with a second factor (TOTP): without one
/// a session can do nothing but enrol; once enrolled, no code, no session.
async fn second_factor_for_restricted_roles(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let token_api = server.user("fiscal2", "investigator", "Agency Two", &[]);
    // API tokens are issued at the console by the operator: not held back.
    assert_eq!(token_api.get("/children").await.status, StatusCode::OK);
    let code_now = |secret: &str| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        format!("{:06}", amparo_web::totp::code_at(secret, now).unwrap())
    };
    let s = server.session("fiscal2", &password_of("fiscal2")).await;
    let r = s.get("/children").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("second factor"));
    // The web interface sends them to the enrolment page.
    let page = s
        .client
        .get(format!("{}/children", server.base))
        .send()
        .await
        .unwrap();
    assert!(
        page.url().path().ends_with("/second-factor"),
        "{}",
        page.url()
    );
    let offer = s.post("/session/totp", json!({})).await;
    assert_eq!(offer.status, StatusCode::OK, "{}", offer.body);
    let secret = offer.body["secret"].as_str().unwrap().to_string();
    assert!(offer.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let wrong = format!(
        "{:06}",
        (code_now(&secret).parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    let r = s
        .post("/session/totp", json!({"secret": secret, "code": wrong}))
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "code");
    let enrol_code = code_now(&secret);
    let r = s
        .post(
            "/session/totp",
            json!({"secret": secret, "code": enrol_code}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(s.get("/children").await.status, StatusCode::OK);
    assert_eq!(
        s.post("/session/totp", json!({})).await.status,
        StatusCode::CONFLICT
    );
    // From now on the code is part of signing in.
    let base = server.base.clone();
    let login = |body: Value| {
        let base = base.clone();
        async move {
            Api::cookies(&base)
                .send(Method::POST, "/session", Some(body))
                .await
        }
    };
    let pw = password_of("fiscal2");
    let r = login(json!({"username": "fiscal2", "password": pw})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("6-digit code"));
    let r = login(json!({"username": "fiscal2", "password": pw, "totp": wrong})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The code that enrolled the device was used: it does not sign in again.
    let r = login(json!({"username": "fiscal2", "password": pw, "totp": enrol_code})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "replayed: {}", r.body);
    // The next code (the app shows it within 30 s; one step ahead is accepted) does,
    // once.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let next = format!(
        "{:06}",
        amparo_web::totp::code_at(&secret, now + 30).unwrap()
    );
    let r = login(json!({"username": "fiscal2", "password": pw, "totp": next})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = login(json!({"username": "fiscal2", "password": pw, "totp": next})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "replayed: {}", r.body);
    // An older code than the last one used is refused as well.
    let r = login(json!({"username": "fiscal2", "password": pw, "totp": code_now(&secret)})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "older: {}", r.body);
    // A lost phone: the operator removes the factor; the next session must enrol again.
    let (code, out) = server.cli(
        &["user", "second-factor", "--username", "fiscal2", "--remove"],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let again = server.session("fiscal2", &pw).await;
    assert_eq!(again.get("/children").await.status, StatusCode::FORBIDDEN);
    // Roles without restricted data are not asked.
    server.user("cw2", "caseworker", "Agency Two", &[]);
    let cw = server.session("cw2", &password_of("cw2")).await;
    assert_eq!(cw.get("/children").await.status, StatusCode::OK);
}
on_both!(second_factor, second_factor_for_restricted_roles);

async fn keyset_pages_and_capped_search(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency Pages", "pg").await;
    // 1,005 invented children called Maria, each with a family name of her own.
    let family = |i: usize| {
        let a = b"bcdfghjklmnprstvz";
        format!(
            "Lo{}{}{}",
            a[i % 17] as char,
            a[(i / 17) % 17] as char,
            a[(i / 289) % 17] as char
        )
        .to_lowercase()
    };
    let mut csv = String::from("pulsera,nombre,apellidos,sexo,fecha_nacimiento\n");
    for i in 0..1005 {
        csv.push_str(&format!(
            "PG{i},Maria,{},F,{}-{:02}-{:02}\n",
            family(i),
            2008 + i % 16,
            1 + i % 12,
            1 + i % 28
        ));
    }
    let r = w
        .caseworker
        .raw(
            Method::POST,
            &format!("/operations/{}/imports?mode=all_or_nothing", w.operation),
            Some(csv.into_bytes()),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let all = w.caseworker.get("/children?limit=0").await.body;
    assert_eq!(all["total"], 1007, "{all}");
    assert_eq!(all["total_exact"], true);
    // Keyset paging walks every child once, in case-number order, as offsets do.
    let walk = |first: String, body: Option<Value>| {
        let api = &w.caseworker;
        async move {
            let mut ids = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let r = match &body {
                    None => {
                        let cursor = after.as_ref().map(|a| format!("&after={a}"));
                        api.get(&format!("{first}{}", cursor.unwrap_or_default()))
                            .await
                    }
                    Some(b) => {
                        let mut b = b.clone();
                        if let Some(a) = &after {
                            b["after"] = json!(a);
                        }
                        api.post(&first, b).await
                    }
                };
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                let items = r.body["items"].as_array().unwrap().clone();
                ids.extend(items.iter().map(|c| {
                    (
                        c["case_number"].as_str().unwrap().to_string(),
                        c["id"].as_str().unwrap().to_string(),
                    )
                }));
                match r.body["next"].as_str() {
                    Some(n) => after = Some(n.to_string()),
                    None => break,
                }
            }
            ids
        }
    };
    let by_cursor = walk("/children?limit=200".into(), None).await;
    assert_eq!(by_cursor.len(), 1007);
    let mut sorted = by_cursor.clone();
    sorted.sort();
    assert_eq!(sorted, by_cursor, "case-number order");
    sorted.dedup();
    assert_eq!(sorted.len(), 1007, "no child twice");
    let mut by_offset = Vec::new();
    for off in (0..1007).step_by(200) {
        let r = w
            .caseworker
            .get(&format!("/children?limit=200&offset={off}"))
            .await;
        for c in r.body["items"].as_array().unwrap() {
            by_offset.push((
                c["case_number"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(by_offset, by_cursor);
    // A name that matches more than SEARCH_CAP children: the first 1,000 found are
    // ordered and paged, and the answer says there are more.
    // 10.0 is the whole number 10 (JSON does not tell them apart); 10.5 is not.
    let found = w
        .caseworker
        .post("/children/search", json!({"q": "maria", "limit": 10.0}))
        .await;
    assert_eq!(found.body["total"], 1000, "{}", found.body);
    assert_eq!(found.body["items"].as_array().unwrap().len(), 10);
    let half = w
        .caseworker
        .post("/children/search", json!({"q": "maria", "limit": 10.5}))
        .await;
    assert_eq!(half.status.as_u16(), 422, "{}", half.body);
    assert_eq!(half.body["errors"][0]["field"], "limit", "{}", half.body);
    // An empty id is not an id.
    assert_eq!(
        w.caseworker.get("/children?operation=").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(found.body["total_exact"], false);
    let paged = walk(
        "/children/search".into(),
        Some(json!({"q": "maria", "limit": 300})),
    )
    .await;
    assert_eq!(paged.len(), 1000);
    // Two words are intersected: only the Marias with that family name (or a
    // spelling of it: "lorpd" also finds "lorbd") are left.
    let few = w
        .caseworker
        .post(
            "/children/search",
            json!({"q": format!("maria {}", family(777))}),
        )
        .await;
    let total = few.body["total"].as_i64().unwrap();
    assert!((1..10).contains(&total), "{}", few.body);
    assert_eq!(few.body["total_exact"], true);
    assert!(few.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["wristband"] == "PG777"));
    // Two words that are both common (every Maria's family name starts "lo"): their
    // sets are intersected in the index, with the same cap.
    let both = w
        .caseworker
        .post("/children/search", json!({"q": "maria lo", "limit": 5}))
        .await;
    assert_eq!(both.body["total"], 1000, "{}", both.body);
    assert_eq!(both.body["total_exact"], false);
    assert_eq!(both.body["items"].as_array().unwrap().len(), 5);
    // A cursor must be a record of this very list: not an unknown id, not another
    // agency's child (no probing where a hidden record would sort), not a record the
    // filter leaves out.
    let other = world(&server, "Agency Elsewhere", "pe").await;
    let in_list = &by_cursor[10].1;
    for (path, why) in [
        (
            format!("/children?after={}", uuid::Uuid::new_v4()),
            "unknown",
        ),
        (format!("/children?after={}", other.child_a), "other agency"),
        (
            format!("/children?status=missing&after={in_list}"),
            "filtered out",
        ),
        ("/children?after=not-an-id".to_string(), "malformed"),
    ] {
        let r = w.caseworker.get(&path).await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
            "{why}: {} {}",
            r.status,
            r.body
        );
        assert!(r.body.to_string().contains("after"), "{why}: {}", r.body);
    }
}
on_both!(keyset_pages, keyset_pages_and_capped_search);

/// Whether a record has a search word, computed here from the documented rule and
/// not by the server: a whole word is matched by a word of the record's names that
/// is it or shares a spelling key with it, or by a part of its case number or its
/// wristband; the last word, when no record has it whole, by the start of a term.
fn oracle_has(names: &[(String, String)], others: &[String], word: &str, prefix: bool) -> bool {
    use amparo_domain::names::search_form;
    let keys = amparo_match::variant_keys(word);
    names.iter().any(|(g, f)| {
        let full = search_form(&format!("{g} {f}"));
        full.starts_with(word) && prefix
            || full.split(' ').any(|w| {
                w == word
                    || (prefix && w.starts_with(word))
                    || amparo_match::variant_keys(w)
                        .iter()
                        .any(|k| keys.contains(k))
            })
    }) || others
        .iter()
        .any(|o| o == word || (prefix && o.starts_with(word)))
}

async fn pairs_of_words_find_what_words_one_by_one_find(db: Db) {
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency Pairs", "pw").await;
    let given = [
        "Jacobo", "Yaakov", "Jakob", "Maria", "Marie", "Ana", "Hannah", "Chana", "Rosa", "Moshe",
    ];
    let family = [
        "Vaingarten",
        "Weingarten",
        "Lopez",
        "Lopes",
        "Garcia",
        "Rosen",
        "Rosa",
        "Lopez Garcia",
    ];
    // Invented children from those names, a few with a second name (an alias), one
    // whose wristband is a word that is also a name.
    let mut seed = 7u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    // Each child: id, names (given, family), case-number parts and wristband.
    type Known = (String, Vec<(String, String)>, Vec<String>);
    let mut children: Vec<Known> = Vec::new();
    for i in 0..36 {
        let mut names = vec![(
            given[next(given.len())].to_string(),
            family[next(family.len())].to_string(),
        )];
        if i % 5 == 0 {
            names.push((
                given[next(given.len())].to_string(),
                family[next(family.len())].to_string(),
            ));
        }
        let wristband = if i == 3 {
            // Found by "ana rosa" only through the wristband.
            names = vec![("Ana".to_string(), "Weingarten".to_string())];
            "Rosa".to_string()
        } else {
            format!("PW{i}")
        };
        let body: Vec<Value> = names
            .iter()
            .map(|(g, f)| json!({"given": g, "family": f}))
            .collect();
        let c = w
            .caseworker
            .create(
                "/children",
                json!({"operation_id": w.operation, "names": body, "sex": "female",
                       "birth": {"precision": "year", "year": 2016}, "wristband": wristband,
                       "languages": ["es"]}),
            )
            .await;
        // The case number's parts (also without leading zeros) and the wristband.
        let mut others = vec![amparo_domain::names::search_form(&wristband)];
        let case = amparo_domain::names::search_form(c["case_number"].as_str().unwrap_or(""));
        for part in case.split(' ').filter(|p| !p.is_empty()) {
            others.push(part.to_string());
            others.push(part.trim_start_matches('0').to_string());
        }
        children.push((c["id"].as_str().unwrap().to_string(), names, others));
    }
    // The world's two children (Jacobo and Rivka Testman, wristbands "1" and "2").
    for (id, g) in [(&w.child_a, "Jacobo"), (&w.child_b, "Rivka")] {
        let c = w.caseworker.get(&format!("/children/{id}")).await.body;
        let case = amparo_domain::names::search_form(c["case_number"].as_str().unwrap_or(""));
        let mut others: Vec<String> = vec![amparo_domain::names::search_form(
            c["wristband"].as_str().unwrap_or(""),
        )];
        for part in case.split(' ').filter(|p| !p.is_empty()) {
            others.push(part.to_string());
            others.push(part.trim_start_matches('0').to_string());
        }
        children.push((
            id.clone(),
            vec![(g.to_string(), "Testman".to_string())],
            others,
        ));
    }
    let mut queries: Vec<String> = Vec::new();
    for g in given {
        for f in family {
            queries.push(format!("{g} {f}"));
        }
        queries.push(format!("{g} {g}"));
        queries.push(format!("{g} rosa"));
        queries.push(format!("{g} lop"));
    }
    queries.extend(
        [
            "weingarten jacobo",
            "lopez garcia maria",
            "maria lopez garcia",
            "vaingarten yankel",
            "jacobo testman",
            "rosa rosa rosa",
            "ana 1",
            "testman 2",
        ]
        .map(String::from),
    );
    let mut tried_pairs = 0;
    for q in &queries {
        let words: Vec<String> = amparo_domain::names::search_form(q)
            .split(' ')
            .map(str::to_string)
            .collect();
        let last = words.len() - 1;
        let last_whole = children.iter().any(|(_, names, others)| {
            oracle_has(names, others, &words[last], false) && {
                let full: Vec<String> = names
                    .iter()
                    .flat_map(|(g, f)| {
                        amparo_domain::names::search_form(&format!("{g} {f}"))
                            .split(' ')
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                full.contains(&words[last]) || others.contains(&words[last])
            }
        });
        let mut expected: Vec<&str> = children
            .iter()
            .filter(|(_, names, others)| {
                words
                    .iter()
                    .enumerate()
                    .all(|(i, word)| oracle_has(names, others, word, i == last && !last_whole))
            })
            .map(|(id, _, _)| id.as_str())
            .collect();
        expected.sort();
        let found = w
            .caseworker
            .post("/children/search", json!({"q": q, "limit": 100}))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{q}: {}", found.body);
        let mut ids: Vec<&str> = found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, expected, "{q}: {}", found.body);
        if q == "Ana rosa" {
            assert!(ids.contains(&children[3].0.as_str()), "{}", found.body);
        }
        assert_eq!(found.body["total_exact"], true, "{q}");
        if expected.len() > 1 && words.len() > 1 {
            tried_pairs += 1;
        }
    }
    assert!(
        tried_pairs > 20,
        "the names give too few matches to test: {tried_pairs}"
    );
}
on_both!(
    pairs_of_words,
    pairs_of_words_find_what_words_one_by_one_find
);

/// A child's HTML page as the user sees it after signing in.
async fn child_page_text(base: &str, username: &str, child: &str) -> String {
    let api = Api::cookies(base);
    let r = api
        .post(
            "/session",
            json!({"username": username, "password": password_of(username)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let url = format!("{base}/children/{child}");
    api.client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A database from before migration 10, or whose rebuild was cut short (no search
/// keys, an index missing, the migration not recorded): the next start rebuilds every
/// record's keys and indexes; search finds the children again, and the child's page
/// its relationships.
async fn search_keys_are_rebuilt_at_start(db: Db) {
    let Some(mut server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency Rebuild", "rb").await;
    let before = w
        .caseworker
        .post("/children/search", json!({"q": "Yaakov Testman"}))
        .await;
    assert_eq!(before.body["total"], 1, "{}", before.body);
    // A mother, shown on the child's page through the relationship's "@id" key.
    let mother = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Perlina", "family": "Madrenueva"}], "sex": "female"}),
        )
        .await;
    w.caseworker
        .create(
            "/relationships",
            json!({"from": mother["id"], "to": w.child_a, "kind": "mother", "source": "intake"}),
        )
        .await;
    assert!(child_page_text(&server.base, "rbcw", &w.child_a)
        .await
        .contains("Madrenueva"));
    // A tracing request is searched by the names it seeks (not a `names` field).
    w.caseworker
        .create(
            "/tracing-requests",
            json!({"sought_names": [{"given": "Yankelito", "family": "Buscadoman"}],
                   "sought_sex": "male", "sought_birth": {"precision": "year", "year": 2014},
                   "requester_name": {"given": "Perlina", "family": "Madrenueva"},
                   "relationship_claimed": "mother", "contact": "+1 555 0100 (test)",
                   "consent_to_share": true}),
        )
        .await;
    let sought = json!({"q": "yankelito buscadoman"});
    let found = w
        .caseworker
        .post("/tracing-requests/search", sought.clone())
        .await;
    assert_eq!(found.body["total"], 1, "{}", found.body);
    server.kill();
    let url = match &server.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", server.data_dir.join("amparo.db").display()),
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    for sql in [
        "DELETE FROM search_keys",
        "DROP INDEX search_keys_record",
        "DELETE FROM schema_migrations WHERE version >= 10",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let again = Server::start_with(
        server.data_dir.clone(),
        server.database_url.clone(),
        "serve",
    );
    let (code, token) = again.cli(&["token", "create", "--username", "rbcw"], None);
    assert_eq!(code, 0, "{token}");
    let api = Api::bearer(&again.base, token.lines().next().unwrap().trim());
    for (q, child) in [
        ("Yaakov Testman", &w.child_a),
        ("rivka testm", &w.child_b),
        ("2", &w.child_b),
    ] {
        let found = api.post("/children/search", json!({"q": q})).await;
        let ids: Vec<&str> = found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![child.as_str()], "{q}: {}", found.body);
    }
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let indexes: i64 = sqlx::query_scalar(match server.database_url {
        Some(_) => "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'search_keys' AND indexname = 'search_keys_record'",
        None => "SELECT COUNT(*) FROM sqlite_master WHERE name = 'search_keys_record'",
    })
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 1);
    let found = api.post("/tracing-requests/search", sought).await;
    assert_eq!(found.body["total"], 1, "{}", found.body);
    assert!(child_page_text(&again.base, "rbcw", &w.child_a)
        .await
        .contains("Madrenueva"));
}
on_both!(rebuild_keys, search_keys_are_rebuilt_at_start);

/// Query strings (issue 9, fuzzing): generated from the list parameters' names with
/// odd values (negative, huge, not numbers, not ids, percent-encoded bytes, repeated
/// and unknown names), sent to list routes and the search body. Never a 5xx; every
/// refusal is a problem document naming what to fix.
async fn generated_query_strings_never_break_the_server(db: Db) {
    use proptest::strategy::{Just, Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let Some(server) = Server::start(db).await else {
        return;
    };
    let w = world(&server, "Agency Query", "qs").await;
    let name = proptest::prop_oneof![
        Just("limit".to_string()),
        Just("offset".to_string()),
        Just("after".to_string()),
        Just("status".to_string()),
        Just("operation".to_string()),
        Just("child".to_string()),
        Just("q".to_string()),
        "[a-z_%\\[\\]]{0,8}",
    ];
    let value = proptest::prop_oneof![
        Just(w.child_a.clone()),
        Just(w.operation.clone()),
        Just("-1".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("500".to_string()),
        Just("501".to_string()),
        Just("in_care".to_string()),
        Just("%00%ff%fe".to_string()),
        Just("%E2%80%AE".to_string()),
        "[0-9a-f-]{0,40}",
        "[ -~]{0,30}".prop_map(|s| s.replace(['&', '#', ' '], "")),
    ];
    let pairs = proptest::collection::vec((name, value), 0..6);
    let paths = [
        "/children",
        "/placements",
        "/persons",
        "/visits",
        "/roll-calls",
    ];
    let cases: usize = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut runner = TestRunner::deterministic();
    let mut statuses = std::collections::BTreeSet::new();
    for i in 0..cases {
        let query: Vec<(String, String)> = pairs.new_tree(&mut runner).unwrap().current();
        let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let path = format!("{}?{}", paths[i % paths.len()], qs.join("&"));
        let r = w.caseworker.get(&path).await;
        statuses.insert(r.status.as_u16());
        assert!(
            r.status.as_u16() < 500,
            "GET {path}: {} {}",
            r.status,
            r.body
        );
        if !r.status.is_success() {
            assert!(
                r.content_type.starts_with("application/problem+json"),
                "GET {path}: {} {}",
                r.content_type,
                r.body
            );
            assert!(
                r.body["detail"].is_string() || r.body["errors"].is_array(),
                "{}",
                r.body
            );
        }
        // The same parameters as a search body (numbers where they parse).
        let body: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| {
                let v = v
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::from(v.clone()));
                (k.clone(), v)
            })
            .collect();
        let search = format!("{}/search", paths[i % paths.len()]);
        let r = w
            .caseworker
            .post(&search, Value::Object(body.clone()))
            .await;
        assert!(
            r.status.as_u16() < 500,
            "POST {search} {body:?}: {} {}",
            r.status,
            r.body
        );
    }
    // The generator reaches the handlers: some lists answer, some are refused.
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().any(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
}
on_both!(
    generated_query_strings,
    generated_query_strings_never_break_the_server
);

/// Garbage and slow clients: deeply nested JSON is a 4xx, not a crash; hundreds of
/// clients that open a connection and dribble half a request do not keep others out.
#[tokio::test]
async fn deep_json_and_slow_clients_do_not_hurt_others() {
    let server = Server::start(Db::Sqlite).await.unwrap();
    let w = world(&server, "Agency Slow", "s").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = w
        .caseworker
        .raw(Method::POST, "/children", Some(deep.into_bytes()), &[])
        .await;
    assert!(
        (400..500).contains(&r.status.as_u16()),
        "deep JSON: {} {}",
        r.status,
        r.body
    );
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let r = w
        .caseworker
        .raw(
            Method::POST,
            "/children/search",
            Some(deep_object.into_bytes()),
            &[],
        )
        .await;
    assert!((400..500).contains(&r.status.as_u16()), "{}", r.status);
    // 300 slow clients: each sends part of its headers, or headers and part of a body,
    // and then waits.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for i in 0..300 {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let part: &[u8] = if i % 2 == 0 {
            b"GET /api/v1/children HTTP/1.1\r\nHost: x\r\nX-Slow: "
        } else {
            b"POST /api/v1/children HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"names\": ["
        };
        s.write_all(part).await.unwrap();
        idle.push(s);
    }
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let r = w.caseworker.get("/children?limit=5").await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(10),
        "20 reads took {took:?} with 300 slow clients connected"
    );
    drop(idle);
    assert_eq!(
        w.caseworker.get("/children?limit=1").await.status,
        StatusCode::OK
    );
}
