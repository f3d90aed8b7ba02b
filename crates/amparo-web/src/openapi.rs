//! The OpenAPI 3.1 document, built from the same kinds the router serves.
use amparo_domain::records::Kind;
use serde_json::{json, Value};

fn s(t: &str) -> Value {
    json!({"type": t})
}
fn opt_str() -> Value {
    json!({"type": ["string", "null"]})
}
fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}
/// Text the domain trims and requires (`Text`: 1-500 characters, not blank, no control
/// characters).
fn text() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 500,
           "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"})
}
/// Free text (`LongText`: up to 20,000 characters, line breaks allowed, no other control
/// characters).
fn long_text() -> Value {
    json!({"type": "string", "maxLength": 20000,
           "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"})
}
/// Free text that must say something (a flag's reason, an incident's description).
fn long_text_required() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 20000,
           "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"})
}
/// An ISO 3166-1 alpha-2 code.
fn country() -> Value {
    let codes: Vec<&str> = amparo_domain::country::Country::codes().collect();
    json!({"type": "string", "enum": codes})
}
/// An ISO 639 code, two or three lower-case letters.
fn lang() -> Value {
    json!({"type": "string", "pattern": "^[a-z]{2,3}$"})
}
fn en(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}
fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn name_schema() -> Value {
    json!({"type": "object", "properties": {
        "given": s("string"), "family": s("string"),
        "kind": en(&["as_given", "legal", "alias"]),
        "script": en(&["latin", "hebrew", "other"]),
        "language": lang()}})
}

fn birth_schema() -> Value {
    json!({"type": "object", "required": ["precision"], "properties": {
        "precision": en(&["unknown", "exact", "year_month", "year", "estimated_age"]),
        "date": {"type": "string", "format": "date"},
        "year": s("integer"), "month": s("integer"), "age": s("integer"),
        "at": {"type": "string", "format": "date"}}})
}

/// Writable fields and required ones, per kind.
fn kind_fields(kind: Kind) -> (Value, Vec<&'static str>) {
    match kind {
        Kind::Operation => (
            json!({"name": text(), "country": country(),
                   "start_date": {"type":"string","format":"date"},
                   "lead_agency": text(), "description": long_text()}),
            vec!["name", "country", "start_date", "lead_agency"],
        ),
        Kind::Child => (
            json!({"operation_id": uuid(), "names": arr(name_schema()),
                   "sex": en(&["female", "male", "unknown"]), "birth": birth_schema(),
                   "languages": arr(lang()), "nationalities": arr(country()),
                   "wristband": text(),
                   "status": en(&["intake","in_care","missing","hospitalised","transferred","released","closed","merged"]),
                   "photo": text(), "protection_notes": long_text()}),
            vec!["operation_id"],
        ),
        Kind::Person => (
            json!({"operation_id": uuid(), "names": arr(name_schema()),
                   "sex": en(&["female", "male", "unknown"]), "birth": birth_schema(),
                   "country_of_residence": country(), "nationalities": arr(country()),
                   "notes": long_text()}),
            vec!["names"],
        ),
        Kind::Relationship => (
            json!({"from": uuid(), "to": uuid(),
                   "kind": en(&["mother","father","guardian","sibling","half_sibling","spouse","grandparent","other_relative","community_leader"]),
                   "verification": en(&["claimed", "verified"]), "source": text()}),
            vec!["from", "to", "kind"],
        ),
        Kind::Household => (
            json!({"operation_id": uuid(), "label": text(), "members": arr(uuid()),
                   "countries": arr(country()), "address": long_text()}),
            vec![],
        ),
        Kind::Facility => (
            json!({"operation_id": uuid(), "name": text(),
                   "kind": en(&["care_centre","hospital","police","other"]),
                   "address": long_text(), "capacity": s("integer"),
                   "security_level": en(&["low","medium","high"])}),
            vec!["name", "kind"],
        ),
        Kind::Placement => (
            json!({"child_id": uuid(), "facility_id": uuid(),
                   "from": {"type":"string","format":"date-time"},
                   "to": {"type":"string","format":"date-time"},
                   "legal_basis": {"type":"object","required":["kind","issuing_authority","reference","date"],
                       "properties": {"kind": en(&["protective_order","court_order","emergency_measure","consent","other"]),
                       "issuing_authority": text(), "reference": text(),
                       "date": {"type":"string","format":"date"}}},
                   "authorised_by": text(), "reason": text()}),
            vec![
                "child_id",
                "facility_id",
                "from",
                "legal_basis",
                "authorised_by",
            ],
        ),
        Kind::RiskFlag => (
            json!({"child_id": uuid(),
                   "kind": en(&["child_marriage","pregnancy_minor","sexual_abuse_suspected","physical_punishment","neglect","trafficking_risk","abduction_risk","medical_urgent"]),
                   "status": en(&["open","cleared"]), "reason": long_text_required(),
                   "automatic": s("boolean"), "source_record": uuid(), "cleared_reason": long_text()}),
            vec!["child_id", "kind", "reason"],
        ),
        Kind::Incident => (
            json!({"operation_id": uuid(), "facility_id": uuid(),
                   "kind": en(&["attempted_abduction","abduction","break_in","threat","assault","absconding","self_harm","media_intrusion","other"]),
                   "occurred_at": {"type":"string","format":"date-time"}, "place": text(),
                   "description": long_text_required(), "children": arr(uuid()), "persons": arr(uuid()),
                   "adults_described": arr(text()), "staff_present": arr(text()),
                   "police_report": text(), "actions_taken": long_text(),
                   "severity": en(&["low","medium","high","critical"])}),
            vec!["kind", "occurred_at", "description"],
        ),
        Kind::RollCall => (
            json!({"facility_id": uuid(), "children": arr(uuid()), "label": text(), "incident_id": uuid(),
                   "expected": arr(uuid()), "status": en(&["open","closed"]), "closed_at": s("string")}),
            vec![],
        ),
        Kind::RollCallMark => (
            json!({"roll_call_id": uuid(), "child_id": uuid(), "facility_id": uuid(),
                   "mark": en(&["present","elsewhere_known","unaccounted"]), "location": text()}),
            vec!["child_id", "mark"],
        ),
        Kind::MissingAlert => (
            json!({"child_id": uuid(), "facility_id": uuid(), "roll_call_id": uuid(), "status": en(&["open","found"]),
                   "last_seen_at": s("string"), "last_seen_place": text(), "clothing": long_text(),
                   "found_at": s("string"), "found_where": text()}),
            vec!["child_id", "last_seen_at"],
        ),
        Kind::Restriction => (
            json!({"person_id": uuid(), "children": arr(uuid()), "operation_id": uuid(),
                   "authority": {"type":"object","required":["kind","issuing_authority","reference","date"],"properties":{
                       "kind": en(&["protective_order","court_order","emergency_measure","consent","other"]),
                       "issuing_authority": text(), "reference": text(),
                       "date": {"type":"string","format":"date"}, "expires": {"type":"string","format":"date"}}},
                   "barred": arr(en(&["contact","visits","location_information"])), "notes": long_text()}),
            vec!["person_id", "authority", "barred"],
        ),
        Kind::Visit => (
            json!({"facility_id": uuid(), "visitor": name_schema(), "document": text(),
                   "relationship_claimed": text(), "child_id": uuid(),
                   "outcome": en(&["allowed","blocked"]), "reason": long_text(),
                   "restriction_id": uuid(), "incident_id": uuid()}),
            vec!["facility_id", "visitor", "child_id"],
        ),
        Kind::Site => (
            json!({"operation_id": uuid(), "name": text(), "address": long_text()}),
            vec!["name"],
        ),
        Kind::WelfareCheck => (
            json!({"child_id": uuid(), "household_id": uuid(), "site_id": uuid(),
                   "planned_for": {"type":"string","format":"date"}, "done_at": {"type":"string","format":"date-time"},
                   "visitors": arr(text()),
                   "outcome": en(&["seen_safe","concerns","not_found","access_denied","obstructed"]),
                   "refused_by": text(), "notes": long_text(), "follow_up_task": uuid()}),
            vec![],
        ),
        Kind::Allegation => (
            json!({"kind": en(&["rape","sexual_abuse","forced_pregnancy","child_marriage","physical_abuse","psychological_abuse","neglect","trafficking","other"]),
                   "victims": arr(uuid()), "perpetrators": arr(uuid()), "reported_by": text(),
                   "reported_at": {"type":"string","format":"date-time"}, "place": text(),
                   "status": en(&["reported","under_investigation","referred_to_prosecutor","charged","substantiated","unsubstantiated","closed"]),
                   "prosecutor_reference": text(),
                   "other_jurisdictions": arr(json!({"type":"object","properties":{"country":country(),"agency": text(),"reference": text()}})),
                   "summary": long_text()}),
            vec!["kind", "victims", "reported_by", "reported_at", "summary"],
        ),
        Kind::Evidence => (
            json!({"allegation_id": uuid(), "incident_id": uuid(), "sha256": text(), "size": s("integer"),
                   "content_type": text(), "filename": text(), "description": long_text(),
                   "custody": arr(json!({"type":"object","properties":{"from": text(),"to": text(),"at":s("string"),"purpose": text()}}))}),
            vec![],
        ),
        Kind::CarePlan => (
            json!({"child_id": uuid(), "religion": text(), "religious_practice": long_text(), "diet": text(),
                   "languages": arr(lang()), "interpreter_needed": s("boolean"), "education": long_text(),
                   "health_notes": long_text(), "contact_arrangements": long_text(),
                   "placement_goal": en(&["return_to_family","kinship_care","foster_care","residential_care","independent_living","adoption","undecided"])}),
            vec!["child_id"],
        ),
        Kind::Release => (
            json!({"child_id": uuid(), "to_person": uuid(), "relationship_verification": long_text(),
                   "child_views": long_text(), "receiving_household": uuid(),
                   "legal_basis": {"type":"object","properties":{"kind": s("string"), "issuing_authority": text(), "reference": text(), "date": {"type":"string","format":"date"}}}}),
            vec![
                "child_id",
                "to_person",
                "relationship_verification",
                "child_views",
                "legal_basis",
            ],
        ),
        Kind::TracingRequest => (
            json!({"operation_id": uuid(), "sought_names": arr(name_schema()), "sought_sex": en(&["female","male","unknown"]),
                   "sought_birth": birth_schema(), "last_seen_place": text(), "last_seen_on": {"type":"string","format":"date"},
                   "parents": arr(text()), "distinguishing_details": long_text(), "requester_name": name_schema(),
                   "requester_agency": text(), "relationship_claimed": text(), "contact": text(),
                   "contact_name": name_schema(), "requester_country": country(), "consent_to_share": s("boolean")}),
            vec![
                "sought_names",
                "requester_name",
                "relationship_claimed",
                "contact",
            ],
        ),
        Kind::Task => (
            json!({"title": text(), "assignee": text(), "due": {"type":"string","format":"date"},
                   "record_id": uuid(), "status": en(&["open","done"]), "notes": long_text()}),
            vec!["title", "assignee", "due"],
        ),
    }
}

fn schema_name(kind: Kind) -> String {
    let c = kind.as_str();
    let mut out = String::new();
    for part in c.split('_') {
        let mut chars = part.chars();
        if let Some(f) = chars.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

fn problem() -> Value {
    json!({"description": "Problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn ok(schema: Value) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
}

/// Routes that are actions rather than plain records.
fn action_paths(paths: &mut serde_json::Map<String, Value>) {
    let errors = |mut responses: serde_json::Map<String, Value>, codes: &[&str]| {
        for c in codes {
            responses.insert((*c).into(), problem());
        }
        Value::Object(responses)
    };
    let action = |summary: &str, schema: Value, codes: &[&str]| {
        let mut m = serde_json::Map::new();
        m.insert("200".into(), ok(json!({"type": "object"})));
        m.insert("201".into(), ok(json!({"type": "object"})));
        let mut op = json!({"summary": summary, "responses": errors(m, codes)});
        if !schema.is_null() {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        op
    };
    let with_id = |mut op: Value| {
        op["parameters"] =
            json!([{"name": "id", "in": "path", "required": true, "schema": uuid()}]);
        op
    };
    let legal = json!({"type":"object","required":["kind","issuing_authority","reference","date"],"properties":{
        "kind": en(&["protective_order","court_order","emergency_measure","consent","other"]),
        "issuing_authority": text(), "reference": text(), "date": {"type":"string","format":"date"}}});
    let mut intake = action("Register a child from intake-form text (age or date as typed); idempotent with an Idempotency-Key header",
        json!({"type": "object", "required": ["operation_id"], "properties": {
            "operation_id": uuid(), "wristband": s("string"), "given": s("string"), "family": s("string"),
            "sex": en(&["female", "male", "unknown"]), "birth": s("string"), "languages": s("string"), "sibling_of": s("string")}}),
        &["400", "401", "403", "409", "422"]);
    intake["parameters"] =
        json!([{"name": "Idempotency-Key", "in": "header", "schema": s("string")}]);
    paths.insert("/api/v1/intake".into(), json!({"post": intake}));
    if let Some(r) = paths.get_mut("/api/v1/releases") {
        r["post"] = action("Propose releasing a child to an adult, with the assessment. Refused outright when the adult is under a restriction covering the child or is named as a perpetrator in an allegation about the child",
            json!({"type":"object","required":["child_id","to_person","relationship_verification","child_views","legal_basis"],"properties":{
                "child_id":uuid(),"to_person":uuid(),"relationship_verification":s("string"),"child_views":s("string"),"receiving_household":uuid(),"legal_basis":legal.clone()}}),
            &["400","401","403","404","409","422"]);
    }
    if let Some(r) = paths.get_mut("/api/v1/tracing-requests") {
        r["post"] = action("Record a tracing request. When the requester or the contact matches a restricted person or an alleged perpetrator, its status is alert and it never shows candidates",
            Value::Null, &["400","401","403","422"]);
        r["post"]["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TracingRequestInput"}}}});
    }
    paths.insert("/api/v1/tracing-requests/{id}/candidates".into(), json!({"get": with_id(action(
        "Children who may be the one sought, best first, with probability and per-field explanation (computed now, so changes on either side count); none for a request in alert",
        Value::Null, &["401","404"]))}));
    paths.insert("/api/v1/tracing-requests/{id}/decisions".into(), json!({"post": with_id(action(
        "Confirm or reject a candidate; the request and the child keep the decision in their history",
        json!({"type":"object","required":["child_id","decision"],"properties":{"child_id":uuid(),"decision":en(&["confirmed","rejected"])}}),
        &["400","401","403","404","409","422"]))}));
    paths.insert("/api/v1/partners".into(), json!({
        "get": action("Partner agencies of the caller's agency, with their public keys", Value::Null, &["401", "403"]),
        "post": action("Register a partner agency (user.admin) with the keys it printed with `amparo partner key`",
            json!({"type":"object","required":["name","country","signing_key","age_recipient"],"properties":{
                "name":s("string"),"country":country(),"signing_key":s("string"),"age_recipient":s("string")}}),
            &["400","401","403","409","422"]),
    }));
    paths.insert("/api/v1/tracing-requests/pfif".into(), json!({"get": {"summary": "The tracing requests the caller may see as PFIF 1.4 XML (who is sought only: never a match, a status or a location; requests in alert are left out)",
        "responses": {"200": {"description": "PFIF 1.4", "content": {"application/xml": {}}}, "401": problem(), "403": problem()}}}));
    paths.insert("/api/v1/partners/self".into(), json!({"get": action("This server's public keys: the Ed25519 signing key and the age recipient", Value::Null, &["401"])}));
    let referral_params = json!([{"name": "id", "in": "path", "required": true, "schema": uuid()},
        {"name": "partner", "in": "query", "required": true, "schema": uuid()},
        {"name": "sections", "in": "query", "schema": s("string"), "description": "identity,status,care (children only; a location is never sent)"},
        {"name": "in_reply_to", "in": "query", "schema": uuid()}]);
    let referral = |summary: &str| {
        json!({"post": {"summary": summary, "parameters": referral_params.clone(),
        "responses": {"200": {"description": "an encrypted, signed package", "content": {"application/octet-stream": {}}},
                      "400": problem(), "401": problem(), "403": problem(), "404": problem(), "409": problem(), "422": problem()}}})
    };
    paths.insert("/api/v1/tracing-requests/{id}/referral".into(), referral("A tracing request as a referral package for one partner (signed with this server's Ed25519 key, encrypted to the partner)"));
    paths.insert("/api/v1/children/{id}/referral".into(), referral("The chosen sections of a child's case as a referral package for one partner; in_reply_to names the partner's request it answers"));
    paths.insert("/api/v1/referrals/import".into(), json!({"post": {"summary": "Receive a package from a partner: decrypted, its signature verified against the registered partners, then imported as a new tracing request or appended as a reply; never overwrites",
        "requestBody": {"required": true, "content": {"application/octet-stream": {}}},
        "responses": {"201": ok(json!({"type":"object"})), "401": problem(), "403": problem(), "404": problem(), "413": problem(), "422": problem()}}}));
    paths.insert("/api/v1/releases/{id}/approve".into(), json!({"post": with_id(action(
        "Approve a proposed release (release.approve; not the proposer; once per user). The second approval carries it out: the placement ends and the child is released",
        json!({"type":"object","properties":{"note":s("string")}}), &["400","401","403","404","409","422"]))}));
    paths.insert("/api/v1/releases/{id}/refuse".into(), json!({"post": with_id(action(
        "Refuse a proposed release, with the reason (release.approve)",
        json!({"type":"object","required":["reason"],"properties":{"reason":s("string")}}), &["400","401","403","404","409","422"]))}));
    let mut import = with_id(
        json!({"summary": "Import children from a CSV or XLSX file (the body). mode=dry_run (default) checks every row and writes nothing; all_or_nothing writes every row or none (422 listing each row's problems); good_rows writes the good rows and returns the others as rejected_csv. Rows imported before are recognised, not repeated",
        "requestBody": {"required": true, "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
        "responses": errors({let mut m = serde_json::Map::new(); m.insert("200".into(), ok(json!({"type":"object"}))); m.insert("201".into(), ok(json!({"type":"object"}))); m}, &["400","401","403","404","413","422"])}),
    );
    if let Some(params) = import["parameters"].as_array_mut() {
        params.push(json!({"name": "mode", "in": "query", "schema": en(&["dry_run", "all_or_nothing", "good_rows"])}));
        params.push(json!({"name": "map", "in": "query", "schema": s("string"), "description": "COLUMN=FIELD for a column not recognised by name (repeatable)"}));
    }
    paths.insert(
        "/api/v1/operations/{id}/imports".into(),
        json!({"post": import}),
    );
    let mut export = with_id(
        json!({"summary": "The operation's children as the caller may see them (redacted; every read audited)",
        "responses": {"200": {"description": "file", "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}, "application/json": {}}}, "400": problem(), "401": problem(), "404": problem()}}),
    );
    if let Some(params) = export["parameters"].as_array_mut() {
        params
            .push(json!({"name": "format", "in": "query", "schema": en(&["csv", "xlsx", "json"])}));
    }
    paths.insert(
        "/api/v1/operations/{id}/children/export".into(),
        json!({"get": export}),
    );
    let mut case_file = with_id(
        json!({"summary": "The child's case file as PDF: identity, placements with legal basis, risk flags, welfare checks, incidents, tasks, and (for investigators) allegations and the evidence manifest; every page footed with the case number, who printed it and when, and the audit-chain position. Every record printed is an audited read",
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {}}}, "400": problem(), "401": problem(), "404": problem()}}),
    );
    if let Some(params) = case_file["parameters"].as_array_mut() {
        params.push(json!({"name": "lang", "in": "query", "schema": en(&["es", "en"])}));
    }
    paths.insert(
        "/api/v1/children/{id}/case-file".into(),
        json!({"get": case_file}),
    );
    paths.insert("/api/v1/children/{id}/photo".into(), json!({
        "get": with_id(json!({"summary": "A child's photo (identity; audited)", "responses": {"200": {"description": "image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}, "401": problem(), "404": problem()}})),
        "put": with_id(json!({"summary": "Set a child's photo (JPEG, PNG or WebP, at most 5 MiB)",
            "requestBody": {"required": true, "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
            "responses": {"204": {"description": "Stored"}, "401": problem(), "403": problem(), "404": problem(), "413": problem(), "415": problem()}}))
    }));
    if let Some(rc) = paths.get_mut("/api/v1/roll-calls") {
        rc["post"] = action(
            "Start a roll call: every child placed at the facility now, or the children listed",
            json!({"type":"object","properties":{"facility_id":uuid(),"children":arr(uuid()),"label":s("string"),"incident_id":uuid()}}),
            &["400", "401", "403", "404", "422"],
        );
    }
    if let Some(v) = paths.get_mut("/api/v1/visits") {
        v["post"] = action("Log a visitor; a likely match with a restricted person blocks the visit and records an incident",
            json!({"type":"object","required":["facility_id","visitor","child_id"],"properties":{"facility_id":uuid(),"visitor":name_schema(),
                   "document":s("string"),"relationship_claimed":s("string"),"child_id":uuid()}}),
            &["400","401","403","404","422"]);
    }
    if let Some(e) = paths.get_mut("/api/v1/evidence") {
        e["post"] = json!({"summary": "Upload evidence: the body is the file; ?allegation=ID or ?incident=ID; X-Filename and X-Description headers (percent-encoded)",
            "parameters": [{"name":"allegation","in":"query","schema":uuid()},{"name":"incident","in":"query","schema":uuid()},
                           {"name":"X-Filename","in":"header","schema":s("string")},{"name":"X-Description","in":"header","schema":s("string")}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {}}},
            "responses": errors({let mut m = serde_json::Map::new(); m.insert("201".into(), ok(json!({"type":"object"}))); m}, &["400","401","403","404","413","415"])});
    }
    paths.insert("/api/v1/roll-calls/{id}/status".into(), json!({"get": with_id(action("Expected children, their latest marks and the counts", Value::Null, &["401","404"]))}));
    paths.insert("/api/v1/roll-calls/{id}/events".into(), json!({"get": with_id(json!({"summary": "Live marks (server-sent events; a snapshot first, on every connection)",
        "responses": {"200": {"description": "text/event-stream", "content": {"text/event-stream": {}}}, "401": problem(), "404": problem()}}))}));
    paths.insert("/api/v1/roll-calls/{id}/marks".into(), json!({"post": with_id(action("Mark a child present, elsewhere (with where) or unaccounted",
        json!({"type":"object","required":["child_id","mark"],"properties":{"child_id":uuid(),"mark":en(&["present","elsewhere_known","unaccounted"]),"location":s("string")}}),
        &["400","401","403","404","409","422"]))}));
    paths.insert("/api/v1/roll-calls/{id}/close".into(), json!({"post": with_id(action("Close: unaccounted children become missing, with alerts", Value::Null, &["401","403","404","409"]))}));
    paths.insert("/api/v1/alerts/{id}/found".into(), json!({"post": with_id(action("The child was found: clear the alert with where",
        json!({"type":"object","required":["found_where"],"properties":{"found_where":s("string")}}), &["400","401","403","404","409","422"]))}));
    paths.insert("/api/v1/transfers".into(), json!({"post": action("Emergency transfer of many children at once, one legal basis and reason",
        json!({"type":"object","required":["children","to_facility_id","legal_basis","reason","authorised_by"],"properties":{
            "children":arr(uuid()),"to_facility_id":uuid(),"legal_basis":legal.clone(),"reason":s("string"),"authorised_by":s("string")}}),
        &["400","401","403","404","422"])}));
    paths.insert("/api/v1/incidents/{id}/respond".into(), json!({"post": with_id(action("From an incident: transfer the children and start a roll call where they arrive",
        json!({"type":"object","required":["to_facility_id","legal_basis","reason","authorised_by"],"properties":{
            "children":arr(uuid()),"to_facility_id":uuid(),"legal_basis":legal,"reason":s("string"),"authorised_by":s("string")}}),
        &["400","401","403","404","422"]))}));
    paths.insert("/api/v1/evidence/{id}/file".into(), json!({"get": with_id(json!({"summary": "The evidence file, always as a download; every access audited",
        "responses": {"200": {"description": "the file", "content": {"application/octet-stream": {}}}, "401": problem(), "404": problem(), "409": problem()}}))}));
    paths.insert("/api/v1/evidence/{id}/verify".into(), json!({"get": with_id(action("Re-hash the stored file and say whether it is intact", Value::Null, &["401","404"]))}));
    paths.insert("/api/v1/evidence/{id}/handover".into(), json!({"post": with_id(action("Record a hand-over in the chain of custody",
        json!({"type":"object","required":["from","to","purpose"],"properties":{"from":s("string"),"to":s("string"),"purpose":s("string")}}),
        &["400","401","403","404","422"]))}));
    paths.insert("/api/v1/allegations/{id}/bundle".into(), json!({"get": with_id(json!({"summary": "Evidence bundle for the prosecutor (tar: files, manifest with hashes, chain of custody, audit entries)",
        "responses": {"200": {"description": "tar archive", "content": {"application/x-tar": {}}}, "401": problem(), "404": problem()}}))}));
    paths.insert(
        "/api/v1/tasks/mine".into(),
        json!({"get": action("My open tasks, overdue first", Value::Null, &["401"])}),
    );
    paths.insert("/api/v1/sites/{id}/welfare".into(), json!({"get": with_id(action("A site's welfare checks at a glance (how often officials were kept out)", Value::Null, &["401","404"]))}));
    let mut dup = action("Suspected duplicate children (of an operation), grouped by the person they seem to be (group, group_size; strongest group first), best first within a group, each with the per-field levels and weights", Value::Null, &["400","401","403"]);
    dup["parameters"] = json!([{"name":"operation","in":"query","schema":uuid()}]);
    paths.insert("/api/v1/duplicates".into(), json!({"get": dup}));
    paths.insert("/api/v1/duplicates/merge".into(), json!({"post": action("Merge a duplicate into the record to keep (both histories kept; undo with unmerge)",
        json!({"type":"object","required":["keep","duplicate"],"properties":{"keep":uuid(),"duplicate":uuid()}}), &["400","401","403","404","409","422"])}));
    paths.insert("/api/v1/duplicates/unmerge".into(), json!({"post": action("Undo a merge",
        json!({"type":"object","required":["id"],"properties":{"id":uuid()}}), &["400","401","403","404","409","422"])}));
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    let errors = |mut responses: serde_json::Map<String, Value>, codes: &[&str]| {
        for c in codes {
            responses.insert((*c).into(), problem());
        }
        Value::Object(responses)
    };
    for kind in Kind::ALL {
        let name = schema_name(kind);
        let (props, required) = kind_fields(kind);
        schemas.insert(
            format!("{name}Input"),
            json!({"type": "object", "properties": props, "required": required}),
        );
        let mut full = props.clone();
        if let Some(o) = full.as_object_mut() {
            for (k, v) in [
                ("id", uuid()),
                ("version", s("integer")),
                ("created_at", s("string")),
                ("created_by", s("string")),
                ("updated_at", s("string")),
                ("updated_by", s("string")),
            ] {
                o.insert(k.into(), v);
            }
            if kind == Kind::Child {
                o.insert("case_number".into(), s("string"));
                o.insert("current_facility_id".into(), opt_str());
            }
        }
        schemas.insert(
            name.clone(),
            json!({"type": "object", "description": "Fields the caller may not see are absent.", "properties": full}),
        );
        let r = json!({"$ref": format!("#/components/schemas/{name}")});
        let input = json!({"$ref": format!("#/components/schemas/{name}Input")});
        let c = kind.collection();
        let id_param = json!({"name": "id", "in": "path", "required": true, "schema": uuid()});
        let list_params = json!([
            {"name": "operation", "in": "query", "schema": uuid()},
            {"name": "status", "in": "query", "schema": {"type": "string", "pattern": "^[a-z_]{0,40}$"}},
            {"name": "child", "in": "query", "schema": uuid()},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 500}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4611686018427387903i64}},
            {"name": "after", "in": "query", "description": "the `next` of the previous page (keyset paging: use it instead of a large offset)", "schema": uuid()}
        ]);
        let page_of = |r: &Value| {
            json!({"type": "object", "required": ["items", "total", "total_exact", "limit", "offset"], "properties": {
                "items": arr(r.clone()),
                "total": {"type": "integer", "description": "how many match; when total_exact is false, at least this many (counting stops at 10,000, a name search at 1,000 matches: add to the name)"},
                "total_exact": s("boolean"),
                "next": {"type": ["string", "null"], "format": "uuid", "description": "pass as `after` for the next page; null on the last"},
                "limit": s("integer"), "offset": s("integer")}})
        };
        let mut list_ok = serde_json::Map::new();
        list_ok.insert("200".into(), ok(page_of(&r)));
        let mut created = serde_json::Map::new();
        created.insert("201".into(), ok(r.clone()));
        // Roll calls, marks, alerts and visits change only through their own actions.
        let writable = !matches!(
            kind,
            Kind::RollCall
                | Kind::RollCallMark
                | Kind::MissingAlert
                | Kind::Visit
                | Kind::Evidence
                | Kind::Release
                | Kind::TracingRequest
        );
        let mut collection = json!({
            "get": {"summary": format!("List {c}"), "tags": [c], "parameters": list_params,
                    "responses": errors(list_ok, &["400", "401", "403", "422"])}
        });
        if writable {
            collection["post"] = json!({"summary": format!("Create a {}", kind.as_str()), "tags": [c],
                     "requestBody": {"required": true, "content": {"application/json": {"schema": input.clone()}}},
                     "responses": errors(created, &["400", "401", "403", "409", "413", "422"])});
        }
        paths.insert(format!("/api/v1/{c}"), collection);
        let nullable_uuid = json!({"type": ["string", "null"], "format": "uuid"});
        let mut found = serde_json::Map::new();
        found.insert("200".into(), ok(page_of(&r)));
        paths.insert(format!("/api/v1/{c}/search"), json!({
            "post": {"summary": format!("Search {c} by any name variant, case number or wristband (names stay out of URLs)"), "tags": [c],
                     "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
                         "q": {"type": ["string", "null"]}, "operation": nullable_uuid, "status": {"type": ["string", "null"], "pattern": "^[a-z_]{0,40}$"}, "child": nullable_uuid,
                         "limit": {"type": ["integer", "null"], "minimum": 0, "maximum": 500}, "offset": {"type": ["integer", "null"], "minimum": 0, "maximum": 4611686018427387903i64}, "after": nullable_uuid}, "additionalProperties": false}}}},
                     "responses": errors(found, &["400", "401", "403", "422"])}
        }));
        let mut read_ok = serde_json::Map::new();
        read_ok.insert("200".into(), ok(r.clone()));
        let mut patched = serde_json::Map::new();
        patched.insert("200".into(), ok(r.clone()));
        let mut item = json!({
            "get": {"summary": format!("Read a {}", kind.as_str()), "tags": [c], "parameters": [id_param.clone()],
                    "responses": errors(read_ok, &["401", "404"])}
        });
        if writable {
            item["patch"] = json!({"summary": format!("Change a {} (JSON merge patch; If-Match required)", kind.as_str()), "tags": [c],
                      "parameters": [id_param.clone(), {"name": "If-Match", "in": "header", "required": true, "description": "the ETag of the version you read, e.g. \"3\"", "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,18}\"?$"}}],
                      "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": input}}},
                      "responses": errors(patched, &["400", "401", "403", "404", "409", "412", "413", "422", "428"])});
        }
        paths.insert(format!("/api/v1/{c}/{{id}}"), item);
        let mut hist_ok = serde_json::Map::new();
        hist_ok.insert("200".into(), ok(json!({"type": "object", "properties": {"items": arr(json!({"type":"object","properties":{
            "version": s("integer"), "changed_at": s("string"), "changed_by": s("string"), "data": r}})), "total": s("integer")}})));
        paths.insert(format!("/api/v1/{c}/{{id}}/history"), json!({
            "get": {"summary": format!("Every version of a {}", kind.as_str()), "tags": [c], "parameters": [id_param],
                    "responses": errors(hist_ok, &["401", "404"])}
        }));
    }
    let plain = |summary: &str, codes: &[&str]| {
        let mut m = serde_json::Map::new();
        m.insert("200".into(), ok(json!({"type": "object"})));
        json!({"summary": summary, "responses": errors(m, codes)})
    };
    let no_content = |summary: &str, codes: &[&str]| {
        let mut m = serde_json::Map::new();
        m.insert("204".into(), json!({"description": "Done"}));
        json!({"summary": summary, "responses": errors(m, codes)})
    };
    let body = |mut op: Value, schema: Value| {
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
        op
    };
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": uuid()}]);
    let with_id = |mut op: Value| {
        op["parameters"] = id_param.clone();
        op
    };
    paths.insert("/api/v1/session".into(), json!({
        "post": body(plain("Sign in; sets the session cookie and returns the CSRF token. Users with a second factor also send totp (the 6-digit code)", &["400", "401", "422", "429"]),
            json!({"type":"object","required":["username","password"],"properties":{"username":s("string"),"password":s("string"),"totp":s("string")}})),
        "get": plain("The signed-in user", &["401"]),
        "delete": no_content("Sign out", &["401", "403"]),
    }));
    paths.insert("/api/v1/session/password".into(), json!({
        "post": body(no_content("Change your password", &["400", "401", "403", "422"]),
            json!({"type":"object","required":["current_password","new_password"],"properties":{"current_password":s("string"),"new_password":s("string")}})),
    }));
    let mut enrol = body(plain("Enrol a second factor (TOTP) for yourself: an empty body returns a new secret and its otpauth address; {secret, code} stores it (204). Signed-in users whose role reads restricted data can do nothing else until they have one", &["400", "401", "403", "409", "422"]),
            json!({"type":"object","properties":{"secret":s("string"),"code":s("string")}}));
    enrol["responses"]["204"] = json!({"description": "Enrolled"});
    paths.insert("/api/v1/session/totp".into(), json!({"post": enrol}));
    paths.insert("/api/v1/users".into(), json!({
        "get": plain("Users of your agency (admin)", &["401", "403"]),
        "post": body(plain("Add a user with a one-time password (admin)", &["400", "401", "403", "409", "422"]),
            json!({"type":"object","required":["username","roles"],"properties":{"username":s("string"),"roles":arr(s("string")),"facilities":arr(uuid()),"language":en(&["es","en"])}})),
    }));
    paths.insert(
        "/api/v1/users/{id}/password-reset".into(),
        json!({"post": with_id(plain("Reset a user's password (admin)", &["401", "403", "404"]))}),
    );
    paths.insert("/api/v1/users/{id}/disable".into(), json!({"post": with_id(no_content("Disable a user and end their sessions (admin)", &["401", "403", "404", "409"]))}));
    paths.insert(
        "/api/v1/users/{id}/enable".into(),
        json!({"post": with_id(no_content("Enable a user (admin)", &["401", "403", "404"]))}),
    );
    let mut audit_op = plain(
        "Audit entries, for one record with ?record=ID (admin, investigator)",
        &["400", "401", "403", "404"],
    );
    audit_op["parameters"] = json!([{"name":"record","in":"query","schema":uuid()},{"name":"limit","in":"query","schema":s("integer")}]);
    paths.insert("/api/v1/audit".into(), json!({"get": audit_op}));
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({"get": plain("This document", &[])}),
    );
    action_paths(&mut paths);
    schemas.insert("Problem".into(), json!({"type": "object", "properties": {
        "type": s("string"), "title": s("string"), "status": s("integer"), "detail": s("string"),
        "errors": arr(json!({"type":"object","properties":{"field":s("string"),"message":s("string")}}))}}));
    json!({
        "openapi": "3.1.0",
        "info": {"title": "amparo API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Case management for child protection. Errors are application/problem+json. Updates need If-Match."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "amparo_session"}
            }
        },
        "security": [{"bearer": []}, {"session": []}]
    })
}
