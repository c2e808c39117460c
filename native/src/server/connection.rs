//! One client connection: read a request, let the handler answer it, write the answer, and
//! again while the connection stays persistent (RFC 9112 §9.3). Requests are answered in the
//! order they arrive, so pipelined requests need nothing special.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::futures::OwnedNotified;
use tokio::time::Instant;

use super::body::{Outgoing, ServerBody, INLINE_REQUEST_BYTES};
use super::request::{parse_head, Framing, Head, Refusal};
use super::response::{encode_head, Exchange, Length, CONTINUE};
use super::{refusal_response, streaming, tunnel, Handler, Limits, Stop};
use crate::body::Incoming;
use crate::deadline::Deadline;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::{has_body, FramingError, COPY_BODY_BYTES};
use gatehouse_core::pipeline::client_certificate::PresentedCertificate;

/// The read buffer always offers at least this much room, so one read takes a typical request.
const MIN_READ_ROOM: usize = 4 * 1024;
/// How much the read buffer grows by when it runs short of room.
const READ_GROWTH: usize = 8 * 1024;
/// After refusing a request whose body was not read, how long and how much to keep reading
/// (and discarding) before closing, so the client sees the answer instead of a reset.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;
/// A response's header map with room for more fields than this is not kept for the next
/// request (see [`Connection::request`]), so an unusual response does not leave its memory on
/// an idle connection.
const MAX_SPARE_HEADERS: usize = 32;

/// Generic over the stream, so plain TCP and TLS each get their own compiled copy: the plain
/// path costs no more than before TLS existed.
pub(super) struct Connection<S, B> {
    stream: S,
    buf: BytesMut,
    out: Vec<u8>,
    /// Every request of the connection is parsed into this one and handed to the handler by
    /// reference, so it is never moved; emptied after each answer. Its header map keeps its
    /// capacity from message to message (a map costs two allocations, which a keep-alive
    /// connection then pays once), or takes the last response's when the handler took it.
    request: Request<B>,
    limits: Limits,
    peer: SocketAddr,
    /// The client certificate the TLS handshake verified, given to each request.
    certificate: Option<PresentedCertificate>,
    stop: Arc<Stop>,
    /// Registered with `stop` when the connection starts, so waiting on it costs nothing more.
    stopped: Pin<Box<OwnedNotified>>,
    /// Each wait's deadline, on one timer for the connection's life.
    timer: Deadline,
}

/// How waiting for more bytes ended.
enum Filled {
    Data,
    /// The peer closed the connection, or it failed.
    Closed,
    TimedOut,
    /// The server is shutting down and the connection was idle.
    ShuttingDown,
}

impl<S: AsyncRead + AsyncWrite + Unpin, B: ServerBody> Connection<S, B> {
    pub(super) fn new(stream: S, peer: SocketAddr, limits: Limits, stop: Arc<Stop>) -> Self {
        let mut stopped = Box::pin(Arc::clone(&stop.notify).notified_owned());
        // Registered now, so a stop signalled while this connection is busy is not missed.
        stopped.as_mut().enable();
        Connection {
            stream,
            buf: BytesMut::with_capacity(READ_GROWTH),
            out: Vec::with_capacity(1024),
            request: Request::new(B::whole(Bytes::new())),
            timer: Deadline::new(Instant::now() + limits.read_timeout),
            limits,
            peer,
            certificate: None,
            stop,
            stopped,
        }
    }

    /// The connection's verified client certificate (mTLS), for every request on it.
    pub(super) fn with_certificate(mut self, certificate: Option<PresentedCertificate>) -> Self {
        self.certificate = certificate;
        self
    }

    pub(super) async fn run<H: Handler<Body = B>>(mut self, handler: &H) {
        loop {
            let head = match self.read_head().await {
                Ok(Some(head)) => head,
                Ok(None) => return,
                Err(refusal) => return self.refuse(refusal).await,
            };
            let Head { framing, keep_alive, expects_continue } = head;
            let head_request = self.request.method() == Method::HEAD;
            let confirm_keep_alive = keep_alive && self.request.version() == Version::HTTP_10;
            if let Some(certificate) = &self.certificate {
                self.request.extensions_mut().insert(certificate.clone());
            }
            let (response, unread) = if self.streams(framing) {
                match self.respond_streaming(handler, framing, expects_continue).await {
                    Some(answered) => answered,
                    None => return,
                }
            } else {
                let body = match self.read_body(framing, expects_continue).await {
                    Ok(Some(body)) => body,
                    Ok(None) => return,
                    Err(refusal) => return self.refuse(refusal).await,
                };
                *self.request.body_mut() = B::whole(body);
                (handler.respond(&mut self.request, self.peer).await, false)
            };
            // A request body not read to its end leaves the connection's framing unknown.
            let close = !keep_alive || unread || self.shutting_down();
            let exchange = Exchange { head_request, close, confirm_keep_alive };
            let (parts, body) = response.into_parts();
            let reusable = match body.outgoing() {
                Outgoing::Whole(body) => {
                    let response = Response::from_parts(parts, body);
                    let written = self.write(&response, exchange).await.is_ok();
                    self.empty_request(response.into_parts().0.headers);
                    written
                }
                Outgoing::Stream(body) => {
                    let http11 = self.request.version() == Version::HTTP_11;
                    let head = Response::from_parts(parts, ());
                    let limits = self.limits;
                    let written =
                        streaming::write(&mut self.stream, &mut self.out, head, body, exchange, http11, &limits);
                    let reusable = written.await;
                    self.empty_request(http::HeaderMap::new());
                    reusable
                }
                Outgoing::Tunnel(tunnel) => {
                    let head = Response::from_parts(parts, ());
                    let leftover = self.buf.split().freeze();
                    return tunnel::relay(&mut self.stream, &mut self.out, head, leftover, *tunnel).await;
                }
            };
            if unread && reusable && self.stream.shutdown().await.is_ok() {
                // Answered before the client finished sending: let it read the answer rather
                // than have it reset by the unread body.
                return self.linger().await;
            }
            if !reusable || close {
                return;
            }
        }
    }

    /// Whether the handler takes this request's body as it arrives: it streams bodies, and
    /// the body is chunked or announced larger than [`INLINE_REQUEST_BYTES`] and not read yet.
    fn streams(&self, framing: Framing) -> bool {
        B::STREAMS
            && match framing {
                Framing::None => false,
                Framing::Chunked => true,
                Framing::Length(n) => n > INLINE_REQUEST_BYTES && self.buf.len() < n,
            }
    }

    /// Hands the handler the request with its body as it arrives, reading it from the socket
    /// while the handler runs (only as fast as the handler's side takes it). The answer, and
    /// whether the body was left unread (the handler answered before it was all sent);
    /// `None` when the connection failed before an answer could be written.
    async fn respond_streaming<H: Handler<Body = B>>(
        &mut self,
        handler: &H,
        framing: Framing,
        expects_continue: bool,
    ) -> Option<(Response<B>, bool)> {
        if expects_continue && self.buf.is_empty() && self.send_continue().await.is_err() {
            return None;
        }
        let length = match framing {
            Framing::Length(n) => Some(n as u64),
            _ => None,
        };
        let (tx, incoming) = Incoming::channel(length);
        *self.request.body_mut() = B::streamed(incoming)?;
        let (stream, buf, request, peer) = (&mut self.stream, &mut self.buf, &mut self.request, self.peer);
        let pump = streaming::pump(stream, buf, framing, tx, self.limits.body_timeout);
        let respond = handler.respond(request, peer);
        let (mut pump, mut respond) = (std::pin::pin!(pump), std::pin::pin!(respond));
        let mut read_whole = None;
        let response = loop {
            tokio::select! {
                whole = &mut pump, if read_whole.is_none() => read_whole = Some(whole),
                response = &mut respond => break response,
            }
        };
        Some((response, read_whole != Some(true)))
    }

    /// Lets go of everything the answered request held, so the read buffer it was parsed from
    /// is reclaimed in place by the next read, and gives its header map the response's when
    /// the handler took the request's own.
    fn empty_request(&mut self, spare: http::HeaderMap) {
        let request = &mut self.request;
        *request.uri_mut() = Uri::default();
        *request.body_mut() = B::whole(Bytes::new());
        request.extensions_mut().clear();
        let headers = request.headers_mut();
        headers.clear();
        if headers.capacity() == 0 {
            let mut spare = spare;
            if spare.capacity() <= MAX_SPARE_HEADERS {
                // Emptied now: its values may share memory with a response body.
                spare.clear();
                *headers = spare;
            }
        }
    }

    /// The next request head; `None` when the connection ended cleanly between requests.
    async fn read_head(&mut self) -> Result<Option<Head>, Refusal> {
        let wait = if self.buf.is_empty() { self.limits.idle_timeout } else { self.limits.read_timeout };
        let mut deadline = Instant::now() + wait;
        loop {
            if !self.buf.is_empty() {
                if let Some(head) = parse_head(&mut self.buf, &mut self.request)? {
                    return Ok(Some(head));
                }
            }
            let idle = self.buf.is_empty();
            match self.fill(deadline, idle).await {
                // The head's own clock starts with its first byte.
                Filled::Data if idle => deadline = Instant::now() + self.limits.read_timeout,
                Filled::Data => {}
                Filled::Closed | Filled::ShuttingDown => return Ok(None),
                // Silence between requests is an idle connection timing out, not an error.
                Filled::TimedOut if idle => return Ok(None),
                Filled::TimedOut => return Err(Refusal::Timeout),
            }
        }
    }

    /// The whole body; `None` if the connection ended before it did.
    async fn read_body(&mut self, framing: Framing, expects_continue: bool) -> Result<Option<Bytes>, Refusal> {
        let max = self.limits.max_body_bytes;
        let continue_unless_sent = |received: bool| expects_continue && !received;
        match framing {
            Framing::None => Ok(Some(Bytes::new())),
            // Refused on the announced length, so the client need not upload the body.
            Framing::Length(n) if n > max => Err(Refusal::BodyTooLarge),
            Framing::Length(n) => {
                if continue_unless_sent(!self.buf.is_empty()) && self.send_continue().await.is_err() {
                    return Ok(None);
                }
                self.buf.reserve(n.saturating_sub(self.buf.len()));
                while self.buf.len() < n {
                    if !self.fill_body().await? {
                        return Ok(None);
                    }
                }
                Ok(Some(self.buf.split_to(n).freeze()))
            }
            Framing::Chunked => {
                if continue_unless_sent(!self.buf.is_empty()) && self.send_continue().await.is_err() {
                    return Ok(None);
                }
                let (mut decoder, mut body) = (ChunkedDecoder::default(), BytesMut::new());
                loop {
                    match decoder.decode(&mut self.buf, &mut body, max) {
                        Ok(true) => return Ok(Some(body.freeze())),
                        Ok(false) => {}
                        Err(FramingError::BodyTooLarge(_)) => return Err(Refusal::BodyTooLarge),
                        Err(FramingError::Invalid(_)) => {
                            return Err(Refusal::BadRequest("The chunked request body is malformed."))
                        }
                    }
                    if !self.fill_body().await? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// More body bytes; `false` if the connection ended. Each read must make progress within
    /// the read timeout.
    async fn fill_body(&mut self) -> Result<bool, Refusal> {
        match self.fill(Instant::now() + self.limits.body_timeout, false).await {
            Filled::Data => Ok(true),
            Filled::Closed | Filled::ShuttingDown => Ok(false),
            Filled::TimedOut => Err(Refusal::Timeout),
        }
    }

    /// Reads what has arrived into the buffer, waiting until `deadline`. While `idle` (between
    /// requests) a shutdown ends the wait too.
    async fn fill(&mut self, deadline: Instant, idle: bool) -> Filled {
        if idle && self.shutting_down() {
            return Filled::ShuttingDown;
        }
        if self.buf.capacity() - self.buf.len() < MIN_READ_ROOM {
            self.buf.reserve(READ_GROWTH);
        }
        let (stream, buf, stopped) = (&mut self.stream, &mut self.buf, &mut self.stopped);
        let read_or_stop = async {
            tokio::select! {
                biased;
                read = stream.read_buf(buf) => Some(read),
                () = stopped.as_mut(), if idle => None,
            }
        };
        match self.timer.wait(deadline, read_or_stop).await {
            None => Filled::TimedOut,
            Some(None) => Filled::ShuttingDown,
            Some(Some(Ok(0) | Err(_))) => Filled::Closed,
            Some(Some(Ok(_))) => Filled::Data,
        }
    }

    async fn send_continue(&mut self) -> std::io::Result<()> {
        self.stream.write_all(CONTINUE).await?;
        self.stream.flush().await
    }

    fn shutting_down(&self) -> bool {
        self.stop.is_set()
    }

    async fn write(&mut self, response: &Response<Bytes>, exchange: Exchange) -> std::io::Result<()> {
        self.out.clear();
        encode_head(response, Length::Known(response.body().len() as u64), exchange, &mut self.out);
        let body: &[u8] = if exchange.head_request || !has_body(response.status()) { &[] } else { response.body() };
        if body.len() <= COPY_BODY_BYTES {
            self.out.extend_from_slice(body);
            self.stream.write_all(&self.out).await?;
        } else {
            write_all_vectored(&mut self.stream, &self.out, body).await?;
        }
        // TLS may hold the last record back until flushed; on plain TCP this returns at once.
        self.stream.flush().await
    }

    /// Answers a request the server refused itself, then closes the connection, reading and
    /// discarding what the client still sends for a while so that it gets the answer.
    async fn refuse(mut self, refusal: Refusal) {
        let response = refusal_response(refusal, self.limits.max_body_bytes);
        let exchange = Exchange { head_request: false, close: true, confirm_keep_alive: false };
        if self.write(&response, exchange).await.is_err() || self.stream.shutdown().await.is_err() {
            return;
        }
        self.linger().await;
    }

    /// After the answer and a shutdown of our side: reads and discards what the client still
    /// sends for a while, so that it gets the answer instead of a reset.
    async fn linger(mut self) {
        let until = Instant::now() + LINGER;
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            self.buf.clear();
            match self.fill(until, false).await {
                Filled::Data => discarded += self.buf.len(),
                Filled::Closed | Filled::TimedOut | Filled::ShuttingDown => return,
            }
        }
    }
}

/// Writes `head` then `body`, in as few system calls as the socket allows (usually one).
async fn write_all_vectored<S: AsyncWrite + Unpin>(stream: &mut S, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    let mut written = 0;
    let total = head.len() + body.len();
    while written < total {
        let n = if written < head.len() {
            stream.write_vectored(&[IoSlice::new(&head[written..]), IoSlice::new(body)]).await?
        } else {
            stream.write(&body[written - head.len()..]).await?
        };
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    Ok(())
}
