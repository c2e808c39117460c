//! One store contract (`gatehouse_core::store::contract`), two instantiations here: every
//! scenario runs against `MemoryRepo` and `SqliteRepo`, so the in-memory twin used by router
//! tests cannot drift from the real store. `gatehouse-aws` runs the same list on `DynamoRepo`.

use gatehouse_core::model::Developer;
use gatehouse_core::store::contract::developer;
use std::future::Future;

use gatehouse_core::store::{
    AuditEntry, AuditFilter, AuditPage, BatchOutcome, CatalogSnapshot, EntityKind, Record, Repo, StoreError,
    UsageQuery, UsageRow, Write,
};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::Rollup;

use super::SqliteRepo;

/// A fresh database file under the temp dir, unique per test and process.
fn temp_db(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("gatehouse-{name}-{}-{nanos}.db", std::process::id()))
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $name() {
                gatehouse_core::store::contract::$name(gatehouse_core::store::MemoryRepo::new()).await;
            })*
        }
        /// The port's provided answers (`keys_last_seen`, `app_calls`, `audit_about`) as a
        /// store gets them when it does not override them: DynamoDB does not.
        mod defaults {
            $(#[tokio::test] async fn $name() {
                gatehouse_core::store::contract::$name(super::Plain::default()).await;
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let path = super::temp_db(stringify!($name));
                gatehouse_core::store::contract::$name(super::SqliteRepo::open(&path).expect("open")).await;
                let _ = std::fs::remove_file(&path);
            })*
        }
    };
}

gatehouse_core::for_each_store_contract!(contract);

/// `MemoryRepo` through the required methods only, so the provided ones run their defaults.
#[derive(Default)]
struct Plain(gatehouse_core::store::MemoryRepo);

impl Repo for Plain {
    fn transact(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.0.transact(writes)
    }
    fn get_record(&self, kind: EntityKind, id: &str) -> impl Future<Output = Result<Record, StoreError>> + Send {
        self.0.get_record(kind, id)
    }
    fn list_records(
        &self,
        kind: EntityKind,
        parent: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send {
        self.0.list_records(kind, parent)
    }
    fn find_unique(
        &self,
        kind: EntityKind,
        value: &str,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send {
        self.0.find_unique(kind, value)
    }
    fn snapshot(&self) -> impl Future<Output = Result<CatalogSnapshot, StoreError>> + Send {
        self.0.snapshot()
    }
    fn add_rollups(&self, rollups: &[Rollup]) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.0.add_rollups(rollups)
    }
    fn add_usage_batch(
        &self,
        batch_id: &str,
        rollups: &[Rollup],
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send {
        self.0.add_usage_batch(batch_id, rollups)
    }
    fn query_usage(&self, query: &UsageQuery) -> impl Future<Output = Result<Vec<UsageRow>, StoreError>> + Send {
        self.0.query_usage(query)
    }
    fn mark_keys_used(&self, used: &[(String, UnixMillis)]) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.0.mark_keys_used(used)
    }
    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.0.append_audit(entry)
    }
    fn recent_audit(&self, limit: usize) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        self.0.recent_audit(limit)
    }
    fn query_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send {
        self.0.query_audit(filter, cursor, limit)
    }
}

#[tokio::test]
async fn sqlite_data_survives_reopening_the_file() {
    let path = temp_db("reopen");
    SqliteRepo::open(&path).expect("open").insert(&developer("dev_1", "a@x.io")).await.expect("insert");
    let reopened = SqliteRepo::open(&path).expect("reopen migrates nothing twice");
    assert_eq!(reopened.get::<Developer>("dev_1").await.map(|d| d.email), Ok("a@x.io".into()));
    let clash = reopened.insert(&developer("dev_2", "A@x.io")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))));
    let _ = std::fs::remove_file(&path);
}

/// A file written before `key_last_seen` existed (schema v3) gets it filled from its rollups
/// when it is opened, so keys used before the upgrade still show when.
#[tokio::test]
async fn upgrading_fills_key_last_seen_from_the_rollups_already_stored() {
    let path = temp_db("upgrade");
    let repo = SqliteRepo::open(&path).expect("open");
    let mut rollups = vec![gatehouse_core::store::contract::rollup(60_000, 1, "valid", 900)];
    rollups.push(gatehouse_core::store::contract::rollup(180_000, 2, "valid", 900));
    repo.add_rollups(&rollups).await.expect("rollups");
    drop(repo);
    let conn = rusqlite::Connection::open(&path).expect("raw");
    // Back to v3: without what migrations 4 (key_last_seen), 5 (end_users), 6
    // (admin_tokens) and 7 (the audit entry's JSON) add.
    let v3 = "DROP INDEX audit_by_actor; DROP INDEX audit_by_at; ALTER TABLE audit DROP COLUMN entry;
              DROP TABLE admin_tokens; DROP INDEX rollups_by_api; DROP TABLE key_last_seen;
              ALTER TABLE rollups DROP COLUMN end_users; PRAGMA user_version = 3;";
    conn.execute_batch(v3).expect("v3");
    drop(conn);
    let upgraded = SqliteRepo::open(&path).expect("upgrade");
    let seen = upgraded.keys_last_seen(&["key_1".to_string()]).await.expect("last seen");
    assert_eq!(seen.get("key_1"), Some(&180_000));
    let _ = std::fs::remove_file(&path);
}

/// Audit rows written before migration 7 (four columns, no JSON) read back through every
/// audit read after the upgrade, beside the rows written after it.
#[tokio::test]
async fn audit_rows_from_before_roles_read_back_after_the_upgrade() {
    let path = temp_db("audit-upgrade");
    drop(SqliteRepo::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("raw");
    let v6 = "DROP INDEX audit_by_actor; DROP INDEX audit_by_at; ALTER TABLE audit DROP COLUMN entry;
              INSERT INTO audit (at, actor, action, targets) VALUES (5, 'admin:1a2b3c4d', 'app.create', '[\"app_1\"]');
              PRAGMA user_version = 6;";
    conn.execute_batch(v6).expect("v6");
    drop(conn);
    let upgraded = SqliteRepo::open(&path).expect("upgrade");
    let mut new = AuditEntry::new(6, "alice", "key.create", vec!["app_1".into()]);
    new.role = Some(gatehouse_core::model::Role::Owner);
    upgraded.append_audit(&new).await.expect("append");
    let filter = gatehouse_core::store::AuditFilter { target: Some("app_1".into()), ..Default::default() };
    let page = upgraded.query_audit(&filter, None, 10).await.expect("page");
    let old = AuditEntry::new(5, "admin:1a2b3c4d", "app.create", vec!["app_1".into()]);
    assert_eq!(page.entries, vec![new, old]);
    let _ = std::fs::remove_file(&path);
}
