//! `InProcessPublisher`: how the native control plane "publishes to the edge" when the edge is
//! in the same process. Each change reads the one record it names from the store and updates
//! only the read-model entries that record touches (`read_model::apply`), then swaps the new
//! snapshot in before the admin call returns, so a revocation applies to the very next
//! request. It also purges the in-memory cache.
//!
//! The whole catalogue is read once, at start-up ([`InProcessPublisher::rebuild`]), one kind
//! at a time, decoding record by record, so no full copy of the store (nor any OpenAPI
//! document beyond the one being decoded) is held at once.

use std::sync::Arc;

use gatehouse_admin::{Change, PublishError, Publisher};
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::model::Key;
use gatehouse_core::ports::ResponseCache;
use gatehouse_core::store::{EntityKind, Record, Repo, StoreError};

use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::read_model::{self, decoded, CatalogIndex, InProcessReadModel, Snapshot};

pub struct InProcessPublisher<R> {
    pub repo: Arc<R>,
    pub read_model: InProcessReadModel,
    pub cache: Arc<MemoryResponseCache>,
}

fn unavailable(e: StoreError) -> PublishError {
    PublishError::new(e.to_string())
}

/// The kinds an identity or a route is built from, in an order where each kind's references
/// (an app's developer, a subscription's plan) are loaded before it; keys come last.
const CATALOGUE: [EntityKind; 6] = [
    EntityKind::Api,
    EntityKind::Product,
    EntityKind::Plan,
    EntityKind::Developer,
    EntityKind::App,
    EntityKind::Subscription,
];

/// Key records read per page at start-up.
const KEY_PAGE: usize = 10_000;

impl<R: Repo> InProcessPublisher<R> {
    /// Loads the whole read model from the store. Run once at start-up, before the admin API
    /// takes writes (keys are read in pages, not in one consistent read); records that cannot
    /// be decoded are logged and left out (the gateway refuses what they would grant).
    pub async fn rebuild(&self) -> Result<(), PublishError> {
        let mut writer = self.read_model.writer().await;
        let mut index = CatalogIndex::default();
        let mut snapshot = Snapshot::default();
        for kind in CATALOGUE {
            for record in self.repo.list_records(kind, None).await.map_err(unavailable)? {
                // Routes and identities are built once, below, when every kind is in.
                read_model::index_record(&mut index, kind, &record.id, Some(&record));
            }
        }
        read_model::finish(&index, &mut snapshot);
        // Keys in pages: a million key records held at once would be most of a gigabyte.
        let mut after: Option<String> = None;
        loop {
            let page =
                self.repo.page_records(EntityKind::Key, after.as_deref(), KEY_PAGE).await.map_err(unavailable)?;
            for record in &page {
                if let Some(key) = decoded::<Key>(record) {
                    snapshot.put_key(key);
                }
            }
            match page.last() {
                Some(last) if page.len() == KEY_PAGE => after = Some(last.id.clone()),
                _ => break,
            }
        }
        writer.index = index;
        writer.unapplied.clear();
        self.read_model.replace(snapshot);
        Ok(())
    }

    /// The record as stored now; `None` when it is gone.
    async fn stored(&self, kind: EntityKind, id: &str) -> Result<Option<Record>, StoreError> {
        match self.repo.get_record(kind, id).await {
            Ok(record) => Ok(Some(record)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<R: Repo> Publisher for InProcessPublisher<R> {
    /// Reads and applies under the writer lock, so concurrent changes apply in the order their
    /// records were read and the last read (the newest state) is the one that stays. Changes
    /// that could not be read before are retried first; a record's current state is all a
    /// change needs, so a retry is never stale.
    async fn changed(&self, change: Change) -> Result<(), PublishError> {
        let mut writer = self.read_model.writer().await;
        let mut snapshot = self.read_model.current();
        let mut todo = std::mem::take(&mut writer.unapplied);
        todo.push((change.kind, change.id));
        let mut failed = None;
        for (kind, id) in todo {
            match self.stored(kind, &id).await {
                Ok(record) => read_model::apply(&mut writer.index, &mut snapshot, kind, &id, record.as_ref()),
                Err(e) => {
                    writer.unapplied.push((kind, id));
                    failed = Some(unavailable(e));
                }
            }
        }
        self.read_model.replace(snapshot);
        failed.map_or(Ok(()), Err)
    }

    async fn purge(&self, selector: PurgeSelector) -> Result<u64, PublishError> {
        self.cache.purge(&selector).await.map_err(|e| PublishError::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
