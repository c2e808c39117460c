//! Test support: an API fixture, a `HashMap` store implementing the port, and a tiny executor
//! (the core has no async runtime, and its futures never actually wait).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::{CachedResponse, PurgeSelector};
use crate::lifecycle::Lifecycle;
use crate::model::{Api, CacheSettings, UpstreamSettings};
use crate::ports::{PortError, ResponseCache};

pub fn api(public: bool) -> Api {
    Api {
        id: "api_pets".into(),
        name: "Pets".into(),
        version: "1".into(),
        base_path: "/pets".into(),
        hosts: vec![],
        upstream: UpstreamSettings {
            url: "http://127.0.0.1:1".into(),
            timeout_ms: 1000,
            forward_credential: false,
            ..Default::default()
        },
        auth: Default::default(),
        cache: CacheSettings { enabled: true, public, default_ttl_secs: None },
        lifecycle: Lifecycle::Published { published_at: 0 },
        operations: vec![],
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: 0,
        updated_at: 0,
    }
}

/// Polls `future` to completion; panics if it ever waits, which a port backed by a `HashMap`
/// never does.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("test future waited on something"),
    }
}

/// The port over a `HashMap`; `broken` makes every call fail like an unreachable store.
#[derive(Default)]
pub struct MapCache {
    pub entries: RefCell<HashMap<String, CachedResponse>>,
    pub broken: bool,
}

impl ResponseCache for MapCache {
    async fn get(&self, key: &str) -> Result<Option<Arc<CachedResponse>>, PortError> {
        if self.broken {
            return Err(PortError::new("cache", "unreachable"));
        }
        Ok(self.entries.borrow().get(key).cloned().map(Arc::new))
    }

    async fn put(&self, key: &str, entry: CachedResponse) -> Result<(), PortError> {
        if self.broken {
            return Err(PortError::new("cache", "unreachable"));
        }
        self.entries.borrow_mut().insert(key.to_string(), entry);
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), PortError> {
        if self.broken {
            return Err(PortError::new("cache", "unreachable"));
        }
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    async fn purge(&self, selector: &PurgeSelector) -> Result<u64, PortError> {
        let mut entries = self.entries.borrow_mut();
        let before = entries.len();
        entries.retain(|_, e| !selector.matches(e));
        Ok((before - entries.len()) as u64)
    }
}
