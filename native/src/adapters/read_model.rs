//! `InProcessReadModel`: the native gateway's read model, rebuilt from the store after every
//! control-plane change and swapped in whole, so a request always sees one consistent
//! snapshot and revocations apply to the very next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

#[derive(Default, Clone)]
pub struct InProcessReadModel {
    current: Arc<RwLock<Arc<Snapshot>>>,
}

impl InProcessReadModel {
    pub fn replace(&self, snapshot: Snapshot) {
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(snapshot);
        }
    }

    fn snapshot(&self) -> Result<Arc<Snapshot>, PortError> {
        self.current.read().map(|s| Arc::clone(&s)).map_err(|_| PortError::new("read model", "lock poisoned"))
    }
}

impl ReadModel for InProcessReadModel {
    async fn routes(&self) -> Result<Arc<RouteTable>, PortError> {
        Ok(Arc::clone(&self.snapshot()?.routes))
    }

    async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<Key>>, PortError> {
        Ok(self.snapshot()?.keys_by_hash.get(hash.as_hex()).cloned())
    }

    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError> {
        Ok(self.snapshot()?.identities.get(app_id).cloned())
    }
}
