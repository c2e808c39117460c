//! The gateway's HTTP/1.1 server: accepts connections and hands each complete request to a
//! [`Handler`] (the core pipeline), then writes its answer.
//!
//! Why not hyper's server: a gateway answers tens of thousands of small requests a second per
//! core, and hyper's general machinery (a dispatcher state machine, a body channel per
//! request, a timer armed per request head) cost about as much user CPU per request as the
//! whole gateway pipeline (bench/README.md). This server does only what the gateway needs,
//! and keeps the common case cheap: a small body is read whole and a small response is
//! written in one system call (head and body as one buffer when the body is small,
//! [`crate::http1::COPY_BODY_BYTES`], one `writev` otherwise). Large or open-ended bodies
//! stream both ways ([`streaming`]) for a handler whose body type takes streams (the
//! gateway's), and a `101` hands the connection to a WebSocket relay ([`tunnel`]); over
//! HTTP/2 an RFC 8441 extended CONNECT does the same for one stream ([`extended_connect`]).
//!
//! What it does not skip is RFC 9112's framing rules, which it applies strictly (see
//! [`request`]): ambiguous lengths are refused, never guessed at, so nothing can be smuggled
//! past the pipeline's checks to the upstream.

pub mod body;
mod connection;
mod extended_connect;
pub mod gate;
mod h2;
pub mod request;
pub mod response;
mod streaming;
#[cfg(test)]
mod tests;
mod tunnel;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_core::pipeline::too_large;
use gatehouse_core::problem::{Problem, ProblemKind};
use http::{Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::tls::ServerTls;
use body::ServerBody;
use connection::Connection;
use gate::{ConnectionGate, Pass};
use request::Refusal;

/// What answers requests: the gateway pipeline in production, anything in tests.
pub trait Handler: Send + Sync + 'static {
    /// `Bytes` to take every body whole (within `max_body_bytes`), or the gateway's body,
    /// which takes large ones as they arrive and answers with streams (see [`body`]).
    type Body: ServerBody;

    /// Answers `request`. The server owns it and parses the connection's next request into
    /// it, so a handler may take parts of it (its header map, say) rather than copy them.
    /// `peer` is the client's address (the TCP peer).
    fn respond(
        &self,
        request: &mut Request<Self::Body>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response<Self::Body>> + Send;
}

/// Bounds on what one client may make the server hold or wait for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Larger bodies get `413` (from `Content-Length` before they are sent, when announced).
    pub max_body_bytes: usize,
    /// A request head must arrive within this time of its first byte.
    pub read_timeout: Duration,
    /// Each read of a body must make progress within this.
    pub body_timeout: Duration,
    /// A keep-alive connection with no request started is closed after this.
    pub idle_timeout: Duration,
}

impl Limits {
    /// The same bound for every wait: idle, head and body.
    pub fn new(max_body_bytes: usize, read_timeout: Duration) -> Limits {
        Limits { max_body_bytes, read_timeout, body_timeout: read_timeout, idle_timeout: read_timeout }
    }
}

/// How one listener serves, beyond [`Limits`]: TLS, and how many connections it takes.
#[derive(Clone)]
pub struct Listening {
    pub limits: Limits,
    /// TLS (with ALPN choosing HTTP/2 or HTTP/1.1); `None` serves plain HTTP/1.1.
    pub tls: Option<ServerTls>,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// Connection counts, shared by every worker of the same address.
    pub gate: Arc<ConnectionGate>,
}

impl Listening {
    /// Plain HTTP/1.1 with `limits` and no connection bounds beyond the system's.
    pub fn plain(limits: Limits) -> Listening {
        Listening {
            limits,
            tls: None,
            handshake_timeout: limits.read_timeout,
            gate: Arc::new(ConnectionGate::new(usize::MAX, usize::MAX)),
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` turns true (or its sender is dropped), then
/// stops accepting, closes idle connections, and waits for in-flight requests to be answered.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
) {
    serve_with(listener, handler, Listening::plain(limits), shutdown).await;
}

/// [`serve`] with TLS and connection bounds as `listening` says.
pub async fn serve_with<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    listening: Listening,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let stop = Arc::new(Stop::default());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        while connections.try_join_next().is_some() {}
        // Over a bound, the connection is closed at once: answering would cost what the bound
        // is there to save, and a client over it is either a flood or a bug.
        let Some(pass) = listening.gate.admit(peer.ip()) else { continue };
        let _ = stream.set_nodelay(true);
        let (handler, stop, listening) = (Arc::clone(&handler), Arc::clone(&stop), listening.clone());
        connections.spawn(serve_connection(stream, peer, handler, listening, stop, pass));
    }
    drop(listener);
    stop.signal();
    while connections.join_next().await.is_some() {}
}

/// One connection: TLS first when the listener has it, then HTTP/2 or HTTP/1.1 as ALPN chose.
async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    listening: Listening,
    stop: Arc<Stop>,
    _pass: Pass,
) {
    let limits = listening.limits;
    let Some(tls) = listening.tls else {
        return Connection::new(stream, peer, limits, stop).run(&*handler).await;
    };
    let accepted = tokio::time::timeout(listening.handshake_timeout, tls.acceptor().accept(stream)).await;
    let stream = match accepted {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
    };
    let certificate = crate::tls::client_certificate(stream.get_ref().1);
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        h2::serve(stream, peer, certificate, handler, limits, stop).await;
    } else {
        Connection::new(stream, peer, limits, stop).with_certificate(certificate).run(&*handler).await;
    }
}

/// The server's stop signal as its connections see it: a flag to check after each answer, and
/// a notification that wakes the connections waiting idle for a request. A connection
/// registers for the notification once, when it starts; a watch channel's `changed()` would
/// register and unregister a waiter on every wait, which is every request.
#[derive(Default)]
struct Stop {
    stopping: AtomicBool,
    notify: Arc<Notify>,
}

impl Stop {
    fn signal(&self) {
        self.stopping.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    fn is_set(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
}

/// The problem+json answer to a request the server refused itself.
fn refusal_response(refusal: Refusal, max_body_bytes: usize) -> Response<Bytes> {
    let problem = match refusal {
        Refusal::BodyTooLarge => return too_large(max_body_bytes as u64),
        Refusal::BadRequest(why) => Problem::new(ProblemKind::BadRequest).detail(why),
        Refusal::HeadTooLarge => Problem::new(ProblemKind::HeadersTooLarge).detail(format!(
            "A request head is limited to {} bytes and {} header fields.",
            request::MAX_HEAD_BYTES,
            request::MAX_HEADERS
        )),
        Refusal::UriTooLong => Problem::new(ProblemKind::UriTooLong)
            .detail(format!("A request target is limited to {} bytes.", request::MAX_URI_BYTES)),
        Refusal::NotImplemented(what) => Problem::new(ProblemKind::NotImplemented).detail(what),
        Refusal::ExpectationFailed => {
            Problem::new(ProblemKind::ExpectationFailed).detail("Only Expect: 100-continue is supported.")
        }
        Refusal::Timeout => Problem::new(ProblemKind::RequestTimeout).detail("The request did not arrive in time."),
    };
    problem.into_response()
}
