//! The records an agency keeps. Each deserialises only from valid shapes and values;
//! `prepare` adds the checks that need context (today's date) and fills derived fields.
use crate::birth::Birth;
use crate::country::Country;
use crate::error::Invalid;
use crate::names::{prepare_names, Name};
use crate::text::{Language, LongText, Text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// Every kind of record, named as in the API paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Operation,
    Child,
    Person,
    Relationship,
    Household,
    Facility,
    Placement,
    RiskFlag,
    Incident,
    RollCall,
    RollCallMark,
    MissingAlert,
    Restriction,
    Visit,
    Site,
    WelfareCheck,
    Allegation,
    Evidence,
    CarePlan,
    Task,
    Release,
    TracingRequest,
}

impl Kind {
    pub const ALL: [Kind; 22] = [
        Kind::Operation,
        Kind::Child,
        Kind::Person,
        Kind::Relationship,
        Kind::Household,
        Kind::Facility,
        Kind::Placement,
        Kind::RiskFlag,
        Kind::Incident,
        Kind::RollCall,
        Kind::RollCallMark,
        Kind::MissingAlert,
        Kind::Restriction,
        Kind::Visit,
        Kind::Site,
        Kind::WelfareCheck,
        Kind::Allegation,
        Kind::Evidence,
        Kind::CarePlan,
        Kind::Task,
        Kind::Release,
        Kind::TracingRequest,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Operation => "operation",
            Kind::Child => "child",
            Kind::Person => "person",
            Kind::Relationship => "relationship",
            Kind::Household => "household",
            Kind::Facility => "facility",
            Kind::Placement => "placement",
            Kind::RiskFlag => "risk_flag",
            Kind::Incident => "incident",
            Kind::RollCall => "roll_call",
            Kind::RollCallMark => "roll_call_mark",
            Kind::MissingAlert => "missing_alert",
            Kind::Restriction => "restriction",
            Kind::Visit => "visit",
            Kind::Site => "site",
            Kind::WelfareCheck => "welfare_check",
            Kind::Allegation => "allegation",
            Kind::Evidence => "evidence",
            Kind::CarePlan => "care_plan",
            Kind::Task => "task",
            Kind::Release => "release",
            Kind::TracingRequest => "tracing_request",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The collection name used in URLs.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Operation => "operations",
            Kind::Child => "children",
            Kind::Person => "persons",
            Kind::Relationship => "relationships",
            Kind::Household => "households",
            Kind::Facility => "facilities",
            Kind::Placement => "placements",
            Kind::RiskFlag => "risk-flags",
            Kind::Incident => "incidents",
            Kind::RollCall => "roll-calls",
            Kind::RollCallMark => "roll-call-marks",
            Kind::MissingAlert => "alerts",
            Kind::Restriction => "restrictions",
            Kind::Visit => "visits",
            Kind::Site => "sites",
            Kind::WelfareCheck => "welfare-checks",
            Kind::Allegation => "allegations",
            Kind::Evidence => "evidence",
            Kind::CarePlan => "care-plans",
            Kind::Task => "tasks",
            Kind::Release => "releases",
            Kind::TracingRequest => "tracing-requests",
        }
    }
    pub fn from_collection(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.collection() == s)
    }
}

/// Context for checks that depend on the moment.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub today: NaiveDate,
}

/// A record kind the generic store and API can handle.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: Kind;
    /// Check what needs context and fill in derived values.
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid>;
    /// Names to index for search.
    fn names(&self) -> Vec<&Name> {
        Vec::new()
    }
}

// ---------------------------------------------------------------- operation

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub name: Text,
    pub country: Country,
    pub start_date: NaiveDate,
    pub lead_agency: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LongText>,
}

impl Record for Operation {
    const KIND: Kind = Kind::Operation;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        if self.start_date > ctx.today {
            return Err(Invalid::one(
                "start_date",
                format!(
                    "{} is in the future: record an operation once it has started",
                    self.start_date
                ),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- child

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    #[default]
    Intake,
    InCare,
    Missing,
    Hospitalised,
    Transferred,
    Released,
    Closed,
    /// A duplicate record, merged into another (see `merged_into`); can be undone.
    Merged,
}

impl ChildStatus {
    pub const ALL: [ChildStatus; 8] = [
        ChildStatus::Intake,
        ChildStatus::InCare,
        ChildStatus::Missing,
        ChildStatus::Hospitalised,
        ChildStatus::Transferred,
        ChildStatus::Released,
        ChildStatus::Closed,
        ChildStatus::Merged,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ChildStatus::Intake => "intake",
            ChildStatus::InCare => "in_care",
            ChildStatus::Missing => "missing",
            ChildStatus::Hospitalised => "hospitalised",
            ChildStatus::Transferred => "transferred",
            ChildStatus::Released => "released",
            ChildStatus::Closed => "closed",
            ChildStatus::Merged => "merged",
        }
    }
    pub fn parse(s: &str) -> Option<ChildStatus> {
        ChildStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
    /// The state machine of a case: intake is only the start, closed is the end.
    pub fn can_become(self, next: ChildStatus) -> Result<(), String> {
        use ChildStatus::*;
        if self == next {
            return Ok(());
        }
        match (self, next) {
            // A merge is undone by going back to the status before it.
            (Merged, _) | (_, Merged) => Ok(()),
            (_, Intake) => Err(format!(
                "cannot go back from {} to intake: intake is only the first status",
                self.as_str()
            )),
            (Closed, _) => Err(format!(
                "cannot change a closed case to {}: a closed case stays closed; open a new record if the child returns",
                next.as_str()
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Child {
    pub operation_id: Uuid,
    #[serde(default)]
    pub names: Vec<Name>,
    #[serde(default)]
    pub sex: Sex,
    #[serde(default)]
    pub birth: Birth,
    #[serde(default)]
    pub languages: Vec<Language>,
    #[serde(default)]
    pub nationalities: Vec<Country>,
    /// Provisional number on the wristband given at intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wristband: Option<Text>,
    #[serde(default)]
    pub status: ChildStatus,
    /// SHA-256 of the photo file in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Text>,
    /// Health, investigation and protection notes: restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_notes: Option<LongText>,
    /// For a merged duplicate: the record it was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Uuid>,
    /// For a merged duplicate: its status before the merge, restored by an unmerge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before_merge: Option<ChildStatus>,
    /// Tracing requests confirmed as looking for this child.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracing_requests: Vec<Uuid>,
}

fn check_list_len<T>(errs: &mut Invalid, field: &str, list: &[T], max: usize) {
    if list.len() > max {
        errs.push(field, format!("has more than {max} entries"));
    }
}

impl Record for Child {
    const KIND: Kind = Kind::Child;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if let Err(e) = prepare_names(&mut self.names) {
            errs.extend(e);
        }
        if self.names.is_empty() && self.wristband.is_none() {
            errs.push(
                "names",
                "is empty and there is no wristband number: give at least a name as given or the wristband number",
            );
        }
        if let Err(e) = self.birth.validate(ctx.today) {
            errs.extend(e.prefixed("birth"));
        }
        check_list_len(&mut errs, "languages", &self.languages, 20);
        check_list_len(&mut errs, "nationalities", &self.nationalities, 10);
        errs.into_result()
    }
    fn names(&self) -> Vec<&Name> {
        self.names.iter().collect()
    }
}

// ---------------------------------------------------------------- person

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    pub names: Vec<Name>,
    #[serde(default)]
    pub sex: Sex,
    #[serde(default)]
    pub birth: Birth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_residence: Option<Country>,
    #[serde(default)]
    pub nationalities: Vec<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<LongText>,
}

impl Record for Person {
    const KIND: Kind = Kind::Person;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if self.names.is_empty() {
            errs.push("names", "is empty: give at least one name");
        }
        if let Err(e) = prepare_names(&mut self.names) {
            errs.extend(e);
        }
        if let Err(e) = self.birth.validate(ctx.today) {
            errs.extend(e.prefixed("birth"));
        }
        check_list_len(&mut errs, "nationalities", &self.nationalities, 10);
        errs.into_result()
    }
    fn names(&self) -> Vec<&Name> {
        self.names.iter().collect()
    }
}

// ---------------------------------------------------------------- relationship

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    Mother,
    Father,
    Guardian,
    Sibling,
    HalfSibling,
    Spouse,
    Grandparent,
    OtherRelative,
    CommunityLeader,
}

impl RelationshipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipKind::Mother => "mother",
            RelationshipKind::Father => "father",
            RelationshipKind::Guardian => "guardian",
            RelationshipKind::Sibling => "sibling",
            RelationshipKind::HalfSibling => "half_sibling",
            RelationshipKind::Spouse => "spouse",
            RelationshipKind::Grandparent => "grandparent",
            RelationshipKind::OtherRelative => "other_relative",
            RelationshipKind::CommunityLeader => "community_leader",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    #[default]
    Claimed,
    Verified,
}

/// `from` is the `kind` of `to`: from=mother, kind=mother, to=child.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    pub from: Uuid,
    pub to: Uuid,
    pub kind: RelationshipKind,
    #[serde(default)]
    pub verification: Verification,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Text>,
}

impl Record for Relationship {
    const KIND: Kind = Kind::Relationship;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.from == self.to {
            return Err(Invalid::one(
                "to",
                "is the same as from: a relationship links two different people",
            ));
        }
        Ok(())
    }
}

/// A spouse relationship in which a side may be a minor on the day it is recorded.
/// Returns which sides (from, to) need a `child_marriage` flag. A side whose birth is
/// unknown counts as a minor when it is a child in care.
pub fn child_marriage_sides(
    kind: RelationshipKind,
    from: (&Birth, bool),
    to: (&Birth, bool),
    day: NaiveDate,
) -> (bool, bool) {
    if kind != RelationshipKind::Spouse {
        return (false, false);
    }
    let minor = |(birth, in_care): (&Birth, bool)| birth.possibly_minor_on(day).unwrap_or(in_care);
    (minor(from), minor(to))
}

// ---------------------------------------------------------------- household

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Household {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    #[serde(default)]
    pub members: Vec<Uuid>,
    #[serde(default)]
    pub countries: Vec<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<LongText>,
}

impl Record for Household {
    const KIND: Kind = Kind::Household;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        check_list_len(&mut errs, "members", &self.members, 200);
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.members.iter().enumerate() {
            if !seen.insert(m) {
                errs.push(format!("members[{i}]"), "is listed twice");
            }
        }
        errs.into_result()
    }
}

// ---------------------------------------------------------------- facility

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    CareCentre,
    Hospital,
    Police,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecurityLevel {
    Low,
    #[default]
    Medium,
    High,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    pub name: Text,
    pub kind: FacilityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub security_level: SecurityLevel,
}

impl Record for Facility {
    const KIND: Kind = Kind::Facility;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.capacity.is_some_and(|c| c > 100_000) {
            return Err(Invalid::one("capacity", "is over 100000: check the number"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- placement

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasisKind {
    ProtectiveOrder,
    CourtOrder,
    EmergencyMeasure,
    Consent,
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    pub kind: LegalBasisKind,
    pub issuing_authority: Text,
    pub reference: Text,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub child_id: Uuid,
    pub facility_id: Uuid,
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    pub legal_basis: LegalBasis,
    /// The official who authorised the placement.
    pub authorised_by: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

impl Placement {
    pub fn is_current_at(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.to.is_none_or(|to| to > at)
    }
}

impl Record for Placement {
    const KIND: Kind = Kind::Placement;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if let Some(to) = self.to {
            if to < self.from {
                errs.push("to", "is before from: a placement ends after it starts");
            }
        }
        if self.legal_basis.date > ctx.today {
            errs.push(
                "legal_basis.date",
                format!("{} is in the future", self.legal_basis.date),
            );
        }
        errs.into_result()
    }
}

// ---------------------------------------------------------------- risk flag

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    ChildMarriage,
    PregnancyMinor,
    SexualAbuseSuspected,
    PhysicalPunishment,
    Neglect,
    TraffickingRisk,
    AbductionRisk,
    MedicalUrgent,
}

impl RiskKind {
    /// Health and abuse flags are restricted; the rest are part of the identity view.
    pub fn is_restricted(self) -> bool {
        matches!(
            self,
            RiskKind::PregnancyMinor | RiskKind::SexualAbuseSuspected | RiskKind::MedicalUrgent
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlagStatus {
    #[default]
    Open,
    Cleared,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskFlag {
    pub child_id: Uuid,
    pub kind: RiskKind,
    #[serde(default)]
    pub status: FlagStatus,
    pub reason: LongText,
    /// Raised by a rule of the system rather than by a person.
    #[serde(default)]
    pub automatic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_record: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_reason: Option<LongText>,
}

impl Record for RiskFlag {
    const KIND: Kind = Kind::RiskFlag;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.reason.as_str().is_empty() {
            return Err(Invalid::one(
                "reason",
                "must not be empty: say why the flag is raised",
            ));
        }
        if self.status == FlagStatus::Cleared && self.cleared_reason.is_none() {
            return Err(Invalid::one(
                "cleared_reason",
                "is missing: say why the flag is cleared",
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- custody

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    AttemptedAbduction,
    Abduction,
    BreakIn,
    Threat,
    Assault,
    Absconding,
    SelfHarm,
    MediaIntrusion,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    pub kind: IncidentKind,
    pub occurred_at: DateTime<Utc>,
    /// The facility where it happened, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Text>,
    pub description: LongText,
    #[serde(default)]
    pub children: Vec<Uuid>,
    /// Known adults involved (person records).
    #[serde(default)]
    pub persons: Vec<Uuid>,
    /// Adults involved who are not known: descriptions.
    #[serde(default)]
    pub adults_described: Vec<Text>,
    #[serde(default)]
    pub staff_present: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_report: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_taken: Option<LongText>,
    #[serde(default)]
    pub severity: Severity,
}

impl Record for Incident {
    const KIND: Kind = Kind::Incident;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if self.occurred_at.date_naive() > ctx.today {
            errs.push(
                "occurred_at",
                "is in the future: record an incident after it happened",
            );
        }
        if self.description.as_str().is_empty() {
            errs.push("description", "is empty: say what happened");
        }
        check_list_len(&mut errs, "children", &self.children, 1000);
        check_list_len(&mut errs, "persons", &self.persons, 500);
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RollCallStatus {
    #[default]
    Open,
    Closed,
}

/// A count of children: everyone expected, each marked by staff.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// Set by the server when the roll call starts: the children placed there then.
    #[serde(default)]
    pub expected: Vec<Uuid>,
    #[serde(default)]
    pub status: RollCallStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
}

impl Record for RollCall {
    const KIND: Kind = Kind::RollCall;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        check_list_len(&mut errs, "expected", &self.expected, 5000);
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Present,
    ElsewhereKnown,
    /// Takes back an earlier mark.
    Unaccounted,
}

/// One mark by one staff member; the latest mark per child counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollCallMark {
    pub roll_call_id: Uuid,
    /// The roll call's facility, set by the server (for scoping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    pub child_id: Uuid,
    pub mark: Mark,
    /// Where the child is, for `elsewhere_known`: hospital, vehicle, other facility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Text>,
}

impl Record for RollCallMark {
    const KIND: Kind = Kind::RollCallMark;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.mark == Mark::ElsewhereKnown && self.location.is_none() {
            return Err(Invalid::one(
                "location",
                "is missing: say where the child is (hospital, vehicle, other facility)",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    #[default]
    Open,
    Found,
}

/// A missing-child alert, raised when a roll call closes with the child unaccounted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingAlert {
    pub child_id: Uuid,
    /// Where the child was last placed, set by the server (for scoping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll_call_id: Option<Uuid>,
    #[serde(default)]
    pub status: AlertStatus,
    pub last_seen_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_place: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clothing: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_where: Option<Text>,
}

impl Record for MissingAlert {
    const KIND: Kind = Kind::MissingAlert;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.status == AlertStatus::Found && self.found_where.is_none() {
            return Err(Invalid::one(
                "found_where",
                "is missing: say where the child was found",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Barred {
    Contact,
    Visits,
    LocationInformation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub kind: LegalBasisKind,
    pub issuing_authority: Text,
    pub reference: Text,
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
}

/// An adult who may not approach some children (or a whole operation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    pub person_id: Uuid,
    #[serde(default)]
    pub children: Vec<Uuid>,
    /// Covers every child of this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    pub authority: Authority,
    pub barred: Vec<Barred>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<LongText>,
}

impl Restriction {
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.authority.date <= day && self.authority.expires.is_none_or(|e| e >= day)
    }
    pub fn covers(&self, child: Uuid, child_operation: Option<Uuid>) -> bool {
        self.children.contains(&child)
            || (self.operation_id.is_some() && self.operation_id == child_operation)
    }
}

impl Record for Restriction {
    const KIND: Kind = Kind::Restriction;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if self.children.is_empty() && self.operation_id.is_none() {
            errs.push(
                "children",
                "is empty and no operation_id is given: say whom the restriction protects",
            );
        }
        if self.barred.is_empty() {
            errs.push(
                "barred",
                "is empty: say what is barred (contact, visits, location_information)",
            );
        }
        if self
            .authority
            .expires
            .is_some_and(|e| e < self.authority.date)
        {
            errs.push("authority.expires", "is before authority.date");
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Allowed,
    Blocked,
}

/// A visitor at a facility, checked against restrictions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub facility_id: Uuid,
    pub visitor: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_claimed: Option<Text>,
    pub child_id: Uuid,
    pub outcome: VisitOutcome,
    /// Why a visit was blocked: the restriction, the person and the authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
}

impl Record for Visit {
    const KIND: Kind = Kind::Visit;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        self.visitor.prepare().map_err(|e| e.prefixed("visitor"))
    }
    fn names(&self) -> Vec<&Name> {
        vec![&self.visitor]
    }
}

// ---------------------------------------------------------------- protection

/// A place with an address that is not a facility, e.g. the farm.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<LongText>,
}

impl Record for Site {
    const KIND: Kind = Kind::Site;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WelfareOutcome {
    SeenSafe,
    Concerns,
    NotFound,
    AccessDenied,
    Obstructed,
}

/// A planned or done check on a child, a household or a site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WelfareCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_for: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub visitors: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<WelfareOutcome>,
    /// Who refused entry, for access_denied or obstructed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_task: Option<Uuid>,
}

impl Record for WelfareCheck {
    const KIND: Kind = Kind::WelfareCheck;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        let subjects = [self.child_id, self.household_id, self.site_id]
            .iter()
            .filter(|s| s.is_some())
            .count();
        if subjects != 1 {
            errs.push(
                "child_id",
                "give exactly one of child_id, household_id or site_id",
            );
        }
        if self.outcome.is_some() && self.done_at.is_none() {
            errs.push(
                "done_at",
                "is missing: an outcome needs the time of the check",
            );
        }
        if self.done_at.is_some_and(|d| d.date_naive() > ctx.today) {
            errs.push(
                "done_at",
                "is in the future: plan it with planned_for instead",
            );
        }
        if self.outcome.is_none() && self.planned_for.is_none() {
            errs.push(
                "planned_for",
                "is missing: a check is either planned (planned_for) or done (done_at and outcome)",
            );
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllegationKind {
    Rape,
    SexualAbuse,
    ForcedPregnancy,
    ChildMarriage,
    PhysicalAbuse,
    PsychologicalAbuse,
    Neglect,
    Trafficking,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AllegationStatus {
    #[default]
    Reported,
    UnderInvestigation,
    ReferredToProsecutor,
    Charged,
    Substantiated,
    Unsubstantiated,
    Closed,
}

/// A case in another country's system (scene S9).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignReference {
    pub country: Country,
    pub agency: Text,
    pub reference: Text,
}

/// An allegation: restricted; only investigators know it exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allegation {
    pub kind: AllegationKind,
    pub victims: Vec<Uuid>,
    #[serde(default)]
    pub perpetrators: Vec<Uuid>,
    pub reported_by: Text,
    pub reported_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Text>,
    #[serde(default)]
    pub status: AllegationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prosecutor_reference: Option<Text>,
    #[serde(default)]
    pub other_jurisdictions: Vec<ForeignReference>,
    pub summary: LongText,
}

impl Record for Allegation {
    const KIND: Kind = Kind::Allegation;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if self.victims.is_empty() {
            errs.push("victims", "is empty: name at least one child");
        }
        if self.reported_at.date_naive() > ctx.today {
            errs.push("reported_at", "is in the future");
        }
        errs.into_result()
    }
}

/// One hand-over in the chain of custody of a piece of evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyStep {
    pub from: Text,
    pub to: Text,
    pub at: DateTime<Utc>,
    pub purpose: Text,
}

/// A file held as evidence: stored under the data directory by its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allegation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    pub sha256: Text,
    pub size: u64,
    pub content_type: Text,
    pub filename: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LongText>,
    #[serde(default)]
    pub custody: Vec<CustodyStep>,
}

impl Record for Evidence {
    const KIND: Kind = Kind::Evidence;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        if self.allegation_id.is_none() && self.incident_id.is_none() {
            return Err(Invalid::one(
                "allegation_id",
                "give the allegation or the incident this evidence belongs to",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementGoal {
    ReturnToFamily,
    KinshipCare,
    FosterCare,
    ResidentialCare,
    IndependentLiving,
    Adoption,
    Undecided,
}

/// A child's needs, including faith, diet and language (scene S10).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarePlan {
    pub child_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub religion: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub religious_practice: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diet: Option<Text>,
    #[serde(default)]
    pub languages: Vec<Language>,
    #[serde(default)]
    pub interpreter_needed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_notes: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_arrangements: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement_goal: Option<PlacementGoal>,
}

impl Record for CarePlan {
    const KIND: Kind = Kind::CarePlan;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        check_list_len(&mut errs, "languages", &self.languages, 20);
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Open,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub title: Text,
    /// Username of the person who should do it.
    pub assignee: Text,
    pub due: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<Uuid>,
    #[serde(default)]
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<LongText>,
}

impl Record for Task {
    const KIND: Kind = Kind::Task;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        Ok(())
    }
}

// ---------------------------------------------------------------- tracing

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TracingStatus {
    #[default]
    Open,
    /// The requester (or the contact) matches a restricted person or an alleged
    /// perpetrator: no candidate is shown; the caseworker is alerted.
    Alert,
    /// A candidate was confirmed.
    Matched,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Confirmed,
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateDecision {
    pub child_id: Uuid,
    pub decision: Decision,
    pub by: Text,
    pub at: DateTime<Utc>,
}

/// Someone looking for a child (scene S11). Who is sought, who asks; the server
/// keeps the status, the alert and the caseworkers' decisions on candidates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<Uuid>,
    /// Names of the sought child in any spelling or script.
    pub sought_names: Vec<Name>,
    #[serde(default)]
    pub sought_sex: Sex,
    #[serde(default)]
    pub sought_birth: Birth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_place: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_on: Option<NaiveDate>,
    /// Parents' names as the requester gives them.
    #[serde(default)]
    pub parents: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinguishing_details: Option<LongText>,
    pub requester_name: Name,
    /// When an agency asks on someone's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_agency: Option<Text>,
    pub relationship_claimed: Text,
    /// Phone, e-mail or address to answer to.
    pub contact: Text,
    /// A person named as the contact, if not the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_country: Option<Country>,
    #[serde(default)]
    pub consent_to_share: bool,
    #[serde(default)]
    pub status: TracingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<LongText>,
    #[serde(default)]
    pub decisions: Vec<CandidateDecision>,
    /// For a request received from a partner agency: its name and its own id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_from: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_reference: Option<Uuid>,
    /// Answers received from partner agencies, kept as they came (never merged in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<ReferralReply>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralReply {
    pub from: Text,
    pub received_at: DateTime<Utc>,
    /// The sections the sender chose to share, as sent.
    pub shared: serde_json::Value,
}

impl Record for TracingRequest {
    const KIND: Kind = Kind::TracingRequest;
    fn prepare(&mut self, ctx: &Ctx) -> Result<(), Invalid> {
        let mut errs = Invalid::default();
        if self.sought_names.is_empty() {
            errs.push(
                "sought_names",
                "is empty: give at least one name of the child sought, in any spelling",
            );
        }
        if let Err(e) = prepare_names(&mut self.sought_names) {
            errs.extend(e.prefixed("sought_names"));
        }
        if let Err(e) = self.requester_name.prepare() {
            errs.extend(e.prefixed("requester_name"));
        }
        if let Some(c) = self.contact_name.as_mut() {
            if let Err(e) = c.prepare() {
                errs.extend(e.prefixed("contact_name"));
            }
        }
        if let Err(e) = self.sought_birth.validate(ctx.today) {
            errs.extend(e.prefixed("sought_birth"));
        }
        if self.last_seen_on.is_some_and(|d| d > ctx.today) {
            errs.push("last_seen_on", "is in the future");
        }
        check_list_len(&mut errs, "sought_names", &self.sought_names, 20);
        check_list_len(&mut errs, "parents", &self.parents, 10);
        errs.into_result()
    }
    fn names(&self) -> Vec<&Name> {
        self.sought_names.iter().collect()
    }
}

// ---------------------------------------------------------------- release

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    /// Waiting for two approvals.
    #[default]
    Proposed,
    /// Approved twice and carried out: the placement ended, the child released.
    Released,
    /// Stopped: a restriction or allegation was found, or a reason given.
    Refused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub by: Text,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<LongText>,
}

/// Releasing a child to an adult (scene S11): the assessment, then two approvals by
/// users other than the proposer. Status and approvals are set by the server only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub child_id: Uuid,
    /// The adult who receives the child.
    pub to_person: Uuid,
    /// How the relationship was verified (documents, DNA, statements).
    pub relationship_verification: LongText,
    /// What the child said about it.
    pub child_views: LongText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_household: Option<Uuid>,
    pub legal_basis: LegalBasis,
    #[serde(default)]
    pub status: ReleaseStatus,
    #[serde(default)]
    pub proposed_by: Option<Text>,
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// What the server checked when it was proposed and at each approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<LongText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

impl Record for Release {
    const KIND: Kind = Kind::Release;
    fn prepare(&mut self, _ctx: &Ctx) -> Result<(), Invalid> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }
    #[test]
    fn spouse_minor_rule() {
        let day = d("2026-11-29");
        let teen = Birth::Year { year: 2011 };
        let adult = Birth::Exact {
            date: d("1990-01-01"),
        };
        assert_eq!(
            child_marriage_sides(
                RelationshipKind::Spouse,
                (&adult, false),
                (&teen, false),
                day
            ),
            (false, true)
        );
        assert_eq!(
            child_marriage_sides(
                RelationshipKind::Father,
                (&adult, false),
                (&teen, true),
                day
            ),
            (false, false)
        );
        assert_eq!(
            child_marriage_sides(
                RelationshipKind::Spouse,
                (&adult, false),
                (&Birth::Unknown, true),
                day
            ),
            (false, true)
        );
    }
    #[test]
    fn status_machine() {
        assert!(ChildStatus::InCare.can_become(ChildStatus::Intake).is_err());
        assert!(ChildStatus::Closed.can_become(ChildStatus::InCare).is_err());
        assert!(ChildStatus::Intake.can_become(ChildStatus::InCare).is_ok());
        assert!(ChildStatus::Missing.can_become(ChildStatus::InCare).is_ok());
        assert!(ChildStatus::Merged.can_become(ChildStatus::Intake).is_ok());
        assert!(ChildStatus::InCare.can_become(ChildStatus::Merged).is_ok());
    }
    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<Operation, _> = serde_json::from_str(
            r#"{"name":"x","country":"GT","start_date":"2026-01-01","lead_agency":"a","extra":1}"#,
        );
        assert!(r.is_err());
    }
}
