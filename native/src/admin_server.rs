//! The admin API on the native binary: the admin router behind the same HTTP/1.1 server as
//! the gateway ([`crate::server`]), not behind hyper's.
//!
//! Why: the admin port then has the gateway port's defences, from the same code: a request
//! head must arrive within the read timeout (hyper's server has none unless a timer is wired
//! in), framing is read strictly, and every refusal the server makes itself (400, 408, 413,
//! 414, 431) is an RFC 9457 problem; hyper writes its own 414 and 431 with an empty body and
//! offers no hook to change them. Admin bodies are bounded (`max_body_bytes`) and admin
//! responses are small JSON documents, so the server's whole-body reads and writes suit them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use gatehouse_admin::ClientAddr;
use gatehouse_core::problem::{Problem, ProblemKind};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::server::{self, Handler, Limits, Listening};
use crate::store::SqliteRepo;

/// The admin router as a [`Handler`], with the health checks in front of it.
pub struct AdminHandler {
    router: Router,
    /// The store `/readyz` asks; without it `/healthz` and `/readyz` go to the router.
    store: Option<Arc<SqliteRepo>>,
}

impl AdminHandler {
    pub fn new(router: Router) -> AdminHandler {
        AdminHandler { router, store: None }
    }

    /// Answers `/healthz` (the process serves) and `/readyz` (the store answers a read; the
    /// catalog is loaded before the listener opens, so serving at all means it is loaded).
    /// Neither needs a token: a load balancer or orchestrator probes them.
    pub fn with_health(mut self, store: Arc<SqliteRepo>) -> AdminHandler {
        self.store = Some(store);
        self
    }

    async fn health(&self, path: &str) -> Option<Response<Bytes>> {
        let store = self.store.as_ref()?;
        let (status, body) = match path {
            "/healthz" => (StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
            "/readyz" => match store.ping().await {
                Ok(()) => (StatusCode::OK, r#"{"status":"ready","store":"ok"}"#.to_owned()),
                Err(e) => {
                    tracing::error!(error = %e, "readiness: the store did not answer");
                    let problem = Problem::new(ProblemKind::ServiceUnavailable).detail("The store did not answer.");
                    return Some(problem.into_response());
                }
            },
            _ => return None,
        };
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Some(response)
    }
}

impl Handler for AdminHandler {
    type Body = Bytes;

    async fn respond(&self, request: &mut Request<Bytes>, peer: SocketAddr) -> Response<Bytes> {
        if request.method() == Method::GET || request.method() == Method::HEAD {
            if let Some(response) = self.health(request.uri().path()).await {
                return response;
            }
        }
        let mut request = std::mem::replace(request, Request::new(Bytes::new())).map(Body::from);
        request.extensions_mut().insert(ClientAddr(peer.ip()));
        let Ok(response) = self.router.clone().oneshot(request).await;
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(collected) => Response::from_parts(parts, collected.to_bytes()),
            Err(e) => {
                tracing::error!(error = %e, "admin response body failed");
                Problem::new(ProblemKind::Internal).into_response()
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets in-flight requests
/// finish. Bodies over `max_body_bytes` are refused with 413 before they are read (the router
/// checks the same bound again, for the runtimes that do not go through this server).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    max_body_bytes: usize,
    read_timeout: Duration,
    shutdown: watch::Receiver<bool>,
) {
    let limits = Limits::new(max_body_bytes, read_timeout);
    server::serve(listener, Arc::new(AdminHandler::new(router)), limits, shutdown).await;
}

/// [`serve`] with a handler already made and the listener's TLS and bounds.
pub async fn serve_with(
    listener: TcpListener,
    handler: AdminHandler,
    listening: Listening,
    shutdown: watch::Receiver<bool>,
) {
    server::serve_with(listener, Arc::new(handler), listening, shutdown).await;
}
