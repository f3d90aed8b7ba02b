//! Records of every kind through one generic repository: create, update with a
//! version check, read, list, history. Kind-specific rules (case numbers, derived
//! location, the child-marriage flag) run inside the same transaction.
use crate::db::{Backend, Store, WriteTx};
use crate::error::StoreError;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::names::search_form;
use amparo_domain::policy::{record_gate, Scope, Sensitivity};
use amparo_domain::records::{
    child_marriage_sides, Child, ChildStatus, Kind, Person, Placement, Record, RiskFlag, RiskKind,
};
use amparo_domain::Invalid;
use chrono::{DateTime, Datelike, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// Who is making a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub username: String,
    pub agency_id: Uuid,
}

#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub id: Uuid,
    pub kind: Kind,
    pub agency_id: Uuid,
    pub case_number: Option<String>,
    pub facility_id: Option<Uuid>,
    pub data: Value,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl StoredRecord {
    pub fn scope(&self) -> Scope {
        Scope {
            kind: self.kind,
            agency_id: self.agency_id,
            facility_id: self.facility_id,
        }
    }

    /// The record as the API shows it before redaction: bookkeeping plus data.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.to_string()));
        if let Some(c) = &self.case_number {
            m.insert("case_number".into(), Value::String(c.clone()));
        }
        m.insert("version".into(), Value::from(self.version));
        m.insert("created_at".into(), Value::String(self.created_at.clone()));
        m.insert("created_by".into(), Value::String(self.created_by.clone()));
        m.insert("updated_at".into(), Value::String(self.updated_at.clone()));
        m.insert("updated_by".into(), Value::String(self.updated_by.clone()));
        if self.kind == Kind::Child {
            m.insert(
                "current_facility_id".into(),
                self.facility_id
                    .map(|f| Value::String(f.to_string()))
                    .unwrap_or(Value::Null),
            );
        }
        if let Value::Object(d) = &self.data {
            for (k, v) in d {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    pub fn typed<T: Record>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.data.clone())
            .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", self.id)))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub changed_at: String,
    pub changed_by: String,
    pub data: Value,
}

/// A list request, already narrowed by the policy (agency, facilities, gates).
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub kind: Kind,
    pub agency_id: Uuid,
    /// Sensitivities the viewer holds: records gated above them are left out.
    pub gates: Vec<Sensitivity>,
    /// `Some` keeps only records in these facilities.
    pub facilities: Option<Vec<Uuid>>,
    pub operation_id: Option<Uuid>,
    pub status: Option<String>,
    pub child_id: Option<Uuid>,
    pub search: Option<String>,
    /// Newest change first instead of case-number order.
    pub recent_first: bool,
    pub limit: i64,
    pub offset: i64,
    /// Start after this record (keyset paging: as fast on the last page as on the
    /// first). Only for the case-number order.
    pub after: Option<Uuid>,
}

/// A list's total is counted up to this many: past it, counting every match of a
/// million-record agency costs more than the page, and "more than 10,000" says enough.
pub const COUNT_CAP: i64 = 10_000;
/// Testing one record for a word costs about what reading this many index entries
/// does (see `Store::driving_word`).
const PROBE_COST: i64 = 6;
/// The words of a name search are counted up to this many matches to choose how to
/// combine them.
const WORD_COUNT_CAP: i64 = 20_000;
/// A name search orders at most this many matches (the first found): a word as
/// common as "maria" matches tens of thousands, and the person is better served by
/// being asked to add the family name or a birth year.
pub const SEARCH_CAP: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<StoredRecord>,
    /// How many records match, exactly when `total_exact`, otherwise at least this
    /// many (`COUNT_CAP`, or `SEARCH_CAP` for a name search).
    pub total: i64,
    pub total_exact: bool,
    /// The id to pass as `after` for the next page, when there may be one.
    pub next: Option<Uuid>,
}

pub fn gate_str(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Basic => "basic",
        Sensitivity::Identity => "identity",
        Sensitivity::Location => "location",
        Sensitivity::Restricted => "restricted",
    }
}

const RECORD_COLUMNS: &str = "id, kind, agency_id, case_number, facility_id, data, version, \
    created_at, created_by, updated_at, updated_by";

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("bad id '{s}'")))
}

fn record_row(r: &AnyRow) -> Result<StoredRecord, StoreError> {
    let kind: String = r.try_get("kind")?;
    let data: String = r.try_get("data")?;
    let facility: Option<String> = r.try_get("facility_id")?;
    Ok(StoredRecord {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
        agency_id: parse_uuid(&r.try_get::<String, _>("agency_id")?)?,
        case_number: r.try_get("case_number")?,
        facility_id: facility.as_deref().map(parse_uuid).transpose()?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

fn str_field(data: &Value, field: &str) -> Option<String> {
    data.get(field).and_then(Value::as_str).map(str::to_string)
}

/// Names of the top-level fields that differ: audit summaries say what changed,
/// never the values (the audit log is read by people who may not see case data).
pub fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<String> = o
        .keys()
        .chain(n.keys())
        .filter(|k| o.get(*k) != n.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// What a name word is matched by in a pair of words (`pair_terms`): its spelling
/// keys, or the word itself when it has none (digits). A search word and a record's
/// word agree exactly when these share a key: the same word has the same keys, and
/// two words with keys agree only through them.
fn pair_keys(word: &str) -> Vec<String> {
    let keys = amparo_match::variant_keys(word);
    if keys.is_empty() {
        vec![word.to_string()]
    } else {
        keys
    }
}

/// The term of a pair of keys, the same whichever comes first. "&" and " " never
/// occur in a folded word or a key, so a pair term is never the start of a word.
fn pair_term(x: &str, y: &str) -> String {
    if x <= y {
        format!("&{x} {y}")
    } else {
        format!("&{y} {x}")
    }
}

/// Every pair of keys of two different words of the record's names, and of two keys
/// of one word. A search for two whole words looks up only the records that have
/// both ("maria lopez" at a million children: the few hundred Maria Lopezes, not
/// the 50,000 Marias and 15,000 Lopezes intersected).
fn pair_terms(words: &[&str], terms: &mut Vec<String>) {
    let keys: Vec<Vec<String>> = words.iter().map(|w| pair_keys(w)).collect();
    for (i, ki) in keys.iter().enumerate() {
        for (n, x) in ki.iter().enumerate() {
            for y in &ki[n + 1..] {
                terms.push(pair_term(x, y));
            }
            for kj in &keys[i + 1..] {
                for y in kj.iter().filter(|y| *y != x) {
                    terms.push(pair_term(x, y));
                }
            }
        }
    }
}

/// A record's search terms. Each name gives its folded words, the whole name, and
/// for each word the keys other spellings and scripts share (amparo-match); the
/// names' words together give their pairs. The case number and the wristband give
/// theirs marked "=" (`marked`): a pair of words is looked up by pair only when
/// neither is one of those.
fn record_terms(
    names: &[String],
    kind: Kind,
    data: &Value,
    case_number: Option<&str>,
    wristband: Option<&str>,
) -> Vec<String> {
    let mut terms = Vec::new();
    if MENTIONING_KINDS.contains(&kind) {
        mentions(data, &mut terms);
    }
    let mut words: Vec<String> = Vec::new();
    for name in names {
        let full = search_form(name);
        for t in full.split(' ').filter(|t| !t.is_empty()) {
            terms.push(t.to_string());
            terms.extend(amparo_match::variant_keys(t));
            words.push(t.to_string());
        }
        if full.contains(' ') {
            terms.push(full);
        }
    }
    words.sort();
    words.dedup();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    pair_terms(&words, &mut terms);
    if let Some(c) = case_number {
        let f = search_form(c);
        for t in f.split(' ') {
            terms.push(marked(t));
            // "GT-2026-000123" is also quoted as "123".
            let trimmed = t.trim_start_matches('0');
            if !trimmed.is_empty() && trimmed != t {
                terms.push(marked(trimmed));
            }
        }
        terms.push(marked(&f));
    }
    if let Some(w) = wristband {
        terms.push(marked(&search_form(w)));
    }
    terms.retain(|t| !t.is_empty() && t != "=");
    terms.sort();
    terms.dedup();
    terms
}

/// The terms a whole search word is looked up by: itself, marked (a case number's
/// part), and its spellings.
fn word_terms(word: &str) -> Vec<String> {
    let mut values = vec![word.to_string(), marked(word)];
    values.extend(amparo_match::variant_keys(word));
    values
}

/// The kinds whose records are looked up by the records they name
/// (`Store::records_mentioning`): a relationship or household by its people, an
/// incident or allegation by its children.
const MENTIONING_KINDS: [Kind; 4] = [
    Kind::Relationship,
    Kind::Household,
    Kind::Incident,
    Kind::Allegation,
];

/// Every record id the data holds, anywhere, as a term "@id": a child's page finds
/// the relationships naming the child through the index instead of reading every
/// relationship of the agency (21 ms a page with 20,000 of them at a million
/// children, growing with each family recorded).
fn mentions(data: &Value, terms: &mut Vec<String>) {
    match data {
        Value::String(s) if Uuid::parse_str(s).is_ok_and(|u| u.to_string() == *s) => {
            terms.push(format!("@{s}"));
        }
        Value::Array(items) => items.iter().for_each(|v| mentions(v, terms)),
        Value::Object(fields) => fields.values().for_each(|v| mentions(v, terms)),
        _ => {}
    }
}

/// A case-number or wristband term: a search word also looks for it marked so.
fn marked(word: &str) -> String {
    format!("={word}")
}

fn search_terms<T: Record>(
    rec: &T,
    data: &Value,
    case_number: Option<&str>,
    wristband: Option<&str>,
) -> Vec<String> {
    let names: Vec<String> = rec.names().iter().map(|n| n.full()).collect();
    record_terms(&names, T::KIND, data, case_number, wristband)
}

/// A list query as SQL: the conditions on records with the values of their numbered
/// placeholders, and each word of a name search (with `?` placeholders, numbered when
/// the query around them is built).
struct Filter {
    /// "+" on SQLite: put before a column, keeps it out of SQLite's index choice.
    plus: &'static str,
    conditions: String,
    binds: Vec<String>,
    name_words: Vec<NameWord>,
}

/// One word of a name search: the ids of the records that have it (`set`, a query
/// over search_keys) and the test that one record `s.rid` has it (`probe`).
struct NameWord {
    /// How many rows of `set` one record can give at most (once per matching term;
    /// a prefix can match a record's word and its whole name, so it counts 2).
    repeats: i64,
    set: String,
    set_values: Vec<String>,
    probe: String,
    probe_values: Vec<String>,
}

impl Filter {
    /// Every condition as one WHERE clause, the words' sets intersected.
    fn full(&self) -> (String, Vec<String>) {
        let mut binds = self.binds.clone();
        if self.name_words.is_empty() {
            return (self.conditions.clone(), binds);
        }
        let set = self.intersection(&mut binds);
        (format!("{} AND id IN ({set})", self.conditions), binds)
    }

    /// The ids of the records that have every word of the name search.
    fn intersection(&self, binds: &mut Vec<String>) -> String {
        let order: Vec<usize> = (0..self.name_words.len()).collect();
        self.intersection_in(&order, binds)
    }

    /// The same, scanning the set of `order[0]` (the largest) and testing each id
    /// against the others' sets, which the database builds once each: on SQLite half
    /// the time of INTERSECT, which sorts every set ("chaima sternez" at a million
    /// children: 54 against 110 ms). Repeated ids are possible (a record found as
    /// written and by a spelling); callers drop them.
    fn intersection_in(&self, order: &[usize], binds: &mut Vec<String>) -> String {
        // Placeholders are numbered in the order they appear in the text.
        let mut sql = String::new();
        for (n, &i) in order.iter().enumerate() {
            let w = &self.name_words[i];
            let set = numbered(&w.set, &w.set_values, binds);
            if n == 0 {
                sql = format!("SELECT record_id FROM ({set}) w{i}");
            } else {
                // Without "+", SQLite looks each id of the other set up in the term
                // index once per spelling instead (3 times slower).
                sql.push_str(&format!(
                    "{} {}record_id IN (SELECT record_id FROM ({set}) w{i})",
                    if n == 1 { " WHERE" } else { " AND" },
                    self.plus
                ));
            }
        }
        sql
    }
}

/// The words of a name search, folded, at most six.
fn search_words(search: &str) -> Vec<String> {
    search_form(search)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_string)
        .collect()
}

/// The order of lists (case number; records without one first, oldest first).
const ORDER_KEY: &str = "COALESCE(case_number, ''), created_at, id";

/// The filter of a list query, or `None` when the query can match nothing. Only
/// fixed fragments and numbered placeholders go in.
fn where_clause(
    q: &ListQuery,
    backend: Backend,
    last_is_whole: bool,
    pairs: bool,
) -> Option<Filter> {
    // Only fixed fragments and numbered placeholders go into the SQL text.
    // A name search or one child's records on SQLite: otherwise SQLite walks every
    // record of the kind in list order (agency and kind are indexed) testing each
    // against the few ids found or the child (a child's page read all 20,000
    // placements of an agency, 20 ms); "+" keeps those columns out of its index
    // choice, so it looks the found ids or the child's records up instead.
    let plus = if (q.search.is_some() || q.child_id.is_some()) && backend == Backend::Sqlite {
        "+"
    } else {
        ""
    };
    let mut wh = vec![format!("{plus}agency_id = $1"), format!("{plus}kind = $2")];
    let mut name_words = Vec::new();
    let mut binds: Vec<String> = vec![q.agency_id.to_string(), q.kind.as_str().to_string()];
    let mut push = |clause: &str, values: Vec<String>, wh: &mut Vec<String>| {
        let mut c = clause.to_string();
        for v in values {
            binds.push(v);
            c = c.replacen('?', &format!("${}", binds.len()), 1);
        }
        wh.push(c);
    };
    let gates: Vec<String> = q.gates.iter().map(|g| gate_str(*g).to_string()).collect();
    if gates.is_empty() {
        return None;
    }
    let marks = vec!["?"; gates.len()].join(", ");
    push(&format!("gate IN ({marks})"), gates, &mut wh);
    if let Some(f) = &q.facilities {
        if f.is_empty() {
            return None;
        }
        let marks = vec!["?"; f.len()].join(", ");
        push(
            &format!("facility_id IN ({marks})"),
            f.iter().map(|u| u.to_string()).collect(),
            &mut wh,
        );
    }
    if let Some(op) = q.operation_id {
        push("operation_id = ?", vec![op.to_string()], &mut wh);
    }
    if let Some(s) = &q.status {
        push("status = ?", vec![s.clone()], &mut wh);
    }
    if let Some(c) = q.child_id {
        push("child_id = ?", vec![c.to_string()], &mut wh);
    }
    if let Some(s) = &q.search {
        let words = search_words(s);
        // Each word: any spelling of it, or the word itself; the last word may also be
        // the start of a name ("maria lo" finds "Maria López") unless it is a whole
        // name already (`last_is_whole`). Only the last: a word followed by another is
        // finished, and the start of a common name ("jacob" starts jacobo,
        // jacobita...; "stern" sternberg, sternfeld...) reads tens of thousands of index
        // entries that its spellings (a subset of them) do not.
        let whole = if last_is_whole {
            words.len()
        } else {
            words.len().saturating_sub(1)
        };
        let (agency, kind) = (q.agency_id.to_string(), q.kind.as_str().to_string());
        let set_of = |values: &[String]| {
            let marks = vec!["?"; values.len()].join(", ");
            let mut set_values = vec![agency.clone(), kind.clone()];
            set_values.extend(values.iter().cloned());
            NameWord {
                repeats: values.len() as i64,
                set: format!(
                    "SELECT record_id FROM search_keys WHERE agency_id = ? AND kind = ? AND term IN ({marks})"
                ),
                set_values,
                probe: format!(
                    "EXISTS (SELECT 1 FROM search_keys k WHERE k.record_id = s.rid AND k.term IN ({marks}))"
                ),
                probe_values: values.to_vec(),
            }
        };
        // Whole words two by two as pairs (`pairs`: no word is a case number's or a
        // wristband's), unless the two share a key: then one word of a record could
        // be both, which only the words one by one find.
        let mut pending: Option<&str> = None;
        for w in words.iter().take(whole).map(String::as_str) {
            match pending {
                Some(a) if pairs => {
                    let (ka, kb) = (pair_keys(a), pair_keys(w));
                    if ka.iter().any(|k| kb.contains(k)) {
                        name_words.push(set_of(&word_terms(a)));
                        pending = Some(w);
                    } else {
                        let values: Vec<String> = ka
                            .iter()
                            .flat_map(|x| kb.iter().map(|y| pair_term(x, y)))
                            .collect();
                        name_words.push(set_of(&values));
                        pending = None;
                    }
                }
                Some(a) => {
                    name_words.push(set_of(&word_terms(a)));
                    pending = Some(w);
                }
                None => pending = Some(w),
            }
        }
        if let Some(a) = pending {
            name_words.push(set_of(&word_terms(a)));
        }
        if let Some(w) = words.get(whole) {
            // A prefix is asked as a range (terms are folded to lower case when
            // written): SQLite's LIKE is case-insensitive and PostgreSQL's depends on
            // the collation, and neither then uses the term index. On PostgreSQL the
            // range is in byte order (COLLATE "C", the index of migration 9). The
            // word is also the start of a case number's or wristband's term.
            let term = match backend {
                Backend::Sqlite => "term",
                Backend::Postgres => "term COLLATE \"C\"",
            };
            let range = format!(
                "SELECT record_id FROM search_keys WHERE agency_id = ? AND kind = ? AND {term} >= ? AND {term} < ?"
            );
            let mut set_values = Vec::new();
            let mut probe_values = Vec::new();
            let mut sets = Vec::new();
            let mut probes = Vec::new();
            for start in [w.to_string(), marked(w)] {
                let (lo, hi) = (start.clone(), format!("{start}\u{10FFFF}"));
                sets.push(range.clone());
                set_values.extend([agency.clone(), kind.clone(), lo.clone(), hi.clone()]);
                probes.push(format!("k.{term} >= ? AND k.{term} < ?"));
                probe_values.extend([lo, hi]);
            }
            let variants = amparo_match::variant_keys(w);
            if !variants.is_empty() {
                // Index lookups joined (UNION ALL), not one scan with OR.
                let marks = vec!["?"; variants.len()].join(", ");
                sets.push(format!(
                    "SELECT record_id FROM search_keys WHERE agency_id = ? AND kind = ? AND term IN ({marks})"
                ));
                set_values.extend([agency.clone(), kind.clone()]);
                set_values.extend(variants.iter().cloned());
                probes.push(format!("k.term IN ({marks})"));
                probe_values.extend(variants);
            }
            name_words.push(NameWord {
                // Each range (its two bounds) counts as two terms, then each spelling.
                repeats: probe_values.len() as i64,
                set: sets.join(" UNION ALL "),
                set_values,
                probe: format!(
                    "EXISTS (SELECT 1 FROM search_keys k WHERE k.record_id = s.rid AND (({})))",
                    probes.join(") OR (")
                ),
                probe_values,
            });
        }
    }
    Some(Filter {
        plus,
        conditions: wh.join(" AND "),
        binds,
        name_words,
    })
}

/// Replace each `?` of `sql` with the next numbered placeholder, binding `values`.
fn numbered(sql: &str, values: &[String], binds: &mut Vec<String>) -> String {
    let mut out = sql.to_string();
    for v in values {
        binds.push(v.clone());
        out = out.replacen('?', &format!("${}", binds.len()), 1);
    }
    out
}

/// One child, reduced to what the dashboard counts.
#[derive(Debug, Clone)]
pub struct ChildSummary {
    /// How many records share these values.
    pub count: i64,
    pub status: String,
    pub facility_id: Option<Uuid>,
    pub sex: String,
    pub born: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

/// Sex and birth range as indexed columns, for children and persons.
fn summary_columns(kind: Kind, data: &Value) -> (Option<String>, Option<String>, Option<String>) {
    if !matches!(kind, Kind::Child | Kind::Person) {
        return (None, None, None);
    }
    let range = data
        .get("birth")
        .and_then(|b| serde_json::from_value::<amparo_domain::birth::Birth>(b.clone()).ok())
        .and_then(|b| b.range());
    (
        str_field(data, "sex"),
        range.map(|r| r.0.to_string()),
        range.map(|r| r.1.to_string()),
    )
}

/// The indexes of search_keys as migrations 4, 8 and 9 made them: a full rebuild
/// drops them, writes every key, and makes them again (`rebuild_search_keys`).
const SEARCH_KEY_INDEXES: &[(&str, Option<Backend>)] = &[
    (
        "CREATE INDEX search_keys_term ON search_keys (agency_id, kind, term, record_id)",
        None,
    ),
    (
        "CREATE INDEX search_keys_record ON search_keys (record_id, term)",
        None,
    ),
    (
        "CREATE INDEX search_keys_term_only ON search_keys (term)",
        None,
    ),
    (
        "CREATE INDEX search_keys_prefix ON search_keys (agency_id, kind, term COLLATE \"C\", record_id)",
        Some(Backend::Postgres),
    ),
];

/// Rebuild every record's search keys (after the way they are made changed). Every
/// key is written again with the indexes dropped, then the indexes are made in one
/// sorted pass each: keeping them while a million records' keys were replaced batch
/// by batch wrote each index page again for every batch (over 100 GB written to
/// SQLite's log in 15 minutes, unfinished). Records are read 2,000 at a time, so a
/// million never sit in memory. Cut short, it leaves search without some keys or
/// indexes: the caller records its migration only after it returns and runs it
/// again at the next start (every step can be repeated). Returns how many records.
pub(crate) async fn rebuild_search_keys(
    pool: &sqlx::AnyPool,
    backend: Backend,
) -> Result<u64, StoreError> {
    const BATCH: i64 = 2_000;
    // One connection for every step: on SQLite another pooled connection could still
    // read the schema from before the indexes were dropped, and its CREATE INDEX then
    // failed with "index already exists" (a server that did not start, in CI).
    let mut conn = pool.acquire().await?;
    for (create, _) in SEARCH_KEY_INDEXES {
        let name = create.split(' ').nth(2).unwrap_or_default();
        sqlx::raw_sql(&format!("DROP INDEX IF EXISTS {name}"))
            .execute(&mut *conn)
            .await?;
    }
    let empty = match backend {
        Backend::Sqlite => "DELETE FROM search_keys",
        Backend::Postgres => "TRUNCATE search_keys",
    };
    sqlx::raw_sql(empty).execute(&mut *conn).await?;
    let mut after = String::new();
    let mut done = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT id, agency_id, kind, case_number, wristband, data FROM records \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.clone())
        .bind(BATCH)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.try_get("id")?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let agency: String = r.try_get("agency_id")?;
            let kind: String = r.try_get("kind")?;
            let case: Option<String> = r.try_get("case_number")?;
            let wristband: Option<String> = r.try_get("wristband")?;
            let data: String = r.try_get("data")?;
            let data: Value =
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let Some(kind_of) = Kind::parse(&kind) else {
                return Err(StoreError::Corrupt(format!("record {id}: unknown kind")));
            };
            // A record that no longer reads as its type keeps its case number and
            // wristband keys; the server still starts, and says which record.
            let names = stored_names(kind_of, &data).unwrap_or_else(|| {
                tracing::warn!(record = %id, kind = %kind, "stored data does not read as its kind; its names are not indexed");
                Vec::new()
            });
            let terms = record_terms(
                &names,
                kind_of,
                &data,
                case.as_deref(),
                wristband.as_deref(),
            );
            insert_terms(&mut tx, &id, &agency, &kind, &terms).await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
        if done % 100_000 < BATCH as u64 {
            tracing::info!(records = done, "search keys rebuilt");
        }
    }
    for (create, only) in SEARCH_KEY_INDEXES {
        if only.is_none_or(|b| b == backend) {
            sqlx::raw_sql(create).execute(&mut *conn).await?;
        }
    }
    Ok(done)
}

/// The names a stored record is searched by, as its kind's `Record::names` gives them
/// (a tracing request's sought names, a visit's visitor...): the rebuild reads the
/// record as its own type, so it writes the keys a create or an update would. `None`
/// when the stored data no longer reads as its type.
fn stored_names(kind: Kind, data: &Value) -> Option<Vec<String>> {
    fn of<T: Record>(data: &Value) -> Option<Vec<String>> {
        let rec: T = serde_json::from_value(data.clone()).ok()?;
        Some(rec.names().iter().map(|n| n.full()).collect())
    }
    use amparo_domain::records as r;
    // Every kind, no wildcard: a new kind must say how it is named.
    match kind {
        Kind::Operation => of::<r::Operation>(data),
        Kind::Child => of::<r::Child>(data),
        Kind::Person => of::<r::Person>(data),
        Kind::Relationship => of::<r::Relationship>(data),
        Kind::Household => of::<r::Household>(data),
        Kind::Facility => of::<r::Facility>(data),
        Kind::Placement => of::<r::Placement>(data),
        Kind::RiskFlag => of::<r::RiskFlag>(data),
        Kind::Incident => of::<r::Incident>(data),
        Kind::RollCall => of::<r::RollCall>(data),
        Kind::RollCallMark => of::<r::RollCallMark>(data),
        Kind::MissingAlert => of::<r::MissingAlert>(data),
        Kind::Restriction => of::<r::Restriction>(data),
        Kind::Visit => of::<r::Visit>(data),
        Kind::Site => of::<r::Site>(data),
        Kind::WelfareCheck => of::<r::WelfareCheck>(data),
        Kind::Allegation => of::<r::Allegation>(data),
        Kind::Evidence => of::<r::Evidence>(data),
        Kind::CarePlan => of::<r::CarePlan>(data),
        Kind::Task => of::<r::Task>(data),
        Kind::Release => of::<r::Release>(data),
        Kind::TracingRequest => of::<r::TracingRequest>(data),
    }
}

/// Fill the summary columns of records written before they existed.
pub(crate) async fn backfill_summary(pool: &sqlx::AnyPool) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT id, kind, data FROM records WHERE kind IN ('child', 'person')")
        .fetch_all(pool)
        .await?;
    for r in rows {
        let id: String = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let data: String = r.try_get("data")?;
        let data: Value =
            serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (sex, lo, hi) = summary_columns(Kind::parse(&kind).unwrap_or(Kind::Child), &data);
        sqlx::query(
            "UPDATE records SET sex = $1, born_earliest = $2, born_latest = $3 WHERE id = $4",
        )
        .bind(sex)
        .bind(lo)
        .bind(hi)
        .bind(id)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// A query with its values bound in order.
fn bind_all<'q>(
    sql: &'q str,
    binds: &[String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for b in binds {
        query = query.bind(b.clone());
    }
    query
}

impl Store {
    /// Status, facility, sex and birth range of the records the query matches, grouped
    /// with their counts, without reading their JSON.
    pub async fn summaries(&self, q: &ListQuery) -> Result<Vec<ChildSummary>, StoreError> {
        let Some(filter) = self.filter(q).await? else {
            return Ok(vec![]);
        };
        let (where_sql, binds) = filter.full();
        let sql = format!(
            "SELECT status, facility_id, sex, born_earliest, born_latest, COUNT(*) AS n FROM records \
             WHERE {where_sql} GROUP BY status, facility_id, sex, born_earliest, born_latest"
        );
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let date = |s: Option<String>| s.and_then(|d| d.parse::<chrono::NaiveDate>().ok());
        rows.iter()
            .map(|r| {
                let facility: Option<String> = r.try_get("facility_id")?;
                let lo = date(r.try_get("born_earliest")?);
                let hi = date(r.try_get("born_latest")?);
                Ok(ChildSummary {
                    count: r.try_get("n")?,
                    status: r
                        .try_get::<Option<String>, _>("status")?
                        .unwrap_or_default(),
                    facility_id: facility.as_deref().and_then(|f| Uuid::parse_str(f).ok()),
                    sex: r.try_get::<Option<String>, _>("sex")?.unwrap_or_default(),
                    born: lo.zip(hi),
                })
            })
            .collect()
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_row).transpose()
    }

    /// Records of a kind whose top-level `field` holds `value` (a JSON string).
    pub async fn records_with_field(
        &self,
        agency: Uuid,
        kind: Kind,
        field: &str,
        value: &str,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        // A child's records through the child_id column (indexed, `columns` copies
        // the field there): a LIKE over every welfare check of the agency grows with
        // the operation.
        let (sql, pattern) = if field == "child_id" {
            let plus = match self.backend() {
                Backend::Sqlite => "+",
                Backend::Postgres => "",
            };
            (
                format!(
                    "SELECT {RECORD_COLUMNS} FROM records WHERE {plus}agency_id = $1 AND kind = $2 \
                     AND child_id = $3 ORDER BY created_at, id"
                ),
                value.to_string(),
            )
        } else {
            (
                format!(
                    "SELECT {RECORD_COLUMNS} FROM records WHERE agency_id = $1 AND kind = $2 \
                     AND data LIKE $3 ORDER BY created_at, id"
                ),
                format!(
                    "%{}%",
                    serde_json::json!({ field: value })
                        .to_string()
                        .trim_matches(['{', '}'])
                ),
            )
        };
        let rows = sqlx::query(&sql)
            .bind(agency.to_string())
            .bind(kind.as_str())
            .bind(pattern)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let rec = record_row(r)?;
            // LIKE narrows; the exact field decides.
            if rec.data.get(field).and_then(Value::as_str) == Some(value) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Relationships and households of the agency that name this record.
    pub async fn records_naming(
        &self,
        agency: Uuid,
        id: Uuid,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        self.records_mentioning(agency, &[Kind::Relationship, Kind::Household], id)
            .await
    }

    /// Records of these kinds whose data holds `id` anywhere (in a list of children,
    /// of victims...), oldest first. The kinds must be among `MENTIONING_KINDS`: only
    /// their records carry the ids they hold as search terms.
    pub async fn records_mentioning(
        &self,
        agency: Uuid,
        kinds: &[Kind],
        id: Uuid,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let kinds: Vec<String> = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        // Kind names are our own constants, never user input. The ids a record holds
        // are its "@id" search terms (`mentions`).
        let kinds = kinds.join(", ");
        // "+" on SQLite: otherwise it walks every record of the kinds (20,000
        // relationships: 136 ms) instead of looking the few found ids up.
        let plus = match self.backend() {
            Backend::Sqlite => "+",
            Backend::Postgres => "",
        };
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE {plus}agency_id = $1 AND {plus}kind IN ({kinds}) \
             AND id IN (SELECT record_id FROM search_keys WHERE agency_id = $1 \
             AND kind IN ({kinds}) AND term = $2) ORDER BY created_at"
        );
        let rows = sqlx::query(&sql)
            .bind(agency.to_string())
            .bind(format!("@{id}"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_row).collect()
    }

    pub async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, data, changed_at, changed_by FROM record_versions \
             WHERE record_id = $1 ORDER BY version",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let data: String = r.try_get("data")?;
                Ok(HistoryEntry {
                    version: r.try_get("version")?,
                    changed_at: r.try_get("changed_at")?,
                    changed_by: r.try_get("changed_by")?,
                    data: serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// The word of a name search that should drive it, if one is rare next to the
    /// others: it drives and each record it finds is tested for the other words
    /// through its own search keys (index search_keys_record); otherwise (`None`) the
    /// words' sets are intersected in the index. Measured on 1,000,000 children: a
    /// probe costs what reading 5 to 7 index entries in an intersection does
    /// ("luis marinales": 217 probes 1.1 ms against intersecting 62,874 + 217 entries
    /// 44 ms; "chaima sternez": 6,394 probes 65 ms against intersecting 59,451
    /// entries 110 ms). Each word is counted up to WORD_COUNT_CAP to decide, so a
    /// very common word counts less than it costs: the bias is towards intersecting.
    async fn driving_word(&self, filter: &Filter) -> Result<(Option<usize>, Vec<i64>), StoreError> {
        if filter.name_words.len() < 2 {
            return Ok((None, vec![0; filter.name_words.len()]));
        }
        // The words are counted at the same time, each on its own connection.
        let counts = filter.name_words.iter().map(|w| {
            let mut b = Vec::new();
            let set = numbered(&w.set, &w.set_values, &mut b);
            let sql = format!(
                "SELECT COUNT(*) AS n FROM (SELECT record_id FROM ({set}) w LIMIT {WORD_COUNT_CAP}) c"
            );
            async move {
                let row = bind_all(&sql, &b).fetch_one(&self.pool).await?;
                Ok::<i64, StoreError>(row.try_get("n")?)
            }
        });
        let sizes: Vec<i64> = futures_util::future::try_join_all(counts).await?;
        let total: i64 = sizes.iter().sum();
        let driver = sizes
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| **n)
            .filter(|(_, n)| **n * PROBE_COST < total)
            .map(|(i, _)| i);
        Ok((driver, sizes))
    }

    /// The filter of a list query (see `where_clause`), with its last search word read
    /// as a whole name when some record the viewer may see has it as a word ("lopez"
    /// is one, "lo" and "weing" are not): then it is not also the start of longer
    /// names. Only visible records count, so the way a search reads its words cannot
    /// tell that a hidden record has a name. Whole words are looked up two by two
    /// when none of them is a case number's or a wristband's part in the agency:
    /// hidden records count there, but the matches are the same either way.
    async fn filter(&self, q: &ListQuery) -> Result<Option<Filter>, StoreError> {
        let Some(filter) = where_clause(q, self.backend(), false, false) else {
            return Ok(None);
        };
        let words = q.search.as_deref().map(search_words).unwrap_or_default();
        let Some(last) = words.last() else {
            return Ok(Some(filter));
        };
        let mut binds = filter.binds.clone();
        binds.extend([last.clone(), marked(last)]);
        // $1 and $2 are the agency and the kind, as in every filter.
        let sql = format!(
            "SELECT 1 AS one FROM records WHERE {} AND id IN \
             (SELECT record_id FROM search_keys WHERE agency_id = $1 AND kind = $2 AND term IN (${}, ${})) LIMIT 1",
            filter.conditions,
            binds.len() - 1,
            binds.len()
        );
        let whole = bind_all(&sql, &binds)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        let pairs = words.len() >= 2
            && {
                let mut binds = vec![q.agency_id.to_string(), q.kind.as_str().to_string()];
                binds.extend(words.iter().map(|w| marked(w)));
                let marks: Vec<String> = (3..=binds.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                "SELECT 1 AS one FROM search_keys WHERE agency_id = $1 AND kind = $2 AND term IN ({}) LIMIT 1",
                marks.join(", ")
            );
                bind_all(&sql, &binds)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_none()
            };
        Ok(if whole || pairs {
            where_clause(q, self.backend(), whole, pairs)
        } else {
            Some(filter)
        })
    }

    /// The ids a name search chooses its page from: at most SEARCH_CAP, found in one
    /// pass that stops as soon as it has them (the search index joined to the
    /// records, every filter applied, so the cap never counts a record the viewer
    /// may not see), and whether they are all the matches.
    async fn search_candidates(&self, filter: &Filter) -> Result<(Vec<String>, bool), StoreError> {
        if filter.name_words.is_empty() {
            return Ok((Vec::new(), true));
        }
        let mut binds = filter.binds.clone();
        let mut probes = String::new();
        let (driver, sizes) = self.driving_word(filter).await?;
        // The word whose set is read row by row: the driver, or the largest.
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        let scanned = driver.unwrap_or(order[0]);
        let set = match driver {
            Some(driver) => {
                let w = &filter.name_words[driver];
                let set = numbered(&w.set, &w.set_values, &mut binds);
                for (i, w) in filter.name_words.iter().enumerate() {
                    if i != driver {
                        probes.push_str(" AND ");
                        probes.push_str(&numbered(&w.probe, &w.probe_values, &mut binds));
                    }
                }
                set
            }
            // The largest set is scanned, the others looked up.
            None => filter.intersection_in(&order, &mut binds),
        };
        // No DISTINCT in SQL: with it PostgreSQL sorted every match before the LIMIT
        // (140 ms for "jacob" at a million; 27 ms streaming). A record comes once per
        // term of the scanned set it has (as written, each spelling key), so up to
        // that many times the cap is asked for, read as it streams, and the reading
        // stops at SEARCH_CAP + 1 different records. The order rows come in is the
        // database's: on PostgreSQL a record's repeats can be next to each other.
        let repeats = filter.name_words[scanned].repeats.max(1);
        let rows_cap = repeats * (SEARCH_CAP + 1);
        let sql = format!(
            "SELECT id FROM (SELECT record_id AS rid FROM ({set}) s0) s \
             JOIN records ON records.id = s.rid WHERE {}{probes} LIMIT {rows_cap}",
            filter.conditions,
        );
        let mut seen = std::collections::HashSet::new();
        let mut ids = Vec::new();
        let mut read = 0i64;
        let mut rows = bind_all(&sql, &binds).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            read += 1;
            let id: String = r.try_get("id")?;
            if seen.insert(id.clone()) {
                ids.push(id);
                if ids.len() as i64 > SEARCH_CAP {
                    break;
                }
            }
        }
        let exact = ids.len() as i64 <= SEARCH_CAP && read < rows_cap;
        ids.truncate(SEARCH_CAP as usize);
        Ok((ids, exact))
    }

    /// Every record the query matches (no name search), in case-number order, at most
    /// `max`, handed to `each` one at a time as the rows stream in: the caller keeps
    /// only what it needs (the import's duplicate check keeps names and births, not
    /// 200,000 whole records at once).
    pub async fn each_record(
        &self,
        q: &ListQuery,
        max: i64,
        mut each: impl FnMut(StoredRecord),
    ) -> Result<(), StoreError> {
        if q.search.is_some() {
            return Err(StoreError::Invalid(Invalid::one(
                "q",
                "a name search cannot be streamed: use list",
            )));
        }
        let Some(filter) = where_clause(q, self.backend(), false, false) else {
            return Ok(());
        };
        let (where_sql, binds) = filter.full();
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE {where_sql} \
             ORDER BY {ORDER_KEY} LIMIT {}",
            max.max(0)
        );
        let mut rows = bind_all(&sql, &binds).fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            each(record_row(&row)?);
        }
        Ok(())
    }

    pub async fn list(&self, q: &ListQuery) -> Result<Page, StoreError> {
        let empty = Page {
            items: vec![],
            total: 0,
            total_exact: true,
            next: None,
        };
        if q.after.is_some() && q.recent_first {
            return Err(StoreError::Invalid(Invalid::one(
                "after",
                "only pages in case-number order",
            )));
        }
        let Some(filter) = self.filter(q).await? else {
            return Ok(empty);
        };
        let (where_sql, where_binds) = filter.full();
        // The records a page is chosen from: for a name search, at most SEARCH_CAP
        // ids (see `search_candidates`); otherwise the filter itself, counted up to
        // COUNT_CAP.
        let (chosen, chosen_binds, total, total_exact) = if filter.name_words.is_empty() {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM records WHERE {where_sql} LIMIT {}) capped",
                COUNT_CAP + 1
            );
            let counted: i64 = bind_all(&sql, &where_binds)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            (
                where_sql.clone(),
                where_binds.clone(),
                counted.min(COUNT_CAP),
                counted <= COUNT_CAP,
            )
        } else {
            let (ids, exact) = self.search_candidates(&filter).await?;
            if ids.is_empty() {
                return Ok(empty);
            }
            let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            let total = ids.len() as i64;
            (format!("id IN ({})", marks.join(", ")), ids, total, exact)
        };
        let mut list_sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE {chosen}");
        let mut page_binds = chosen_binds;
        if let Some(after) = q.after {
            // The record the last page ended with, under the same filters: a cursor
            // from another list (or a record the viewer may not see) is refused, not
            // used to probe where that record would sort.
            let mut binds = where_binds.clone();
            binds.push(after.to_string());
            let key_sql = format!(
                "SELECT COALESCE(case_number, '') AS k, created_at FROM records WHERE {where_sql} AND id = ${}",
                binds.len()
            );
            let Some(row) = bind_all(&key_sql, &binds)
                .fetch_optional(&self.pool)
                .await?
            else {
                return Err(StoreError::Invalid(Invalid::one(
                    "after",
                    "is not a record of this list: start again from the first page",
                )));
            };
            // Written so the index gives the range: SQLite does not range-scan an
            // expression index with a row-value comparison (it read every record
            // before the cursor: 215 ms at the 900,000th child, 0.6 ms this way).
            // Case numbers are unique, so only records without one (which share '')
            // need created_at and id to break the tie.
            let n = page_binds.len();
            let (k, c, i) = (n + 1, n + 2, n + 3);
            list_sql.push_str(&format!(
                " AND COALESCE(case_number, '') >= ${k} \
                 AND (COALESCE(case_number, '') > ${k} OR (created_at, id) > (${c}, ${i}))"
            ));
            page_binds.push(row.try_get("k")?);
            page_binds.push(row.try_get("created_at")?);
            page_binds.push(after.to_string());
        }
        let n = page_binds.len();
        list_sql.push_str(&format!(
            " ORDER BY {} LIMIT ${} OFFSET ${}",
            if q.recent_first {
                "updated_at DESC, id"
            } else {
                ORDER_KEY
            },
            n + 1,
            n + 2
        ));
        let rows = bind_all(&list_sql, &page_binds)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let items: Vec<StoredRecord> = rows.iter().map(record_row).collect::<Result<_, _>>()?;
        let next = (!q.recent_first && q.limit > 0 && items.len() as i64 == q.limit)
            .then(|| items.last().map(|r| r.id))
            .flatten();
        Ok(Page {
            items,
            total,
            total_exact,
            next,
        })
    }

    /// Create a record with its first version and audit entry, in one transaction.
    pub async fn create<T: Record>(
        &self,
        actor: &Actor,
        rec: T,
    ) -> Result<StoredRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = create_in(&mut tx, actor, rec).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Create once per idempotency key and user: a repeat returns the first record
    /// and `false`.
    pub async fn create_once<T: Record>(
        &self,
        actor: &Actor,
        key: &str,
        rec: T,
    ) -> Result<(StoredRecord, bool), StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(rec) = tx.keyed(&actor.username, key).await? {
            return Ok((rec, false));
        }
        let owner = actor.username.clone();
        let stored = tx.create_keyed(actor, &owner, key, rec).await?;
        tx.commit().await?;
        Ok((stored, true))
    }

    /// The record created under `key` by `owner` (a user, or a whole agency for
    /// imports), if any.
    pub async fn keyed(&self, owner: &str, key: &str) -> Result<Option<Uuid>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT record_id FROM idempotency_keys WHERE idem_key = $1 AND username = $2",
        )
        .bind(key.to_string())
        .bind(owner.to_string())
        .fetch_optional(&self.pool)
        .await?;
        id.map(|i| parse_uuid(&i)).transpose()
    }

    /// Of these keys, the ones `owner` created records under, with the record ids.
    pub async fn keyed_many(
        &self,
        owner: &str,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, Uuid>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for chunk in keys.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT idem_key, record_id FROM idempotency_keys WHERE username = $1 AND idem_key IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(owner.to_string());
            for k in chunk {
                q = q.bind(k.clone());
            }
            for row in q.fetch_all(&self.pool).await? {
                let key: String = row.try_get("idem_key")?;
                let id: String = row.try_get("record_id")?;
                out.insert(key, parse_uuid(&id)?);
            }
        }
        Ok(out)
    }

    /// Every wristband worn in an operation, with the child's case number.
    pub async fn wristbands(
        &self,
        agency: Uuid,
        operation: Uuid,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT wristband, case_number FROM records WHERE agency_id = $1 AND kind = 'child' \
             AND operation_id = $2 AND wristband IS NOT NULL",
        )
        .bind(agency.to_string())
        .bind(operation.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = std::collections::HashMap::new();
        for r in rows {
            let w: String = r.try_get("wristband")?;
            let c: Option<String> = r.try_get("case_number")?;
            out.insert(w, c.unwrap_or_default());
        }
        Ok(out)
    }

    /// The child of an operation wearing this wristband, if any.
    pub async fn child_by_wristband(
        &self,
        agency: Uuid,
        operation: Uuid,
        wristband: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE agency_id = $1 AND kind = 'child' \
             AND operation_id = $2 AND wristband = $3"
        );
        let row = sqlx::query(&sql)
            .bind(agency.to_string())
            .bind(operation.to_string())
            .bind(wristband.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_row).transpose()
    }

    /// Replace a record's data if `expected_version` is still current.
    pub async fn update<T: Record>(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i64,
        rec: T,
    ) -> Result<StoredRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if current.kind != T::KIND || current.agency_id != actor.agency_id {
            return Err(StoreError::NotFound);
        }
        if current.version != expected_version {
            return Err(StoreError::Stale {
                current_version: current.version,
            });
        }
        let stored = update_in(&mut tx, actor, current, rec, "").await?;
        tx.commit().await?;
        Ok(stored)
    }
}

impl WriteTx<'_> {
    pub async fn get(&mut self, id: Uuid) -> Result<Option<StoredRecord>, StoreError> {
        load(self, id).await
    }
    /// The record created under `key` by `owner`, as this transaction sees it.
    pub async fn keyed(
        &mut self,
        owner: &str,
        key: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT record_id FROM idempotency_keys WHERE idem_key = $1 AND username = $2",
        )
        .bind(key.to_string())
        .bind(owner.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        match existing {
            Some(id) => load(self, parse_uuid(&id)?).await,
            None => Ok(None),
        }
    }
    /// Create a record and remember it under `key` for `owner`.
    /// Reserve `n` case numbers of an operation in one statement, for a bulk import;
    /// the children created next in this transaction take them in order.
    pub async fn reserve_case_numbers(
        &mut self,
        actor: &Actor,
        operation: Uuid,
        n: i64,
    ) -> Result<(), StoreError> {
        if n <= 0 {
            return Ok(());
        }
        let op = require_ref(self, actor, operation, &[Kind::Operation], "operation_id").await?;
        let country = str_field(&op.data, "country").unwrap_or_else(|| "XX".into());
        let key = format!("case:{country}-{}", self.now.year());
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO counters (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + $2 RETURNING value",
        )
        .bind(key.clone())
        .bind(n)
        .fetch_one(&mut *self.tx)
        .await?;
        self.case_numbers.insert(key, (last - n + 1, last));
        Ok(())
    }

    /// Remember many created records under their keys for `owner`, in few statements.
    pub async fn remember_keys(
        &mut self,
        owner: &str,
        keyed: &[(String, Uuid)],
    ) -> Result<(), StoreError> {
        for chunk in keyed.chunks(200) {
            let mut sql = String::from(
                "INSERT INTO idempotency_keys (idem_key, username, record_id, created_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, $1, ${}, $2)", 3 + 2 * i, 4 + 2 * i));
            }
            let mut q = sqlx::query(&sql)
                .bind(owner.to_string())
                .bind(self.now.to_rfc3339());
            for (key, id) in chunk {
                q = q.bind(key.clone()).bind(id.to_string());
            }
            q.execute(&mut *self.tx).await.map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
                    "the same rows are being imported by another request at this moment: try again"
                        .into(),
                ),
                _ => StoreError::Db(e),
            })?;
        }
        Ok(())
    }

    pub async fn create_keyed<T: Record>(
        &mut self,
        actor: &Actor,
        owner: &str,
        key: &str,
        rec: T,
    ) -> Result<StoredRecord, StoreError> {
        let stored = create_in(self, actor, rec).await?;
        sqlx::query(
            "INSERT INTO idempotency_keys (idem_key, username, record_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key.to_string())
        .bind(owner.to_string())
        .bind(stored.id.to_string())
        .bind(self.now.to_rfc3339())
        .execute(&mut *self.tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
                "the same record is being created by another request at this moment: try again"
                    .into(),
            ),
            _ => StoreError::Db(e),
        })?;
        Ok(stored)
    }
    pub async fn create<T: Record>(
        &mut self,
        actor: &Actor,
        rec: T,
    ) -> Result<StoredRecord, StoreError> {
        create_in(self, actor, rec).await
    }
    /// Update `current` (as read in this transaction) to `rec`; `why` goes in the audit.
    pub async fn update<T: Record>(
        &mut self,
        actor: &Actor,
        current: StoredRecord,
        rec: T,
        why: &str,
    ) -> Result<StoredRecord, StoreError> {
        if current.kind != T::KIND || current.agency_id != actor.agency_id {
            return Err(StoreError::NotFound);
        }
        update_in(self, actor, current, rec, why).await
    }
}

async fn load(tx: &mut WriteTx<'_>, id: Uuid) -> Result<Option<StoredRecord>, StoreError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(&mut *tx.tx)
        .await?;
    row.as_ref().map(record_row).transpose()
}

/// A referenced record must exist, be of one of `kinds` and belong to the agency.
async fn require_ref(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    id: Uuid,
    kinds: &[Kind],
    field: &str,
) -> Result<StoredRecord, StoreError> {
    let cached = tx.operations.get(&id).cloned();
    let found = match cached {
        Some(op) => Some(op),
        None => load(tx, id).await?,
    };
    match found {
        Some(r) if kinds.contains(&r.kind) && r.agency_id == actor.agency_id => {
            if r.kind == Kind::Operation {
                tx.operations.insert(id, r.clone());
            }
            Ok(r)
        }
        _ => {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            Err(StoreError::Invalid(Invalid::one(
                field,
                format!(
                    "{id} is not a {} of your agency: check the id",
                    names.join(" or ")
                ),
            )))
        }
    }
}

struct Columns {
    operation_id: Option<String>,
    status: Option<String>,
    child_id: Option<String>,
    wristband: Option<String>,
}

fn columns(kind: Kind, data: &Value) -> Columns {
    Columns {
        operation_id: str_field(data, "operation_id"),
        status: str_field(data, "status"),
        child_id: str_field(data, "child_id"),
        wristband: if kind == Kind::Child {
            str_field(data, "wristband")
        } else {
            None
        },
    }
}

async fn check_references<T: Record>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    rec: &T,
    data: &Value,
    self_id: Option<Uuid>,
) -> Result<(), StoreError> {
    let uuid_at = |field: &str| str_field(data, field).and_then(|s| Uuid::parse_str(&s).ok());
    if let Some(op) = uuid_at("operation_id") {
        require_ref(tx, actor, op, &[Kind::Operation], "operation_id").await?;
    }
    // References by field name mean the same kind everywhere.
    for (field, kind) in [
        ("facility_id", Kind::Facility),
        ("child_id", Kind::Child),
        ("person_id", Kind::Person),
        ("roll_call_id", Kind::RollCall),
        ("incident_id", Kind::Incident),
    ] {
        if let Some(id) = uuid_at(field) {
            require_ref(tx, actor, id, &[kind], field).await?;
        }
    }
    for (field, kind) in [("children", Kind::Child), ("persons", Kind::Person)] {
        if let Some(list) = data.get(field).and_then(Value::as_array) {
            for (i, v) in list.iter().enumerate() {
                if let Some(id) = v.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                    require_ref(tx, actor, id, &[kind], &format!("{field}[{i}]")).await?;
                }
            }
        }
    }
    match T::KIND {
        Kind::Relationship => {
            for field in ["from", "to"] {
                if let Some(p) = uuid_at(field) {
                    require_ref(tx, actor, p, &[Kind::Child, Kind::Person], field).await?;
                }
            }
        }
        Kind::Household => {
            if let Some(members) = data.get("members").and_then(Value::as_array) {
                for (i, m) in members.iter().enumerate() {
                    if let Some(p) = m.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                        require_ref(
                            tx,
                            actor,
                            p,
                            &[Kind::Child, Kind::Person],
                            &format!("members[{i}]"),
                        )
                        .await?;
                    }
                }
            }
        }
        Kind::Child => {
            let cols = columns(Kind::Child, data);
            if let (Some(op), Some(w)) = (cols.operation_id, cols.wristband) {
                let holder: Option<(String, Option<String>)> = sqlx::query(
                    "SELECT id, case_number FROM records WHERE kind = 'child' AND operation_id = $1 AND wristband = $2",
                )
                .bind(op)
                .bind(w.clone())
                .fetch_all(&mut *tx.tx)
                .await?
                .iter()
                .filter_map(|r| {
                    Some((r.try_get::<String, _>("id").ok()?, r.try_get("case_number").ok()?))
                })
                .find(|(id, _)| Some(id.as_str()) != self_id.map(|s| s.to_string()).as_deref());
                if let Some((_, case)) = holder {
                    return Err(StoreError::Conflict(format!(
                        "wristband {w} is already used by {} in this operation: check the number on the wristband",
                        case.unwrap_or_default()
                    )));
                }
            }
        }
        _ => {}
    }
    let _ = rec;
    Ok(())
}

async fn write_search_keys(
    tx: &mut WriteTx<'_>,
    id: Uuid,
    agency: Uuid,
    kind: Kind,
    terms: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM search_keys WHERE record_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx.tx)
        .await?;
    insert_terms(
        &mut tx.tx,
        &id.to_string(),
        &agency.to_string(),
        kind.as_str(),
        terms,
    )
    .await
}

/// One statement per 200 terms, not one per term: a child has dozens of variant keys
/// and pairs, and bulk imports write thousands of children in one transaction.
async fn insert_terms(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    agency: &str,
    kind: &str,
    terms: &[String],
) -> Result<(), StoreError> {
    for chunk in terms.chunks(200) {
        let mut sql =
            String::from("INSERT INTO search_keys (record_id, agency_id, kind, term) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("($1, $2, $3, ${})", i + 4));
        }
        let mut q = sqlx::query(&sql).bind(id).bind(agency).bind(kind);
        for t in chunk {
            q = q.bind(t.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_version(
    tx: &mut WriteTx<'_>,
    id: Uuid,
    version: i64,
    data: &str,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO record_versions (record_id, version, data, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(version)
    .bind(data.to_string())
    .bind(tx.now.to_rfc3339())
    .bind(by.to_string())
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

async fn next_case_number(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    op_id: Uuid,
) -> Result<String, StoreError> {
    let op = require_ref(tx, actor, op_id, &[Kind::Operation], "operation_id").await?;
    let country = str_field(&op.data, "country").unwrap_or_else(|| "XX".into());
    let year = tx.now.year();
    let key = format!("case:{country}-{year}");
    if let Some((next, last)) = tx.case_numbers.get_mut(&key) {
        if *next <= *last {
            let seq = *next;
            *next += 1;
            return Ok(format!("{country}-{year}-{seq:06}"));
        }
    }
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(key)
    .fetch_one(&mut *tx.tx)
    .await?;
    Ok(format!("{country}-{year}-{seq:06}"))
}

fn to_value<T: Record>(rec: &T) -> Result<Value, StoreError> {
    serde_json::to_value(rec).map_err(|e| StoreError::Corrupt(e.to_string()))
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub(crate) async fn create_in<T: Record>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    rec: T,
) -> Result<StoredRecord, StoreError> {
    let data = to_value(&rec)?;
    check_references(tx, actor, &rec, &data, None).await?;
    let id = Uuid::now_v7();
    let kind = T::KIND;
    let case_number = if kind == Kind::Child {
        let op = str_field(&data, "operation_id")
            .and_then(|s| Uuid::parse_str(&s).ok())
            .ok_or_else(|| StoreError::Invalid(Invalid::one("operation_id", "is missing")))?;
        Some(next_case_number(tx, actor, op).await?)
    } else {
        None
    };
    let cols = columns(kind, &data);
    let facility_id = match kind {
        Kind::Facility => Some(id.to_string()),
        Kind::Child => None,
        _ => str_field(&data, "facility_id"),
    };
    let gate = gate_str(record_gate(kind, &data));
    let summary = summary_columns(kind, &data);
    let data_text = data.to_string();
    let now = tx.now.to_rfc3339();
    sqlx::query(
        "INSERT INTO records (id, kind, agency_id, gate, operation_id, case_number, wristband, status, \
         facility_id, child_id, data, version, created_at, created_by, updated_at, updated_by, \
         sex, born_earliest, born_latest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(id.to_string())
    .bind(kind.as_str())
    .bind(actor.agency_id.to_string())
    .bind(gate)
    .bind(cols.operation_id)
    .bind(case_number.clone())
    .bind(cols.wristband.clone())
    .bind(cols.status)
    .bind(facility_id.clone())
    .bind(cols.child_id)
    .bind(data_text.clone())
    .bind(now.clone())
    .bind(actor.username.clone())
    .bind(now.clone())
    .bind(actor.username.clone())
    .bind(summary.0)
    .bind(summary.1)
    .bind(summary.2)
    .execute(&mut *tx.tx)
    .await?;
    insert_version(tx, id, 1, &data_text, &actor.username).await?;
    let terms = search_terms(
        &rec,
        &data,
        case_number.as_deref(),
        cols.wristband.as_deref(),
    );
    write_search_keys(tx, id, actor.agency_id, kind, &terms).await?;
    tx.audit(NewEntry {
        actor: actor.username.clone(),
        action: Action::Create,
        record_kind: Some(kind.as_str().into()),
        record_id: Some(id.to_string()),
        summary: match &case_number {
            Some(c) => format!("created {} {c}", kind.as_str()),
            None => format!("created {}", kind.as_str()),
        },
    });
    let stored = StoredRecord {
        id,
        kind,
        agency_id: actor.agency_id,
        case_number,
        facility_id: facility_id.as_deref().map(parse_uuid).transpose()?,
        data,
        version: 1,
        created_at: now.clone(),
        created_by: actor.username.clone(),
        updated_at: now,
        updated_by: actor.username.clone(),
    };
    after_change(tx, actor, &stored, None).await?;
    Ok(stored)
}

pub(crate) async fn update_in<T: Record>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    current: StoredRecord,
    rec: T,
    why: &str,
) -> Result<StoredRecord, StoreError> {
    let data = to_value(&rec)?;
    if T::KIND == Kind::Child {
        let old = current.typed::<Child>()?.status;
        let new = serde_json::from_value::<Child>(data.clone())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .status;
        old.can_become(new)
            .map_err(|m| StoreError::Invalid(Invalid::one("status", m)))?;
    }
    check_references(tx, actor, &rec, &data, Some(current.id)).await?;
    tx.operations.remove(&current.id);
    let changed = changed_fields(&current.data, &data);
    let cols = columns(T::KIND, &data);
    let facility_id = match T::KIND {
        Kind::Facility | Kind::Child => current.facility_id.map(|f| f.to_string()),
        _ => str_field(&data, "facility_id"),
    };
    let gate = gate_str(record_gate(T::KIND, &data));
    let summary = summary_columns(T::KIND, &data);
    let version = current.version + 1;
    let data_text = data.to_string();
    let now = tx.now.to_rfc3339();
    let n = sqlx::query(
        "UPDATE records SET data = $1, version = $2, gate = $3, operation_id = $4, wristband = $5, \
         status = $6, facility_id = $7, child_id = $8, updated_at = $9, updated_by = $10, \
         sex = $13, born_earliest = $14, born_latest = $15 \
         WHERE id = $11 AND version = $12",
    )
    .bind(data_text.clone())
    .bind(version)
    .bind(gate)
    .bind(cols.operation_id)
    .bind(cols.wristband.clone())
    .bind(cols.status)
    .bind(facility_id.clone())
    .bind(cols.child_id)
    .bind(now.clone())
    .bind(actor.username.clone())
    .bind(current.id.to_string())
    .bind(current.version)
    .bind(summary.0)
    .bind(summary.1)
    .bind(summary.2)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Stale {
            current_version: current.version,
        });
    }
    insert_version(tx, current.id, version, &data_text, &actor.username).await?;
    let terms = search_terms(
        &rec,
        &data,
        current.case_number.as_deref(),
        cols.wristband.as_deref(),
    );
    write_search_keys(tx, current.id, current.agency_id, T::KIND, &terms).await?;
    let mut summary = format!(
        "updated {} to version {version}: {}",
        T::KIND.as_str(),
        if changed.is_empty() {
            "no field changed".to_string()
        } else {
            changed.join(", ")
        }
    );
    if !why.is_empty() {
        summary.push_str(&format!(" ({why})"));
    }
    tx.audit(NewEntry {
        actor: actor.username.clone(),
        action: Action::Update,
        record_kind: Some(T::KIND.as_str().into()),
        record_id: Some(current.id.to_string()),
        summary,
    });
    let stored = StoredRecord {
        data,
        version,
        updated_at: now,
        updated_by: actor.username.clone(),
        facility_id: facility_id.as_deref().map(parse_uuid).transpose()?,
        ..current.clone()
    };
    after_change(tx, actor, &stored, Some(&current)).await?;
    Ok(stored)
}

/// Rules that follow from a change to one record. Boxed with a named type because
/// the rules create and update records in turn (recursion through async).
fn after_change<'a, 'b: 'a>(
    tx: &'a mut WriteTx<'b>,
    actor: &'a Actor,
    rec: &'a StoredRecord,
    before: Option<&'a StoredRecord>,
) -> BoxFuture<'a, Result<(), StoreError>> {
    Box::pin(async move {
        match rec.kind {
            Kind::Placement => {
                let p: Placement = rec.typed()?;
                if before.is_none() && p.is_current_at(tx.now) {
                    end_other_placements(tx, actor, p.child_id, rec.id, p.from).await?;
                }
                refresh_child_location(tx, actor, p.child_id).await?;
                if let Some(old) = before {
                    let old_child = old.typed::<Placement>()?.child_id;
                    if old_child != p.child_id {
                        refresh_child_location(tx, actor, old_child).await?;
                    }
                }
            }
            Kind::Relationship => raise_child_marriage_flags(tx, actor, rec).await?,
            Kind::Restriction if before.is_none() => raise_abduction_flags(tx, actor, rec).await?,
            _ => {}
        }
        Ok(())
    })
}

/// A child is in one place at a time: a new current placement ends the others.
async fn end_other_placements(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    child: Uuid,
    keep: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE kind = 'placement' AND child_id = $1 AND id <> $2"
    );
    let rows = sqlx::query(&sql)
        .bind(child.to_string())
        .bind(keep.to_string())
        .fetch_all(&mut *tx.tx)
        .await?;
    for row in rows {
        let stored = record_row(&row)?;
        let mut p: Placement = stored.typed()?;
        if p.to.is_none() && p.from <= at {
            p.to = Some(at);
            update_in(tx, actor, stored, p, "ended by a new placement").await?;
        }
    }
    Ok(())
}

/// Derive the child's current facility from its placements; a child placed for
/// the first time moves from intake to in_care.
async fn refresh_child_location(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    child: Uuid,
) -> Result<(), StoreError> {
    let sql =
        format!("SELECT {RECORD_COLUMNS} FROM records WHERE kind = 'placement' AND child_id = $1");
    let rows = sqlx::query(&sql)
        .bind(child.to_string())
        .fetch_all(&mut *tx.tx)
        .await?;
    let mut current: Option<Placement> = None;
    for row in rows {
        let p: Placement = record_row(&row)?.typed()?;
        if p.is_current_at(tx.now) && current.as_ref().is_none_or(|c| p.from > c.from) {
            current = Some(p);
        }
    }
    let facility = current.as_ref().map(|p| p.facility_id.to_string());
    sqlx::query("UPDATE records SET facility_id = $1 WHERE id = $2")
        .bind(facility.clone())
        .bind(child.to_string())
        .execute(&mut *tx.tx)
        .await?;
    if current.is_some() {
        if let Some(stored) = load(tx, child).await? {
            let mut c: Child = stored.typed()?;
            if c.status == ChildStatus::Intake {
                c.status = ChildStatus::InCare;
                update_in(tx, actor, stored, c, "placed in care").await?;
            }
        }
    }
    Ok(())
}

/// A restriction naming children raises an abduction_risk flag on each.
async fn raise_abduction_flags(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    restriction: &StoredRecord,
) -> Result<(), StoreError> {
    let r: amparo_domain::records::Restriction = restriction.typed()?;
    for child in r.children {
        require_ref(tx, actor, child, &[Kind::Child], "children").await?;
        let flag = RiskFlag {
            child_id: child,
            kind: RiskKind::AbductionRisk,
            status: Default::default(),
            reason: serde_json::from_value(Value::String(format!(
                "Named in restriction {} ({} {})",
                restriction.id, r.authority.issuing_authority, r.authority.reference
            )))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            automatic: true,
            source_record: Some(restriction.id),
            cleared_reason: None,
        };
        create_in(tx, actor, flag).await?;
    }
    Ok(())
}

/// A spouse relationship with a minor raises a child_marriage flag on the minor's case.
async fn raise_child_marriage_flags(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    rel: &StoredRecord,
) -> Result<(), StoreError> {
    let r: amparo_domain::records::Relationship = rel.typed()?;
    let from = load(tx, r.from).await?.ok_or(StoreError::NotFound)?;
    let to = load(tx, r.to).await?.ok_or(StoreError::NotFound)?;
    let birth = |s: &StoredRecord| -> Result<amparo_domain::birth::Birth, StoreError> {
        Ok(match s.kind {
            Kind::Child => s.typed::<Child>()?.birth,
            _ => s.typed::<Person>()?.birth,
        })
    };
    let (bf, bt) = (birth(&from)?, birth(&to)?);
    let today = tx.now.date_naive();
    let (flag_from, flag_to) = child_marriage_sides(
        r.kind,
        (&bf, from.kind == Kind::Child),
        (&bt, to.kind == Kind::Child),
        today,
    );
    for (side, flag) in [(&from, flag_from), (&to, flag_to)] {
        if !flag || side.kind != Kind::Child {
            continue;
        }
        let existing: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE kind = 'risk_flag' AND child_id = $1 AND status = 'open' \
             AND data LIKE $2",
        )
        .bind(side.id.to_string())
        .bind(format!("%\"source_record\":\"{}\"%", rel.id))
        .fetch_one(&mut *tx.tx)
        .await?;
        if existing > 0 {
            continue;
        }
        let flag = RiskFlag {
            child_id: side.id,
            kind: RiskKind::ChildMarriage,
            status: Default::default(),
            reason: serde_json::from_value(Value::String(format!(
                "Recorded as a spouse while possibly under 18 on {today} (relationship {})",
                rel.id
            )))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            automatic: true,
            source_record: Some(rel.id),
            cleared_reason: None,
        };
        create_in(tx, actor, flag).await?;
    }
    Ok(())
}
