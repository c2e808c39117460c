//! The data plane's ports: everything the pipeline needs from the outside world.
//!
//! Traits use plain `async fn` with no `Send` bound, because a Worker's futures are not
//! `Send`. They are consumed through generics and made concrete at each entry point, where
//! the compiler infers `Send` for native adapters on a multi-threaded runtime.

use std::sync::Arc;

use crate::body::Body;
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

/// A failed upstream call, as the gateway reports it. Each kind gets its own `502` detail,
/// so whoever runs the gateway can tell a DNS problem from a certificate one from the answer.
/// The strings say what failed (host, port, the system's or TLS library's reason) and never
/// carry a URL's userinfo or query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    Timeout,
    /// The host name did not resolve.
    Resolve(String),
    /// No connection could be opened (refused, unreachable).
    Connect(String),
    /// The TLS handshake failed, typically the upstream's certificate did not verify.
    Tls(String),
    Protocol(String),
    /// The request body went past the API's limit (this many bytes) while it streamed.
    RequestTooLarge(u64),
}

impl UpstreamError {
    /// The `502`/`504` detail for this failure: which kind it was, in words a caller can read
    /// (the cause itself goes to the gateway's log, not to the caller).
    pub fn public_detail(&self) -> &'static str {
        match self {
            UpstreamError::Timeout => "The upstream did not answer in time.",
            UpstreamError::Resolve(_) => "The upstream's host name could not be resolved.",
            UpstreamError::Connect(_) => "The upstream could not be reached.",
            UpstreamError::Tls(_) => "The upstream's TLS certificate could not be verified.",
            UpstreamError::Protocol(_) => "The upstream's answer was not valid HTTP.",
            UpstreamError::RequestTooLarge(_) => "The request body is larger than this API accepts.",
        }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Timeout => f.write_str("timed out"),
            UpstreamError::Resolve(why) => write!(f, "name resolution failed: {why}"),
            UpstreamError::Connect(why) => write!(f, "connect failed: {why}"),
            UpstreamError::Tls(why) => write!(f, "TLS failed: {why}"),
            UpstreamError::Protocol(why) => write!(f, "invalid response: {why}"),
            UpstreamError::RequestTooLarge(limit) => write!(f, "request body past the limit of {limit} bytes"),
        }
    }
}

/// Put on a `502`/`504` the gateway made because its upstream call failed, for the runtime to
/// log (the core does no I/O): which API, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFailure {
    pub api_id: String,
    pub api_name: String,
    pub error: UpstreamError,
}

/// How one upstream call may take its time, and how much it may send, as the API's settings
/// decide (see [`crate::model::UpstreamSettings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamCall {
    /// Until the response head has arrived (connect and request included).
    pub first_byte_ms: u64,
    /// Between two reads of a streamed body, either way; the stream ends in an error past it.
    pub idle_ms: u64,
    /// The whole exchange, body and WebSocket included; `None` lets a healthy stream run as
    /// long as it keeps moving.
    pub max_duration_ms: Option<u64>,
    /// A streamed request body is cut off past this many bytes (the call then fails with
    /// [`UpstreamError::RequestTooLarge`]).
    pub max_request_bytes: u64,
    /// The request asks to switch to the WebSocket protocol (RFC 6455): a `101` answer hands
    /// the connection over as the response's stream instead of ending the exchange.
    pub upgrade: bool,
}

/// What became of reading a streamed body whole, for a policy that needs all of it.
pub enum Collected<S> {
    Whole(bytes::Bytes),
    /// Past the limit: the stream again, with what was read put back in front.
    TooLarge(S),
    Failed(UpstreamError),
}

/// Calls the API's upstream. Bodies go both ways as [`Body`]: whole when small, else as the
/// runtime's stream, read and written with backpressure by the runtime.
#[allow(async_fn_in_trait)]
pub trait Upstream {
    /// The runtime's streamed body, the same type for requests (from the client) and
    /// responses (from the upstream).
    type Stream;

    async fn send(
        &self,
        request: http::Request<Body<Self::Stream>>,
        call: &UpstreamCall,
    ) -> Result<http::Response<Body<Self::Stream>>, UpstreamError>;

    /// Reads `stream` whole if it is at most `limit` bytes.
    async fn collect(&self, stream: Self::Stream, limit: usize) -> Collected<Self::Stream>;
}

/// Why a bearer token's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The token is refused: [`crate::jwt::Refusal::BadSignature`] or
    /// [`crate::jwt::Refusal::UnknownKey`].
    Refused(crate::jwt::Refusal),
    /// The keys could not be had (the provider unreachable past the last good set's hard
    /// expiry): the call fails closed with 503.
    KeysUnavailable(PortError),
}

/// Checks JWT signatures with an API's keys, which the runtime fetches and caches (see
/// [`crate::jwt::key_cache`]) and may remember verified tokens by
/// ([`crate::jwt::VerifiedTokens`]). Claims are not its business: the pipeline checks them.
#[allow(async_fn_in_trait)]
pub trait TokenVerifier {
    /// Checks the signature of `token` (whose text is `raw`) with the keys `settings` name.
    /// Answers the issuer its claims must name: the configured one, or the one the discovery
    /// document gives.
    async fn verify(
        &self,
        settings: &crate::jwt::JwtSettings,
        raw: &str,
        token: &crate::jwt::Parsed<'_>,
    ) -> Result<Arc<str>, SignatureError>;
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
