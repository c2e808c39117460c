//! The publisher port: how a committed change reaches the data plane's read model (rebuilt
//! in-process by the native binary; Workers KV later) and how edge caches are purged.

use std::future::Future;
use std::sync::Mutex;

use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::store::{Entity, EntityKind};
use serde::{Deserialize, Serialize};

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Created,
    Updated,
    Deleted,
}

/// One committed change, sent after the store of record accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: EntityKind,
    pub id: String,
    pub op: ChangeOp,
}

impl Change {
    pub fn of<E: Entity>(entity: &E, op: ChangeOp) -> Change {
        Change { kind: E::KIND, id: entity.id().to_owned(), op }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publish failed: {0}")]
pub struct PublishError(pub String);

impl PublishError {
    pub fn new(detail: impl Into<String>) -> PublishError {
        PublishError(detail.into())
    }
}

/// Tells the data plane about changes. Called after every successful write, in commit order.
pub trait Publisher: Send + Sync + 'static {
    fn changed(&self, change: Change) -> impl Future<Output = Result<(), PublishError>> + Send;
    /// Removes cached responses; returns how many were removed (when the cache knows).
    fn purge(&self, selector: PurgeSelector) -> impl Future<Output = Result<u64, PublishError>> + Send;
}

/// Remembers every call, for tests; can be told to fail to exercise the error path.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    changes: Mutex<Vec<Change>>,
    purges: Mutex<Vec<PurgeSelector>>,
    failing: std::sync::atomic::AtomicBool,
}

impl RecordingPublisher {
    pub fn changes(&self) -> Vec<Change> {
        self.changes.lock().map(|c| c.clone()).unwrap_or_default()
    }
    pub fn purges(&self) -> Vec<PurgeSelector> {
        self.purges.lock().map(|p| p.clone()).unwrap_or_default()
    }
    /// From now on every call fails (or succeeds again with `false`).
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }
    fn check(&self) -> Result<(), PublishError> {
        match self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            true => Err(PublishError::new("recording publisher told to fail")),
            false => Ok(()),
        }
    }
}

impl Publisher for RecordingPublisher {
    async fn changed(&self, change: Change) -> Result<(), PublishError> {
        self.check()?;
        self.changes.lock().map_err(|_| PublishError::new("poisoned"))?.push(change);
        Ok(())
    }

    async fn purge(&self, selector: PurgeSelector) -> Result<u64, PublishError> {
        self.check()?;
        let mut purges = self.purges.lock().map_err(|_| PublishError::new("poisoned"))?;
        purges.push(selector);
        Ok(purges.len() as u64)
    }
}
