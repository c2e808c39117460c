//! What a [`super::Handler`] reads and answers with: whole `Bytes` (the admin API, tests), or
//! the gateway's [`GatewayBody`], which also takes a request body as it arrives and answers
//! with a stream or a tunnel.

use bytes::Bytes;
use gatehouse_core::body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Body as HttpBody;

use crate::body::{BodyError, GatewayBody, NativeStream, Tunnel};

/// A request body larger than this (announced, or chunked) reaches a streaming handler as a
/// stream; anything smaller is read whole first, which costs less for the many small calls.
pub const INLINE_REQUEST_BYTES: usize = 64 * 1024;

/// A body type the server can read into and write from.
pub trait ServerBody: Send + 'static {
    /// Whether large request bodies are handed over as they arrive ([`ServerBody::streamed`]).
    const STREAMS: bool;

    fn whole(bytes: Bytes) -> Self;

    /// A request body as it arrives; `None` for a body type that is only ever whole.
    fn streamed<B>(body: B) -> Option<Self>
    where
        Self: Sized,
        B: HttpBody<Data = Bytes, Error = BodyError> + Send + 'static;

    /// The body held whole, if it is.
    fn as_whole(&self) -> Option<&Bytes>;

    /// What to write.
    fn outgoing(self) -> Outgoing;
}

/// A response body as the server writes it.
pub enum Outgoing {
    Whole(Bytes),
    Stream(UnsyncBoxBody<Bytes, BodyError>),
    Tunnel(Box<Tunnel>),
}

impl ServerBody for Bytes {
    const STREAMS: bool = false;

    fn whole(bytes: Bytes) -> Self {
        bytes
    }

    fn streamed<B>(_: B) -> Option<Self> {
        None
    }

    fn as_whole(&self) -> Option<&Bytes> {
        Some(self)
    }

    fn outgoing(self) -> Outgoing {
        Outgoing::Whole(self)
    }
}

impl ServerBody for GatewayBody {
    const STREAMS: bool = true;

    fn whole(bytes: Bytes) -> Self {
        Body::Full(bytes)
    }

    fn streamed<B>(body: B) -> Option<Self>
    where
        B: HttpBody<Data = Bytes, Error = BodyError> + Send + 'static,
    {
        Some(Body::Stream(NativeStream::body(body)))
    }

    fn as_whole(&self) -> Option<&Bytes> {
        match self {
            Body::Full(bytes) => Some(bytes),
            Body::Stream(_) => None,
        }
    }

    fn outgoing(self) -> Outgoing {
        match self {
            Body::Full(bytes) => Outgoing::Whole(bytes),
            Body::Stream(NativeStream::Body(body)) => Outgoing::Stream(body.into_inner()),
            Body::Stream(NativeStream::Tunnel(tunnel)) => Outgoing::Tunnel(tunnel.into_inner()),
        }
    }
}
