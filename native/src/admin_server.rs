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
use http::{Request, Response};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::server::{self, Handler, Limits};

/// The admin router as a [`Handler`].
pub struct AdminHandler {
    router: Router,
}

impl Handler for AdminHandler {
    async fn respond(&self, request: &mut Request<Bytes>, peer: SocketAddr) -> Response<Bytes> {
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
    let limits = Limits { max_body_bytes, read_timeout };
    server::serve(listener, Arc::new(AdminHandler { router }), limits, shutdown).await;
}
