//! A response body that streams from its upstream connection to the client as it arrives.
//!
//! The body owns the connection while it streams and reads it only when the client's side
//! asks for the next chunk, so a slow client slows the upstream down (TCP backpressure) instead
//! of filling the gateway's memory. Once the body has ended cleanly the connection goes back to
//! this thread's pool like after any other exchange; a body that broke, timed out or was
//! dropped unfinished closes its connection.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use http::Response;
use http_body_util::StreamBody;
use hyper::body::Frame;
use tokio::time::Instant;

use super::codec::{BodyFraming, Streaming};
use super::connection::Conn;
use super::{checkin, IDLE, IDLE_TLS};
use crate::body::BodyError;
use gatehouse_core::ports::UpstreamCall;

/// What the body needs between two chunks.
struct State {
    conn: Box<Conn>,
    framing: BodyFraming,
    /// Data decoded with the head, handed out first.
    first: Option<Bytes>,
    keep_alive: bool,
    authority: String,
    tls: bool,
    idle: Duration,
    until: Option<(Instant, Duration)>,
}

/// The response head and its body, streaming from `conn`.
pub(super) fn body(
    conn: Box<Conn>,
    streaming: Streaming,
    authority: &str,
    tls: bool,
    call: &UpstreamCall,
    until: Option<(Instant, Duration)>,
) -> (Response<()>, StreamBody<impl Stream<Item = Result<Frame<Bytes>, BodyError>> + Send + use<>>) {
    let Streaming { response, framing, first, keep_alive } = streaming;
    let state = State {
        conn,
        framing,
        first: Some(first).filter(|first| !first.is_empty()),
        keep_alive,
        authority: authority.to_owned(),
        tls,
        idle: Duration::from_millis(call.idle_ms),
        until,
    };
    let chunks = stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        if let Some(first) = state.first.take() {
            return Some((Ok(Frame::data(first)), Some(state)));
        }
        match state.conn.next_data(&mut state.framing, state.idle, state.until).await {
            Some(Ok(data)) => Some((Ok(Frame::data(data)), Some(state))),
            // An error ends the stream: the connection is dropped (closed) with the state.
            Some(Err(e)) => Some((Err(e), None)),
            None => {
                state.finish();
                None
            }
        }
    });
    (response, StreamBody::new(chunks))
}

impl State {
    /// The body ended cleanly: the connection is pooled if nothing says otherwise.
    fn finish(self) {
        if self.keep_alive && self.framing.delimited() && self.conn.clean() {
            let pools = if self.tls { &IDLE_TLS } else { &IDLE };
            checkin(pools, &self.authority, self.conn.idle(), std::time::Instant::now());
        }
    }
}
