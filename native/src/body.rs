//! Streamed bodies natively: the runtime's half of `gatehouse_core::body::Body`.
//!
//! A body too large (or too slow) to hold whole is an `http-body` stream, boxed once per body
//! (not per chunk), read with backpressure: the client's body is read from its socket only as
//! fast as the upstream takes it, and the upstream's only as fast as the client takes it, so
//! memory stays at a few buffers whatever the size. A connection switched to WebSocket is a
//! [`Tunnel`], which the server relays both ways.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use gatehouse_core::body::Body;
use gatehouse_core::ports::Collected;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use sync_wrapper::SyncWrapper;

use crate::adapters::upstream::UpstreamStream;

/// Why a streamed body ended before its end: the client (or the server's log) must never take
/// it for a complete one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("no data for {0:?} (the API's idle timeout)")]
    Idle(Duration),
    #[error("the call reached the API's maximum duration of {0:?}")]
    MaxDuration(Duration),
    #[error("request body past the limit of {0} bytes")]
    TooLarge(u64),
    /// The connection it came over broke or closed early; the reason says which.
    #[error("{0}")]
    Broken(String),
}

/// A body as it flows through the native gateway.
pub type GatewayBody = Body<NativeStream>;

/// The native stream behind [`Body::Stream`]. Wrapped to be `Sync` (see `sync_wrapper`):
/// the pipeline holds a shared reference to the request across awaits, never to its body.
pub enum NativeStream {
    Body(SyncWrapper<UnsyncBoxBody<Bytes, BodyError>>),
    Tunnel(SyncWrapper<Box<Tunnel>>),
}

impl std::fmt::Debug for NativeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NativeStream::Body(_) => f.write_str("NativeStream::Body"),
            NativeStream::Tunnel(_) => f.write_str("NativeStream::Tunnel"),
        }
    }
}

impl NativeStream {
    pub fn body<B>(body: B) -> NativeStream
    where
        B: HttpBody<Data = Bytes, Error = BodyError> + Send + 'static,
    {
        NativeStream::Body(SyncWrapper::new(UnsyncBoxBody::new(body)))
    }

    pub fn tunnel(tunnel: Tunnel) -> NativeStream {
        NativeStream::Tunnel(SyncWrapper::new(Box::new(tunnel)))
    }
}

/// Told once a tunnel closes: bytes from the client, bytes to it, and why, if not by a close.
pub type OnClose = Box<dyn FnOnce(u64, u64, Option<&BodyError>) + Send>;

/// Told once a metered body ends: its data bytes, and why, if it did not end cleanly.
pub type OnEnd = Box<dyn FnOnce(u64, Option<&BodyError>) + Send>;

/// The upstream side of a connection switched to WebSocket, for the server to relay.
pub struct Tunnel {
    pub upstream: UpstreamStream,
    /// Bytes the upstream sent right behind its `101`, already read.
    pub leftover: Bytes,
    /// Longest silence both ways before the tunnel is closed.
    pub idle: Duration,
    /// Longest the tunnel may stay open, when the API sets it.
    pub max_duration: Option<Duration>,
    /// Told once the tunnel closes: bytes from the client, bytes to it, and why it closed if
    /// not by either side closing.
    pub on_close: Option<OnClose>,
}

/// Reads `stream` whole if it is at most `limit` bytes; past it, the stream again with what
/// was read in front, so nothing is lost (the cache then lets it stream on unstored).
pub async fn collect(stream: NativeStream, limit: usize) -> Collected<NativeStream> {
    let NativeStream::Body(body) = stream else { return Collected::TooLarge(stream) };
    let mut body = body.into_inner();
    let mut read = Vec::new();
    let mut size = 0;
    while let Some(frame) = body.frame().await {
        let data = match frame.map(Frame::into_data) {
            Ok(Ok(data)) => data,
            Ok(Err(_trailers)) => continue,
            Err(e) => return Collected::Failed(gatehouse_core::ports::UpstreamError::Protocol(e.to_string())),
        };
        size += data.len();
        read.push(data);
        if size > limit {
            return Collected::TooLarge(NativeStream::body(Prefixed { read: read.into(), rest: body }));
        }
    }
    let mut whole = BytesMut::with_capacity(size);
    read.iter().for_each(|chunk| whole.extend_from_slice(chunk));
    Collected::Whole(whole.freeze())
}

/// A body whose first chunks were already read.
struct Prefixed {
    read: std::collections::VecDeque<Bytes>,
    rest: UnsyncBoxBody<Bytes, BodyError>,
}

impl HttpBody for Prefixed {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.read.pop_front() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None => Pin::new(&mut self.rest).poll_frame(cx),
        }
    }
}

/// Counts the data bytes of a body as they pass, and tells `on_end` once (at its end, at its
/// error, or when it is dropped unfinished because the client went away).
pub struct Metered {
    inner: UnsyncBoxBody<Bytes, BodyError>,
    bytes: u64,
    on_end: Option<OnEnd>,
}

impl Metered {
    pub fn new(inner: UnsyncBoxBody<Bytes, BodyError>, on_end: OnEnd) -> Self {
        Metered { inner, bytes: 0, on_end: Some(on_end) }
    }

    fn end(&mut self, error: Option<&BodyError>) {
        if let Some(on_end) = self.on_end.take() {
            on_end(self.bytes, error);
        }
    }
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => self.bytes += frame.data_ref().map_or(0, |d| d.len() as u64),
            Poll::Ready(Some(Err(e))) => self.end(Some(e)),
            Poll::Ready(None) => self.end(None),
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if self.on_end.is_some() {
            self.end(Some(&BodyError::Broken("the client went away before the body ended".into())));
        }
    }
}

/// Counts the bytes of a body from the client as they are read, for usage: shared with the
/// gateway's glue, which reads it once the call is over.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A client's body arriving from the server's reading loop, one chunk at a time: the loop
/// waits while the channel (two chunks) is full, which is the backpressure.
pub struct Incoming {
    chunks: tokio::sync::mpsc::Receiver<Result<Bytes, BodyError>>,
    /// The announced length, for the upstream's framing.
    length: Option<u64>,
}

impl Incoming {
    /// The body and the sending end the server's reading loop feeds.
    pub fn channel(length: Option<u64>) -> (tokio::sync::mpsc::Sender<Result<Bytes, BodyError>>, Incoming) {
        let (tx, chunks) = tokio::sync::mpsc::channel(2);
        (tx, Incoming { chunks, length })
    }
}

impl HttpBody for Incoming {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.chunks.poll_recv(cx).map(|chunk| chunk.map(|chunk| chunk.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        self.length.map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// Adds a body's data bytes to a [`Counter`] as they pass.
pub struct Counting {
    pub inner: UnsyncBoxBody<Bytes, BodyError>,
    pub counter: Counter,
}

impl HttpBody for Counting {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            self.counter.add(frame.data_ref().map_or(0, Bytes::len));
        }
        polled
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
