//! The API's stream timeouts after the response head, at the edge as natively: the idle
//! timeout between two chunks (or WebSocket messages) and the maximum duration of the whole
//! call. Without them a stalled upstream would hold the client until the platform's own
//! limits, and a stream could outlive what the API allows.
//!
//! The upstream's body passes through Rust as the platform's chunks (`JsValue`s, never
//! copied into wasm memory), each read raced against a timer; when the timer wins, the
//! upstream's body is cancelled (its connection closes) and the client's stream errors, so
//! the client sees a body cut short (no last chunk, or fewer bytes than announced), never one
//! that looks complete.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};
use gatehouse_core::ports::UpstreamCall;
use web_sys::ReadableStream;
use worker::Delay;

use super::clock;

/// The per-API limits on a call once its head has arrived.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Longest silence between two chunks or messages.
    pub idle_ms: u64,
    /// When the call must be over (Unix ms) and the API's maximum duration, when it sets one.
    pub deadline: Option<(i64, u64)>,
}

/// Which limit a wait ran into.
#[derive(Debug, Clone, Copy)]
pub enum Expired {
    Idle(u64),
    MaxDuration(u64),
}

impl Expired {
    /// The cause, for the log and the error the client's stream ends with.
    pub fn cause(self) -> String {
        match self {
            Expired::Idle(ms) => format!("no data for {ms} ms (the API's idle timeout)"),
            Expired::MaxDuration(ms) => format!("the call reached the API's maximum duration of {ms} ms"),
        }
    }
}

impl Timeouts {
    /// The limits of `call`, which started at `started` (Unix ms).
    pub fn of(call: &UpstreamCall, started: i64) -> Timeouts {
        let deadline = call.max_duration_ms.map(|max| (started.saturating_add(max as i64), max));
        Timeouts { idle_ms: call.idle_ms, deadline }
    }

    /// How long the next read may wait, and what it means when that runs out; `0` when the
    /// maximum duration is already reached.
    pub fn next_wait(&self) -> (u64, Expired) {
        match self.deadline {
            Some((end, max)) => {
                let left = end.saturating_sub(clock::now()).max(0) as u64;
                if left < self.idle_ms {
                    (left, Expired::MaxDuration(max))
                } else {
                    (self.idle_ms, Expired::Idle(self.idle_ms))
                }
            }
            None => (self.idle_ms, Expired::Idle(self.idle_ms)),
        }
    }
}

/// `raw` with `timeouts` applied between its chunks: the stream the client gets.
pub fn guard(raw: ReadableStream, timeouts: Timeouts) -> ReadableStream {
    let chunks = wasm_streams::ReadableStream::from_raw(raw).into_stream();
    let guarded = stream::unfold(Some(chunks), move |state| async move {
        let mut chunks = state?;
        let (wait, expired) = timeouts.next_wait();
        let next = if wait == 0 {
            None
        } else {
            match select(chunks.next(), Delay::from(Duration::from_millis(wait))).await {
                Either::Left((next, _)) => Some(next),
                Either::Right(((), _)) => None,
            }
        };
        match next {
            Some(Some(Ok(chunk))) => Some((Ok(chunk), Some(chunks))),
            Some(Some(Err(e))) => Some((Err(e), None)),
            Some(None) => None,
            None => {
                // Dropping the reader cancels the upstream's body, which closes its connection.
                drop(chunks);
                Some((Err(js_sys::Error::new(&expired.cause()).into()), None))
            }
        }
    });
    wasm_streams::ReadableStream::from_stream(guarded).into_raw()
}
