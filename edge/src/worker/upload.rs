//! A streamed request body on its way upstream at the edge: counted as `fetch` reads it (for
//! usage), held to the API's limit, and watched ([`Progress`]), so that the wait for the
//! answer's head starts when the upload ends and a client that stalls mid-upload is cut off
//! after the API's idle timeout, as natively.
//!
//! Past the limit, the upload is never ended or errored: workerd's HTTP/1.1 client (kj) ends
//! an ended *or errored* chunked body with its last chunk, so the upstream would take a cut
//! body for a complete, shorter one. Instead the chunk that would cross the limit is held
//! back, the rest of the client's body is read and discarded (so the client, still sending,
//! reads the `413` rather than a reset, as the native gateway's lingering close does), and
//! then the `fetch` is aborted, which drops its connection mid-body.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::Stream;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::ReadableStream;

use super::clock;
use super::metered::Counter;

/// Most of a refused body read and discarded before the `fetch` is aborted anyway (a client
/// sending more than this may then see its connection reset instead of the `413`).
const DISCARD_MAX: u64 = 16 * 1024 * 1024;

/// How a streamed upload is going (Unix ms), shared with the upstream call's timer.
#[derive(Debug, Default)]
pub struct Progress {
    /// When the last chunk went upstream (or the call started).
    pub last: Cell<i64>,
    /// When the body ended, once it has.
    pub ended: Cell<Option<i64>>,
    /// The body went past the API's limit.
    pub exceeded: Cell<bool>,
}

struct Limited {
    inner: wasm_streams::readable::IntoStream<'static>,
    counter: Counter,
    limit: u64,
    progress: Rc<Progress>,
    discarded: u64,
    abort: Box<dyn Fn()>,
}

impl Limited {
    /// Reads and drops the rest of the client's body, then aborts the `fetch`; never yields.
    fn discard(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<JsValue, JsValue>>> {
        loop {
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.discarded += length(&chunk);
                    if self.discarded > DISCARD_MAX {
                        (self.abort)();
                        return Poll::Pending;
                    }
                }
                Poll::Ready(Some(Err(_)) | None) => {
                    (self.abort)();
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn length(chunk: &JsValue) -> u64 {
    chunk.dyn_ref::<js_sys::Uint8Array>().map_or(0, |a| u64::from(a.length()))
}

impl Stream for Limited {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.progress.exceeded.get() {
            return this.discard(cx);
        }
        let polled = Pin::new(&mut this.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                let n = length(chunk);
                if this.counter.get() + n > this.limit {
                    this.progress.exceeded.set(true);
                    return this.discard(cx);
                }
                this.counter.set(this.counter.get() + n);
                this.progress.last.set(clock::now());
            }
            Poll::Ready(None) => this.progress.ended.set(Some(clock::now())),
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }
}

/// `raw` counted into `counter`, held to `limit` bytes and watched; `abort` aborts the
/// `fetch`. `progress` says when it moved, ended, or crossed the limit (so the failed call
/// becomes the `413` that names it).
pub fn watch(
    raw: ReadableStream,
    limit: u64,
    counter: Counter,
    progress: Rc<Progress>,
    abort: Box<dyn Fn()>,
) -> ReadableStream {
    let inner = wasm_streams::ReadableStream::from_raw(raw).into_stream();
    let limited = Limited { inner, counter, limit, progress, discarded: 0, abort };
    wasm_streams::ReadableStream::from_stream(limited).into_raw()
}
