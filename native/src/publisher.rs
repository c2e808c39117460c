//! `InProcessPublisher`: how the native control plane "publishes to the edge" when the edge is
//! in the same process — it rebuilds the gateway's read model from the store after every
//! change, so a revocation applies to the very next request, and purges the in-memory cache.

use std::sync::Arc;

use gatehouse_admin::{Change, PublishError, Publisher};
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::ports::ResponseCache;
use gatehouse_core::store::Repo;

use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::read_model::{InProcessReadModel, Snapshot};

pub struct InProcessPublisher<R> {
    pub repo: Arc<R>,
    pub read_model: InProcessReadModel,
    pub cache: Arc<MemoryResponseCache>,
}

impl<R: Repo> InProcessPublisher<R> {
    /// Rebuilds the read model from the store. Also run once at start-up.
    pub async fn rebuild(&self) -> Result<(), PublishError> {
        let catalog = self.repo.snapshot().await.map_err(|e| PublishError::new(e.to_string()))?;
        for bad in &catalog.unreadable {
            let kind = bad.kind.as_str();
            tracing::error!(kind, id = %bad.id, reason = %bad.reason, "unreadable record left out; see `gatehouse doctor`");
        }
        self.read_model.replace(Snapshot::compile(catalog));
        Ok(())
    }
}

impl<R: Repo> Publisher for InProcessPublisher<R> {
    async fn changed(&self, _change: Change) -> Result<(), PublishError> {
        self.rebuild().await
    }

    async fn purge(&self, selector: PurgeSelector) -> Result<u64, PublishError> {
        self.cache.purge(&selector).await.map_err(|e| PublishError::new(e.to_string()))
    }
}
