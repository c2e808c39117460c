//! `SqliteCounters`: the native gateway's quota counts in the store file, on a connection of
//! their own so saving them never waits behind the admin API's connection mutex (SQLite still
//! takes one writer at a time; the busy timeout covers that).
//!
//! The connection runs `synchronous = FULL`: a saved count is on disk when the commit
//! returns, so an exact quota holds across a power cut as well as a process crash. A flush is
//! one transaction a second, so the extra fsync costs nothing on the request path.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use gatehouse_core::store::StoreError;
use gatehouse_core::time::UnixMillis;
use rusqlite::{params, Connection, TransactionBehavior};

use super::schema;
use crate::adapters::memory_limiter::SavedCounter;

/// Last write wins: every writer reads the counts it saves while it holds the connection, so
/// writes land in the order the counts were read, and a count read later is never older.
const UPSERT: &str = "INSERT INTO quota_counters (counter, window_start, used, expires_at) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (counter) DO UPDATE SET
        window_start = excluded.window_start, used = excluded.used, expires_at = excluded.expires_at";

/// The quota counter table. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteCounters {
    conn: Arc<Mutex<Connection>>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// SQLite integers are signed; a count never gets near `i64::MAX`.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteCounters {
    /// Opens the store file (migrating it if needed) on a new connection. Blocking.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteCounters, StoreError> {
        let mut conn = Connection::open(path).map_err(unavailable)?;
        schema::prepare(&mut conn).map_err(unavailable)?.map_err(StoreError::Unavailable)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(unavailable)?;
        Ok(SqliteCounters { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` holding the connection. Whoever saves counts reads them from the limiter
    /// inside `f`, which is what keeps last-write-wins right. Blocking.
    pub fn locked<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        // A panic inside `f` leaves no half-written transaction (it rolls back on drop), so
        // a poisoned lock is recovered.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }

    /// Every count whose window has not ended by `now`. Blocking.
    pub fn load(&self, now: UnixMillis) -> Result<Vec<SavedCounter>, StoreError> {
        self.locked(|conn| {
            let sql = "SELECT counter, window_start, used, expires_at FROM quota_counters WHERE expires_at > ?1";
            let mut stmt = conn.prepare(sql).map_err(unavailable)?;
            let rows = stmt
                .query_map([now], |r| {
                    let used: i64 = r.get(2)?;
                    let used = u64::try_from(used).unwrap_or(0);
                    Ok(SavedCounter { counter: r.get(0)?, window_start: r.get(1)?, used, expires_at: r.get(3)? })
                })
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })
    }
}

/// Writes `counts` in one transaction and, with `expired_by`, deletes the rows whose window
/// had ended by then (their count is moot). Call it inside [`SqliteCounters::locked`].
pub fn save(conn: &mut Connection, counts: &[SavedCounter], expired_by: Option<UnixMillis>) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
    {
        let mut upsert = tx.prepare_cached(UPSERT).map_err(unavailable)?;
        for c in counts {
            upsert.execute(params![c.counter, c.window_start, int(c.used), c.expires_at]).map_err(unavailable)?;
        }
        if let Some(now) = expired_by {
            let mut delete =
                tx.prepare_cached("DELETE FROM quota_counters WHERE expires_at <= ?1").map_err(unavailable)?;
            delete.execute([now]).map_err(unavailable)?;
        }
    }
    tx.commit().map_err(unavailable)
}
