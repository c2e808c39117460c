//! HTTP/2 to clients, through hyper's h2 server, for connections whose TLS handshake chose
//! `h2` by ALPN. A small request body is read whole (bounded by `max_body_bytes`, as on
//! HTTP/1.1), a large one streams to a handler that takes streams, and a streamed answer
//! streams back with HTTP/2's own flow control; the same [`Handler`] answers, so HTTP/2 runs
//! the same pipeline. WebSockets over HTTP/2 (RFC 8441's extended CONNECT, advertised in the
//! connection's SETTINGS) go through that pipeline as RFC 6455 upgrades ([`extended_connect`]).
//!
//! Why hyper here and not for HTTP/1.1: HTTP/2's framing, flow control, HPACK and stream
//! multiplexing are a protocol engine, not a parser, and hyper's (the `h2` crate) is the one
//! the Rust ecosystem has hardened (rapid reset, CONTINUATION floods, HPACK bombs). HTTP/1.1
//! keeps the lean server of [`super::connection`], which the bench shows ahead.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use gatehouse_core::pipeline::client_certificate::PresentedCertificate;
use gatehouse_core::pipeline::too_large;
use gatehouse_core::problem::{Problem, ProblemKind};
use http::header::{CONNECTION, HOST, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderValue, Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::body::{Outgoing, ServerBody, INLINE_REQUEST_BYTES};
use super::extended_connect::{self, Asks};
use super::{Handler, Limits, Stop};
use crate::body::{BodyError, NativeStream};
use gatehouse_core::ports::Collected;

/// Most streams a client may have open at once on one connection (hyper's default is 200;
/// each one can hold a request body of up to `max_body_bytes` while it is read).
const MAX_CONCURRENT_STREAMS: u32 = 100;

/// Serves one HTTP/2 connection until the client closes it, it has been idle (no stream open)
/// for the idle timeout, or the server stops; the last two send GOAWAY and let open streams
/// finish first.
pub(super) async fn serve<H, S>(
    stream: S,
    peer: SocketAddr,
    certificate: Option<PresentedCertificate>,
    handler: Arc<H>,
    limits: Limits,
    stop: Arc<Stop>,
) where
    H: Handler,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let max_body = limits.max_body_bytes;
    let activity = Arc::new(Activity::new());
    let seen = Arc::clone(&activity);
    let service = service_fn(move |request: Request<Incoming>| {
        let (handler, seen) = (Arc::clone(&handler), Arc::clone(&seen));
        let mut request = request;
        if let Some(certificate) = &certificate {
            request.extensions_mut().insert(certificate.clone());
        }
        async move {
            let busy = Activity::begin(&seen);
            Ok::<_, Infallible>(answer(&*handler, request, peer, max_body, busy).await)
        }
    });
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .enable_connect_protocol()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .max_header_list_size(u32::try_from(super::request::MAX_HEAD_BYTES).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(limits.idle_timeout))
        .keep_alive_timeout(limits.read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let stopped = stop.notify.notified();
    let mut stopped = std::pin::pin!(stopped);
    stopped.as_mut().enable();
    if !stop.is_set() {
        loop {
            let idle_until = activity.idle_since() + limits.idle_timeout;
            tokio::select! {
                result = connection.as_mut() => return log_end(result, peer),
                () = stopped.as_mut() => break,
                () = tokio::time::sleep_until(idle_until) => {
                    if activity.is_idle_for(limits.idle_timeout) {
                        break;
                    }
                }
            }
        }
    }
    connection.as_mut().graceful_shutdown();
    // Open streams get the read timeout to finish; a client that keeps an idle connection
    // open after GOAWAY does not hold the shutdown up longer.
    match tokio::time::timeout(limits.read_timeout, connection).await {
        Ok(result) => log_end(result, peer),
        Err(_) => tracing::debug!(%peer, "HTTP/2 connection closed after GOAWAY"),
    }
}

/// Streams being answered on one connection, and when the last one ended: hyper's HTTP/2
/// server pings an idle client but never closes on idleness itself.
struct Activity {
    open: AtomicUsize,
    last: Mutex<Instant>,
}

/// One stream being answered; dropping it marks the end. A streamed answer carries it in its
/// body, so a long event stream keeps its connection from looking idle.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity { open: AtomicUsize::new(0), last: Mutex::new(Instant::now()) }
    }

    fn begin(this: &Arc<Activity>) -> Busy {
        this.open.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(this))
    }

    fn idle_since(&self) -> Instant {
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_idle_for(&self, timeout: std::time::Duration) -> bool {
        self.open.load(Ordering::Acquire) == 0 && self.idle_since().elapsed() >= timeout
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

fn log_end(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP/2 connection ended with an error");
    }
}

/// An answer's body on HTTP/2: whole, or streamed with its stream's [`Busy`] mark.
type H2Body = Either<Full<Bytes>, Streamed>;

/// A streamed answer's body, holding its stream's [`Busy`] mark until it ends.
struct Streamed {
    body: UnsyncBoxBody<Bytes, BodyError>,
    _busy: Busy,
}

impl HttpBody for Streamed {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// One stream: the request (whole when small or when the handler takes bodies whole, else as
/// it arrives), the handler's answer, and the fields HTTP/2 forbids (RFC 9113 §8.2.2) taken
/// out of it.
async fn answer<H: Handler>(
    handler: &H,
    mut request: Request<Incoming>,
    peer: SocketAddr,
    max_body: usize,
    busy: Busy,
) -> Response<H2Body> {
    let websocket = match extended_connect::asks(request.method(), request.extensions()) {
        Asks::Request => None,
        Asks::WebSocket => Some(hyper::upgrade::on(&mut request)),
        Asks::Other => {
            let problem = Problem::new(ProblemKind::NotImplemented)
                .detail("Extended CONNECT is offered for WebSockets (:protocol websocket) only.");
            return whole(problem.into_response());
        }
    };
    let (mut parts, body) = request.into_parts();
    // The key the upstream's accept must answer; the CONNECT has no body (hyper's is empty).
    let key = websocket.is_some().then(|| extended_connect::as_upgrade(&mut parts));
    let small = body.is_end_stream() || body.size_hint().upper().is_some_and(|n| n <= INLINE_REQUEST_BYTES as u64);
    let body = if H::Body::STREAMS && !small {
        // HTTP/2 rarely announces a length: a body that ends within the inline size is still
        // taken whole (and sent upstream with its length), a longer one streams on.
        let stream = body.map_err(|e| BodyError::Broken(format!("the client's body broke: {e}")));
        match crate::body::collect(NativeStream::body(stream), INLINE_REQUEST_BYTES).await {
            Collected::Whole(bytes) => H::Body::whole(bytes),
            Collected::TooLarge(NativeStream::Body(stream)) => match H::Body::streamed(stream.into_inner()) {
                Some(body) => body,
                None => return whole(Problem::new(ProblemKind::Internal).into_response()),
            },
            Collected::TooLarge(NativeStream::Tunnel(_)) | Collected::Failed(_) => {
                let problem = Problem::new(ProblemKind::BadRequest).detail("The request body did not arrive whole.");
                return whole(problem.into_response());
            }
        }
    } else {
        match Limited::new(body, max_body).collect().await {
            Ok(collected) => H::Body::whole(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return whole(too_large(max_body as u64)),
            Err(_) => {
                let problem = Problem::new(ProblemKind::BadRequest).detail("The request body did not arrive whole.");
                return whole(problem.into_response());
            }
        }
    };
    // HTTP/2 sends the authority as a pseudo-header (hyper puts it in the URI); the pipeline,
    // like an HTTP/1.1 origin, reads `Host`.
    if !parts.headers.contains_key(HOST) {
        if let Some(host) = parts.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
            parts.headers.insert(HOST, host);
        }
    }
    let mut request = Request::from_parts(parts, body);
    let response = handler.respond(&mut request, peer).await;
    let (mut parts, body) = response.into_parts();
    let headers = &mut parts.headers;
    for name in [CONNECTION, TRANSFER_ENCODING, UPGRADE] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    match (body.outgoing(), websocket.zip(key)) {
        // A 2xx to an extended CONNECT would open a tunnel the upstream never agreed to.
        (Outgoing::Whole(_) | Outgoing::Stream(_), Some(_)) if parts.status.is_success() => not_switched(),
        (Outgoing::Whole(bytes), _) => Response::from_parts(parts, Either::Left(Full::new(bytes))),
        (Outgoing::Stream(body), _) => Response::from_parts(parts, Either::Right(Streamed { body, _busy: busy })),
        (Outgoing::Tunnel(tunnel), Some((upgrade, key))) if extended_connect::accepts(&key, &parts.headers) => {
            tokio::spawn(extended_connect::relay(upgrade, *tunnel, busy));
            let head = extended_connect::established(Response::from_parts(parts, ()));
            head.map(|()| Either::Left(Full::new(Bytes::new())))
        }
        (Outgoing::Tunnel(tunnel), _) => {
            let cause = "the upstream's Sec-WebSocket-Accept does not answer the gateway's key";
            super::tunnel::abandon(*tunnel, BodyError::Broken(cause.into()));
            not_switched()
        }
    }
}

/// The `502` for an extended CONNECT the upstream did not switch to WebSocket as RFC 6455 asks.
fn not_switched() -> Response<H2Body> {
    let problem =
        Problem::new(ProblemKind::UpstreamInvalid).detail("The upstream did not accept the WebSocket handshake.");
    whole(problem.into_response())
}

fn whole(response: Response<Bytes>) -> Response<H2Body> {
    response.map(|bytes| Either::Left(Full::new(bytes)))
}
