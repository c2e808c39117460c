//! A streamed call's usage at the edge, completed with the bytes that actually passed: the
//! body's chunks are counted as the client takes them (the announced `Content-Length` would
//! count a cut-off body whole and an unannounced one as 0), and a relayed WebSocket's
//! messages both ways. The event is recorded when the stream ends — cleanly, broken, or
//! cancelled by a client that went away — inside `wait_until`, which keeps the isolate alive
//! for it, and the usage is then flushed as after any response.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use futures_channel::oneshot;
use futures_util::Stream;
use gatehouse_core::body::Body;
use gatehouse_core::ports::UsageSink;
use gatehouse_core::usage::StreamedUsage;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::ReadableStream;
use worker::{Context, Env, WebSocketPair};

use super::convert::EdgeBody;
use super::stream::EdgeStream;
use super::{relay, usage};

/// A shared count of bytes, read once the call is over.
pub type Counter = Rc<Cell<u64>>;

/// `raw`'s chunks, their bytes added to `counter` as they pass; `done` is told once how the
/// stream ended (`None`: cleanly), including when it is dropped unfinished.
struct Counted {
    inner: wasm_streams::readable::IntoStream<'static>,
    counter: Counter,
    done: Option<oneshot::Sender<Option<String>>>,
}

impl Counted {
    fn end(&mut self, cause: Option<String>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(cause);
        }
    }
}

impl Stream for Counted {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                let n = chunk.dyn_ref::<js_sys::Uint8Array>().map_or(0, |a| u64::from(a.length()));
                self.counter.set(self.counter.get() + n);
            }
            Poll::Ready(Some(Err(e))) => {
                let cause =
                    e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()));
                self.end(Some(cause));
            }
            Poll::Ready(None) => self.end(None),
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.end(Some("the client went away before the body ended".into()));
    }
}

/// `raw`, counting its bytes into `counter` (and telling `done` how it ended, when given).
pub fn count(raw: ReadableStream, counter: Counter, done: Option<oneshot::Sender<Option<String>>>) -> ReadableStream {
    let inner = wasm_streams::ReadableStream::from_raw(raw).into_stream();
    wasm_streams::ReadableStream::from_stream(Counted { inner, counter, done }).into_raw()
}

/// Arranges for a streamed call's usage to be recorded once its body (or socket) has ended;
/// `counted_in` holds the bytes of a streamed request body as they were forwarded.
pub fn complete(
    response: &mut http::Response<EdgeBody>,
    usage: StreamedUsage,
    counted_in: Counter,
    env: &Env,
    ctx: &Context,
) -> worker::Result<()> {
    let sink = usage::EdgeUsage::new(env);
    let env = env.clone();
    match std::mem::take(response.body_mut()) {
        Body::Full(bytes) => {
            sink.record(usage.event(counted_in.get(), bytes.len() as u64));
            *response.body_mut() = Body::Full(bytes);
        }
        Body::Stream(EdgeStream::Body(raw)) => {
            let (sent, (done, ended)) = (Counter::default(), oneshot::channel());
            *response.body_mut() = Body::Stream(EdgeStream::Body(count(raw, Rc::clone(&sent), Some(done))));
            ctx.wait_until(async move {
                let cause = ended.await.unwrap_or_else(|_| Some("the body was never read".into()));
                if let Some(cause) = &cause {
                    broken(&usage, cause);
                }
                sink.record(usage.event(counted_in.get(), sent.get()));
                usage::flush_now(&env).await;
            });
        }
        Body::Stream(EdgeStream::Socket(upstream, timeouts)) => {
            let pair = WebSocketPair::new()?;
            *response.body_mut() = Body::Stream(EdgeStream::Socket(pair.client, timeouts));
            ctx.wait_until(async move {
                let closed = relay::relay(pair.server, upstream, timeouts).await;
                if let Some(cause) = &closed.cause {
                    broken(&usage, cause);
                }
                let mut event = usage.event(closed.from_client, closed.to_client);
                // A socket's bytes from the client are its messages: the upgrade had no body.
                event.bytes_in = closed.from_client;
                sink.record(event);
                usage::flush_now(&env).await;
            });
        }
    }
    Ok(())
}

/// Logs a stream that ended early, with its API and the cause (never a key or identity).
fn broken(usage: &StreamedUsage, cause: &str) {
    if cause.starts_with("the client") {
        worker::console_debug!("stream ended: the client went away (api {} {})", usage.api_id, usage.api_name);
    } else {
        worker::console_warn!("stream broken mid-body: api {} ({}): {}", usage.api_id, usage.api_name, cause);
    }
}
