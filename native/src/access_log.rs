//! The access log: one line per gateway request, with the request id, the API, operation and
//! app the pipeline matched, status, latency, bytes, cache status and limit outcome. Never a
//! key, a token or any request header other than the request id.
//!
//! The pipeline reports those facts once, as its usage event ([`UsageSink::record`]); the
//! usage recorder keeps a copy of the last one in a thread-local ([`remember`]) and the
//! gateway's handler takes it ([`take`]) as soon as the pipeline returns. That pairs each line
//! with the right request because a gateway worker runs one task at a time and the pipeline
//! records its event after its last `await`: no other request can run on the thread between
//! the two.
//!
//! [`UsageSink::record`]: gatehouse_core::ports::UsageSink::record

use std::cell::RefCell;

use gatehouse_core::usage::UsageEvent;
use gatehouse_core::verdict::Outcome;
use http::HeaderValue;

/// What the pipeline said about one request, owned.
#[derive(Debug, Clone)]
pub struct Facts {
    pub api_id: String,
    pub operation_id: String,
    pub app_id: Option<String>,
    pub outcome: Outcome,
    pub latency_us: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// From the request to the end of a streamed body (or WebSocket), beside the latency to
    /// the response head; `None` for an answer sent whole, where they are the same.
    pub duration_us: Option<u64>,
}

thread_local! {
    static LAST: RefCell<Option<Facts>> = const { RefCell::new(None) };
}

/// Keeps `event`'s facts for this thread's next [`take`].
pub fn remember(event: &UsageEvent<'_>) {
    let facts = Facts {
        api_id: event.api_id.to_owned(),
        operation_id: event.operation_id.to_owned(),
        app_id: event.app_id.map(str::to_owned),
        outcome: event.outcome,
        latency_us: event.latency_us,
        bytes_in: event.bytes_in,
        bytes_out: event.bytes_out,
        duration_us: None,
    };
    let _ = LAST.try_with(|last| *last.borrow_mut() = Some(facts));
}

/// The facts [`remember`] kept last on this thread, if any.
pub fn take() -> Option<Facts> {
    LAST.try_with(|last| last.borrow_mut().take()).ok().flatten()
}

/// Writes the access-log line (target `access`, so a filter can route or silence it).
pub fn write(
    request_id: &HeaderValue,
    client: Option<std::net::IpAddr>,
    method: &str,
    path: &str,
    status: u16,
    cache: Option<&HeaderValue>,
    facts: Option<Facts>,
) {
    let facts = facts.unwrap_or(Facts {
        api_id: String::new(),
        operation_id: String::new(),
        app_id: None,
        outcome: Outcome::NoRoute,
        latency_us: 0,
        bytes_in: 0,
        bytes_out: 0,
        duration_us: None,
    });
    tracing::info!(
        target: "access",
        request_id = request_id.to_str().unwrap_or_default(),
        // The client as resolved through trusted proxies (the socket's peer otherwise).
        client = client.map(|ip| ip.to_string()).unwrap_or_default(),
        method,
        path,
        api = facts.api_id,
        operation = facts.operation_id,
        app = facts.app_id.as_deref().unwrap_or(""),
        status,
        latency_us = facts.latency_us,
        duration_us = facts.duration_us.unwrap_or(facts.latency_us),
        bytes_in = facts.bytes_in,
        bytes_out = facts.bytes_out,
        cache = cache.and_then(|v| v.to_str().ok()).unwrap_or(""),
        outcome = facts.outcome.code(),
    );
}
