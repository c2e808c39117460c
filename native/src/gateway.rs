//! The native gateway: the core pipeline behind a hyper HTTP/1.1 server, with the native
//! adapters made concrete here (so the compiler can prove every future `Send`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use gatehouse_core::pipeline::{too_large, Adapters, Gateway};
use gatehouse_core::problem::{Problem, ProblemKind};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::adapters::clock::SystemClock;
use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::memory_limiter::MemoryLimiter;
use crate::adapters::read_model::InProcessReadModel;
use crate::adapters::upstream::HyperUpstream;
use crate::adapters::usage::UsageRecorder;

/// The native runtime's adapters.
pub struct NativeAdapters {
    pub read_model: InProcessReadModel,
    pub limiter: MemoryLimiter,
    pub cache: Arc<MemoryResponseCache>,
    pub upstream: HyperUpstream,
    pub usage: Arc<UsageRecorder>,
    pub clock: SystemClock,
}

impl Adapters for NativeAdapters {
    type Read = InProcessReadModel;
    type Limit = MemoryLimiter;
    type Cache = MemoryResponseCache;
    type Up = HyperUpstream;
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
    fn upstream(&self) -> &HyperUpstream {
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
