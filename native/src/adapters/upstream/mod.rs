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
mod streamed;
pub mod tls;

/// The response decoder, for the fuzz targets (`crate::fuzzing`).
pub use codec::{Decoded, ResponseDecoder};

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_core::body::Body;
use gatehouse_core::ports::{Collected, Upstream, UpstreamCall, UpstreamError};
use http::{Method, Request, Response};

use crate::body::{GatewayBody, NativeStream, Tunnel};
use connection::{Answer, Conn, Failure, Target};
use pool::IdlePool;
pub use stream::UpstreamStream;
pub use tls::UpstreamTls;

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
    type Stream = NativeStream;

    async fn send(
        &self,
        mut request: Request<GatewayBody>,
        call: &UpstreamCall,
    ) -> Result<Response<GatewayBody>, UpstreamError> {
        let now = tokio::time::Instant::now();
        let mut deadline = now + Duration::from_millis(call.first_byte_ms);
        let until = call.max_duration_ms.map(|ms| (now + Duration::from_millis(ms), Duration::from_millis(ms)));
        if let Some((end, _)) = until {
            deadline = deadline.min(end);
        }
        exchange(&mut request, &self.tls, call, until, now.into_std(), deadline).await
    }

    async fn collect(&self, stream: NativeStream, limit: usize) -> Collected<NativeStream> {
        crate::body::collect(stream, limit).await
    }
}

/// One request on a pooled connection, with the single retry a stale connection allows, all
/// within `deadline`. `now` is when the call started: the pool's clock for the checkout and
/// the checkin too, as reading the clock costs about as much as the pool itself (a connection
/// then looks idle since the request was sent rather than answered, which only retires it
/// that much sooner).
///
/// A streamed request body always gets a fresh connection: it cannot be sent twice, and a
/// pooled connection the upstream closed meanwhile would otherwise fail it with no retry.
async fn exchange(
    request: &mut Request<GatewayBody>,
    tls: &UpstreamTls,
    call: &UpstreamCall,
    until: Option<(tokio::time::Instant, Duration)>,
    now: Instant,
    deadline: tokio::time::Instant,
) -> Result<Response<GatewayBody>, UpstreamError> {
    let uri = request.uri().clone();
    let target = Target::from_uri(&uri)?;
    let connect = || async {
        tokio::time::timeout_at(deadline, Conn::connect(&target, tls)).await.unwrap_or(Err(UpstreamError::Timeout))
    };
    let pools = if target.tls { &IDLE_TLS } else { &IDLE };
    let pooled =
        if request.body().is_stream() || call.upgrade { None } else { checkout(pools, target.authority(), now) };
    let (mut conn, reused) = match pooled {
        Some(conn) => (conn, true),
        None => (connect().await?, false),
    };
    let outcome = match conn.exchange(request, call, deadline).await {
        Err(Failure::Unanswered { written, error }) if reused && (!written || is_idempotent(request.method())) => {
            // Host and port, not the authority: it could carry userinfo, a credential.
            let (host, port) = (target.host(), target.port());
            tracing::debug!(host, port, %error, "stale pooled upstream connection; retrying once");
            conn = connect().await?;
            conn.exchange(request, call, deadline).await
        }
        outcome => outcome,
    };
    match outcome.map_err(Failure::into_error)? {
        Answer::Whole(decoded) => {
            if decoded.reusable {
                checkin(pools, target.authority(), conn, now);
            }
            Ok(decoded.response.map(Body::Full))
        }
        Answer::Streaming(streaming) => {
            let (response, body) = streamed::body(conn, streaming, target.authority(), target.tls, call, until);
            Ok(response.map(|()| Body::Stream(NativeStream::body(body))))
        }
        Answer::Switched(response) => {
            let (upstream, leftover) = (*conn).into_tunnel();
            let tunnel = Tunnel {
                upstream,
                leftover,
                idle: Duration::from_millis(call.idle_ms),
                max_duration: until.map(|(_, max)| max),
                on_close: None,
            };
            Ok(response.map(|()| Body::Stream(NativeStream::tunnel(tunnel))))
        }
    }
}

pub(crate) type Pools = std::thread::LocalKey<RefCell<IdlePool<Box<Conn>>>>;

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

pub(crate) fn checkin(pools: &'static Pools, authority: &str, conn: Box<Conn>, now: Instant) {
    let _ = pools.try_with(|idle| {
        if let Ok(mut idle) = idle.try_borrow_mut() {
            idle.checkin(authority, conn.idle(), now);
        }
    });
}
