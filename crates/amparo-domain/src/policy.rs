//! The access policy, in one place: roles grant capabilities, capabilities open
//! sensitivities, and every record that leaves the server passes through [`redact`].
use crate::records::{Kind, RiskFlag};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Caseworker,
    ShelterStaff,
    Investigator,
    Partner,
    /// Approves releases of children to adults (two different supervisors per release).
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Caseworker,
        Role::ShelterStaff,
        Role::Investigator,
        Role::Partner,
        Role::Supervisor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Caseworker => "caseworker",
            Role::ShelterStaff => "shelter_staff",
            Role::Investigator => "investigator",
            Role::Partner => "partner",
            Role::Supervisor => "supervisor",
        }
    }
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a role: use one of admin, caseworker, shelter_staff, investigator, partner, supervisor"
                )
            })
    }
    /// The capabilities each role grants. This table is the policy.
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            Role::Admin => &[UserAdmin, AuditRead],
            Role::Caseworker => &[
                ReadBasic,
                ReadIdentity,
                ReadLocation,
                CaseWrite,
                NoteWrite,
                RollcallRun,
            ],
            Role::ShelterStaff => &[
                ReadBasic,
                ReadIdentity,
                ReadLocation,
                NoteWrite,
                RollcallRun,
            ],
            Role::Investigator => &[
                ReadBasic,
                ReadIdentity,
                ReadLocation,
                ReadRestricted,
                AllegationWrite,
                AuditRead,
                NoteWrite,
            ],
            Role::Partner => &[ReadBasic],
            Role::Supervisor => &[
                ReadBasic,
                ReadIdentity,
                ReadLocation,
                CaseWrite,
                NoteWrite,
                RollcallRun,
                ReleaseApprove,
            ],
        }
    }
    /// Roles whose users must use a second factor (they read restricted data).
    pub fn needs_second_factor(self) -> bool {
        self.capabilities().contains(&Capability::ReadRestricted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Capability {
    #[serde(rename = "child.read.basic")]
    ReadBasic,
    #[serde(rename = "child.read.identity")]
    ReadIdentity,
    #[serde(rename = "child.read.location")]
    ReadLocation,
    #[serde(rename = "allegation.read")]
    ReadRestricted,
    #[serde(rename = "allegation.write")]
    AllegationWrite,
    #[serde(rename = "case.write")]
    CaseWrite,
    #[serde(rename = "note.write")]
    NoteWrite,
    #[serde(rename = "rollcall.run")]
    RollcallRun,
    #[serde(rename = "release.approve")]
    ReleaseApprove,
    #[serde(rename = "user.admin")]
    UserAdmin,
    #[serde(rename = "audit.read")]
    AuditRead,
}

/// How sensitive a field is. Ordered: a higher level needs more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Basic,
    Identity,
    Location,
    Restricted,
}

/// Who is asking: the user, their agency, what they may do, and (for shelter staff)
/// the facilities they are tied to.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: Uuid,
    pub username: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    /// `Some` limits child data to children placed in these facilities.
    pub facilities: Option<Vec<Uuid>>,
}

impl Viewer {
    pub fn has(&self, cap: Capability) -> bool {
        self.roles.iter().any(|r| r.capabilities().contains(&cap))
    }
    pub fn may_see(&self, s: Sensitivity) -> bool {
        match s {
            Sensitivity::Basic => self.has(Capability::ReadBasic),
            Sensitivity::Identity => self.has(Capability::ReadIdentity),
            Sensitivity::Location => self.has(Capability::ReadLocation),
            Sensitivity::Restricted => self.has(Capability::ReadRestricted),
        }
    }
    /// Build a viewer; facility scoping applies when the only case-reading role is
    /// shelter staff.
    pub fn new(
        user_id: Uuid,
        username: String,
        agency_id: Uuid,
        roles: Vec<Role>,
        facilities: Vec<Uuid>,
    ) -> Viewer {
        let unscoped_reader = roles
            .iter()
            .any(|r| matches!(r, Role::Caseworker | Role::Investigator | Role::Partner));
        let scoped = roles.contains(&Role::ShelterStaff) && !unscoped_reader;
        Viewer {
            user_id,
            username,
            agency_id,
            roles,
            facilities: scoped.then_some(facilities),
        }
    }
}

/// Where a stored record sits, for scoping decisions.
#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: Kind,
    pub agency_id: Uuid,
    /// For a child its current facility; for a placement or facility, that facility.
    pub facility_id: Option<Uuid>,
}

/// The sensitivity a viewer needs to know a record exists at all.
pub fn record_gate(kind: Kind, data: &Value) -> Sensitivity {
    match kind {
        Kind::Operation | Kind::Child | Kind::Facility => Sensitivity::Basic,
        Kind::Person | Kind::Relationship | Kind::Household => Sensitivity::Identity,
        Kind::Placement | Kind::RollCall | Kind::RollCallMark => Sensitivity::Location,
        Kind::Incident
        | Kind::MissingAlert
        | Kind::Restriction
        | Kind::Visit
        | Kind::WelfareCheck
        | Kind::Task => Sensitivity::Identity,
        Kind::Site | Kind::CarePlan => Sensitivity::Basic,
        Kind::Release | Kind::TracingRequest => Sensitivity::Identity,
        Kind::Allegation | Kind::Evidence => Sensitivity::Restricted,
        Kind::RiskFlag => match serde_json::from_value::<RiskFlag>(data.clone()) {
            Ok(f) if !f.kind.is_restricted() => Sensitivity::Identity,
            _ => Sensitivity::Restricted,
        },
    }
}

/// The capability needed to create or change records of a kind.
pub fn write_capability(kind: Kind) -> Capability {
    match kind {
        Kind::Allegation | Kind::Evidence => Capability::AllegationWrite,
        _ => Capability::CaseWrite,
    }
}

/// Kinds a facility-bound viewer (shelter staff) sees for their own facilities.
pub fn facility_bound(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Child
            | Kind::Placement
            | Kind::Facility
            | Kind::RollCall
            | Kind::RollCallMark
            | Kind::Visit
            | Kind::Incident
            | Kind::MissingAlert
    )
}

/// May this viewer know that this record exists? Deny by default.
pub fn can_see(viewer: &Viewer, scope: &Scope, data: &Value) -> bool {
    if scope.agency_id != viewer.agency_id {
        return false;
    }
    if !viewer.may_see(record_gate(scope.kind, data)) {
        return false;
    }
    match (&viewer.facilities, scope.kind) {
        (None, _) => true,
        (Some(_), Kind::Operation) => true,
        (Some(allowed), k) if facility_bound(k) => {
            scope.facility_id.is_some_and(|f| allowed.contains(&f))
        }
        // Family data and flags are beyond a facility-bound view.
        (Some(_), _) => false,
    }
}

/// Fields every viewer of a record may see: its identity and bookkeeping.
const META_FIELDS: [&str; 8] = [
    "id",
    "kind",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "case_number",
];

/// The sensitivity of one top-level field. Anything not listed is restricted:
/// a new field stays hidden until someone decides who may see it.
pub fn field_sensitivity(kind: Kind, field: &str) -> Sensitivity {
    use Sensitivity::*;
    if META_FIELDS.contains(&field) {
        return Basic;
    }
    match (kind, field) {
        (Kind::Operation, "name" | "country" | "start_date" | "lead_agency" | "description") => {
            Basic
        }
        (
            Kind::Child,
            "operation_id" | "status" | "sex" | "merged_into" | "status_before_merge",
        ) => Basic,
        (
            Kind::Child,
            "names" | "birth" | "languages" | "nationalities" | "wristband" | "photo" | "age_band",
        ) => Identity,
        (Kind::Child, "current_facility_id") => Location,
        (Kind::Child, "protection_notes") => Restricted,
        (Kind::Person, "operation_id") => Basic,
        (Kind::Person, "names" | "sex" | "birth" | "country_of_residence" | "nationalities") => {
            Identity
        }
        (Kind::Person, "notes") => Restricted,
        (Kind::Relationship, "from" | "to" | "kind" | "verification" | "source") => Identity,
        (Kind::Household, "operation_id") => Basic,
        (Kind::Household, "label" | "members" | "countries" | "address") => Identity,
        (Kind::Facility, "operation_id" | "name" | "kind" | "capacity" | "security_level") => Basic,
        (Kind::Facility, "address") => Location,
        (Kind::Placement, "child_id") => Basic,
        (
            Kind::Placement,
            "facility_id" | "from" | "to" | "legal_basis" | "authorised_by" | "reason",
        ) => Location,
        (
            Kind::RiskFlag,
            "child_id" | "kind" | "status" | "reason" | "automatic" | "source_record"
            | "cleared_reason",
        ) => Identity,
        (Kind::Incident, "facility_id" | "place") => Location,
        (
            Kind::Incident,
            "operation_id" | "kind" | "occurred_at" | "description" | "children" | "persons"
            | "adults_described" | "staff_present" | "police_report" | "actions_taken" | "severity",
        ) => Identity,
        (
            Kind::RollCall,
            "facility_id" | "label" | "expected" | "status" | "incident_id" | "closed_at",
        ) => Location,
        (Kind::RollCallMark, "roll_call_id" | "child_id" | "mark" | "location" | "facility_id") => {
            Location
        }
        (
            Kind::MissingAlert,
            "child_id" | "roll_call_id" | "status" | "last_seen_at" | "clothing",
        ) => Identity,
        (Kind::MissingAlert, "last_seen_place" | "found_at" | "found_where" | "facility_id") => {
            Location
        }
        (Kind::Restriction, "person_id" | "children" | "operation_id" | "authority" | "barred") => {
            Identity
        }
        (Kind::Visit, "facility_id") => Location,
        (Kind::Site, "operation_id" | "name") => Basic,
        (Kind::Site, "address") => Location,
        (
            Kind::WelfareCheck,
            "child_id" | "household_id" | "site_id" | "planned_for" | "done_at" | "visitors"
            | "outcome" | "refused_by" | "notes" | "follow_up_task",
        ) => Identity,
        // A partner serving meals or interpreting sees these needs and nothing else.
        (Kind::CarePlan, "child_id" | "diet" | "languages" | "interpreter_needed") => Basic,
        (
            Kind::CarePlan,
            "religion"
            | "religious_practice"
            | "education"
            | "contact_arrangements"
            | "placement_goal",
        ) => Identity,
        (Kind::CarePlan, "health_notes") => Restricted,
        (Kind::Release, "child_id" | "status" | "proposed_by" | "approvals" | "released_at") => {
            Basic
        }
        (
            Kind::Release,
            "to_person"
            | "relationship_verification"
            | "child_views"
            | "receiving_household"
            | "legal_basis"
            | "refusal_reason",
        ) => Identity,
        (Kind::TracingRequest, "operation_id" | "status" | "decisions") => Basic,
        (
            Kind::TracingRequest,
            "sought_names"
            | "sought_sex"
            | "sought_birth"
            | "last_seen_place"
            | "last_seen_on"
            | "parents"
            | "distinguishing_details"
            | "requester_name"
            | "requester_agency"
            | "relationship_claimed"
            | "contact"
            | "contact_name"
            | "requester_country"
            | "consent_to_share"
            | "alert"
            | "referral_from"
            | "referral_reference"
            | "replies",
        ) => Identity,
        (Kind::Child, "tracing_requests") => Identity,
        // What the server found (it may name an allegation): investigators only.
        (Kind::Release, "checks") => Restricted,
        (Kind::Task, "title" | "assignee" | "due" | "record_id" | "status" | "notes") => Identity,
        (Kind::Allegation | Kind::Evidence, _) => Restricted,
        (
            Kind::Visit,
            "visitor"
            | "document"
            | "relationship_claimed"
            | "child_id"
            | "outcome"
            | "reason"
            | "restriction_id"
            | "incident_id",
        ) => Identity,
        _ => Restricted,
    }
}

/// A record that has been through the policy: the only thing handlers can send.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Redacted {
    value: Value,
    #[serde(skip)]
    sensitive: bool,
}

impl Redacted {
    /// Did the viewer receive identity, location or restricted data (so the read is audited)?
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
    pub fn value(&self) -> &Value {
        &self.value
    }
    /// Values that carry no record data (counts, messages) need no redaction.
    pub fn plain(value: Value) -> Redacted {
        Redacted {
            value,
            sensitive: false,
        }
    }
}

/// Keep only the fields the viewer may see; a hidden field is absent, not empty.
/// Call [`can_see`] first: this function shapes a record the viewer may know of.
pub fn redact(viewer: &Viewer, kind: Kind, record: Value) -> Redacted {
    let mut sensitive = false;
    let value = match record {
        Value::Object(fields) => {
            let mut kept = Map::new();
            for (name, v) in fields {
                let s = field_sensitivity(kind, &name);
                if viewer.may_see(s) {
                    if s > Sensitivity::Basic {
                        sensitive = true;
                    }
                    kept.insert(name, v);
                }
            }
            Value::Object(kept)
        }
        _ => Value::Null,
    };
    Redacted { value, sensitive }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn viewer(roles: Vec<Role>, facilities: Vec<Uuid>) -> Viewer {
        Viewer::new(Uuid::nil(), "u".into(), Uuid::nil(), roles, facilities)
    }

    #[test]
    fn partner_sees_no_names() {
        let v = viewer(vec![Role::Partner], vec![]);
        let r = redact(
            &v,
            Kind::Child,
            json!({"id":"x","case_number":"GT-2026-000001","names":[{"given":"A"}],"status":"in_care","protection_notes":"p"}),
        );
        assert!(r.value().get("names").is_none());
        assert!(r.value().get("protection_notes").is_none());
        assert_eq!(r.value()["case_number"], "GT-2026-000001");
        assert!(!r.is_sensitive());
    }

    #[test]
    fn unknown_fields_are_restricted() {
        assert_eq!(
            field_sensitivity(Kind::Child, "something_new"),
            Sensitivity::Restricted
        );
        let v = viewer(vec![Role::Caseworker], vec![]);
        let r = redact(&v, Kind::Child, json!({"something_new": 1, "names": []}));
        assert!(r.value().get("something_new").is_none());
        assert!(r.is_sensitive());
    }

    #[test]
    fn shelter_staff_scope() {
        let f = Uuid::from_u128(7);
        let v = viewer(vec![Role::ShelterStaff], vec![f]);
        let here = Scope {
            kind: Kind::Child,
            agency_id: Uuid::nil(),
            facility_id: Some(f),
        };
        let elsewhere = Scope {
            facility_id: Some(Uuid::from_u128(8)),
            ..here.clone()
        };
        assert!(can_see(&v, &here, &json!({})));
        assert!(!can_see(&v, &elsewhere, &json!({})));
        let roll_call = Scope {
            kind: Kind::RollCall,
            ..here.clone()
        };
        assert!(can_see(&v, &roll_call, &json!({})));
        let person = Scope {
            kind: Kind::Person,
            ..here.clone()
        };
        assert!(!can_see(&v, &person, &json!({})));
        let other_agency = Scope {
            agency_id: Uuid::from_u128(1),
            ..here
        };
        assert!(!can_see(&v, &other_agency, &json!({})));
    }

    #[test]
    fn admin_sees_no_case_data() {
        let v = viewer(vec![Role::Admin], vec![]);
        let s = Scope {
            kind: Kind::Operation,
            agency_id: Uuid::nil(),
            facility_id: None,
        };
        assert!(!can_see(&v, &s, &json!({})));
    }

    #[test]
    fn restricted_flags_need_restricted_access() {
        let flag = json!({"child_id": Uuid::nil(), "kind":"pregnancy_minor","reason":"r"});
        assert_eq!(record_gate(Kind::RiskFlag, &flag), Sensitivity::Restricted);
        let flag = json!({"child_id": Uuid::nil(), "kind":"child_marriage","reason":"r"});
        assert_eq!(record_gate(Kind::RiskFlag, &flag), Sensitivity::Identity);
    }
}
