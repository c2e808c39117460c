//! The control-plane store port: the source of truth for the catalog, keys, usage rollups
//! and the audit trail.
//!
//! Adapters (`SqliteRepo`, later `DynamoRepo`, and the in-memory [`MemoryRepo`]) only move
//! [`Record`]s, rollups and audit entries; what is unique, how entities serialise and how
//! usage groups are defined here once, so every adapter behaves the same. The port is used
//! only on native targets (SQLite, Lambda), so its futures are `Send`.

pub mod audit;
#[cfg(feature = "contract")]
pub mod contract;
mod derived;
mod entity;
mod etag;
mod memory;
mod usage;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde::{Deserialize, Serialize};

pub use audit::{AuditEntry, AuditFilter, AuditPage};
pub use derived::{app_calls, last_seen, AppCalls};
pub use entity::{admin_token_unique, email_unique, key_hash_unique, Entity, EntityKind, Record, Unique};
pub use etag::Etag;
pub use memory::MemoryRepo;
pub use usage::{summarise, Dimension, GroupBy, UsageQuery, UsageRow};

use crate::model::{AccessRequest, Api, App, Developer, Key, Organisation, Plan, Product, Subscription};
use crate::time::UnixMillis;
use crate::usage::Rollup;

/// Why a store call failed. Uniqueness and missing records are ordinary answers the admin
/// API turns into 409 and 404; `Unavailable` means the infrastructure failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique value (or id) is already taken; the text says which, never with secrets.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// A conditional write ([`Write::UpdateIf`], [`Write::DeleteIf`]) found the record changed
    /// since it was read; nothing was written.
    #[error("the record changed since it was read")]
    Changed,
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// One write of an all-or-nothing batch (see [`Repo::transact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Fails with `Conflict` when the id or a unique value is taken.
    Insert(Record),
    /// Replaces an existing record; `NotFound` when absent, `Conflict` on a taken unique value.
    Update(Record),
    /// `NotFound` when absent.
    Delete { kind: EntityKind, id: String },
    /// [`Write::Update`], but only while the stored body still has the tag `expected` (read
    /// before the change was made); `Changed` otherwise. Compare-and-set: the read and the
    /// write are one atomic step, so a concurrent change is never overwritten unseen.
    UpdateIf { record: Record, expected: Etag },
    /// [`Write::Delete`], but only while the stored body still has the tag `expected`.
    DeleteIf { kind: EntityKind, id: String, expected: Etag },
    /// Inserts, or replaces whatever is stored under the id, unconditionally: for records
    /// derived from another one in the same batch (an API's catalog card), which may not
    /// exist yet in a store written by an older build. Never for records with unique values:
    /// stores refuse it with `Unavailable`, since no one could tell which claim won.
    Put(Record),
    /// Deletes the record if it is there, and is content when it is not: the counterpart of
    /// [`Write::Put`] for derived records (never for records with unique values).
    Remove { kind: EntityKind, id: String },
}

/// What every store answers a [`Write::Put`] of a record with unique values.
pub fn refuse_put_with_uniques(record: &Record) -> Result<(), StoreError> {
    match record.uniques.is_empty() {
        true => Ok(()),
        false => {
            Err(StoreError::Unavailable(format!("a put of a {} record, which has unique values", record.kind.as_str())))
        }
    }
}

impl Write {
    pub fn insert<E: Entity>(entity: &E) -> Result<Write, StoreError> {
        Record::of(entity).map(Write::Insert)
    }
    pub fn update<E: Entity>(entity: &E) -> Result<Write, StoreError> {
        Record::of(entity).map(Write::Update)
    }
    pub fn put<E: Entity>(entity: &E) -> Result<Write, StoreError> {
        Record::of(entity).map(Write::Put)
    }
    pub fn delete<E: Entity>(id: &str) -> Write {
        Write::Delete { kind: E::KIND, id: id.to_owned() }
    }
}

/// Everything the data plane reads, in one consistent read, for rebuilding a read model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogSnapshot {
    pub apis: Vec<Api>,
    pub products: Vec<Product>,
    pub plans: Vec<Plan>,
    pub developers: Vec<Developer>,
    pub apps: Vec<App>,
    pub subscriptions: Vec<Subscription>,
    pub keys: Vec<Key>,
    pub access_requests: Vec<AccessRequest>,
    pub organisations: Vec<Organisation>,
    /// Records that could not be decoded, left out of everything above. The caller logs them
    /// (see [`Unreadable`]).
    pub unreadable: Vec<Unreadable>,
}

/// A stored record that does not decode (written by a buggy or newer build, or damaged).
///
/// Leaving it out fails closed: a key that is not in the read model is refused, an app or
/// developer that is missing grants nothing, and an API that is missing is not routed. What
/// must never happen is that one such record stops the catalog from loading, which would block
/// every later write and keep a revoked key alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub kind: EntityKind,
    pub id: String,
    /// Why it does not decode; never holds secret material (a key's body holds only its hash).
    pub reason: String,
}

impl CatalogSnapshot {
    /// Decodes records (in creation order) into a snapshot; a record that does not decode is
    /// listed in [`CatalogSnapshot::unreadable`] instead of failing the whole snapshot.
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Result<CatalogSnapshot, StoreError> {
        let mut s = CatalogSnapshot::default();
        for r in records {
            let decoded = match r.kind {
                EntityKind::Api => r.decode().map(|e| s.apis.push(e)),
                EntityKind::Product => r.decode().map(|e| s.products.push(e)),
                EntityKind::Plan => r.decode().map(|e| s.plans.push(e)),
                EntityKind::Developer => r.decode().map(|e| s.developers.push(e)),
                EntityKind::App => r.decode().map(|e| s.apps.push(e)),
                EntityKind::Subscription => r.decode().map(|e| s.subscriptions.push(e)),
                EntityKind::Key => r.decode().map(|e| s.keys.push(e)),
                EntityKind::AccessRequest => r.decode().map(|e| s.access_requests.push(e)),
                EntityKind::Organisation => r.decode().map(|e| s.organisations.push(e)),
                // The control plane's own records; the data plane never reads them.
                EntityKind::ApiCard
                | EntityKind::SignInLink
                | EntityKind::Session
                | EntityKind::Throttle
                | EntityKind::AdminToken
                | EntityKind::AlertRule
                | EntityKind::AlertEvent
                | EntityKind::AlertDelivery
                | EntityKind::AlertOutbox
                | EntityKind::StaffSignIn
                | EntityKind::Membership
                | EntityKind::Invitation
                | EntityKind::Revision => Ok(()),
            };
            if let Err(e) = decoded {
                s.unreadable.push(Unreadable { kind: r.kind, id: r.id.clone(), reason: e.to_string() });
            }
        }
        Ok(s)
    }
}

/// What [`Repo::add_usage_batch`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    /// The batch's rollups were added now.
    Applied,
    /// The batch id was seen before; nothing was added (a retry or a duplicate delivery).
    Duplicate,
}

/// The control-plane store. Adapters implement the required methods; typed CRUD comes from
/// the provided ones, so every adapter gets the same entity handling for free.
pub trait Repo: Send + Sync + 'static {
    /// Applies every write or none of them (one transaction), e.g. a key rotation's new key
    /// and the old key's grace period.
    fn transact(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_record(&self, kind: EntityKind, id: &str) -> impl Future<Output = Result<Record, StoreError>> + Send;

    /// Records of `kind` in creation order, optionally only those owned by `parent`.
    fn list_records(
        &self,
        kind: EntityKind,
        parent: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// The record of `kind` holding the unique value `value` (e.g. [`email_unique`]), if any.
    fn find_unique(
        &self,
        kind: EntityKind,
        value: &str,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send;

    /// Up to `limit` records of `kind` whose id sorts after `after`, in id order: for reading
    /// a kind too large to hold as records at once (a million keys at start-up) page by page.
    /// Pages are separate reads, not one consistent snapshot. The provided version pages a
    /// full listing; stores that can seek by id override it.
    fn page_records(
        &self,
        kind: EntityKind,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send {
        let (records, after) = (self.list_records(kind, None), after.map(str::to_owned));
        async move {
            let mut page: Vec<Record> =
                records.await?.into_iter().filter(|r| after.as_deref().is_none_or(|a| r.id.as_str() > a)).collect();
            page.sort_by(|a, b| a.id.cmp(&b.id));
            page.truncate(limit);
            Ok(page)
        }
    }

    /// All entities, read consistently.
    fn snapshot(&self) -> impl Future<Output = Result<CatalogSnapshot, StoreError>> + Send;

    /// Merges per-minute rollups into stored ones by addition. Not idempotent: a retry adds
    /// again. Use it for rollups aggregated in-process; batches from elsewhere go through
    /// [`Repo::add_usage_batch`].
    fn add_rollups(&self, rollups: &[Rollup]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a batch's rollups exactly once per `batch_id`: a retried or duplicated delivery
    /// of the same batch answers [`BatchOutcome::Duplicate`] and adds nothing. Recording the
    /// id and adding the rollups are atomic (or, where a store must split a large batch,
    /// each part is recorded with its own additions, so a retry completes a partial batch).
    fn add_usage_batch(
        &self,
        batch_id: &str,
        rollups: &[Rollup],
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send;

    fn query_usage(&self, query: &UsageQuery) -> impl Future<Output = Result<Vec<UsageRow>, StoreError>> + Send;

    /// Sets `last_used_at` to the later of the stored and the given time; unknown ids are
    /// skipped (the key may have been deleted since the call).
    fn mark_keys_used(&self, used: &[(String, UnixMillis)]) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The newest `limit` audit entries, newest first.
    fn recent_audit(&self, limit: usize) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Up to `limit` entries matching `filter`, newest first, starting after `cursor` (the
    /// `next` of the previous page; opaque, and meaningful only to the store that gave it).
    /// A page's `next` is `None` when nothing older matches. A cursor the store cannot read
    /// is `StoreError::Conflict` (the caller answers 400), never a silent first page.
    fn query_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send;

    /// The start of the latest stored usage minute with traffic of each key (absent: never
    /// seen in usage), for "last used" where only rollups record use (the edge's usage).
    /// The default asks per key (two queries in the key's own usage); stores that can answer
    /// a whole list at once override it.
    fn keys_last_seen(
        &self,
        key_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, UnixMillis>, StoreError>> + Send {
        derived::last_seen_by_queries(self, key_ids)
    }

    /// Calls to `api_id` in `[from, to)` per (developer, app), most calls first: who still
    /// calls an API (retirement notices). The default asks per key of the apps subscribed to
    /// a product holding the API; stores that can aggregate in one query override it.
    fn app_calls(
        &self,
        api_id: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> impl Future<Output = Result<Vec<AppCalls>, StoreError>> + Send {
        derived::app_calls_by_queries(self, api_id, from, to)
    }

    /// Every audit entry that targets one of `ids`, oldest first (a developer's data export).
    fn audit_about(&self, ids: &BTreeSet<String>) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        derived::audit_about_by_scan(self, ids)
    }

    fn insert<E: Entity>(&self, entity: &E) -> impl Future<Output = Result<(), StoreError>> + Send {
        let write = Write::insert(entity);
        async move { self.transact(vec![write?]).await }
    }

    fn update<E: Entity>(&self, entity: &E) -> impl Future<Output = Result<(), StoreError>> + Send {
        let write = Write::update(entity);
        async move { self.transact(vec![write?]).await }
    }

    fn delete<E: Entity>(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(vec![Write::delete::<E>(id)])
    }

    fn get<E: Entity>(&self, id: &str) -> impl Future<Output = Result<E, StoreError>> + Send {
        let record = self.get_record(E::KIND, id);
        async move { record.await?.decode() }
    }

    fn list<E: Entity>(&self, parent: Option<&str>) -> impl Future<Output = Result<Vec<E>, StoreError>> + Send {
        let records = self.list_records(E::KIND, parent);
        async move { records.await?.iter().map(Record::decode).collect() }
    }

    fn find<E: Entity>(&self, unique: &str) -> impl Future<Output = Result<Option<E>, StoreError>> + Send {
        let record = self.find_unique(E::KIND, unique);
        async move { record.await?.map(|r| r.decode()).transpose() }
    }
}
