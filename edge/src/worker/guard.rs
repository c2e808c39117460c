//! The API's stream timeouts after the response head, at the edge as natively: the idle
//! timeout between two chunks (or WebSocket messages) and the maximum duration of the whole
//! call. Without them a stalled upstream would hold the client until the platform's own
//! limits, and a stream could outlive what the API allows.
//!
//! The upstream's body passes through Rust as the platform's chunks (`JsValue`s, never
//! copied into wasm memory), each wait for one raced against a timer; when the timer wins, the
//! upstream's body is cancelled (its connection closes) and the client's stream errors, so
//! the client sees a body cut short (no last chunk, or fewer bytes than announced), never one
//! that looks complete.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::Stream;
use gatehouse_core::ports::UpstreamCall;
use wasm_bindgen::JsValue;
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

    /// When the wait for the next chunk runs out (Unix ms) if the last one came at `last`,
    /// and what that means.
    pub fn expiry(&self, last: i64) -> (i64, Expired) {
        let idle_at = last.saturating_add(self.idle_ms as i64);
        match self.deadline {
            Some((end, max)) if end <= idle_at => (end, Expired::MaxDuration(max)),
            _ => (idle_at, Expired::Idle(self.idle_ms)),
        }
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

/// The upstream's chunks with the timeouts applied. A timer is armed only when a chunk is not
/// ready at once, and kept while the same task waits; `worker::Delay` wakes the task that
/// first polled it, and the platform pulls each chunk in a task of its own, so a timer from
/// an earlier pull is replaced rather than trusted to wake this one.
struct Guarded {
    /// `None` once the stream has ended (or been cut).
    chunks: Option<wasm_streams::readable::IntoStream<'static>>,
    timeouts: Timeouts,
    timer: Option<(Delay, Waker)>,
    /// When the last chunk arrived (Unix ms).
    last: i64,
}

impl Stream for Guarded {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(chunks) = this.chunks.as_mut() else { return Poll::Ready(None) };
        if let Poll::Ready(next) = Pin::new(chunks).poll_next(cx) {
            match &next {
                Some(Ok(_)) => this.last = clock::now(),
                Some(Err(_)) | None => this.chunks = None,
            }
            return Poll::Ready(next);
        }
        loop {
            let (at, expired) = this.timeouts.expiry(this.last);
            let now = clock::now();
            if at <= now {
                // Dropping the reader cancels the upstream's body, which closes its connection.
                this.chunks = None;
                this.timer = None;
                return Poll::Ready(Some(Err(js_sys::Error::new(&expired.cause()).into())));
            }
            if this.timer.as_ref().is_some_and(|(_, waker)| !waker.will_wake(cx.waker())) {
                this.timer = None;
            }
            let (timer, _) = this
                .timer
                .get_or_insert_with(|| (Delay::from(Duration::from_millis((at - now) as u64)), cx.waker().clone()));
            match Pin::new(timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => this.timer = None,
            }
        }
    }
}

/// `raw` with `timeouts` applied between its chunks: the stream the client gets.
pub fn guard(raw: ReadableStream, timeouts: Timeouts) -> ReadableStream {
    let chunks = Some(wasm_streams::ReadableStream::from_raw(raw).into_stream());
    let guarded = Guarded { chunks, timeouts, timer: None, last: clock::now() };
    wasm_streams::ReadableStream::from_stream(guarded).into_raw()
}
