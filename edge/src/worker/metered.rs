//! A streamed call's usage at the edge, completed with the bytes that actually passed: the
//! body's chunks are counted as the client takes them ([`super::tap`]) (the announced `Content-Length` would
//! count a cut-off body whole and an unannounced one as 0), and a relayed WebSocket's
//! messages both ways. The event is recorded when the stream ends — cleanly, broken, or
//! cancelled by a client that went away — inside `wait_until`, which keeps the isolate alive
//! for it, and the usage is then flushed as after any response.

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::oneshot;
use gatehouse_core::body::Body;
use gatehouse_core::ports::UsageSink;
use gatehouse_core::usage::StreamedUsage;
use wasm_bindgen::JsValue;
use web_sys::ReadableStream;
use worker::{Context, Env, WebSocketPair};

use super::convert::EdgeBody;
use super::guard::Timeouts;
use super::stream::EdgeStream;
use super::{relay, usage};

/// A shared count of bytes, read once the call is over.
pub type Counter = Rc<Cell<u64>>;

/// A body seen through a [`super::tap`]: the stream to hand on, its bytes so far and how it
/// ended, once it has.
pub struct Tapped {
    pub stream: ReadableStream,
    pub sent: Counter,
    pub ended: oneshot::Receiver<Option<String>>,
}

/// `raw` through a tap that counts its bytes as the client takes them (and applies
/// `timeouts`, when given).
pub fn tapped(raw: &ReadableStream, timeouts: Option<Timeouts>) -> Tapped {
    let (sent, (done, ended)) = (Counter::default(), oneshot::channel());
    let counter = Rc::clone(&sent);
    let stream = super::tap::tap(raw, timeouts, move |bytes, cause| {
        counter.set(bytes);
        let _ = done.send(cause);
    });
    Tapped { stream, sent, ended }
}

/// Arranges for a streamed call's usage to be recorded once its body (or socket) has ended;
/// `counted_in` holds the bytes of a streamed request body as they were forwarded.
pub fn complete(
    response: &mut http::Response<EdgeBody>,
    usage: StreamedUsage,
    counted_in: Counter,
    guarded: Option<Tapped>,
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
            // The upstream's body as the upstream adapter tapped it (its timeouts), when the
            // pipeline handed it on as it was: one tap then counts too. Otherwise (the cache
            // read some of it and rebuilt the stream) a tap of its own counts what the client takes.
            let Tapped { stream, sent, ended } = match guarded {
                Some(tap) if AsRef::<JsValue>::as_ref(&tap.stream) == AsRef::<JsValue>::as_ref(&raw) => tap,
                _ => tapped(&raw, None),
            };
            *response.body_mut() = Body::Stream(EdgeStream::Body(stream));
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
        worker::console_debug!("stream ended early: api {} ({}): {}", usage.api_id, usage.api_name, cause);
    } else {
        worker::console_warn!("stream broken mid-body: api {} ({}): {}", usage.api_id, usage.api_name, cause);
    }
}
