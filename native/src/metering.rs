//! The usage event and access-log line of a call whose body streams (or whose connection was
//! switched to WebSocket), completed when the stream ends: bytes as they passed, the latency
//! to the response head as the pipeline measured it, and the total duration beside it.
//!
//! A stream that ends early is logged with its API and cause: a warning when the upstream
//! broke or timed out, a debug line when the client went away.

use std::sync::Arc;
use std::time::Instant;

use gatehouse_core::body::Body;
use gatehouse_core::ports::UsageSink;
use gatehouse_core::usage::StreamedUsage;
use http::{HeaderValue, Response};

use crate::access_log;
use crate::adapters::usage::UsageRecorder;
use crate::body::{BodyError, Counter, GatewayBody, Metered, NativeStream};

/// What the access-log line of a streamed call says besides the usage event.
pub struct CallLog {
    pub request_id: HeaderValue,
    pub client: Option<std::net::IpAddr>,
    pub method: String,
    pub path: String,
    pub cache: Option<HeaderValue>,
    /// Write the access-log line at all.
    pub enabled: bool,
}

/// Everything needed once the stream has ended.
struct Ending {
    usage: StreamedUsage,
    sink: Arc<UsageRecorder>,
    counted_in: Counter,
    started: Instant,
    log: CallLog,
}

/// Arranges for `response`'s usage to be recorded (and its line logged) when its body ends:
/// at once for a body held whole (only the request streamed), else when the stream does.
pub fn meter(
    response: &mut Response<GatewayBody>,
    usage: StreamedUsage,
    sink: &Arc<UsageRecorder>,
    counted_in: Counter,
    started: Instant,
    log: CallLog,
) {
    let ending = Ending { usage, sink: Arc::clone(sink), counted_in, started, log };
    let body = std::mem::take(response.body_mut());
    *response.body_mut() = match body {
        Body::Full(bytes) => {
            ending.end(bytes.len() as u64, None, None);
            Body::Full(bytes)
        }
        Body::Stream(NativeStream::Body(stream)) => {
            let on_end = Box::new(move |sent: u64, error: Option<&BodyError>| ending.end(sent, None, error));
            Body::Stream(NativeStream::body(Metered::new(stream.into_inner(), on_end)))
        }
        Body::Stream(NativeStream::Tunnel(tunnel)) => {
            let mut tunnel = tunnel.into_inner();
            tunnel.on_close = Some(Box::new(move |from_client: u64, to_client: u64, error: Option<&BodyError>| {
                ending.end(to_client, Some(from_client), error);
            }));
            Body::Stream(NativeStream::tunnel(*tunnel))
        }
    };
}

impl Ending {
    /// Records the event with `sent` bytes out (and `received` in, for a tunnel, else what
    /// the request's body counted) and logs the line, and why the stream ended early if it did.
    fn end(self, sent: u64, received: Option<u64>, error: Option<&BodyError>) {
        let Ending { usage, sink, counted_in, started, log } = self;
        let counted = received.unwrap_or_else(|| counted_in.get());
        let duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let request_id = log.request_id.to_str().unwrap_or_default();
        match error {
            Some(BodyError::Broken(why)) if why.starts_with("the client") => {
                tracing::debug!(request_id, api = %usage.api_name, cause = %why, "stream ended: the client went away");
            }
            Some(cause) => {
                tracing::warn!(request_id, api = %usage.api_name, api_id = %usage.api_id, %cause, "stream broken mid-body");
            }
            None => {}
        }
        let mut event = usage.event(counted, sent);
        if received.is_some() {
            // A tunnel's bytes from the client are its messages: the upgrade had no body.
            event.bytes_in = counted;
        }
        sink.record(event);
        let facts = access_log::take();
        if log.enabled {
            let facts = facts.map(|facts| access_log::Facts { duration_us: Some(duration_us), ..facts });
            let (method, path) = (log.method.as_str(), log.path.as_str());
            access_log::write(&log.request_id, log.client, method, path, usage.status, log.cache.as_ref(), facts);
        }
    }
}
