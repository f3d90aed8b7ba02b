//! Import children from a spreadsheet: check every row first, then write all rows in
//! one transaction (each with its audit entry), or none.
use crate::children::{self, Checked, Mapping, Problem};
use crate::person_of;
use crate::table::Table;
use amparo_domain::records::Kind;
use amparo_match::link::{link, Person};
use amparo_store::{Actor, ListQuery, Store, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Check every row, write nothing.
    DryRun,
    /// Write every row, or nothing if any row has a problem.
    AllOrNothing,
    /// Write the good rows; the others come back as a file of rejected rows.
    GoodRows,
}

#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub row: usize,
    pub id: Uuid,
    pub case_number: Option<String>,
}

/// A new row that looks like a child already registered in the operation.
#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    pub row: usize,
    pub existing_id: Uuid,
    pub existing_case_number: Option<String>,
    pub probability: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    /// Data rows in the file (blank rows not counted).
    pub rows: usize,
    /// Rows that passed every check and are new.
    pub ready: usize,
    /// Whether anything was written.
    pub committed: bool,
    pub imported: Vec<Imported>,
    /// Rows already imported before (same child, same operation): left alone.
    pub recognised: Vec<Imported>,
    pub problems: Vec<Problem>,
    pub bad_rows: Vec<usize>,
    pub suspected_duplicates: Vec<Suspect>,
    /// field -> column it was read from.
    pub columns: std::collections::BTreeMap<String, String>,
    pub ignored_columns: Vec<String>,
    /// With `GoodRows` and problems: the rows left out, with a `problems` column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_csv: Option<String>,
}

#[derive(Debug)]
pub enum ImportError {
    /// The file as a whole cannot be imported (unreadable, no usable columns).
    File(Vec<Problem>),
    /// No such operation in the importer's agency.
    NoOperation,
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::File(p) => write!(
                f,
                "{}",
                p.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            ImportError::NoOperation => write!(f, "no such operation in your agency"),
            ImportError::Store(e) => write!(f, "{e}"),
        }
    }
}

pub struct Request<'a> {
    pub actor: &'a Actor,
    pub operation: Uuid,
    pub table: &'a Table,
    /// Column name -> field name, for columns not recognised by name.
    pub map: &'a [(String, String)],
    pub mode: Mode,
    pub today: NaiveDate,
    /// Which existing children the importer may see (for the duplicate check).
    pub existing: ListQuery,
}

/// Read the file into a table, reporting an unreadable file as a file problem.
pub fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    crate::table::read(bytes).map_err(|message| {
        ImportError::File(vec![Problem {
            row: 0,
            column: String::new(),
            value: String::new(),
            message,
            code: "file".into(),
        }])
    })
}

fn owner(actor: &Actor) -> String {
    format!("agency:{}", actor.agency_id)
}

/// Check (and, unless dry run, import) the rows. `progress(done, total)` is called
/// as rows are written.
pub async fn import_children(
    store: &Store,
    req: Request<'_>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Report, ImportError> {
    let op = store.get(req.operation).await?;
    if !op.is_some_and(|o| o.kind == Kind::Operation && o.agency_id == req.actor.agency_id) {
        return Err(ImportError::NoOperation);
    }
    let mapping: Mapping =
        children::map_columns(&req.table.headers, req.map).map_err(ImportError::File)?;
    let mut checked: Checked = children::check(req.table, &mapping, req.operation, req.today);
    let owner = owner(req.actor);
    let mut recognised = Vec::new();
    let mut fresh = Vec::new();
    let keys: Vec<String> = checked.good.iter().map(|g| g.key.clone()).collect();
    let known = store.keyed_many(&owner, &keys).await?;
    let worn = store.wristbands(req.actor.agency_id, req.operation).await?;
    for good in std::mem::take(&mut checked.good) {
        if let Some(&id) = known.get(&good.key) {
            let case_number = store.get(id).await?.and_then(|r| r.case_number);
            recognised.push(Imported {
                row: good.row,
                id,
                case_number,
            });
            continue;
        }
        if let Some(w) = &good.child.wristband {
            if let Some(other) = worn.get(&w.to_string()) {
                checked.bad_rows.push(good.row);
                checked.problems.push(Problem {
                    row: good.row,
                    column: mapping
                        .fields
                        .get("wristband")
                        .and_then(|&i| mapping.headers.get(i))
                        .cloned()
                        .unwrap_or_else(|| "wristband".into()),
                    value: w.to_string(),
                    message: format!(
                        "child {other} already wears this wristband: check the number"
                    ),
                    code: "wristband_worn".into(),
                });
                continue;
            }
        }
        fresh.push(good);
    }
    checked.bad_rows.sort_unstable();
    checked.problems.sort_by_key(|p| p.row);
    let suspects = suspected_duplicates(store, &req, &fresh).await?;
    let write = match req.mode {
        Mode::DryRun => false,
        Mode::AllOrNothing => checked.problems.is_empty(),
        Mode::GoodRows => true,
    };
    let mut imported = Vec::new();
    if write && !fresh.is_empty() {
        let total = fresh.len();
        let mut tx = store.begin().await?;
        tx.reserve_case_numbers(req.actor, req.operation, total as i64)
            .await?;
        let mut keyed = Vec::with_capacity(total);
        for (i, good) in fresh.iter().enumerate() {
            let stored = tx.create(req.actor, good.child.clone()).await?;
            keyed.push((good.key.clone(), stored.id));
            imported.push(Imported {
                row: good.row,
                id: stored.id,
                case_number: stored.case_number,
            });
            if i % 50 == 49 {
                progress(i + 1, total);
            }
        }
        // A concurrent import of the same rows fails here on the keys, as a conflict,
        // and nothing of this one is kept.
        tx.remember_keys(&owner, &keyed).await?;
        tx.commit().await?;
        if imported.len() >= BULK_ROWS {
            store.refresh_statistics().await?;
        }
        progress(total, total);
    }
    let rejected_csv = (req.mode == Mode::GoodRows && !checked.bad_rows.is_empty())
        .then(|| children::rejected_csv(req.table, &checked));
    Ok(Report {
        mode: req.mode,
        rows: req.table.rows.len(),
        ready: fresh.len(),
        committed: !imported.is_empty(),
        imported,
        recognised,
        problems: checked.problems,
        bad_rows: checked.bad_rows,
        suspected_duplicates: suspects,
        columns: mapping
            .fields
            .iter()
            .filter_map(|(f, &i)| mapping.headers.get(i).map(|h| (f.clone(), h.clone())))
            .collect(),
        ignored_columns: mapping.ignored,
        rejected_csv,
    })
}

/// An import at least this large refreshes the database's statistics afterwards.
const BULK_ROWS: usize = 500;

/// The duplicate check compares new rows with at most this many children of the
/// operation (the first in case-number order).
const EXISTING_CAP: i64 = 200_000;

/// New rows against the children already in the operation, with amparo-match.
async fn suspected_duplicates(
    store: &Store,
    req: &Request<'_>,
    fresh: &[children::GoodRow],
) -> Result<Vec<Suspect>, ImportError> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = req.existing.clone();
    q.kind = Kind::Child;
    q.operation_id = Some(req.operation);
    let mut people: Vec<Person> = fresh
        .iter()
        .map(|g| person_of(&format!("row:{}", g.row), &g.child))
        .collect();
    let split = people.len();
    // Streamed: each child becomes its names and birth as it is read, so the check
    // holds those, not the whole records (915 MiB peak at 200,000 children before).
    let mut known: Vec<(uuid::Uuid, Option<String>)> = Vec::new();
    store
        .each_record(&q, EXISTING_CAP, |r| {
            if let Ok(child) = r.typed::<amparo_domain::records::Child>() {
                if child.merged_into.is_none() {
                    people.push(person_of(&r.id.to_string(), &child));
                    known.push((r.id, r.case_number));
                }
            }
        })
        .await?;
    if known.is_empty() {
        return Ok(Vec::new());
    }
    let result = tokio::task::spawn_blocking(move || link(&people, Some(split), 0.5))
        .await
        .map_err(|_| ImportError::Store(StoreError::Corrupt("duplicate check stopped".into())))?;
    let mut out: Vec<Suspect> = result
        .pairs
        .iter()
        .filter_map(|p| {
            let (new, old) = if p.a < split { (p.a, p.b) } else { (p.b, p.a) };
            let (id, case_number) = known.get(old.checked_sub(split)?)?;
            Some(Suspect {
                row: fresh.get(new)?.row,
                existing_id: *id,
                existing_case_number: case_number.clone(),
                probability: p.probability,
            })
        })
        .collect();
    out.sort_by_key(|s| s.row);
    Ok(out)
}
