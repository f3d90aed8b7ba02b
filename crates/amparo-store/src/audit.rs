//! The append-only, hash-chained audit log. Entry hash = SHA-256 over the previous
//! hash and the canonical encoding of the entry.
use crate::db::Store;
use crate::error::StoreError;
use crate::sha256_hex;
use amparo_domain::audit::{canonical, NewEntry};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Append entries after `seq`/`prev`; returns the new head. Runs inside the caller's
/// transaction, which already holds the head lock.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    mut seq: i64,
    prev: &str,
    at: DateTime<Utc>,
    entries: &[NewEntry],
) -> Result<(i64, String), StoreError> {
    let mut hash = prev.to_string();
    if entries.is_empty() {
        return Ok((seq, hash));
    }
    let at_text = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    // Rows are computed first, then written 50 to a statement: a bulk import commits
    // thousands of entries at once.
    struct Row<'e> {
        seq: i64,
        entry: &'e NewEntry,
        prev: String,
        hash: String,
    }
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let bytes = canonical(
            seq,
            &at,
            &e.actor,
            e.action.as_str(),
            e.record_kind.as_deref(),
            e.record_id.as_deref(),
            &e.summary,
        );
        let mut input = hash.clone().into_bytes();
        input.extend_from_slice(&bytes);
        let next = sha256_hex(&input);
        rows.push(Row {
            seq,
            entry: e,
            prev: std::mem::replace(&mut hash, next.clone()),
            hash: next,
        });
    }
    for chunk in rows.chunks(50) {
        let mut sql = String::from(
            "INSERT INTO audit (seq, at, actor, action, record_kind, record_id, summary, prev_hash, hash) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 9;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(at_text.clone())
                .bind(r.entry.actor.clone())
                .bind(r.entry.action.as_str())
                .bind(r.entry.record_kind.clone())
                .bind(r.entry.record_id.clone())
                .bind(r.entry.summary.clone())
                .bind(r.prev.clone())
                .bind(r.hash.clone());
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash.clone())
        .execute(&mut **tx)
        .await?;
    Ok((seq, hash))
}

type Ack = oneshot::Sender<Result<(), String>>;

/// Group commit for audited reads: many readers' entries go into one transaction,
/// and each reader waits until its entry is durable.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<(Vec<NewEntry>, Ack)>,
}

const MAX_BATCH: usize = 512;

impl GroupCommit {
    pub(crate) fn start(pool: AnyPool, lock: Arc<Mutex<()>>) -> GroupCommit {
        let (queue, mut rx) = mpsc::unbounded_channel::<(Vec<NewEntry>, Ack)>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let entries: Vec<NewEntry> =
                    batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
                let result = write_batch(&pool, &lock, &entries)
                    .await
                    .map_err(|e| e.to_string());
                if let Err(e) = &result {
                    tracing::error!(error = %e, "audit group commit failed");
                }
                for (_, ack) in batch {
                    let _ = ack.send(result.clone());
                }
            }
        });
        GroupCommit { queue }
    }
}

async fn write_batch(
    pool: &AnyPool,
    lock: &Mutex<()>,
    entries: &[NewEntry],
) -> Result<(), StoreError> {
    let _guard = lock.lock().await;
    let mut tx = pool.begin().await?;
    let row: AnyRow =
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await?;
    let seq: i64 = row.try_get("seq")?;
    let hash: String = row.try_get("hash")?;
    append(&mut tx, seq, &hash, Utc::now(), entries).await?;
    tx.commit().await?;
    Ok(())
}

/// One audit entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub summary: String,
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    Intact { checked: i64 },
    Broken { seq: i64, reason: String },
}

fn audit_row(r: &AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        record_kind: r.try_get("record_kind")?,
        record_id: r.try_get("record_id")?,
        summary: r.try_get("summary")?,
    })
}

impl Store {
    /// Record audited reads (and denials) through group commit; returns once durable.
    pub async fn audit_reads(&self, entries: Vec<NewEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        self.reads
            .queue
            .send((entries, ack))
            .map_err(|_| StoreError::Conflict("audit writer stopped".into()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Corrupt(format!("audit write failed: {e}"))),
            Err(_) => Err(StoreError::Corrupt("audit writer stopped".into())),
        }
    }

    /// Record one event that changes nothing else (login, logout, failed login).
    pub async fn audit_event(&self, entry: NewEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        tx.audit(entry);
        tx.commit().await?;
        Ok(())
    }

    /// Who saw or changed this record, and when (newest first).
    pub async fn audit_for_record(
        &self,
        record_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, record_kind, record_id, summary FROM audit \
             WHERE record_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(record_id.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_row).collect::<Result<_, _>>()?)
    }

    /// The newest entries, for administrators.
    /// The newest entries that concern an agency: by its users, or about its records.
    pub async fn audit_recent(
        &self,
        agency: uuid::Uuid,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, record_kind, record_id, summary FROM audit \
             WHERE actor IN (SELECT username FROM users WHERE agency_id = $1) \
             OR record_id IN (SELECT id FROM records WHERE agency_id = $1) \
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(agency.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_row).collect::<Result<_, _>>()?)
    }

    /// The chain position now: (sequence, hash).
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("seq")?, row.try_get("hash")?))
    }

    /// Recompute the whole chain; name the first entry that does not hold.
    pub async fn audit_verify(&self) -> Result<VerifyReport, StoreError> {
        const PAGE: i64 = 5000;
        let mut expected_seq = 1i64;
        let mut prev = "0".repeat(64);
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, record_kind, record_id, summary, prev_hash, hash \
                 FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(expected_seq)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let n = rows.len() as i64;
            for r in &rows {
                let row = audit_row(r)?;
                let prev_hash: String = r.try_get("prev_hash")?;
                let hash: String = r.try_get("hash")?;
                if row.seq != expected_seq {
                    return Ok(VerifyReport::Broken {
                        seq: expected_seq,
                        reason: format!(
                            "entry {expected_seq} is missing (next found is {})",
                            row.seq
                        ),
                    });
                }
                if prev_hash != prev {
                    return Ok(VerifyReport::Broken {
                        seq: row.seq,
                        reason: "previous-hash link does not match the entry before it".into(),
                    });
                }
                let at = match DateTime::parse_from_rfc3339(&row.at) {
                    Ok(t) => t.with_timezone(&Utc),
                    Err(_) => {
                        return Ok(VerifyReport::Broken {
                            seq: row.seq,
                            reason: "time is not a valid timestamp".into(),
                        })
                    }
                };
                let bytes = canonical(
                    row.seq,
                    &at,
                    &row.actor,
                    &row.action,
                    row.record_kind.as_deref(),
                    row.record_id.as_deref(),
                    &row.summary,
                );
                let mut input = prev.clone().into_bytes();
                input.extend_from_slice(&bytes);
                let recomputed = sha256_hex(&input);
                if recomputed != hash {
                    return Ok(VerifyReport::Broken {
                        seq: row.seq,
                        reason: "content does not match its hash (the entry was altered)".into(),
                    });
                }
                prev = hash;
                expected_seq += 1;
            }
            if n < PAGE {
                break;
            }
        }
        let checked = expected_seq - 1;
        let (head_seq, head_hash) = self.audit_head().await?;
        if head_seq != checked || head_hash != prev {
            return Ok(VerifyReport::Broken {
                seq: checked + 1,
                reason: format!(
                    "the chain head says {head_seq} entries but {checked} were found: entries were removed from the end"
                ),
            });
        }
        Ok(VerifyReport::Intact { checked })
    }
}
