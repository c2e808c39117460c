//! The native gateway: the core pipeline behind the lean HTTP/1.1 server of [`crate::server`], with the native
//! adapters made concrete here (so the compiler can prove every future `Send`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::cache::CacheOutcome;
use gatehouse_core::pipeline::forwarded::{ClientIp, Peer};
use gatehouse_core::pipeline::{Adapters, Gateway};
use gatehouse_core::validation::ResponseMismatch;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::adapters::clock::SystemClock;
use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::read_model::InProcessReadModel;
use crate::adapters::sqlite_limiter::SqliteLimiter;
use crate::adapters::tokens::JwtVerifier;
use crate::adapters::upstream::PooledUpstream;
use crate::adapters::usage::UsageRecorder;
use crate::body::{Counter, Counting, GatewayBody, NativeStream};
use crate::metering::{self, CallLog};
use crate::server::{self, Handler, Limits, Listening};
use crate::{access_log, request_id};
use gatehouse_core::body::Body;
use gatehouse_core::ports::UpstreamFailure;
use gatehouse_core::usage::StreamedUsage;

/// How long a client has to send a request head (and to keep a body coming); also how long
/// an idle keep-alive connection stays open. hyper's `header_read_timeout` default.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The native runtime's adapters.
pub struct NativeAdapters {
    pub read_model: InProcessReadModel,
    /// Shared with the task that flushes its quota counts.
    pub limiter: Arc<SqliteLimiter>,
    pub cache: Arc<MemoryResponseCache>,
    pub upstream: PooledUpstream,
    pub usage: Arc<UsageRecorder>,
    pub clock: SystemClock,
    pub tokens: Arc<JwtVerifier>,
    /// One access-log line per request (see [`crate::access_log`]).
    pub access_log: bool,
    /// The gateway's listener terminates TLS.
    pub https: bool,
}

impl Adapters for NativeAdapters {
    type Read = InProcessReadModel;
    type Limit = SqliteLimiter;
    type Cache = MemoryResponseCache;
    type Up = PooledUpstream;
    type Usage = UsageRecorder;
    type Clock = SystemClock;
    type Tokens = JwtVerifier;
    fn tokens(&self) -> &JwtVerifier {
        &self.tokens
    }
    fn read_model(&self) -> &InProcessReadModel {
        &self.read_model
    }
    fn limiter(&self) -> &SqliteLimiter {
        &self.limiter
    }
    fn cache(&self) -> &MemoryResponseCache {
        &self.cache
    }
    fn upstream(&self) -> &PooledUpstream {
        &self.upstream
    }
    fn usage(&self) -> &UsageRecorder {
        &self.usage
    }
    fn clock(&self) -> &SystemClock {
        &self.clock
    }
}

pub type NativeGateway = Gateway<NativeAdapters>;

/// The gateway's worker threads, for joining at shutdown.
pub struct Workers {
    pub addr: SocketAddr,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    /// Waits until every worker has finished its in-flight requests.
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Starts `threads` gateway workers on `addr`, thread-per-core like nginx: each worker is an
/// OS thread with its own single-threaded runtime, its own `SO_REUSEPORT` listener (the kernel
/// spreads connections across them) and its own upstream connection pool. A request then
/// never crosses threads, which saves the cross-thread wake-ups of a work-stealing runtime.
pub fn spawn_workers(
    addr: SocketAddr,
    threads: usize,
    gateway: Arc<NativeGateway>,
    listening: Listening,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<Workers> {
    let first = reuseport_socket(addr)?;
    let addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..threads.max(1) {
        sockets.push(reuseport_socket(addr)?);
    }
    let mut handles = Vec::with_capacity(sockets.len());
    // Each worker reports once it listens (or failed to), so the gateway never looks started
    // while connections would still be refused.
    let (ready_tx, ready) = std::sync::mpsc::channel::<std::io::Result<()>>();
    for (i, socket) in sockets.into_iter().enumerate() {
        let (gateway, shutdown, ready_tx) = (Arc::clone(&gateway), shutdown.clone(), ready_tx.clone());
        let listening = listening.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name(format!("gateway-{i}")).spawn(move || {
            runtime.block_on(async move {
                match socket.listen(1024) {
                    Ok(listener) => {
                        let _ = ready_tx.send(Ok(()));
                        server::serve_with(listener, gateway, listening, shutdown).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
        })?;
        handles.push(thread);
    }
    for _ in 0..handles.len() {
        ready.recv().map_err(std::io::Error::other)??;
    }
    Ok(Workers { addr, threads: handles })
}

fn reuseport_socket(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

impl Handler for NativeGateway {
    type Body = GatewayBody;

    async fn respond(
        &self,
        request: &mut http::Request<GatewayBody>,
        peer: std::net::SocketAddr,
    ) -> http::Response<GatewayBody> {
        let started = std::time::Instant::now();
        // Whether the client came over TLS (X-Forwarded-Proto, Forwarded): the gateway's
        // listener is one or the other.
        request.extensions_mut().insert(Peer { ip: peer.ip(), https: self.adapters.https });
        let request_id = request_id::accept_or_make(request.headers_mut());
        let counted_in = count_streamed_body(request);
        let mut response = Gateway::handle(self, request).await;
        // Taken at once: see `access_log` for why nothing else can have run in between.
        let facts = if self.adapters.access_log { access_log::take() } else { None };
        if let Some(CacheOutcome { error: Some(error), .. }) = response.extensions().get() {
            tracing::warn!(%error, "response cache failed; the call went on without it");
        }
        let metrics = self.adapters.usage.metrics();
        if let Some(cache_status) = response.headers().get("cache-status") {
            metrics.record_cache(cache_status.as_bytes());
        }
        if let Some(failure) = response.extensions().get::<UpstreamFailure>() {
            let UpstreamFailure { api_id, api_name, error } = failure;
            metrics.record_upstream_error(api_id, error);
            tracing::warn!(request_id = request_id.to_str().unwrap_or_default(), api = %api_name, api_id = %api_id, cause = %error, "upstream call failed");
        }
        if let Some(mismatch) = response.extensions_mut().remove::<ResponseMismatch>() {
            // The operation and the pointers only: a value from the body never reaches a log.
            let ResponseMismatch { api_id, operation_id, status, pointers } = mismatch;
            tracing::warn!(request_id = request_id.to_str().unwrap_or_default(), api_id = %api_id, operation = %operation_id, status, pointers = %pointers.join(","), "response does not match the API's description");
        }
        let client = response.extensions().get::<ClientIp>().map(|ClientIp(ip)| *ip);
        if let Some(usage) = response.extensions_mut().remove::<StreamedUsage>() {
            let log = CallLog {
                request_id: request_id.clone(),
                client,
                method: request.method().as_str().to_owned(),
                path: request.uri().path().to_owned(),
                cache: response.headers().get("cache-status").cloned(),
                enabled: self.adapters.access_log,
            };
            metering::meter(&mut response, usage, &self.adapters.usage, counted_in, started, log);
        } else if self.adapters.access_log {
            let cache = response.headers().get("cache-status");
            let status = response.status().as_u16();
            let (method, path) = (request.method().as_str(), request.uri().path());
            access_log::write(&request_id, client, method, path, status, cache, facts);
        }
        response.headers_mut().insert(request_id::X_REQUEST_ID, request_id);
        response
    }
}

/// Counts a streamed request body's bytes as the upstream takes them, for its usage.
fn count_streamed_body(request: &mut http::Request<GatewayBody>) -> Counter {
    let counter = Counter::default();
    if !request.body().is_stream() {
        return counter;
    }
    if let Body::Stream(NativeStream::Body(stream)) = request.body_mut().take() {
        let counting = Counting { inner: stream.into_inner(), counter: counter.clone() };
        *request.body_mut() = Body::Stream(NativeStream::body(counting));
    }
    counter
}

/// Serves `gateway` on `listener` until `shutdown` turns true, then lets in-flight requests
/// finish.
pub async fn serve(listener: TcpListener, gateway: Arc<NativeGateway>, shutdown: watch::Receiver<bool>) {
    // No bound at the server: the pipeline applies each API's own body limit (a large body
    // streams there, a small one is read whole first).
    let limits = Limits::new(usize::MAX, READ_TIMEOUT);
    server::serve(listener, gateway, limits, shutdown).await;
}
