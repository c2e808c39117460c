//! The native gateway: the core pipeline behind the lean HTTP/1.1 server of [`crate::server`], with the native
//! adapters made concrete here (so the compiler can prove every future `Send`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_core::cache::CacheOutcome;
use gatehouse_core::pipeline::forwarded::Peer;
use gatehouse_core::pipeline::{Adapters, Gateway};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::adapters::clock::SystemClock;
use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::read_model::InProcessReadModel;
use crate::adapters::sqlite_limiter::SqliteLimiter;
use crate::adapters::upstream::PooledUpstream;
use crate::adapters::usage::UsageRecorder;
use crate::server::{self, Handler, Limits};

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
}

impl Adapters for NativeAdapters {
    type Read = InProcessReadModel;
    type Limit = SqliteLimiter;
    type Cache = MemoryResponseCache;
    type Up = PooledUpstream;
    type Usage = UsageRecorder;
    type Clock = SystemClock;
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

impl Handler for NativeGateway {
    async fn respond(&self, request: &mut http::Request<Bytes>, peer: std::net::SocketAddr) -> http::Response<Bytes> {
        // Plain TCP here; a TLS listener says `https: true` (X-Forwarded-Proto, Forwarded).
        request.extensions_mut().insert(Peer { ip: peer.ip(), https: false });
        let response = Gateway::handle(self, request).await;
        if let Some(CacheOutcome { error: Some(error), .. }) = response.extensions().get() {
            tracing::warn!(%error, "response cache failed; the call went on without it");
        }
        response
    }
}

/// Serves `gateway` on `listener` until `shutdown` turns true, then lets in-flight requests
/// finish.
pub async fn serve(listener: TcpListener, gateway: Arc<NativeGateway>, shutdown: watch::Receiver<bool>) {
    let limits = Limits { max_body_bytes: gateway.config.max_body_bytes, read_timeout: READ_TIMEOUT };
    server::serve(listener, gateway, limits, shutdown).await;
}
