//! Opening the database, migrations, and the write transaction that carries the
//! audit chain.
use crate::audit::{self, GroupCommit};
use crate::error::StoreError;
use amparo_domain::audit::NewEntry;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Migrations in order; the third field limits one to a backend (it is recorded as
/// applied on the other, with nothing to do).
const MIGRATIONS: &[(i64, &str, Option<Backend>)] = &[
    (1, include_str!("../migrations/0001_foundation.sql"), None),
    (2, include_str!("../migrations/0002_idempotency.sql"), None),
    (
        3,
        include_str!("../migrations/0003_child_summary.sql"),
        None,
    ),
    (
        4,
        include_str!("../migrations/0004_variant_search.sql"),
        None,
    ),
    (5, include_str!("../migrations/0005_partners.sql"), None),
    (
        6,
        include_str!("../migrations/0006_second_factor.sql"),
        None,
    ),
    (7, include_str!("../migrations/0007_totp_replay.sql"), None),
    (8, include_str!("../migrations/0008_list_order.sql"), None),
    (
        9,
        include_str!("../migrations/0009_search_prefix_pg.sql"),
        Some(Backend::Postgres),
    ),
    (
        10,
        include_str!("../migrations/0010_name_pair_search.sql"),
        None,
    ),
    (
        11,
        include_str!("../migrations/0011_given_name_groups.sql"),
        None,
    ),
];

/// Migrations whose search keys are rebuilt before they are recorded (a rebuild of a
/// million records takes minutes; cut short, it is done again at the next start).
/// Migration 10's rebuild also serves every database from before migration 4 (which
/// had its own); one rebuild serves every such migration pending at one start.
const REBUILD_KEYS_FIRST: &[i64] = &[10, 11];

/// The database handle shared by the server and the CLI.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Serialises writers within this process; across processes the lock on the
    /// audit head row does the same.
    write_lock: Arc<Mutex<()>>,
    pub(crate) reads: GroupCommit,
}

impl Store {
    /// Connect and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Conflict(format!(
                "database URL must start with sqlite: or postgres:// (got '{}')",
                url.split(':').next().unwrap_or("")
            )));
        };
        if backend == Backend::Sqlite {
            // WAL must be set once on the file, outside any pool connection setup race.
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            pool.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                    } else {
                        // Short queries: compiling one (JIT) cost 16 ms of a 140 ms
                        // search at a million children and saved nothing.
                        sqlx::query("SET jit = off").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let write_lock = Arc::new(Mutex::new(()));
        let store = Store {
            reads: GroupCommit::start(pool.clone(), write_lock.clone()),
            pool,
            backend,
            write_lock,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Apply the migrations not yet applied. Safe to run at every start.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let mut applied = 0;
        let mut keys_rebuilt = false;
        for (version, sql, only) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_none() && REBUILD_KEYS_FIRST.contains(version) && !keys_rebuilt {
                keys_rebuilt = true;
                tx.rollback().await?;
                let records = crate::records::rebuild_search_keys(&self.pool, self.backend).await?;
                tracing::info!(version, records, "search keys rebuilt for a migration");
                tx = self.pool.begin().await?;
            }
            if done.is_none() {
                if only.is_none_or(|b| b == self.backend) {
                    sqlx::raw_sql(sql).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                applied += 1;
            }
            tx.commit().await?;
            if done.is_none() && *version == 3 {
                crate::records::backfill_summary(&self.pool).await?;
            }
        }
        if applied > 0 {
            self.refresh_statistics().await?;
        }
        Ok(applied)
    }

    /// After a bulk change (a large import): PostgreSQL's planner needs fresh table
    /// statistics, and autovacuum may be off or behind (without them a name search
    /// at a million children ran for minutes, planned over tables it believed empty;
    /// about 2 s of VACUUM ANALYZE fixes it). SQLite's plans here do not depend on
    /// statistics.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            // VACUUM also marks pages all-visible, without which an index-only scan
            // reads every row it finds from the table. One statement each: VACUUM
            // cannot run inside a transaction.
            for table in ["records", "search_keys"] {
                sqlx::raw_sql(&format!("VACUUM (ANALYZE) {table}"))
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Start a transaction for several changes that stand or fall together; each
    /// change writes its audit entry, and `commit` appends them to the chain.
    pub async fn begin(&self) -> Result<WriteTx<'_>, StoreError> {
        self.begin_write().await
    }

    /// Start a change. The audit head is locked first so that the chain cannot fork
    /// and SQLite takes its write lock at once (no deadlocking upgrade later).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let guard = self.write_lock.lock().await;
        let mut tx = self.pool.begin().await?;
        let row: AnyRow =
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *tx)
                .await?;
        Ok(WriteTx {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
            tx,
            _guard: guard,
            entries: Vec::new(),
            now: Utc::now(),
            operations: std::collections::HashMap::new(),
            case_numbers: std::collections::HashMap::new(),
        })
    }

    /// A consistent online copy of a SQLite database (VACUUM INTO).
    pub async fn backup_to(&self, path: &str) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "backup --to works on SQLite; on PostgreSQL use pg_dump".into(),
            ));
        }
        if std::path::Path::new(path).exists() {
            return Err(StoreError::Conflict(format!(
                "{path} already exists: choose a new file name"
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction with the audit entries it will commit. Dropped without
/// `commit`, nothing of it is kept.
pub struct WriteTx<'a> {
    pub(crate) tx: Transaction<'static, Any>,
    _guard: MutexGuard<'a, ()>,
    seq: i64,
    hash: String,
    entries: Vec<NewEntry>,
    pub(crate) now: DateTime<Utc>,
    /// Operations already checked in this transaction: a bulk import names the same
    /// one thousands of times.
    pub(crate) operations: std::collections::HashMap<uuid::Uuid, crate::StoredRecord>,
    /// Case numbers reserved in one step for a bulk import: counter -> (next, last).
    pub(crate) case_numbers: std::collections::HashMap<String, (i64, i64)>,
}

impl WriteTx<'_> {
    pub(crate) fn audit(&mut self, entry: NewEntry) {
        self.entries.push(entry);
    }

    /// Append the audit entries to the chain and commit everything at once.
    pub async fn commit(mut self) -> Result<i64, StoreError> {
        let entries = std::mem::take(&mut self.entries);
        let (seq, hash) =
            audit::append(&mut self.tx, self.seq, &self.hash, self.now, &entries).await?;
        self.seq = seq;
        self.hash = hash;
        self.tx.commit().await?;
        Ok(self.seq)
    }
}
