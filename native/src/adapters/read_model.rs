//! `InProcessReadModel`: the native gateway's read model, rebuilt from the store after every
//! control-plane change and swapped in whole, so a request always sees one consistent
//! snapshot and revocations apply to the very next request.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use foldhash::HashMap;
use gatehouse_core::entitlements::{compile_identity, Identity};
use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::{Developer, Key};
use gatehouse_core::ports::{PortError, ReadModel};
use gatehouse_core::routing::RouteTable;
use gatehouse_core::store::CatalogSnapshot;

/// Everything the data plane reads, compiled for lookups.
#[derive(Default)]
pub struct Snapshot {
    routes: Arc<RouteTable>,
    /// Keyed by SHA-256 digests and our own ids, so a fast hasher is safe from crafted
    /// collisions.
    keys_by_hash: HashMap<String, Arc<Key>>,
    identities: HashMap<String, Arc<Identity>>,
}

impl Snapshot {
    pub fn compile(catalog: CatalogSnapshot) -> Snapshot {
        let developers: HashMap<&str, &Developer> = catalog.developers.iter().map(|d| (d.id.as_str(), d)).collect();
        let identities = catalog
            .apps
            .iter()
            .filter_map(|app| {
                let developer = developers.get(app.developer_id.as_str())?;
                let identity =
                    compile_identity(app, developer, &catalog.subscriptions, &catalog.products, &catalog.plans);
                Some((app.id.clone(), Arc::new(identity)))
            })
            .collect();
        let keys_by_hash = catalog.keys.into_iter().map(|k| (k.hash.as_hex().to_string(), Arc::new(k))).collect();
        Snapshot { routes: Arc::new(RouteTable::new(catalog.apis)), keys_by_hash, identities }
    }
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
        let shared = Shared { id, current: RwLock::new(Arc::default()), generation: AtomicU64::new(0) };
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
        self.with_snapshot(|s| s.keys_by_hash.get(hash.as_hex()).cloned())
    }

    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError> {
        self.with_snapshot(|s| s.identities.get(app_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_with(routes: &Arc<RouteTable>) -> Snapshot {
        Snapshot { routes: Arc::clone(routes), ..Snapshot::default() }
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
