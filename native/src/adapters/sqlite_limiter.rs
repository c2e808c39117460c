//! `SqliteLimiter`: the native gateway's limiter. Counters live in a [`MemoryLimiter`] (exact
//! within the process, as before); quota counts are also kept in the store file, so a
//! restart or a crash does not hand every caller a fresh day or month.
//!
//! - **Written behind** (the default, `durable: flushed`): a call only flags its quota
//!   counters dirty; a flush every [`DEFAULT_FLUSH`] saves the changed counts in one
//!   transaction, off the request path, and a graceful stop saves the rest. A crash can lose
//!   what changed since the last flush: at most one interval (plus the commit) of admitted
//!   calls can be admitted again after the restart.
//! - **Exact** (`durable: exact`): an admitted call's exact quota counts are committed
//!   before the call goes ahead, so a crash never over-admits; the call pays one synchronous
//!   SQLite commit (measured by `native/benches/quota.rs`), shared with the exact calls that
//!   wait beside it (`group_commit.rs`).
//! - **Burst (GCRA) state is not kept**: a restart refills every bucket.
//!
//! Saved counts are loaded into memory by [`SqliteLimiter::open`], before the gateway serves.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::limits::{LimitCheck, LimitDecision};
use gatehouse_core::ports::{Limiter, PortError};
use gatehouse_core::store::StoreError;
use gatehouse_core::time::UnixMillis;

use super::memory_limiter::MemoryLimiter;
use crate::store::counters::{self, SqliteCounters};

mod group_commit;
use group_commit::GroupCommit;

/// How often dirty quota counts are saved, by default: the crash bound of a quota written
/// behind (and of usage, which flushes on the same interval by default).
pub const DEFAULT_FLUSH: Duration = Duration::from_secs(1);

/// In-memory counters whose quota counts are saved to SQLite.
pub struct SqliteLimiter {
    memory: Arc<MemoryLimiter>,
    store: SqliteCounters,
    exact: Arc<GroupCommit>,
}

impl SqliteLimiter {
    /// Opens the counter table of the store file at `path` and loads every quota count whose
    /// window has not ended by `now`. Blocking: call it at start-up, before serving.
    pub fn open(path: impl AsRef<Path>, now: UnixMillis) -> Result<SqliteLimiter, StoreError> {
        let store = SqliteCounters::open(path)?;
        let memory = Arc::new(MemoryLimiter::default());
        memory.restore(store.load(now)?, now);
        Ok(SqliteLimiter { memory, store, exact: Arc::default() })
    }

    /// The counters themselves.
    pub fn memory(&self) -> &MemoryLimiter {
        &self.memory
    }

    /// Saves every quota count changed since the last flush, in one transaction, and drops
    /// the rows whose window ended by `now`; returns how many counts it saved. On failure the
    /// counts stay dirty for the next flush. Blocking: run it on the blocking pool.
    pub fn flush(&self, now: UnixMillis) -> Result<usize, StoreError> {
        self.store.locked(|conn| {
            let counts = self.memory.take_dirty();
            match counters::save(conn, &counts, Some(now)) {
                Ok(()) => Ok(counts.len()),
                Err(e) => {
                    self.memory.mark_dirty(counts);
                    Err(e)
                }
            }
        })
    }

    /// Commits the exact quota counts of a call admitted at `now`. When that fails, the call
    /// is given its quota units back and refused as unavailable (quotas fail closed).
    async fn write_through(&self, checks: &[LimitCheck], now: UnixMillis) -> Result<(), PortError> {
        let ticket = self.exact.enqueue(checks.iter().filter(|c| c.is_exact()).map(|c| c.counter.clone()));
        let checks = checks.to_vec();
        let (memory, store, exact) = (Arc::clone(&self.memory), self.store.clone(), Arc::clone(&self.exact));
        let work = move || {
            store.locked(|conn| {
                if exact.is_committed(ticket) {
                    return Ok(()); // saved by the commit of a call that held the connection first
                }
                let (queued, upto) = exact.take();
                let saved = counters::save(conn, &memory.saved(&queued), None);
                match saved {
                    Ok(()) => exact.committed(upto),
                    Err(_) => {
                        exact.requeue(queued);
                        memory.refund(&checks, now, 1);
                    }
                }
                saved
            })
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not save an exact quota count; the call is refused");
                Err(PortError::new("limiter", e.to_string()))
            }
            Err(e) => Err(PortError::new("limiter", e.to_string())),
        }
    }
}

impl Limiter for SqliteLimiter {
    async fn acquire(&self, checks: &[LimitCheck], now: UnixMillis) -> Result<LimitDecision, PortError> {
        let decision = self.memory.acquire_now(checks, now);
        if decision.allowed() && checks.iter().any(LimitCheck::is_exact) {
            self.write_through(checks, now).await?;
        }
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_core::limits::{Durability, FailureMode, LimitKind, LimitPolicy, LimitScope, QuotaWindow};
    use gatehouse_core::time::DAY;

    use super::*;

    const T0: UnixMillis = 1_800_000_000_000;

    fn quota(limit: u64, durable: Durability) -> Vec<LimitCheck> {
        let kind = LimitKind::Quota { limit, window: QuotaWindow::Day, durable };
        vec![LimitCheck {
            counter: "app:a:daily".into(),
            policy: LimitPolicy { name: "daily".into(), scope: LimitScope::App, kind },
            anchor: None,
        }]
    }

    fn store() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("gatehouse.db");
        (dir, db)
    }

    async fn admitted(limiter: &SqliteLimiter, checks: &[LimitCheck], now: UnixMillis) -> bool {
        limiter.acquire(checks, now).await.expect("store up").allowed()
    }

    #[tokio::test]
    async fn flushed_quota_counts_are_restored_by_the_next_start() {
        let (_dir, db) = store();
        let checks = quota(3, Durability::Flushed);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        for _ in 0..3 {
            assert!(admitted(&limiter, &checks, T0).await);
        }
        assert_eq!(limiter.flush(T0), Ok(1), "one counter changed, saved once");
        assert_eq!(limiter.flush(T0), Ok(0), "nothing changed since");
        drop(limiter);
        let restarted = SqliteLimiter::open(&db, T0 + 1).expect("reopen");
        assert!(!admitted(&restarted, &checks, T0 + 1).await, "the 4th call of a quota of 3");
    }

    #[tokio::test]
    async fn a_crash_loses_only_what_changed_since_the_last_flush() {
        let (_dir, db) = store();
        let checks = quota(3, Durability::Flushed);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        assert!(admitted(&limiter, &checks, T0).await);
        assert!(admitted(&limiter, &checks, T0).await);
        limiter.flush(T0).expect("flush");
        assert!(admitted(&limiter, &checks, T0).await, "the 3rd call, not yet flushed when the process dies");
        drop(limiter);
        let restarted = SqliteLimiter::open(&db, T0).expect("reopen");
        assert!(admitted(&restarted, &checks, T0).await, "the unflushed call is admitted again: the bound");
        assert!(!admitted(&restarted, &checks, T0).await, "but only that one");
    }

    #[tokio::test]
    async fn an_exact_quota_count_is_saved_before_its_call_is_admitted() {
        let (_dir, db) = store();
        let checks = quota(2, Durability::Exact);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        assert!(admitted(&limiter, &checks, T0).await);
        assert!(admitted(&limiter, &checks, T0).await);
        // No flush: a second process opening the file now sees both calls.
        let restarted = SqliteLimiter::open(&db, T0).expect("reopen");
        assert!(!admitted(&restarted, &checks, T0).await);
        assert!(limiter.memory().take_dirty().is_empty(), "an exact count is not also written behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_exact_calls_never_over_admit_and_all_are_saved() {
        let (_dir, db) = store();
        let limiter = Arc::new(SqliteLimiter::open(&db, T0).expect("open"));
        let calls: Vec<_> = (0..40)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move { admitted(&limiter, &quota(25, Durability::Exact), T0).await })
            })
            .collect();
        let mut admitted_calls = 0;
        for call in calls {
            admitted_calls += usize::from(call.await.expect("task"));
        }
        assert_eq!(admitted_calls, 25);
        let restarted = SqliteLimiter::open(&db, T0).expect("reopen without a flush");
        assert!(!admitted(&restarted, &quota(25, Durability::Exact), T0).await, "all 25 were committed");
    }

    #[tokio::test]
    async fn a_failed_exact_save_refuses_the_call_and_takes_no_quota() {
        let (_dir, db) = store();
        let checks = quota(1, Durability::Exact);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        let side = rusqlite::Connection::open(&db).expect("side connection");
        side.execute_batch("ALTER TABLE quota_counters RENAME TO away").expect("hide the table");
        assert!(limiter.acquire(&checks, T0).await.is_err(), "unsaved, so unavailable (quotas fail closed)");
        side.execute_batch("ALTER TABLE away RENAME TO quota_counters").expect("restore the table");
        assert!(admitted(&limiter, &checks, T0).await, "the failed call gave its unit back");
        assert!(!admitted(&limiter, &checks, T0).await);
    }

    #[tokio::test]
    async fn a_failed_flush_keeps_the_counts_for_the_next_one() {
        let (_dir, db) = store();
        let checks = quota(1, Durability::Flushed);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        assert!(admitted(&limiter, &checks, T0).await);
        let side = rusqlite::Connection::open(&db).expect("side connection");
        side.execute_batch("ALTER TABLE quota_counters RENAME TO away").expect("hide the table");
        assert!(limiter.flush(T0).is_err());
        side.execute_batch("ALTER TABLE away RENAME TO quota_counters").expect("restore the table");
        assert_eq!(limiter.flush(T0), Ok(1), "retried on the next flush");
        let restarted = SqliteLimiter::open(&db, T0).expect("reopen");
        assert!(!admitted(&restarted, &checks, T0).await);
    }

    #[tokio::test]
    async fn ended_windows_are_neither_restored_nor_kept() {
        let (_dir, db) = store();
        let checks = quota(1, Durability::Flushed);
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        assert!(admitted(&limiter, &checks, T0).await);
        limiter.flush(T0).expect("flush");
        let tomorrow = T0 + DAY;
        let restarted = SqliteLimiter::open(&db, tomorrow).expect("reopen a day later");
        assert!(restarted.memory().is_empty(), "yesterday's count is not loaded");
        assert!(admitted(&restarted, &checks, tomorrow).await);
        assert_eq!(restarted.flush(tomorrow), Ok(1));
        assert_eq!(
            SqliteCounters::open(&db).expect("open").load(T0).expect("load").len(),
            1,
            "yesterday's row deleted"
        );
    }

    #[tokio::test]
    async fn burst_state_is_not_saved() {
        let (_dir, db) = store();
        let kind = LimitKind::Rate { limit: 1, period_secs: 60, burst: 1, on_failure: FailureMode::Closed };
        let policy = LimitPolicy { name: "burst".into(), scope: LimitScope::Key, kind };
        let checks = [LimitCheck { counter: "key:k:burst".into(), policy, anchor: None }];
        let limiter = SqliteLimiter::open(&db, T0).expect("open");
        assert!(admitted(&limiter, &checks, T0).await);
        assert!(!admitted(&limiter, &checks, T0).await);
        assert_eq!(limiter.flush(T0), Ok(0));
        let restarted = SqliteLimiter::open(&db, T0).expect("reopen");
        assert!(admitted(&restarted, &checks, T0).await, "a restart refills the bucket (documented)");
    }
}
