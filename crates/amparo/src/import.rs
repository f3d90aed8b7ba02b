//! `amparo import children`: a spreadsheet of children into an operation, checked
//! first, written all or nothing, with a progress bar.
use amparo_domain::policy::{Capability, Role};
use amparo_io::import::{import_children, read_table, ImportError, Mode, Report, Request};
use amparo_store::{Actor, ListQuery, Store};
use std::io::Write;
use std::path::Path;
use uuid::Uuid;

pub struct ImportArgs<'a> {
    pub operation: Uuid,
    pub file: &'a Path,
    pub map: &'a [String],
    pub dry_run: bool,
    pub good_rows: bool,
    pub rejected: Option<&'a Path>,
    pub user: Option<&'a str>,
}

/// Returns the report text and whether the import did what was asked.
pub async fn run(store: &Store, args: ImportArgs<'_>) -> Result<(String, bool), String> {
    if args.rejected.is_some_and(Path::exists) {
        return Err(format!(
            "{} already exists: choose a new file for the rejected rows",
            args.rejected
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    let map = crate::link::parse_map(args.map, "\"Nombre del niño=given_name\"")?;
    let bytes = std::fs::read(args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let operation = store
        .get(args.operation)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no operation {}", args.operation))?;
    let actor = match args.user {
        Some(name) => {
            let user = store
                .user_by_username(name)
                .await
                .map_err(|e| e.to_string())?
                .filter(|u| !u.disabled)
                .ok_or_else(|| format!("no active user '{name}'"))?;
            if !user
                .roles
                .iter()
                .any(|r: &Role| r.capabilities().contains(&Capability::CaseWrite))
            {
                return Err(format!("user '{name}' may not register children"));
            }
            Actor {
                username: user.username,
                agency_id: user.agency_id,
            }
        }
        // The operator at the server's console acts for the operation's agency.
        None => Actor {
            username: "cli-import".into(),
            agency_id: operation.agency_id,
        },
    };
    let table = read_table(&bytes).map_err(|e| e.to_string())?;
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.good_rows {
        Mode::GoodRows
    } else {
        Mode::AllOrNothing
    };
    let existing = ListQuery {
        kind: amparo_domain::records::Kind::Child,
        agency_id: actor.agency_id,
        gates: {
            use amparo_domain::policy::Sensitivity::*;
            vec![Basic, Identity, Location, Restricted]
        },
        facilities: None,
        operation_id: Some(args.operation),
        status: None,
        child_id: None,
        search: None,
        recent_first: false,
        limit: 0,
        offset: 0,
        after: None,
    };
    let progress = |done: usize, total: usize| {
        let width = 30;
        let filled = (done * width)
            .checked_div(total)
            .unwrap_or(width)
            .min(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} rows written",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    };
    let report = import_children(
        store,
        Request {
            actor: &actor,
            operation: args.operation,
            table: &table,
            map: &map,
            mode,
            today: chrono::Utc::now().date_naive(),
            existing,
        },
        &progress,
    )
    .await
    .map_err(|e| match e {
        ImportError::File(_) => format!("{}: {e}", args.file.display()),
        other => other.to_string(),
    })?;
    if let (Some(path), Some(csv)) = (args.rejected, &report.rejected_csv) {
        std::fs::write(path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let ok = match mode {
        Mode::DryRun | Mode::AllOrNothing => report.problems.is_empty(),
        Mode::GoodRows => true,
    };
    Ok((describe(&report, args.rejected), ok))
}

fn describe(r: &Report, rejected: Option<&Path>) -> String {
    let mut out = Vec::new();
    let cols: Vec<String> = r
        .columns
        .iter()
        .map(|(f, c)| format!("{c} -> {f}"))
        .collect();
    out.push(format!("columns: {}", cols.join(", ")));
    if !r.ignored_columns.is_empty() {
        out.push(format!("ignored columns: {}", r.ignored_columns.join(", ")));
    }
    for p in &r.problems {
        out.push(p.to_string());
    }
    for s in &r.suspected_duplicates {
        out.push(format!(
            "row {}: looks like child {} already registered (probability {:.2}); see the duplicates page",
            s.row,
            s.existing_case_number.clone().unwrap_or_default(),
            s.probability
        ));
    }
    let summary = format!(
        "{} rows: {} new and valid, {} already imported, {} with problems",
        r.rows,
        r.ready,
        r.recognised.len(),
        r.bad_rows.len()
    );
    out.push(summary);
    out.push(match r.mode {
        Mode::DryRun => "dry run: nothing was written".into(),
        Mode::AllOrNothing if !r.problems.is_empty() => format!(
            "nothing was imported: fix the {} rows above and run again, or use --good-rows --rejected FILE to import the others",
            r.bad_rows.len()
        ),
        _ => {
            let mut s = format!("{} children imported", r.imported.len());
            if let (Some(p), Some(_)) = (rejected, &r.rejected_csv) {
                s.push_str(&format!("; rejected rows written to {}", p.display()));
            }
            s
        }
    });
    out.join("\n")
}
