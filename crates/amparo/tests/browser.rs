//! The web interface in a real headless Chromium against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::webdriver::{browser_available, Browser, Driver};
use common::*;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

async fn sign_in(b: &Browser, base: &str, user: &str, password: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#username", user).await;
    b.type_into("#password", &format!("{password}{ENTER}"))
        .await;
    b.wait_for("#main h1").await;
    b.wait_until("return !location.pathname.startsWith('/login')", "sign-in")
        .await;
}

async fn child_by_wristband(api: &Api, wristband: &str) -> String {
    let r = api.post("/children/search", json!({"q": wristband})).await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["wristband"] == wristband)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no child with wristband {wristband}: {}", r.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caseworker_day_in_the_browser() {
    if !browser_available() {
        return;
    }
    let server = Server::start_with(temp_dir("browser"), None, "demo");
    let base = server.base.clone();
    let (code, token) = server.cli(&["token", "create", "--username", "caseworker"], None);
    assert_eq!(code, 0, "{token}");
    let api = Api::bearer(&base, token.lines().next().unwrap().trim());
    let before = api.get("/children?limit=0").await.body["total"]
        .as_i64()
        .unwrap();
    let driver = Driver::start().await;

    // Sign in and register five children from the keyboard alone.
    let a = driver.browser(1280, 900).await;
    sign_in(&a, &base, "caseworker", "demo-caseworker-2026").await;
    a.goto(&format!("{base}/intake")).await;
    a.wait_for("#wristband").await;
    a.click("#wristband").await;
    for i in 0..5 {
        a.keys(&format!(
            "90{i}{TAB}Niña{i}{TAB}Pruebas{TAB}f{TAB}{}{ENTER}",
            6 + i
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    a.wait_until(
        "return document.getElementById('saved-count').textContent === '5'",
        "five saved children",
    )
    .await;
    let after = api.get("/children?limit=0").await.body["total"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 5, "exactly five new children, none twice");
    let id = child_by_wristband(&api, "903").await;
    let child = api.get(&format!("/children/{id}")).await.body;
    assert_eq!(child["names"][0]["given"], "Niña3");
    assert_eq!(child["sex"], "female");
    assert_eq!(child["birth"]["age"], 9);
    a.screenshot(&shots().join("intake-desktop.png")).await;

    // Open one, edit it in place, see the history.
    a.goto(&format!("{base}/children/{id}")).await;
    a.wait_for("#edit-form").await;
    a.clear("#languages").await;
    a.type_into("#languages", &format!("es, en{ENTER}")).await;
    a.wait_for("#notice").await;
    assert!(a.text("#history").await.contains("languages"));
    assert_eq!(
        api.get(&format!("/children/{id}")).await.body["languages"],
        json!(["es", "en"])
    );

    // A second session changes the child while the first is editing.
    let b = driver.browser(360, 780).await;
    sign_in(&b, &base, "caseworker", "demo-caseworker-2026").await;
    b.goto(&format!("{base}/children/{id}")).await;
    b.clear("#wristband").await;
    b.type_into("#wristband", &format!("913{ENTER}")).await;
    b.wait_for("#notice").await;
    a.clear("#given").await;
    a.type_into("#given", &format!("Niña Tres{ENTER}")).await;
    a.wait_for("#stale").await;
    assert!(
        a.text("#stale").await.contains("wristband"),
        "{}",
        a.text("#stale").await
    );
    let kept = a
        .script("return document.getElementById('given').value")
        .await;
    assert_eq!(kept, json!("Niña Tres"), "what the user typed is kept");
    let now = api.get(&format!("/children/{id}")).await.body;
    assert_eq!(now["wristband"], "913");
    assert_eq!(
        now["names"][0]["given"], "Niña3",
        "the stale edit changed nothing"
    );

    // Language switch.
    assert_eq!(
        a.script("return document.documentElement.lang").await,
        json!("es")
    );
    a.click("#lang-switch").await;
    a.wait_until("return document.documentElement.lang === 'en'", "English")
        .await;
    assert!(a.text("header").await.contains("Dashboard"));
    a.click("#lang-switch").await;
    a.wait_until("return document.documentElement.lang === 'es'", "Spanish")
        .await;

    // Screenshots of the main pages at phone and desktop width.
    let family_child = child_by_wristband(&api, "1").await;
    a.goto(&format!("{base}/children/{family_child}")).await;
    let household = a
        .script("var l = document.querySelector('a[href^=\"/households/\"]'); return l ? l.getAttribute('href') : ''")
        .await;
    let household = household.as_str().unwrap().to_string();
    assert!(
        household.starts_with("/households/"),
        "child 1 has a family page"
    );
    for (browser, size) in [(&a, "desktop"), (&b, "phone")] {
        browser.goto(&format!("{base}/")).await;
        browser.wait_for(".counts").await;
        browser
            .screenshot(&shots().join(format!("dashboard-{size}.png")))
            .await;
        browser
            .goto(&format!("{base}/children/{family_child}"))
            .await;
        browser.wait_for("#history").await;
        browser
            .screenshot(&shots().join(format!("child-{size}.png")))
            .await;
        browser.goto(&format!("{base}{household}")).await;
        browser.wait_for("svg").await;
        browser
            .screenshot(&shots().join(format!("family-{size}.png")))
            .await;
    }
    b.goto(&format!("{base}/intake")).await;
    b.wait_for("#wristband").await;
    b.screenshot(&shots().join("intake-phone.png")).await;
    // Nothing overflows sideways on a phone.
    let wide = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(true), "the intake page fits 360 px");

    // Search as you type, by a spelling the child was not registered under.
    a.goto(&format!("{base}/children")).await;
    a.type_into("#q", "vaingart").await;
    a.wait_until(
        "return document.querySelectorAll('#results li').length > 0 && document.getElementById('results').textContent.includes('Vaingarten')",
        "results as you type",
    )
    .await;
    assert!(
        !a.current_url().await.contains("vaingart"),
        "no names in URLs"
    );

    // The administrator: one-time password, then users.
    let adm = driver.browser(1280, 900).await;
    adm.goto(&format!("{base}/login")).await;
    adm.type_into("#username", "admin").await;
    adm.type_into("#password", &format!("{}{ENTER}", server.admin_password))
        .await;
    adm.wait_for("#new_password").await;
    assert!(adm.current_url().await.ends_with("/password"));
    adm.type_into("#current_password", &server.admin_password)
        .await;
    adm.type_into("#new_password", "admin passphrase 2026")
        .await;
    adm.type_into("#repeat_password", &format!("admin passphrase 2026{ENTER}"))
        .await;
    adm.wait_for("#new-username").await;
    adm.type_into("#new-username", &format!("nuevo.cw{ENTER}"))
        .await;
    adm.wait_for("#notice").await;
    assert!(adm.text("#notice").await.contains("nuevo.cw"));
    assert!(adm.text("table.users").await.contains("nuevo.cw"));
    adm.quit().await;

    // Shelter staff cannot reach a child of another facility.
    let c = driver.browser(360, 780).await;
    sign_in(&c, &base, "shelter", "demo-shelter-2026").await;
    let elsewhere = child_by_wristband(&api, "150").await;
    let here = child_by_wristband(&api, "10").await;
    c.goto(&format!("{base}/children/{elsewhere}")).await;
    c.wait_for("#main").await;
    let body = c.text("#main").await;
    assert!(
        !body.contains("Pruebas") && body.contains("No hay"),
        "{body}"
    );
    c.goto(&format!("{base}/children/{here}")).await;
    c.wait_for("#history").await;
    for br in [&a, &b, &c] {
        br.quit().await;
    }
    let (code, out) = server.cli(&["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_mark_one_roll_call_live() {
    if !browser_available() {
        return;
    }
    let server = Server::start_with(temp_dir("rollcall"), None, "demo");
    let base = server.base.clone();
    let (_, token) = server.cli(&["token", "create", "--username", "caseworker"], None);
    let api = Api::bearer(&base, token.lines().next().unwrap().trim());
    let facility = api.get("/facilities").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let driver = Driver::start().await;
    let a = driver.browser(1280, 900).await;
    let b = driver.browser(360, 780).await;
    sign_in(&a, &base, "caseworker", "demo-caseworker-2026").await;
    sign_in(&b, &base, "shelter", "demo-shelter-2026").await;
    a.goto(&format!("{base}/facilities/{facility}/roster"))
        .await;
    a.click("#start-rollcall").await;
    a.wait_for("#rc-grid").await;
    let url = a.current_url().await;
    assert!(url.contains("/roll-calls/"), "{url}");
    b.goto(&url).await;
    b.wait_for("#rc-grid").await;
    // Both are connected before anyone marks.
    for br in [&a, &b] {
        br.wait_until(
            "return document.getElementById('live').textContent === '●'",
            "live connection",
        )
        .await;
    }
    let first = a
        .script("return document.querySelector('.rc-card').dataset.id")
        .await;
    let first = first.as_str().unwrap().to_string();
    a.click(&format!("#c-{first} .mark-present")).await;
    b.wait_until(
        &format!("return document.getElementById('c-{first}').classList.contains('m-present') && document.getElementById('count-present').textContent === '1'"),
        "the other session's mark",
    )
    .await;
    // The shelter worker finds a child by wristband and marks from the phone.
    let second = b
        .script("return document.querySelectorAll('.rc-card')[1].dataset.id")
        .await;
    let second = second.as_str().unwrap().to_string();
    let wristband = b
        .script(&format!(
            "return document.querySelector('#c-{second} .muted').textContent.slice(1)"
        ))
        .await;
    b.type_into("#filter", wristband.as_str().unwrap()).await;
    b.click(&format!("#c-{second} .mark-present")).await;
    a.wait_until(
        &format!("return document.getElementById('c-{second}').classList.contains('m-present') && document.getElementById('count-present').textContent === '2'"),
        "the phone's mark on the desktop",
    )
    .await;
    b.screenshot(&shots().join("rollcall-phone.png")).await;
    // The server agrees, and knows who marked whom.
    let id = url.rsplit('/').next().unwrap();
    let status = api.get(&format!("/roll-calls/{id}/status")).await.body;
    assert_eq!(status["counts"]["present"], 2);
    let by: Vec<&str> = status["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["by"].as_str())
        .collect();
    assert!(
        by.contains(&"caseworker") && by.contains(&"shelter"),
        "{by:?}"
    );

    // An incident, and from it in one step: everyone moved and a roll call there.
    a.goto(&format!("{base}/incidents")).await;
    a.wait_for("#i-when").await;
    a.script("document.getElementById('i-when').value = '2026-11-22T13:30'")
        .await;
    a.script(&format!(
        "document.getElementById('i-facility').value = '{facility}'"
    ))
    .await;
    a.type_into("#i-description", "Relatives forced the gate")
        .await;
    a.type_into("#i-police", &format!("PNC-1{ENTER}")).await;
    a.wait_until(
        "return document.body.textContent.includes('Relatives forced the gate')",
        "the incident listed",
    )
    .await;
    a.script("document.querySelector('details').open = true")
        .await;
    let second_facility = api.get("/facilities").await.body["items"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.script(&format!(
        "document.querySelector('details select').value = '{second_facility}'"
    ))
    .await;
    for (name, value) in [
        ("issuing_authority", "PGN"),
        ("reference", "EM-1"),
        ("reason", "break-in"),
        ("authorised_by", "Jefa de turno"),
    ] {
        a.type_into(&format!("details input[name={name}]"), value)
            .await;
    }
    a.click("details button").await;
    a.wait_for("#rc-grid").await;
    assert!(a.current_url().await.contains("/roll-calls/"));
    let expected = a.text("#count-unaccounted").await;
    assert_eq!(
        expected, "100",
        "the hundred children of the first house are to be counted"
    );

    // The same child registered twice under another spelling: found, merged, unmerged.
    let first_child = child_by_wristband(&api, "1").await;
    let original = api.get(&format!("/children/{first_child}")).await.body;
    let given = original["names"][0]["given"].as_str().unwrap().to_string();
    let birth = &original["birth"];
    let birth_text = match birth["precision"].as_str().unwrap() {
        "exact" => {
            let d = birth["date"].as_str().unwrap();
            format!("{}/{}/{}", &d[8..10], &d[5..7], &d[..4])
        }
        "year" => birth["year"].to_string(),
        _ => String::new(),
    };
    let op = original["operation_id"].as_str().unwrap().to_string();
    let twin = api
        .post(
            "/intake",
            json!({"operation_id": op, "wristband": "D-1", "given": given, "family": "Weingarten",
                                "sex": original["sex"], "birth": birth_text, "languages": "yi"}),
        )
        .await;
    assert_eq!(twin.status.as_u16(), 201, "{}", twin.body);
    let twin_id = twin.body["id"].as_str().unwrap().to_string();
    let found = api.get("/duplicates").await.body;
    let pair = found["items"].as_array().unwrap().iter().find(|p| {
        let ids = [p["a"]["id"].as_str(), p["b"]["id"].as_str()];
        ids.contains(&Some(first_child.as_str())) && ids.contains(&Some(twin_id.as_str()))
    });
    assert!(pair.is_some(), "the twin record is suggested: {found}");
    // Suggestions come grouped by the person they seem to be.
    let pair = pair.unwrap();
    assert!(pair["group"].as_u64().unwrap() >= 1, "{pair}");
    assert!(pair["group_size"].as_u64().unwrap() >= 2, "{pair}");
    // Showing a child as a suggested duplicate is a read of its identity: audited.
    let (_, inv_token) = server.cli(&["token", "create", "--username", "investigator"], None);
    let inv = Api::bearer(&base, inv_token.lines().next().unwrap().trim());
    let trail = inv
        .get(&format!("/audit?record={twin_id}"))
        .await
        .body
        .to_string();
    assert!(trail.contains("suggested as a duplicate"), "{trail}");
    a.goto(&format!("{base}/duplicates")).await;
    a.wait_for(".dup-pair").await;
    let heading = a.text(".dup-group").await;
    assert!(
        heading.contains("records") || heading.contains("registros"),
        "{heading}"
    );
    a.script(&format!(
        "document.querySelector('input[name=duplicate][value=\"{twin_id}\"]').form.submit()"
    ))
    .await;
    a.wait_for("#merged").await;
    assert_eq!(
        api.get(&format!("/children/{twin_id}")).await.body["status"],
        "merged"
    );
    a.screenshot(&shots().join("duplicates-desktop.png")).await;
    a.click("#merged .unmerge").await;
    a.wait_until(
        "return document.getElementById('merged') === null",
        "the merge undone",
    )
    .await;
    let back = api.get(&format!("/children/{twin_id}")).await.body;
    assert_eq!(
        back["status"], "intake",
        "the status before the merge is restored"
    );
    let history = api.get(&format!("/children/{twin_id}/history")).await.body;
    assert_eq!(history["total"], 3, "created, merged, unmerged: {history}");
    a.quit().await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allegation_evidence_and_care_plan_pages() {
    if !browser_available() {
        return;
    }
    let server = Server::start_with(temp_dir("protect"), None, "demo");
    let base = server.base.clone();
    let (_, token) = server.cli(&["token", "create", "--username", "caseworker"], None);
    let api = Api::bearer(&base, token.lines().next().unwrap().trim());
    let driver = Driver::start().await;

    // An investigator records an allegation and adds evidence to it.
    let inv = driver.browser(1280, 900).await;
    sign_in(&inv, &base, "investigator", "demo-investigator-2026").await;
    inv.goto(&format!("{base}/allegations")).await;
    inv.wait_for("#a-victims").await;
    assert!(
        inv.text("#allegations").await.contains("forced pregnancy"),
        "demo allegations are listed"
    );
    inv.type_into("#a-victims", "7").await;
    inv.type_into("#a-perpetrator", "Berish Testman").await;
    inv.type_into("#a-reported-by", "PGN (test)").await;
    inv.type_into(
        "#a-summary",
        &format!("Statement of the child (test){ENTER}"),
    )
    .await;
    inv.wait_for("#allegation-title").await;
    let evidence_file = temp_dir("evidence").join("room.png");
    std::fs::write(
        &evidence_file,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR test image bytes",
    )
    .unwrap();
    inv.type_into("#ev-file", evidence_file.to_str().unwrap())
        .await;
    inv.type_into(
        "#ev-description",
        "Habitación, foto tomada el día del operativo",
    )
    .await;
    inv.click("#evidence-upload button").await;
    inv.wait_until(
        "return document.querySelectorAll('#evidence-list li').length === 1",
        "the evidence listed",
    )
    .await;
    inv.screenshot(&shots().join("allegation-desktop.png"))
        .await;
    inv.click("#evidence-list a").await;
    inv.wait_for("#integrity").await;
    assert_eq!(
        inv.script("return document.getElementById('integrity').className")
            .await,
        json!("notice")
    );
    inv.type_into("#h-from", "investigator").await;
    inv.type_into("#h-to", "Laboratorio forense (test)").await;
    inv.type_into("#h-purpose", &format!("analysis{ENTER}"))
        .await;
    inv.wait_until(
        "return document.querySelectorAll('#custody tbody tr').length === 2",
        "two steps in the chain",
    )
    .await;
    inv.screenshot(&shots().join("evidence-desktop.png")).await;

    // A caseworker has no way to the allegations, and edits a care plan.
    let cw = driver.browser(360, 780).await;
    sign_in(&cw, &base, "caseworker", "demo-caseworker-2026").await;
    assert!(
        !cw.text("header").await.contains("Denuncias"),
        "no menu entry"
    );
    cw.goto(&format!("{base}/allegations")).await;
    cw.wait_for("#main").await;
    assert!(
        cw.text("#main").await.contains("No hay"),
        "{}",
        cw.text("#main").await
    );
    let child = child_by_wristband(&api, "7").await;
    cw.goto(&format!("{base}/children/{child}/care")).await;
    cw.wait_for("#cp-diet").await;
    cw.clear("#cp-diet").await;
    cw.type_into("#cp-diet", &format!("kosher (glatt){ENTER}"))
        .await;
    cw.wait_for("#notice").await;
    cw.screenshot(&shots().join("careplan-phone.png")).await;
    let plans = api.get(&format!("/care-plans?child={child}")).await.body;
    assert_eq!(plans["items"][0]["diet"], "kosher (glatt)");
    assert_eq!(
        plans["items"][0]["religion"], "Orthodox Jewish (demo)",
        "fields not on the form are kept"
    );

    // Raise a flag on the child page, then clear it with a reason.
    cw.goto(&format!("{base}/children/{child}")).await;
    cw.script("document.querySelector('#flags + details').open = true")
        .await;
    let options = cw.script("return Array.from(document.querySelectorAll('details select[name=kind] option')).map(o => o.value).join(',')").await;
    assert!(
        !options.as_str().unwrap().contains("pregnancy"),
        "restricted flags are not offered to a caseworker"
    );
    cw.script("document.querySelector('details select[name=kind]').value = 'neglect'")
        .await;
    cw.type_into(
        "details input[name=reason]",
        &format!("Underweight at intake{ENTER}"),
    )
    .await;
    cw.wait_until(
        "return document.getElementById('flags').textContent.includes('neglect')",
        "the flag",
    )
    .await;
    let flags = api
        .get(&format!("/risk-flags?child={child}&status=open"))
        .await
        .body;
    assert!(flags.to_string().contains("neglect"));
    // A welfare check on this child, from the child page.
    cw.script("document.querySelector('#welfare details').open = true")
        .await;
    cw.script("document.querySelector('#welfare input[name=done_at]').value = '2026-11-25T10:00'")
        .await;
    cw.script("document.querySelector('#welfare select[name=outcome]').value = 'seen_safe'")
        .await;
    cw.type_into(
        "#welfare input[name=visitors]",
        &format!("PGN (test){ENTER}"),
    )
    .await;
    cw.wait_until(
        "return document.getElementById('welfare').textContent.includes('PGN (test)')",
        "the check listed",
    )
    .await;
    // Tasks: one of the demo's is overdue; add one, then mark it done.
    cw.goto(&format!("{base}/tasks")).await;
    cw.wait_for("#t-title").await;
    assert!(
        cw.text("#task-list").await.contains('!'),
        "the overdue demo task stands out"
    );
    cw.type_into("#t-title", &format!("Call the interpreter{ENTER}"))
        .await;
    cw.wait_until(
        "return document.getElementById('task-list').textContent.includes('Call the interpreter')",
        "the new task",
    )
    .await;
    let before = cw
        .script("return document.querySelectorAll('#task-list li').length")
        .await;
    cw.script("Array.from(document.querySelectorAll('#task-list li')).find(li => li.textContent.includes('Call the interpreter')).querySelector('button').click()").await;
    cw.wait_until(
        &format!(
            "return document.querySelectorAll('#task-list li').length === {} - 1",
            before
        ),
        "the task done",
    )
    .await;
    // The farm's history at a glance: kept out twice.
    cw.goto(&format!("{base}/sites")).await;
    cw.wait_for(".site").await;
    assert!(
        cw.text(".site .flag").await.contains('2'),
        "{}",
        cw.text(".site").await
    );

    // A partner organisation sees the diet and languages, nothing else.
    let partner = driver.browser(360, 780).await;
    sign_in(&partner, &base, "partner", "demo-partner-2026").await;
    partner.goto(&format!("{base}/children/{child}/care")).await;
    partner.wait_for("#cp-diet").await;
    assert!(partner.find("#cp-religion").await.is_none());
    assert!(partner.find("#cp-health_notes").await.is_none());
    let main = partner.text("#main").await;
    assert!(!main.contains("Orthodox"), "{main}");
    for b in [&inv, &cw, &partner] {
        b.quit().await;
    }
}

/// A spreadsheet from the field, uploaded in the browser: the preview names the bad
/// row, the good rows import with progress, the rejected row comes back as a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spreadsheet_import_in_the_browser() {
    if !browser_available() {
        return;
    }
    let server = Server::start_with(temp_dir("browser-import"), None, "demo");
    let base = server.base.clone();
    let (code, token) = server.cli(&["token", "create", "--username", "caseworker"], None);
    assert_eq!(code, 0, "{token}");
    let api = Api::bearer(&base, token.lines().next().unwrap().trim());
    let before = api.get("/children?limit=0").await.body["total"]
        .as_i64()
        .unwrap();
    let dir = temp_dir("import-file");
    let file = dir.join("registro-campo.csv");
    let mut csv = String::from("Pulsera;Nombre;Apellidos;Fecha de nacimiento;Sexo;Comunidad\n");
    for i in 0..30 {
        let date = if i == 7 {
            "31/02/2016".to_string()
        } else {
            format!("{:02}/03/2014", i % 28 + 1)
        };
        csv.push_str(&format!(
            "K{i};Niñx{i};Importada;{date};{};Norte\n",
            if i % 2 == 0 { "F" } else { "M" }
        ));
    }
    std::fs::write(&file, csv).unwrap();

    let driver = Driver::start().await;
    let b = driver.browser(1280, 900).await;
    sign_in(&b, &base, "caseworker", "demo-caseworker-2026").await;
    b.goto(&format!("{base}/import")).await;
    b.wait_for("#file").await;
    b.type_into("#file", file.to_str().unwrap()).await;
    b.click("#import-check").await;
    b.wait_for("#preview").await;
    let problems = b.text("#problems").await;
    assert!(
        problems.contains("31/02/2016") && problems.contains('9'),
        "{problems}"
    );
    assert!(
        problems.contains("no es una fecha posible"),
        "said in Spanish: {problems}"
    );
    assert!(
        b.text("#preview").await.contains("Comunidad"),
        "ignored column named"
    );
    // Nothing is saved by checking.
    let now = api.get("/children?limit=0").await.body["total"]
        .as_i64()
        .unwrap();
    assert_eq!(now, before);
    b.screenshot(&shots().join("import-preview.png")).await;
    b.click("#import-good").await;
    b.wait_for("#import-done").await;
    let done = b.text("#import-done").await;
    assert!(done.contains("29"), "{done}");
    assert!(b.find("#rejected").await.is_some());
    let after = api.get("/children?limit=0").await.body["total"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 29);
    // The same file again: recognised, nothing new, offered nothing to import.
    b.goto(&format!("{base}/import")).await;
    b.wait_for("#file").await;
    b.type_into("#file", file.to_str().unwrap()).await;
    b.click("#import-check").await;
    b.wait_for("#preview").await;
    assert!(b.find("#import-good").await.is_none() && b.find("#import-all").await.is_none());
    b.quit().await;
}

/// Scene S11 in the browser: a mother's tracing request finds her son under another
/// spelling; his release needs two supervisors, neither the proposer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_and_release_in_the_browser() {
    if !browser_available() {
        return;
    }
    let server = Server::start(Db::Sqlite).await.unwrap();
    let base = server.base.clone();
    let w = world(&server, "Browser Reunion", "bw").await;
    let son = w
        .caseworker
        .create("/children", json!({"operation_id": w.operation, "names": [{"given": "Jacobo", "family": "Vaingarten"}],
            "sex": "male", "birth": {"precision": "year", "year": 2014}, "wristband": "77"}))
        .await;
    let son_id = son["id"].as_str().unwrap().to_string();
    w.caseworker
        .create(
            "/placements",
            json!({"child_id": son_id, "facility_id": w.facility_a, "from": "2026-01-10T10:00:00Z",
               "legal_basis": legal_basis(), "authorised_by": "Jueza de prueba"}),
        )
        .await;
    let mother = w
        .caseworker
        .create(
            "/persons",
            json!({"names": [{"given": "Perla", "family": "Vaingarten"}], "sex": "female"}),
        )
        .await;
    let _ = mother;
    for u in ["bwsup1", "bwsup2"] {
        let (code, out) = server.cli(
            &[
                "user",
                "add",
                "--username",
                u,
                "--role",
                "supervisor",
                "--agency",
                "Browser Reunion",
            ],
            Some(&format!("{}\n", password_of(u))),
        );
        assert_eq!(code, 0, "{out}");
    }
    let driver = Driver::start().await;
    let cw = driver.browser(1280, 900).await;
    sign_in(&cw, &base, "bwcw", &password_of("bwcw")).await;
    cw.goto(&format!("{base}/tracing")).await;
    cw.wait_for("#tr-form").await;
    for (field, value) in [
        ("#t-given", "Yankel"),
        ("#t-family", "Weingarten"),
        ("#t-given2", "יעקב"),
        ("#t-birth", "2014"),
        ("#t-rgiven", "Perla"),
        ("#t-rfamily", "Vaingarten"),
        ("#t-rel", "madre"),
        ("#t-contact", "+1 555 0100 (prueba)"),
        ("#t-country", "CA"),
    ] {
        cw.type_into(field, value).await;
    }
    cw.click("#tr-save").await;
    cw.wait_for(".candidate").await;
    let first = cw.text(".candidate").await;
    assert!(first.contains("Jacobo Vaingarten"), "{first}");
    cw.screenshot(&shots().join("tracing-candidates.png")).await;
    cw.click(".candidate .confirm").await;
    cw.wait_for(".candidate .decision").await;
    cw.wait_until(
        "return document.getElementById('tr-status').dataset.status === 'matched'",
        "the request matched",
    )
    .await;
    let child = w.caseworker.get(&format!("/children/{son_id}")).await.body;
    assert_eq!(child["tracing_requests"].as_array().unwrap().len(), 1);

    // The release: proposed by the caseworker, approved by two supervisors.
    cw.goto(&format!("{base}/releases")).await;
    cw.wait_for("#rel-form").await;
    cw.type_into("#rl-wristband", "77").await;
    cw.script("const s=document.getElementById('rl-person'); for (const o of s.options) { if (o.text.includes('Perla')) s.value=o.value; }").await;
    cw.type_into("#rl-verification", "Acta de nacimiento (prueba)")
        .await;
    cw.type_into("#rl-views", "Quiere vivir con su madre.")
        .await;
    cw.type_into("#rl-authority", "Juzgado de prueba").await;
    cw.type_into("#rl-reference", "JN-REL-77").await;
    cw.script("document.getElementById('rl-date').value='2026-11-20'")
        .await;
    cw.click("#rel-save").await;
    cw.wait_for(".release[data-status=proposed]").await;
    assert!(
        cw.find(".release .approve").await.is_none(),
        "a caseworker cannot approve"
    );
    for (i, sup) in ["bwsup1", "bwsup2"].into_iter().enumerate() {
        let b = driver.browser(390, 844).await;
        sign_in(&b, &base, sup, &password_of(sup)).await;
        b.goto(&format!("{base}/releases")).await;
        b.wait_for(".release .approve").await;
        b.click(".release .approve").await;
        if i == 0 {
            b.wait_until(
                "return document.querySelector('.release .approvals').textContent.includes('bwsup1')",
                "first approval",
            )
            .await;
            // One approval changes nothing for the child.
            let c = w.caseworker.get(&format!("/children/{son_id}")).await.body;
            assert_eq!(c["status"], "in_care");
            assert!(
                b.find(".release .approve").await.is_none(),
                "the same person cannot approve twice"
            );
        } else {
            b.wait_for(".release[data-status=released]").await;
            b.screenshot(&shots().join("release-approved-phone.png"))
                .await;
        }
        b.quit().await;
    }
    let c = w.caseworker.get(&format!("/children/{son_id}")).await.body;
    assert_eq!(c["status"], "released");
    cw.quit().await;
}

/// Partners in the browser: an administrator registers the Canadian agency with the
/// keys it printed; a caseworker opens the package it sent and sees the candidates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_package_in_the_browser() {
    if !browser_available() {
        return;
    }
    let gt = Server::start(Db::Sqlite).await.unwrap();
    let ca = Server::start(Db::Sqlite).await.unwrap();
    let w = world(&gt, "Agencia GT", "pg").await;
    w.caseworker
        .create("/children", json!({"operation_id": w.operation, "names": [{"given": "Jacobo", "family": "Vaingarten"}],
            "sex": "male", "birth": {"precision": "year", "year": 2014}}))
        .await;
    let _admin = gt.user("pgadmin", "admin", "Agencia GT", &[]);
    let key = |s: &Server| {
        let (code, out) = s.cli(&["partner", "key"], None);
        assert_eq!(code, 0, "{out}");
        let get = |k: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap()
                .trim()
                .to_string()
        };
        (get("signing-key "), get("age-recipient "))
    };
    let (ca_sign, ca_age) = key(&ca);
    let (gt_sign, gt_age) = key(&gt);
    let driver = Driver::start().await;
    let admin = driver.browser(1280, 900).await;
    sign_in(&admin, &gt.base, "pgadmin", &password_of("pgadmin")).await;
    admin.goto(&format!("{}/partners", gt.base)).await;
    admin.wait_for("#pa-form").await;
    admin.type_into("#pa-name", "Agence Canada").await;
    admin.type_into("#pa-country", "CA").await;
    admin.type_into("#pa-signing", &ca_sign).await;
    admin.type_into("#pa-agekey", &ca_age).await;
    admin.click("#pa-save").await;
    admin.wait_for("#pa-notice").await;
    assert!(admin.text("#pa-list").await.contains("Agence Canada"));
    assert_eq!(admin.text("#own-signing").await.trim(), gt_sign);
    admin.quit().await;

    // Canada sends the mother's request as a file.
    let ca_cw = ca.user("pgca", "caseworker", "Agence Canada", &[]);
    let (code, out) = ca.cli(
        &[
            "partner",
            "add",
            "--agency",
            "Agence Canada",
            "--name",
            "Agencia GT",
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
    let req = ca_cw
        .create("/tracing-requests", json!({"sought_names": [{"given": "Yankel", "family": "Weingarten"}], "sought_sex": "male",
            "sought_birth": {"precision": "year", "year": 2014}, "requester_name": {"given": "Perla", "family": "Madreprueba"},
            "relationship_claimed": "mother", "contact": "+1 555 0100 (test)", "consent_to_share": true}))
        .await;
    let file = temp_dir("pkg").join("request.amparo");
    let (code, out) = ca.cli(
        &[
            "referral",
            "export",
            "--as",
            "pgca",
            "--partner",
            "Agencia GT",
            "--tracing-request",
            req["id"].as_str().unwrap(),
            "--output",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");

    let cw = driver.browser(1280, 900).await;
    sign_in(&cw, &gt.base, "pgcw", &password_of("pgcw")).await;
    cw.goto(&format!("{}/partners", gt.base)).await;
    cw.wait_for("#pa-receive").await;
    cw.type_into("#pa-file", file.to_str().unwrap()).await;
    cw.click("#pa-open").await;
    cw.wait_for(".candidate").await;
    assert!(cw.text(".candidate").await.contains("Jacobo Vaingarten"));
    cw.screenshot(&shots().join("partner-package-candidates.png"))
        .await;
    cw.quit().await;
}
