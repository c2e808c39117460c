//! Streamed bodies at the edge: the platform's own `ReadableStream`, handed from the client's
//! request to `fetch` and from the upstream's response to the client without passing through
//! Rust (workerd pipes them natively, with backpressure) except for the API's timeouts and
//! the usage count, which see each chunk go by ([`super::guard`], [`super::metered`]); and an
//! upstream's `WebSocket`, which the Worker relays to the client's ([`super::relay`]).

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use gatehouse_core::ports::{Collected, UpstreamError};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::ReadableStream;

/// A body announced at most this long is read whole (as natively): a buffer costs less than
/// a stream for the many small API calls.
pub const INLINE_BYTES: u64 = 64 * 1024;

/// The edge's half of `gatehouse_core::body::Body::Stream`.
pub enum EdgeStream {
    Body(ReadableStream),
    /// The upstream accepted a WebSocket upgrade: its end of the socket, and the API's
    /// timeouts for the relay.
    Socket(worker::WebSocket, super::guard::Timeouts),
}

/// Reads `stream` whole if it is at most `limit` bytes; past it, a new stream that gives what
/// was read and then the rest, so the client still gets every byte.
pub async fn collect(stream: EdgeStream, limit: usize) -> Collected<EdgeStream> {
    let EdgeStream::Body(raw) = stream else { return Collected::TooLarge(stream) };
    let mut chunks = wasm_streams::ReadableStream::from_raw(raw).into_stream();
    let (mut read, mut size) = (Vec::<JsValue>::new(), 0usize);
    while let Some(chunk) = chunks.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return Collected::Failed(UpstreamError::Protocol(format!("the body broke: {e:?}"))),
        };
        size += chunk.dyn_ref::<js_sys::Uint8Array>().map_or(0, |a| a.length() as usize);
        read.push(chunk);
        if size > limit {
            let replay = stream::iter(read.into_iter().map(Ok)).chain(chunks);
            let rejoined = wasm_streams::ReadableStream::from_stream(replay).into_raw();
            return Collected::TooLarge(EdgeStream::Body(rejoined));
        }
    }
    let mut whole = Vec::with_capacity(size);
    for chunk in read {
        if let Some(array) = chunk.dyn_ref::<js_sys::Uint8Array>() {
            whole.extend_from_slice(&array.to_vec());
        }
    }
    Collected::Whole(Bytes::from(whole))
}
