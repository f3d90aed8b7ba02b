//! Who may call which API route: the capability each route needs, written once as a
//! table. The access-matrix test (tests/access.rs) walks every route of the OpenAPI
//! document, asks this table what each role should get, and fails on a route the
//! table does not cover, so a new route cannot ship without a rule.
//! What a permitted caller then sees is the record policy's business (`policy.rs`:
//! gates, redaction, agency and facility scope); this table only says who may try.
use amparo_domain::policy::{write_capability, Capability};
use amparo_domain::records::Kind;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Signing in: no one is signed in yet.
    Anyone,
    /// Any signed-in user, whatever their roles (their own session, the API's
    /// description, their own tasks).
    SignedIn,
    /// A user holding at least one of these capabilities. Others get 403, or 404 for a
    /// record they may not know of.
    AnyOf(&'static [Capability]),
}

use Capability::*;

const READ: Rule = Rule::AnyOf(&[ReadBasic]);
/// Searching by name needs the names: roles that only see basic facts filter by
/// operation or status instead.
const NAME_SEARCH: Rule = Rule::AnyOf(&[ReadIdentity]);
const CASE: Rule = Rule::AnyOf(&[CaseWrite]);

/// Routes beyond the generic record set (method, path as in the OpenAPI document).
const SPECIAL: &[(&str, &str, Rule)] = &[
    ("POST", "/api/v1/session", Rule::Anyone),
    ("GET", "/api/v1/session", Rule::SignedIn),
    ("DELETE", "/api/v1/session", Rule::SignedIn),
    ("POST", "/api/v1/session/password", Rule::SignedIn),
    ("POST", "/api/v1/session/totp", Rule::SignedIn),
    ("GET", "/api/v1/openapi.json", Rule::SignedIn),
    ("GET", "/api/v1/users", Rule::AnyOf(&[UserAdmin])),
    ("POST", "/api/v1/users", Rule::AnyOf(&[UserAdmin])),
    (
        "POST",
        "/api/v1/users/{id}/disable",
        Rule::AnyOf(&[UserAdmin]),
    ),
    (
        "POST",
        "/api/v1/users/{id}/enable",
        Rule::AnyOf(&[UserAdmin]),
    ),
    (
        "POST",
        "/api/v1/users/{id}/password-reset",
        Rule::AnyOf(&[UserAdmin]),
    ),
    ("GET", "/api/v1/audit", Rule::AnyOf(&[AuditRead])),
    ("POST", "/api/v1/intake", CASE),
    ("GET", "/api/v1/children/{id}/photo", READ),
    ("PUT", "/api/v1/children/{id}/photo", CASE),
    ("GET", "/api/v1/children/{id}/case-file", READ),
    ("POST", "/api/v1/children/{id}/referral", CASE),
    ("POST", "/api/v1/operations/{id}/imports", CASE),
    ("GET", "/api/v1/operations/{id}/children/export", READ),
    // Looking at suspected duplicates shows names; merging them is a case change.
    (
        "GET",
        "/api/v1/duplicates",
        Rule::AnyOf(&[ReadIdentity, CaseWrite]),
    ),
    ("POST", "/api/v1/duplicates/merge", CASE),
    ("POST", "/api/v1/duplicates/unmerge", CASE),
    ("POST", "/api/v1/roll-calls", Rule::AnyOf(&[RollcallRun])),
    ("GET", "/api/v1/roll-calls/{id}/status", READ),
    ("GET", "/api/v1/roll-calls/{id}/events", READ),
    (
        "POST",
        "/api/v1/roll-calls/{id}/marks",
        Rule::AnyOf(&[RollcallRun]),
    ),
    (
        "POST",
        "/api/v1/roll-calls/{id}/close",
        Rule::AnyOf(&[RollcallRun]),
    ),
    (
        "POST",
        "/api/v1/alerts/{id}/found",
        Rule::AnyOf(&[RollcallRun]),
    ),
    ("POST", "/api/v1/transfers", CASE),
    ("POST", "/api/v1/incidents/{id}/respond", CASE),
    (
        "POST",
        "/api/v1/visits",
        Rule::AnyOf(&[NoteWrite, CaseWrite]),
    ),
    ("GET", "/api/v1/tasks/mine", Rule::SignedIn),
    ("GET", "/api/v1/sites/{id}/welfare", READ),
    (
        "GET",
        "/api/v1/evidence/{id}/file",
        Rule::AnyOf(&[ReadRestricted]),
    ),
    (
        "GET",
        "/api/v1/evidence/{id}/verify",
        Rule::AnyOf(&[ReadRestricted]),
    ),
    (
        "POST",
        "/api/v1/evidence/{id}/handover",
        Rule::AnyOf(&[AllegationWrite]),
    ),
    (
        "GET",
        "/api/v1/allegations/{id}/bundle",
        Rule::AnyOf(&[ReadRestricted]),
    ),
    ("POST", "/api/v1/releases", CASE),
    (
        "POST",
        "/api/v1/releases/{id}/approve",
        Rule::AnyOf(&[ReleaseApprove]),
    ),
    (
        "POST",
        "/api/v1/releases/{id}/refuse",
        Rule::AnyOf(&[ReleaseApprove]),
    ),
    ("GET", "/api/v1/partners", CASE),
    ("POST", "/api/v1/partners", Rule::AnyOf(&[UserAdmin])),
    ("GET", "/api/v1/partners/self", Rule::SignedIn),
    ("POST", "/api/v1/referrals/import", CASE),
    ("POST", "/api/v1/tracing-requests", CASE),
    ("GET", "/api/v1/tracing-requests/pfif", CASE),
    ("GET", "/api/v1/tracing-requests/{id}/candidates", CASE),
    ("POST", "/api/v1/tracing-requests/{id}/decisions", CASE),
    ("POST", "/api/v1/tracing-requests/{id}/referral", CASE),
];

/// The rule for a route, or `None` when the table does not cover it.
pub fn rule(method: &str, path: &str) -> Option<Rule> {
    let method = method.to_ascii_uppercase();
    if let Some((_, _, r)) = SPECIAL.iter().find(|(m, p, _)| *m == method && *p == path) {
        return Some(*r);
    }
    // The generic record routes: /{collection}, /search, /{id}, /{id}/history.
    let rest = path.strip_prefix("/api/v1/")?;
    let (collection, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let kind = Kind::from_collection(collection)?;
    let write = Rule::AnyOf(match write_capability(kind) {
        AllegationWrite => &[AllegationWrite],
        _ => &[CaseWrite],
    });
    match (method.as_str(), tail) {
        ("GET", "" | "{id}" | "{id}/history") => Some(READ),
        ("POST", "search") => Some(NAME_SEARCH),
        ("POST", "") | ("PATCH", "{id}") => Some(write),
        _ => None,
    }
}
