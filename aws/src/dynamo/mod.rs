//! `DynamoRepo`: the control-plane store port over DynamoDB. Two tables (see docs/aws.md):
//!
//! - the **catalog** table: entity records (`pk = rec#<kind>`, `sk = <id>`), unique-value
//!   guards (`pk = uniq#<kind>#<value>`), the creation-order counter and the audit trail,
//!   with the `by_parent` GSI for "records owned by X";
//! - the **usage** table: one item per key, five-minute window, operation and batch, and one
//!   summary per batch and hour, put whole at ingest (a redelivery puts the same items); the
//!   hour index, hour states and open marks; and the hour and day items compaction sums from
//!   them (`usage`).
//!
//! Uniqueness is enforced by conditional writes of guard items inside the same
//! `TransactWriteItems` as the record, so a change is all-or-nothing and two writers can never
//! both claim an email, a key hash or a base path.

mod audit;
mod catalog;
mod items;
mod reports;
mod tables;
mod usage;
mod writes;

use aws_sdk_dynamodb::Client;
use gatehouse_core::store::{
    AuditEntry, AuditFilter, AuditPage, BatchOutcome, CatalogSnapshot, EntityKind, Record, Repo, StoreError,
    UsageQuery, UsageRow, Write,
};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::Rollup;

pub use tables::create_tables;
pub use usage::{HourCompaction, LATENESS};

/// Names of the two tables (from the SAM template's outputs, via the environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoTables {
    pub catalog: String,
    pub usage: String,
}

/// The DynamoDB store. Cloning shares the SDK client (one connection pool per process).
#[derive(Debug, Clone)]
pub struct DynamoRepo {
    client: Client,
    tables: DynamoTables,
}

impl DynamoRepo {
    /// Wraps a client built once at start-up; makes no call.
    pub fn new(client: Client, tables: DynamoTables) -> DynamoRepo {
        DynamoRepo { client, tables }
    }

    /// Compacts every hour that ended at least [`LATENESS`] before `now` and is not compacted
    /// (new hours, and hours a late batch reopened), oldest first, then sums the busy finished
    /// windows of the hours not due yet into window summaries: what the scheduled compaction
    /// function runs. Not part of `Repo`: only DynamoDB needs it. Run one at a time.
    pub async fn compact_due(&self, now: UnixMillis) -> Result<Vec<HourCompaction>, StoreError> {
        usage::compact_due(self, now).await
    }

    /// Compacts one hour now, whether or not it is over (tests, backfills); safe to repeat.
    pub async fn compact_hour(&self, hour: UnixMillis) -> Result<HourCompaction, StoreError> {
        usage::compact_hour(self, hour).await
    }
}

/// An SDK failure as the port's `Unavailable`, keeping the SDK's own words for the log.
pub(crate) fn unavailable(e: impl std::fmt::Debug) -> StoreError {
    StoreError::Unavailable(format!("dynamodb: {e:?}"))
}

/// Wall-clock time for TTL attributes only (TTLs are housekeeping, never a decision).
pub fn now_millis() -> UnixMillis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Repo for DynamoRepo {
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        writes::transact(self, writes).await
    }

    async fn get_record(&self, kind: EntityKind, id: &str) -> Result<Record, StoreError> {
        catalog::get(self, kind, id).await?.ok_or(StoreError::NotFound)
    }

    async fn list_records(&self, kind: EntityKind, parent: Option<&str>) -> Result<Vec<Record>, StoreError> {
        catalog::list(self, kind, parent).await
    }

    async fn find_unique(&self, kind: EntityKind, value: &str) -> Result<Option<Record>, StoreError> {
        catalog::find_unique(self, kind, value).await
    }

    /// Each kind is read consistently; the kinds one after another (DynamoDB has no
    /// multi-partition snapshot read; the read model is rebuilt from changes anyway).
    async fn snapshot(&self) -> Result<CatalogSnapshot, StoreError> {
        let mut all = Vec::new();
        for kind in EntityKind::ALL.into_iter().filter(|k| k.in_snapshot()) {
            all.extend(catalog::list(self, kind, None).await?);
        }
        CatalogSnapshot::from_records(&all)
    }

    async fn add_rollups(&self, rollups: &[Rollup]) -> Result<(), StoreError> {
        usage::add(self, rollups).await
    }

    async fn add_usage_batch(&self, batch_id: &str, rollups: &[Rollup]) -> Result<BatchOutcome, StoreError> {
        usage::add_batch(self, batch_id, rollups).await
    }

    async fn query_usage(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        reports::query(self, query).await
    }

    async fn mark_keys_used(&self, used: &[(String, UnixMillis)]) -> Result<(), StoreError> {
        catalog::mark_used(self, used).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        audit::append(self, entry).await
    }

    async fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        audit::recent(self, limit).await
    }

    async fn query_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AuditPage, StoreError> {
        audit::query(self, filter, cursor, limit).await
    }
}
