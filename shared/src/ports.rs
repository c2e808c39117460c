//! The data plane's ports: everything the pipeline needs from the outside world.
//!
//! Traits use plain `async fn` with no `Send` bound, because a Worker's futures are not
//! `Send`. They are consumed through generics and made concrete at each entry point, where
//! the compiler infers `Send` for native adapters on a multi-threaded runtime.

use std::sync::Arc;

use bytes::Bytes;

use crate::cache::{CachedResponse, PurgeSelector};
use crate::entitlements::Identity;
use crate::keys::KeyHash;
use crate::limits::{LimitCheck, LimitDecision};
use crate::routing::RouteTable;
use crate::time::UnixMillis;
use crate::usage::UsageEvent;

/// Infrastructure failed (store unreachable, timeout, corrupt record). Refusals are not
/// errors: they are [`crate::verdict::Outcome`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{port} unavailable: {detail}")]
pub struct PortError {
    pub port: &'static str,
    pub detail: String,
}

impl PortError {
    pub fn new(port: &'static str, detail: impl Into<String>) -> Self {
        PortError { port, detail: detail.into() }
    }
}

/// The published read model: routes, keys by hash, identities by app.
#[allow(async_fn_in_trait)]
pub trait ReadModel {
    async fn routes(&self) -> Result<Arc<RouteTable>, PortError>;
    /// The key record with this hash, if any. Revoked keys may be returned (with their status)
    /// or absent; both refuse the call.
    async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<crate::model::Key>>, PortError>;
    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError>;
}

/// Counter state for burst limits and quotas. `acquire` is all-or-nothing: when any check
/// refuses, no counter is consumed.
#[allow(async_fn_in_trait)]
pub trait Limiter {
    async fn acquire(&self, checks: &[LimitCheck], now: UnixMillis) -> Result<LimitDecision, PortError>;
}

/// Storage for cached responses. Policy (what to store, what to serve) stays in the core.
#[allow(async_fn_in_trait)]
pub trait ResponseCache {
    /// Shared, not copied: a hit reads the entry and clones only its header map.
    async fn get(&self, key: &str) -> Result<Option<Arc<CachedResponse>>, PortError>;
    async fn put(&self, key: &str, entry: CachedResponse) -> Result<(), PortError>;
    /// Removes the entry under `key`, if there is one: invalidation after a successful unsafe
    /// request (RFC 9111 §4.4). Removing a missing key is not an error.
    async fn remove(&self, key: &str) -> Result<(), PortError>;
    /// Removes matching entries and returns how many were removed (when the store knows).
    async fn purge(&self, selector: &PurgeSelector) -> Result<u64, PortError>;
}

/// A failed upstream call, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    Timeout,
    Connect(String),
    Protocol(String),
}

/// Calls the API's upstream. Bodies are buffered (`Bytes`): request bodies are bounded by the
/// gateway, and API responses are small enough that buffering keeps the cache simple.
#[allow(async_fn_in_trait)]
pub trait Upstream {
    async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout_ms: u64,
    ) -> Result<http::Response<Bytes>, UpstreamError>;
}

/// Receives one event per request; adapters aggregate before storing.
pub trait UsageSink {
    fn record(&self, event: UsageEvent<'_>);
}

/// Wall-clock and monotonic time, from the runtime.
pub trait Clock {
    fn now(&self) -> UnixMillis;
    /// Monotonic microseconds, only meaningful as a difference.
    fn monotonic_micros(&self) -> u64;
}
