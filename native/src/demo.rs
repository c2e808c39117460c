//! The demo upstream that `gatehouse dev` starts, so the first run shows a working call
//! without any other server. It is a real HTTP server on 127.0.0.1 with a few endpoints that
//! exercise the gateway: a plain JSON answer, a publicly cacheable one with an ETag, a
//! private one, and an echo of the identity the gateway forwarded.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The demo API's OpenAPI document, imported on first start.
pub const OPENAPI: &str = include_str!("demo_openapi.yaml");

/// Serves the demo upstream until `shutdown` turns true.
pub async fn serve(listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    let served = Arc::new(AtomicU64::new(0));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let served = Arc::clone(&served);
        let service = service_fn(move |req| respond(Arc::clone(&served), req));
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn respond(
    served: Arc<AtomicU64>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let n = served.fetch_add(1, Ordering::Relaxed) + 1;
    let identity = req.headers().get("gatehouse-identity").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let (status, cache_control, json) = match (method.as_str(), path.as_str()) {
        ("GET", "/hello") => {
            (200, "no-store", serde_json::json!({ "message": "Hello from the Gatehouse demo upstream", "served": n }))
        }
        ("GET", "/catalog") => {
            (200, "public, max-age=60", serde_json::json!({ "items": ["apple", "pear", "plum"], "served": n }))
        }
        ("GET", "/me") => (200, "private, max-age=60", serde_json::json!({ "identity": identity, "served": n })),
        ("GET", "/status") => (200, "no-store", serde_json::json!({ "status": "ok" })),
        ("POST", "/echo") => (200, "no-store", serde_json::json!({ "received_bytes": body.len(), "served": n })),
        _ => (404, "no-store", serde_json::json!({ "error": "not found" })),
    };
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", cache_control)
        .header("etag", format!("\"demo-{n}\""))
        .body(Full::new(Bytes::from(json.to_string())));
    Ok(response.unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new()))))
}
