//! `SqliteRepo`: the control-plane store in one SQLite file (WAL). Entities are JSON bodies
//! beside the columns that must be indexed or unique; rollups have their own table.
//!
//! rusqlite is blocking, so every call runs on tokio's blocking pool with the one connection
//! behind a mutex: SQLite allows one writer at a time anyway, and calls are short.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use gatehouse_core::model::Key;
use gatehouse_core::store::{
    refuse_put_with_uniques, summarise, AppCalls, AuditEntry, AuditFilter, AuditPage, BatchOutcome, CatalogSnapshot,
    EntityKind, Etag, Record, Repo, StoreError, UsageQuery, UsageRow, Write,
};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::Rollup;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::{audit, rollups, schema};

/// The SQLite store. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteRepo {
    conn: Arc<Mutex<Connection>>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteRepo {
    /// Opens (creating if needed) the database file and migrates its schema. Blocking: call it
    /// at start-up, before serving.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteRepo, StoreError> {
        crate::secrets::private_database(path.as_ref()).map_err(unavailable)?; // and its -wal, -shm
        let mut conn = Connection::open(path.as_ref()).map_err(unavailable)?;
        schema::prepare(&mut conn).map_err(unavailable)?.map_err(StoreError::Unavailable)?;
        // Checkpoints move off the write path (see `checkpoint_in_background`).
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(unavailable)?;
        let conn = Arc::new(Mutex::new(conn));
        checkpoint_in_background(path.as_ref(), Arc::downgrade(&conn)).map_err(unavailable)?;
        Ok(SqliteRepo { conn })
    }

    /// Whether the store answers a read (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let conn = Arc::clone(&self.conn);
        let read = move || {
            let conn = conn.lock().map_err(|_| unavailable("sqlite connection lock poisoned"))?;
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(unavailable)
        };
        tokio::task::spawn_blocking(read).await.map_err(unavailable)?
    }

    /// The hashes of the owner tokens `gatehouse admin bootstrap` issued before named
    /// principals (newer ones are `AdminToken` records); still accepted, as owners.
    pub async fn admin_token_hashes(&self) -> Result<Vec<String>, StoreError> {
        self.run(|tx| {
            let mut query = tx.prepare("SELECT hash FROM admin_tokens ORDER BY created_at").map_err(unavailable)?;
            let rows = query.query_map([], |row| row.get::<_, String>(0)).map_err(unavailable)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
        })
        .await
    }

    /// Runs `f` inside one immediate transaction on the blocking pool; commits on `Ok`.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let conn = Arc::clone(&self.conn);
        async move {
            let work = move || {
                let mut conn = conn.lock().map_err(|_| unavailable("sqlite connection lock poisoned"))?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
                let out = f(&tx)?;
                tx.commit().map_err(unavailable)?;
                Ok(out)
            };
            tokio::task::spawn_blocking(work).await.map_err(unavailable)?
        }
    }
}

/// How often the write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoints the WAL once a second from a connection of its own, on a thread of its own,
/// for as long as the store is open. SQLite's default checkpoints on the commit that crosses
/// 1,000 WAL pages, inside that commit, with an fsync: the admin write that draws it took
/// 5-10 ms instead of 0.4 ms (the p99 of `benches/admin_writes`). A PASSIVE checkpoint never
/// waits for readers or writers, so no write pays for it.
fn checkpoint_in_background(path: &Path, store: std::sync::Weak<Mutex<Connection>>) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while store.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_EVERY);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retried in a second");
                }
            }
        })
        .map(drop)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn read_record(row: &Row<'_>) -> rusqlite::Result<(String, String, Option<String>, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn to_record((kind, id, parent, body): (String, String, Option<String>, String)) -> Result<Record, StoreError> {
    let kind = EntityKind::parse(&kind).ok_or_else(|| unavailable(format!("unknown record kind {kind}")))?;
    // Unique values are only needed when writing, so reads leave them out.
    Ok(Record { kind, id, parent, uniques: Vec::new(), body, expires_at: None })
}

fn query_records(tx: &Transaction<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Record>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt.query_map(args, read_record).map_err(unavailable)?;
    rows.map(|r| r.map_err(unavailable).and_then(to_record)).collect()
}

fn claim_uniques(tx: &Transaction<'_>, record: &Record) -> Result<(), StoreError> {
    let kind = record.kind.as_str();
    for unique in &record.uniques {
        let holder: Option<String> = tx
            .query_row("SELECT id FROM uniques WHERE kind = ?1 AND value = ?2", params![kind, unique.value], |r| {
                r.get(0)
            })
            .optional()
            .map_err(unavailable)?;
        match holder {
            Some(holder) if holder != record.id => return Err(StoreError::Conflict(unique.what.clone())),
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO uniques (kind, value, id) VALUES (?1, ?2, ?3)",
                    params![kind, unique.value, record.id],
                )
                .map_err(unavailable)?;
            }
        }
    }
    Ok(())
}

fn release_uniques(tx: &Transaction<'_>, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM uniques WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id]).map_err(unavailable)?;
    Ok(())
}

fn apply(tx: &Transaction<'_>, write: Write) -> Result<(), StoreError> {
    match write {
        Write::Insert(r) => {
            let sql = "INSERT INTO records (kind, id, parent, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
            if tx.execute(sql, params![r.kind.as_str(), r.id, r.parent, r.body]).map_err(unavailable)? == 0 {
                return Err(StoreError::Conflict(format!("{} id {} is taken", r.kind.as_str(), r.id)));
            }
            claim_uniques(tx, &r)
        }
        Write::Update(r) => {
            let sql = "UPDATE records SET parent = ?3, body = ?4 WHERE kind = ?1 AND id = ?2";
            if tx.execute(sql, params![r.kind.as_str(), r.id, r.parent, r.body]).map_err(unavailable)? == 0 {
                return Err(StoreError::NotFound);
            }
            release_uniques(tx, r.kind, &r.id)?;
            claim_uniques(tx, &r)
        }
        Write::Delete { kind, id } => {
            let sql = "DELETE FROM records WHERE kind = ?1 AND id = ?2";
            if tx.execute(sql, params![kind.as_str(), id]).map_err(unavailable)? == 0 {
                return Err(StoreError::NotFound);
            }
            release_uniques(tx, kind, &id)
        }
        Write::Put(r) => {
            refuse_put_with_uniques(&r)?;
            let sql = "INSERT INTO records (kind, id, parent, body) VALUES (?1, ?2, ?3, ?4) \
                       ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, body = excluded.body";
            tx.execute(sql, params![r.kind.as_str(), r.id, r.parent, r.body]).map_err(unavailable)?;
            Ok(())
        }
        Write::Remove { kind, id } => {
            tx.execute("DELETE FROM records WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id])
                .map_err(unavailable)?;
            Ok(())
        }
        // The transaction is IMMEDIATE (it holds SQLite's write lock from its start), so the
        // check and the write below it are one atomic step.
        Write::UpdateIf { record, expected } => {
            expect(tx, record.kind, &record.id, &expected)?;
            apply(tx, Write::Update(record))
        }
        Write::DeleteIf { kind, id, expected } => {
            expect(tx, kind, &id, &expected)?;
            apply(tx, Write::Delete { kind, id })
        }
    }
}

/// `Changed` unless the stored body still has the tag `expected`.
fn expect(tx: &Transaction<'_>, kind: EntityKind, id: &str, expected: &Etag) -> Result<(), StoreError> {
    let body: Option<String> = tx
        .query_row("SELECT body FROM records WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    match body {
        None => Err(StoreError::NotFound),
        Some(body) if Etag::of_body(&body) == *expected => Ok(()),
        Some(_) => Err(StoreError::Changed),
    }
}

fn mark_used(tx: &Transaction<'_>, id: &str, at: UnixMillis) -> Result<(), StoreError> {
    let found = query_records(tx, "SELECT kind, id, parent, body FROM records WHERE kind = 'key' AND id = ?1", [id])?;
    let Some(record) = found.first() else {
        return Ok(());
    };
    let mut key: Key = match record.decode() {
        Ok(key) => key,
        Err(e) => {
            // Skipped, not fatal: one unreadable key must not stop the rest of the flush.
            tracing::warn!(kind = "key", id, error = %e, "unreadable record skipped; see `gatehouse doctor`");
            return Ok(());
        }
    };
    key.last_used_at = Some(key.last_used_at.map_or(at, |t| t.max(at)));
    let body = serde_json::to_string(&key).map_err(unavailable)?;
    tx.execute("UPDATE records SET body = ?2 WHERE kind = 'key' AND id = ?1", params![id, body])
        .map_err(unavailable)?;
    Ok(())
}

impl Repo for SqliteRepo {
    fn transact(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.run(move |tx| writes.into_iter().try_for_each(|w| apply(tx, w)))
    }

    fn get_record(&self, kind: EntityKind, id: &str) -> impl Future<Output = Result<Record, StoreError>> + Send {
        let id = id.to_owned();
        self.run(move |tx| {
            let sql = "SELECT kind, id, parent, body FROM records WHERE kind = ?1 AND id = ?2";
            query_records(tx, sql, params![kind.as_str(), id])?.into_iter().next().ok_or(StoreError::NotFound)
        })
    }

    fn list_records(
        &self,
        kind: EntityKind,
        parent: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send {
        let parent = parent.map(str::to_owned);
        self.run(move |tx| {
            let sql = "SELECT kind, id, parent, body FROM records
                       WHERE kind = ?1 AND (?2 IS NULL OR parent = ?2) ORDER BY seq";
            query_records(tx, sql, params![kind.as_str(), parent])
        })
    }

    fn page_records(
        &self,
        kind: EntityKind,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send {
        let (after, limit) = (after.unwrap_or_default().to_owned(), i64::try_from(limit).unwrap_or(i64::MAX));
        // Seeks on the (kind, id) unique index: each page costs its own size, not the table's.
        self.run(move |tx| {
            let sql = "SELECT kind, id, parent, body FROM records WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
            query_records(tx, sql, params![kind.as_str(), after, limit])
        })
    }

    fn find_unique(
        &self,
        kind: EntityKind,
        value: &str,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send {
        let value = value.to_owned();
        self.run(move |tx| {
            let sql = "SELECT r.kind, r.id, r.parent, r.body FROM uniques u
                       JOIN records r ON r.kind = u.kind AND r.id = u.id WHERE u.kind = ?1 AND u.value = ?2";
            Ok(query_records(tx, sql, params![kind.as_str(), value])?.into_iter().next())
        })
    }

    fn snapshot(&self) -> impl Future<Output = Result<CatalogSnapshot, StoreError>> + Send {
        // Only the kinds a snapshot keeps: not sessions or the alert log, which only grow.
        let kinds: Vec<String> =
            EntityKind::ALL.into_iter().filter(|k| k.in_snapshot()).map(|k| format!("'{}'", k.as_str())).collect();
        let sql =
            format!("SELECT kind, id, parent, body FROM records WHERE kind IN ({}) ORDER BY seq", kinds.join(","));
        self.run(move |tx| {
            let records = query_records(tx, &sql, [])?;
            CatalogSnapshot::from_records(&records)
        })
    }

    fn add_rollups(&self, rollups: &[Rollup]) -> impl Future<Output = Result<(), StoreError>> + Send {
        let rollups = rollups.to_vec();
        self.run(move |tx| rollups::add(tx, &rollups).map_err(StoreError::Unavailable))
    }

    fn add_usage_batch(
        &self,
        batch_id: &str,
        rollups: &[Rollup],
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send {
        let (batch_id, rollups) = (batch_id.to_owned(), rollups.to_vec());
        // The id and the additions commit in one transaction: both or neither.
        self.run(move |tx| {
            let sql = "INSERT INTO usage_batches (batch_id, rollups) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
            let count = i64::try_from(rollups.len()).unwrap_or(i64::MAX);
            if tx.execute(sql, params![batch_id, count]).map_err(unavailable)? == 0 {
                return Ok(BatchOutcome::Duplicate);
            }
            rollups::add(tx, &rollups).map_err(StoreError::Unavailable)?;
            Ok(BatchOutcome::Applied)
        })
    }

    fn query_usage(&self, query: &UsageQuery) -> impl Future<Output = Result<Vec<UsageRow>, StoreError>> + Send {
        let query = query.clone();
        self.run(move |tx| {
            let rows = rollups::select(tx, &query).map_err(StoreError::Unavailable)?;
            Ok(summarise(&query, rows.iter().map(|(k, v)| (k, v))))
        })
    }

    fn mark_keys_used(&self, used: &[(String, UnixMillis)]) -> impl Future<Output = Result<(), StoreError>> + Send {
        let used = used.to_vec();
        self.run(move |tx| used.iter().try_for_each(|(id, at)| mark_used(tx, id, *at)))
    }

    fn keys_last_seen(
        &self,
        key_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, UnixMillis>, StoreError>> + Send {
        let key_ids = key_ids.to_vec();
        self.run(move |tx| rollups::last_seen(tx, &key_ids).map_err(StoreError::Unavailable))
    }

    fn app_calls(
        &self,
        api_id: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> impl Future<Output = Result<Vec<AppCalls>, StoreError>> + Send {
        let api_id = api_id.to_owned();
        self.run(move |tx| rollups::app_calls(tx, &api_id, from, to).map_err(StoreError::Unavailable))
    }

    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send {
        let entry = entry.clone();
        self.run(move |tx| audit::append(tx, &entry))
    }

    fn recent_audit(&self, limit: usize) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        self.run(move |tx| audit::recent(tx, limit))
    }

    fn query_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send {
        let (filter, cursor) = (filter.clone(), cursor.map(str::to_owned));
        self.run(move |tx| audit::query(tx, &filter, cursor.as_deref(), limit))
    }

    fn audit_about(&self, ids: &BTreeSet<String>) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        let ids = ids.clone();
        self.run(move |tx| audit::about(tx, &ids))
    }
}
