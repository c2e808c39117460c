//! The data-plane request pipeline, the same on the edge and natively:
//! route → authenticate → authorize → lifecycle → limits → cache → upstream → usage event.
//!
//! It is generic over the runtime's [`Adapters`], holds no state of its own, and turns every
//! refusal into an RFC 9457 problem with one [`Outcome`].

mod admit;
mod credential;
pub mod forward;
mod proxy;
mod refuse;

use bytes::Bytes;
use http::{Request, Response};

use crate::config::GatewayConfig;
use crate::ports::{Clock, Limiter, ReadModel, ResponseCache, Upstream, UsageSink};
use crate::usage::UsageEvent;
use crate::verdict::Outcome;

pub use admit::Admitted;

/// Appends computed headers (limits, lifecycle) to a response; a value that is not a valid
/// header value is left out rather than failing the call. Takes the strings to reuse their
/// buffers as the header values.
fn append_headers(response: &mut Response<Bytes>, headers: Vec<(http::HeaderName, String)>) {
    for (name, value) in headers {
        if let Ok(v) = http::HeaderValue::try_from(value) {
            response.headers_mut().append(name, v);
        }
    }
}
pub use credential::{find as find_credential, strip as strip_credential};
pub use refuse::too_large;

/// The ports one runtime supplies. Made concrete at each entry point.
pub trait Adapters {
    type Read: ReadModel;
    type Limit: Limiter;
    type Cache: ResponseCache;
    type Up: Upstream;
    type Usage: UsageSink;
    type Clock: Clock;
    fn read_model(&self) -> &Self::Read;
    fn limiter(&self) -> &Self::Limit;
    fn cache(&self) -> &Self::Cache;
    fn upstream(&self) -> &Self::Up;
    fn usage(&self) -> &Self::Usage;
    fn clock(&self) -> &Self::Clock;
}

/// The gateway: configuration plus the runtime's adapters.
pub struct Gateway<A> {
    pub adapters: A,
    pub config: GatewayConfig,
    signer: forward::IdentitySigner,
}

impl<A: Adapters> Gateway<A> {
    pub fn new(adapters: A, config: GatewayConfig) -> Self {
        let signer = forward::IdentitySigner::new(&config.identity_secret);
        Gateway { adapters, config, signer }
    }

    /// Handles one request end to end and records its usage event.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let clock = self.adapters.clock();
        let started = clock.monotonic_micros();
        let now = clock.now();
        let mut event = UsageEvent {
            at: now,
            api_id: String::new(),
            operation_id: String::new(),
            key_id: None,
            app_id: None,
            developer_id: None,
            status: 0,
            outcome: Outcome::NoRoute,
            latency_us: 0,
            bytes_in: request.body().len() as u64,
            bytes_out: 0,
            cache_hit: false,
        };
        let response = self.process(request, now, &mut event).await;
        event.status = response.status().as_u16();
        event.bytes_out = response.body().len() as u64;
        event.latency_us = clock.monotonic_micros().saturating_sub(started);
        self.adapters.usage().record(event);
        response
    }

    async fn process(&self, request: Request<Bytes>, now: i64, event: &mut UsageEvent) -> Response<Bytes> {
        if request.body().len() > self.config.max_body_bytes {
            return refuse::too_large(self.config.max_body_bytes);
        }
        let admitted = match admit::admit(&self.adapters, &request, now, event).await {
            Ok(admitted) => admitted,
            Err(response) => return *response,
        };
        admitted.forward(self, request, now, event).await
    }
}
#[cfg(test)]
mod tests;
