//! The native gateway: the core pipeline behind a hyper HTTP/1.1 server, with the native
//! adapters made concrete here (so the compiler can prove every future `Send`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use gatehouse_core::pipeline::{too_large, Adapters, Gateway};
use gatehouse_core::problem::{Problem, ProblemKind};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::adapters::clock::SystemClock;
use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::memory_limiter::MemoryLimiter;
use crate::adapters::read_model::InProcessReadModel;
use crate::adapters::upstream::PooledUpstream;
use crate::adapters::usage::UsageRecorder;

/// The native runtime's adapters.
pub struct NativeAdapters {
    pub read_model: InProcessReadModel,
    pub limiter: MemoryLimiter,
    pub cache: Arc<MemoryResponseCache>,
    pub upstream: PooledUpstream,
    pub usage: Arc<UsageRecorder>,
    pub clock: SystemClock,
}

impl Adapters for NativeAdapters {
    type Read = InProcessReadModel;
    type Limit = MemoryLimiter;
    type Cache = MemoryResponseCache;
    type Up = PooledUpstream;
    type Usage = UsageRecorder;
    type Clock = SystemClock;
    fn read_model(&self) -> &InProcessReadModel {
        &self.read_model
    }
    fn limiter(&self) -> &MemoryLimiter {
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
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name(format!("gateway-{i}")).spawn(move || {
            runtime.block_on(async move {
                match socket.listen(1024) {
                    Ok(listener) => {
                        let _ = ready_tx.send(Ok(()));
                        serve(listener, gateway, shutdown).await;
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

/// Serves `gateway` on `listener` until `shutdown` turns true, then lets in-flight requests
/// finish.
pub async fn serve(listener: TcpListener, gateway: Arc<NativeGateway>, mut shutdown: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let gateway = Arc::clone(&gateway);
        let service = service_fn(move |req| handle(Arc::clone(&gateway), peer, req));
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(30))
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    graceful.shutdown().await;
}

async fn handle(
    gateway: Arc<NativeGateway>,
    _peer: SocketAddr,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let limit = gateway.config.max_body_bytes;
    let announced =
        request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        // Refused from the announced length, so the client need not upload the body.
        return Ok(too_large(limit).map(Full::new));
    }
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        // No body (most GETs): nothing to collect.
        return Ok(gateway.handle(http::Request::from_parts(parts, Bytes::new())).await.map(Full::new));
    }
    let response = match Limited::new(body, limit).collect().await {
        Ok(body) => gateway.handle(http::Request::from_parts(parts, body.to_bytes())).await.map(Full::new),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => too_large(limit).map(Full::new),
        Err(_) => Problem::new(ProblemKind::BadRequest)
            .detail("The request body could not be read.")
            .into_response()
            .map(Full::new),
    };
    Ok(response)
}
