//! `PooledUpstream`: the upstream port over a lean HTTP/1.1 client with per-thread keep-alive
//! pools.
//!
//! Why not hyper-util's pooled client: it costs about 4–5 µs of CPU per proxied request in
//! pool checkout, boxed futures, a spawned task per connection and channel hand-offs between
//! the request's task and that connection task, which is more than nginx spends on the whole
//! request (about 3 µs). Here the whole exchange runs inside the calling task: take an idle
//! `TcpStream` from this thread's pool (or connect), write the request in one system call,
//! read and decode the response into the connection's own buffer, and put the stream back.
//! No task is spawned and nothing crosses a channel.
//!
//! - `pool`: idle connections per authority (host:port), per gateway thread, so a connection
//!   is only used by the thread and runtime that opened it; capped at
//!   [`MAX_IDLE_PER_AUTHORITY`], expired after [`IDLE_TIMEOUT`].
//! - `codec`: request serialisation and response decoding (head, `Content-Length`, chunked,
//!   read-until-close), without I/O.
//! - `connection`: connect (`TCP_NODELAY`, 5 s timeout) and one exchange.
//!
//! A reused connection can turn out to have been closed by the upstream just as we sent on it.
//! When that happens before any response byte arrives, the request is retried once on a fresh
//! connection, but only if it is idempotent or none of it was written (RFC 9110 §9.2.2), so a
//! POST is never sent twice. Only a connection whose response was read to its end goes back
//! to the pool. The caller's timeout covers the whole exchange, connect and retry included.

mod codec;
mod connection;
mod pool;
mod stream;
pub mod tls;

/// The response decoder, for the fuzz targets (`crate::fuzzing`).
pub use codec::{Decoded, ResponseDecoder};

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gatehouse_core::ports::{Upstream, UpstreamError};
use http::{Method, Request, Response};

use connection::{Conn, Failure, Target};
use pool::IdlePool;
pub use tls::UpstreamTls;

/// Upstream responses above this are refused rather than buffered without bound.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Idle connections kept per upstream authority and gateway thread.
pub const MAX_IDLE_PER_AUTHORITY: usize = 256;
/// An idle connection older than this is closed rather than reused: upstreams commonly time
/// keep-alive out after 60 s or more, and a stale connection costs a failed attempt.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The upstream port: how to verify HTTPS upstreams; the connection pools themselves live
/// per thread.
#[derive(Clone, Debug, Default)]
pub struct PooledUpstream {
    pub tls: Arc<UpstreamTls>,
}

impl PooledUpstream {
    pub fn new(tls: UpstreamTls) -> PooledUpstream {
        PooledUpstream { tls: Arc::new(tls) }
    }
}

thread_local! {
    /// Plain and TLS connections apart: `http://h:1` and `https://h:1` share an authority.
    static IDLE: RefCell<IdlePool<Box<Conn>>> = RefCell::new(IdlePool::new(MAX_IDLE_PER_AUTHORITY, IDLE_TIMEOUT));
    static IDLE_TLS: RefCell<IdlePool<Box<Conn>>> = RefCell::new(IdlePool::new(MAX_IDLE_PER_AUTHORITY, IDLE_TIMEOUT));
}

impl Upstream for PooledUpstream {
    async fn send(&self, request: Request<Bytes>, timeout_ms: u64) -> Result<Response<Bytes>, UpstreamError> {
        let now = tokio::time::Instant::now();
        exchange(&request, &self.tls, now.into_std(), now + Duration::from_millis(timeout_ms)).await
    }
}

/// One request on a pooled connection, with the single retry a stale connection allows, all
/// within `deadline`. `now` is when the call started: the pool's clock for the checkout and
/// the checkin too, as reading the clock costs about as much as the pool itself (a connection
/// then looks idle since the request was sent rather than answered, which only retires it
/// that much sooner).
async fn exchange(
    request: &Request<Bytes>,
    tls: &UpstreamTls,
    now: Instant,
    deadline: tokio::time::Instant,
) -> Result<Response<Bytes>, UpstreamError> {
    let target = Target::from_uri(request.uri())?;
    let connect = || async {
        tokio::time::timeout_at(deadline, Conn::connect(&target, tls)).await.unwrap_or(Err(UpstreamError::Timeout))
    };
    let pools = if target.tls { &IDLE_TLS } else { &IDLE };
    let (mut conn, reused) = match checkout(pools, target.authority(), now) {
        Some(conn) => (conn, true),
        None => (connect().await?, false),
    };
    let outcome = match conn.exchange(request, deadline).await {
        Err(Failure::Unanswered { written, error }) if reused && (!written || is_idempotent(request.method())) => {
            // Host and port, not the authority: it could carry userinfo, a credential.
            let (host, port) = (target.host(), target.port());
            tracing::debug!(host, port, %error, "stale pooled upstream connection; retrying once");
            conn = connect().await?;
            conn.exchange(request, deadline).await
        }
        outcome => outcome,
    };
    let decoded = outcome.map_err(Failure::into_error)?;
    if decoded.reusable {
        checkin(pools, target.authority(), conn, now);
    }
    Ok(decoded.response)
}

type Pools = std::thread::LocalKey<RefCell<IdlePool<Box<Conn>>>>;

/// Methods whose effect is the same however many times they are sent (RFC 9110 §9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE)
}

/// An idle connection to `authority` from this thread's pool. A pool that cannot be reached
/// (thread shutting down) is a miss, never a panic.
fn checkout(pools: &'static Pools, authority: &str, now: Instant) -> Option<Box<Conn>> {
    pools
        .try_with(|idle| idle.try_borrow_mut().ok()?.checkout(authority, now, |conn| conn.looks_usable()))
        .ok()
        .flatten()
}

fn checkin(pools: &'static Pools, authority: &str, conn: Box<Conn>, now: Instant) {
    let _ = pools.try_with(|idle| {
        if let Ok(mut idle) = idle.try_borrow_mut() {
            idle.checkin(authority, conn.idle(), now);
        }
    });
}
