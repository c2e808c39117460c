//! `KvReadModel`: the read model from Workers KV (`routes`, `key:<hash>`, `identity:<app>`,
//! see [`crate::layout`]), behind an isolate-level TTL cache (the `cached` crate's
//! `LruTtlCache`, bounded in size and age), with the revocation deny list checked on every key
//! lookup — cached or not — because KV can lag a revocation by a minute or more.

use std::cell::RefCell;
use std::sync::Arc;

use cached::time::Duration;
use cached::{Cached, LruTtlCache};
use gatehouse_core::entitlements::Identity;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::{Api, Key, KeyStatus};
use gatehouse_core::ports::{PortError, ReadModel};
use gatehouse_core::routing::RouteTable;
use serde::de::DeserializeOwned;
use worker::Env;

use super::{revocations, setting};
use crate::layout::{self, names, KV_BINDING};

/// Records an isolate keeps (keys and identities; misses too, as KV itself does).
const MAX_ENTRIES: usize = 10_000;
const DEFAULT_TTL_SECS: u64 = 30;

struct IsolateCache {
    routes: LruTtlCache<(), Arc<RouteTable>>,
    keys: LruTtlCache<String, Option<Arc<Key>>>,
    identities: LruTtlCache<String, Option<Arc<Identity>>>,
}

thread_local! {
    // Workers run one isolate per thread; this is the isolate's memory, shared by its requests.
    static CACHE: RefCell<Option<IsolateCache>> = const { RefCell::new(None) };
}

fn with_cache<R>(ttl_secs: u64, f: impl FnOnce(&mut IsolateCache) -> R) -> R {
    CACHE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cache = slot.get_or_insert_with(|| {
            let ttl = Duration::from_secs(ttl_secs);
            IsolateCache {
                routes: LruTtlCache::new(1, ttl),
                keys: LruTtlCache::new(MAX_ENTRIES, ttl),
                identities: LruTtlCache::new(MAX_ENTRIES, ttl),
            }
        });
        f(cache)
    })
}

pub struct KvReadModel {
    env: Env,
    ttl_secs: u64,
}

impl KvReadModel {
    pub fn new(env: Env) -> Self {
        let ttl_secs = setting(&env, names::READ_CACHE_SECS).and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TTL_SECS);
        KvReadModel { env, ttl_secs }
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, PortError> {
        let kv = self.env.kv(KV_BINDING).map_err(|e| PortError::new("kv", e.to_string()))?;
        let text = kv.get(key).text().await.map_err(|e| PortError::new("kv", e.to_string()))?;
        match text {
            None => Ok(None),
            Some(text) => {
                serde_json::from_str(&text).map(Some).map_err(|e| PortError::new("kv", format!("{key}: {e}")))
            }
        }
    }
}

impl ReadModel for KvReadModel {
    async fn routes(&self) -> Result<Arc<RouteTable>, PortError> {
        if let Some(routes) = with_cache(self.ttl_secs, |c| c.routes.cache_get(&()).cloned()) {
            return Ok(routes);
        }
        let mut apis: Vec<Api> = self.get(layout::ROUTES_KEY).await?.unwrap_or_default();
        // A mock API's answers are compiled from its document once per isolate and refresh,
        // never per request (docs/mock.md); every other API is left as it is.
        apis.iter_mut().for_each(gatehouse_core::mock::prepare);
        // Validation: the document is read per API here, but each operation's schemas are
        // compiled on its first checked call, so a cold start compiles none (docs/validation.md).
        for api in &mut apis {
            if let Err(why) = gatehouse_core::validation::prepare(api) {
                worker::console_warn!(
                    "api {}: its document cannot be read as schemas; calls are not checked: {why}",
                    api.id
                );
            }
        }
        let routes = Arc::new(RouteTable::new(apis));
        with_cache(self.ttl_secs, |c| c.routes.cache_set((), Arc::clone(&routes)));
        Ok(routes)
    }

    async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<Key>>, PortError> {
        // Before any cached copy is trusted: the strongly consistent deny list.
        let denied = revocations::denies(&self.env, hash).await?;
        let hex = hash.as_hex().to_string();
        let cached = with_cache(self.ttl_secs, |c| c.keys.cache_get(&hex).cloned());
        let key = match cached {
            Some(key) => key,
            None => {
                let key: Option<Arc<Key>> = self.get::<Key>(&layout::key_record(hash)).await?.map(Arc::new);
                with_cache(self.ttl_secs, |c| c.keys.cache_set(hex, key.clone()));
                key
            }
        };
        Ok(key.map(|key| {
            if denied {
                let mut revoked = Key::clone(&key);
                revoked.status = KeyStatus::Revoked;
                return Arc::new(revoked);
            }
            key
        }))
    }

    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError> {
        if let Some(identity) = with_cache(self.ttl_secs, |c| c.identities.cache_get(app_id).cloned()) {
            return Ok(identity);
        }
        let identity: Option<Identity> = self.get(&layout::identity_record(app_id)).await?;
        let identity = identity.map(Arc::new);
        with_cache(self.ttl_secs, |c| c.identities.cache_set(app_id.to_string(), identity.clone()));
        Ok(identity)
    }
}
