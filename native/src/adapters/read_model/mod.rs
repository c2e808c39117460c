//! `InProcessReadModel`: the native gateway's read model. A control-plane change updates only
//! the entries it touches (see [`apply`]) in a new [`Snapshot`] that shares everything else
//! with the current one, and the new snapshot is swapped in whole: a request always sees one
//! consistent snapshot, and a revocation applies to the very next request.

mod apply;
mod index;
mod keys;
mod snapshot;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use gatehouse_core::entitlements::Identity;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::Key;
use gatehouse_core::ports::{PortError, ReadModel};
use gatehouse_core::routing::RouteTable;
use gatehouse_core::store::{CatalogSnapshot, EntityKind};
use tokio::sync::{Mutex, MutexGuard};

pub use apply::{apply, decoded, index_record, recompile};
pub use index::CatalogIndex;
pub use snapshot::Snapshot;

impl Snapshot {
    /// Compiles a whole catalogue at once (start-up, tests and benches), keeping the index.
    pub fn compile_with_index(catalog: CatalogSnapshot) -> (CatalogIndex, Snapshot) {
        let mut index = CatalogIndex::default();
        let mut snapshot = Snapshot::default();
        catalog.apis.into_iter().for_each(|a| index.put_api(a));
        catalog.products.into_iter().for_each(|p| drop(index.put_product(p)));
        catalog.plans.into_iter().for_each(|p| drop(index.put_plan(p)));
        catalog.developers.into_iter().for_each(|d| drop(index.put_developer(d)));
        catalog.organisations.into_iter().for_each(|o| drop(index.put_organisation(o)));
        catalog.apps.into_iter().for_each(|a| drop(index.put_app(a)));
        catalog.subscriptions.into_iter().for_each(|s| drop(index.put_subscription(s)));
        catalog.access_requests.into_iter().for_each(|r| drop(index.put_access_request(r)));
        catalog.keys.into_iter().for_each(|k| snapshot.put_key(k));
        finish(&index, &mut snapshot);
        (index, snapshot)
    }

    pub fn compile(catalog: CatalogSnapshot) -> Snapshot {
        Snapshot::compile_with_index(catalog).1
    }
}

/// Builds the routes and every identity once the index holds the whole catalogue.
pub fn finish(index: &CatalogIndex, snapshot: &mut Snapshot) {
    snapshot.set_routes(index.routes());
    let apps: Vec<String> = index.apps().map(str::to_owned).collect();
    recompile(index, snapshot, &apps);
}

/// What the one writer keeps between changes.
#[derive(Default)]
pub struct Writer {
    pub index: CatalogIndex,
    /// Changes whose record could not be read (the store was unavailable), retried before the
    /// next change: a revocation whose publish failed must not stay unapplied until a restart.
    pub unapplied: Vec<(EntityKind, String)>,
}

/// Swapped whole on every control-plane change. Each gateway thread keeps its own reference
/// to the current snapshot and only re-reads the shared one when the generation moves, so a
/// request's three lookups take no lock and touch no shared reference count.
#[derive(Clone)]
pub struct InProcessReadModel {
    shared: Arc<Shared>,
}

struct Shared {
    /// Unique per model, so a thread's copy is never mistaken for another model's.
    id: u64,
    current: RwLock<Arc<Snapshot>>,
    /// Bumped after every `replace`, while the new snapshot is already in place.
    generation: AtomicU64,
    /// The writer's state. Holding this lock is what makes one writer at a time: a change is
    /// read from the store and applied under it, so changes apply in the order they are read.
    writer: Mutex<Writer>,
}

/// A thread's copy of one model's snapshot, as of `generation`.
struct Local {
    model: u64,
    generation: u64,
    snapshot: Arc<Snapshot>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

static NEXT_MODEL_ID: AtomicU64 = AtomicU64::new(1);

impl Default for InProcessReadModel {
    fn default() -> Self {
        let id = NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed);
        let shared = Shared {
            id,
            current: RwLock::new(Arc::default()),
            generation: AtomicU64::new(0),
            writer: Mutex::new(Writer::default()),
        };
        InProcessReadModel { shared: Arc::new(shared) }
    }
}

impl InProcessReadModel {
    /// Once this returns, every request that starts sees `snapshot` (a revocation applies to
    /// the very next request).
    pub fn replace(&self, snapshot: Snapshot) {
        if let Ok(mut current) = self.shared.current.write() {
            *current = Arc::new(snapshot);
            self.shared.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// The writer's state, locked: one writer at a time (see [`Shared::writer`]).
    pub async fn writer(&self) -> MutexGuard<'_, Writer> {
        self.shared.writer.lock().await
    }

    /// The current snapshot, to derive the next one from (a cheap, structurally shared clone).
    pub fn current(&self) -> Snapshot {
        // `replace` cannot panic while it holds the lock, so a poisoned lock still holds a
        // whole snapshot.
        let current = self.shared.current.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Snapshot::clone(&current)
    }

    /// Runs `read` on the current snapshot, refreshing this thread's copy if it is stale.
    fn with_snapshot<R>(&self, read: impl FnOnce(&Snapshot) -> R) -> Result<R, PortError> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let fresh = local.as_ref().is_some_and(|l| l.model == self.shared.id && l.generation == generation);
            if !fresh {
                let current = self.shared.current.read().map_err(|_| PortError::new("read model", "lock poisoned"))?;
                *local = Some(Local { model: self.shared.id, generation, snapshot: Arc::clone(&current) });
            }
            local.as_ref().map(|l| read(&l.snapshot)).ok_or_else(|| PortError::new("read model", "no snapshot"))
        })
    }
}

impl ReadModel for InProcessReadModel {
    async fn routes(&self) -> Result<Arc<RouteTable>, PortError> {
        self.with_snapshot(|s| Arc::clone(&s.routes))
    }

    async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<Key>>, PortError> {
        self.with_snapshot(|s| s.key(hash))
    }

    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError> {
        self.with_snapshot(|s| s.identity(app_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_with(routes: &Arc<RouteTable>) -> Snapshot {
        Snapshot::with_routes(Arc::clone(routes))
    }

    async fn routes_of(model: &InProcessReadModel) -> Arc<RouteTable> {
        model.routes().await.expect("an in-process read model never fails")
    }

    #[tokio::test]
    async fn the_next_lookup_after_a_replace_sees_it_and_models_never_mix() {
        let (a, b) = (InProcessReadModel::default(), InProcessReadModel::default());
        let (first, other, second) =
            (Arc::new(RouteTable::new(vec![])), Arc::new(RouteTable::new(vec![])), Arc::new(RouteTable::new(vec![])));
        a.replace(snapshot_with(&first));
        b.replace(snapshot_with(&other));
        for _ in 0..2 {
            assert!(Arc::ptr_eq(&routes_of(&a).await, &first), "this thread's copy is a's");
            assert!(Arc::ptr_eq(&routes_of(&b).await, &other), "and b's is b's");
        }
        a.replace(snapshot_with(&second));
        assert!(Arc::ptr_eq(&routes_of(&a).await, &second), "no stale copy after a replace");
        assert!(Arc::ptr_eq(&routes_of(&a.clone()).await, &second), "clones share the model");
    }
}
