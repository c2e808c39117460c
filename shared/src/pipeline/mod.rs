//! The data-plane request pipeline, the same on the edge and natively:
//! route → authenticate → authorize → lifecycle → limits → cache → upstream → usage event.
//!
//! It is generic over the runtime's [`Adapters`], holds no state of its own, and turns every
//! refusal into an RFC 9457 problem with one [`Outcome`].

mod admit;
mod bearer;
pub mod client_certificate;
pub mod cors;
mod credential;
pub mod forward;
pub mod forwarded;
pub mod identity_header;
mod limit_checks;
mod proxy;
mod refuse;
mod sensitive;
pub mod upgrade;
mod validate;

use std::sync::Arc;

use http::{Request, Response};

use crate::body::{over_limit, Body};
use crate::config::GatewayConfig;
use crate::entitlements::Identity;
use crate::field_value::from_string;
use crate::model::{Api, Key};
use crate::ports::{Clock, Limiter, ReadModel, ResponseCache, TokenVerifier, Upstream, UsageSink};
use crate::time::UnixMillis;
use crate::usage::{StreamedUsage, UsageEvent};
use crate::verdict::Outcome;

pub use admit::Admitted;

/// Appends computed headers (lifecycle) to a response; a value that is not a valid header
/// value is left out rather than failing the call.
fn append_headers<B>(response: &mut Response<B>, headers: Vec<(http::HeaderName, String)>) {
    for (name, value) in headers {
        if let Some(value) = from_string(value) {
            response.headers_mut().append(name, value);
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
    type Tokens: TokenVerifier;
    fn read_model(&self) -> &Self::Read;
    fn limiter(&self) -> &Self::Limit;
    fn cache(&self) -> &Self::Cache;
    fn upstream(&self) -> &Self::Up;
    fn usage(&self) -> &Self::Usage;
    fn clock(&self) -> &Self::Clock;
    fn tokens(&self) -> &Self::Tokens;
}

/// A body as the runtime `A` streams it.
pub type BodyOf<A> = Body<<<A as Adapters>::Up as Upstream>::Stream>;

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

    /// Handles one request end to end and records its usage event. Borrows the request (a
    /// 256-byte `Request` moved into this future would be copied on every call) mutably: a
    /// call to an API with caching off forwards the request's own header map, which leaves it
    /// empty, and a forwarded body is taken out of it.
    ///
    /// When either body streams, the usage event is not recorded here: the response carries
    /// a [`StreamedUsage`] in its extensions, which the runtime completes with the bytes it
    /// moved and records once the body has passed.
    pub async fn handle(&self, request: &mut Request<BodyOf<A>>) -> Response<BodyOf<A>> {
        // The portal's CORS preflight is answered here, before anything else: it carries no
        // key and is no API call, so it is neither limited nor counted.
        let cors = cors::decide(self.config.portal_origin.as_deref(), request.method(), request.headers());
        if let cors::Cors::Preflight(response) = cors {
            return response.map(Body::Full);
        }
        // Who is asking, for the runtime's log (`ClientIp`), read before anything takes the
        // request's headers. (What the upstream is told is worked out only for calls that go
        // upstream, in `proxy`.)
        let peer = request.extensions().get::<forwarded::Peer>().copied();
        let client_ip = forwarded::client_ip(request.headers(), peer, &self.config.trusted_proxies);
        let clock = self.adapters.clock();
        let started = clock.monotonic_micros();
        let now = clock.now();
        let bytes_in = request.body().known_len(request.headers());
        let streamed_in = request.body().is_stream();
        let mut trace = Trace { outcome: Outcome::NoRoute, api: None, operation: 0, caller: KnownCaller::default() };
        // The stages inline rather than in a helper `async fn`: each level of future the
        // response passes through copies it again.
        let portal = self.config.portal_origin.as_deref();
        let mut invalid = false;
        let (response, cache_hit, classes) =
            match admit::admit(&self.adapters, request, client_ip, now, portal, &mut trace).await {
                Ok(admitted) => {
                    let limit = admitted.api.upstream.max_body_bytes.unwrap_or(self.config.max_body_bytes as u64);
                    if over_limit(bytes_in, limit) {
                        (refuse::too_large(limit).map(Body::Full), false, Vec::new())
                    } else if let Err(refusal) = self.validated(&admitted, request).await {
                        invalid = refusal.status() == http::StatusCode::BAD_REQUEST;
                        (refusal.map(Body::Full), false, Vec::new())
                    } else {
                        // Sensitive data: the response is filtered for this caller where it comes
                        // back, after the cache (see `sensitive`).
                        let guard = admitted.guard(now, portal);
                        guard.prepare(request);
                        let asked = guard.asked(request);
                        let (api, operation) = (admitted.api, admitted.operation);
                        let (mut response, hit) = admitted.forward(self, request, now).await;
                        if !hit {
                            validate::check_response(api, operation, &mut response);
                        }
                        let response = self.guarded(&guard, response).await;
                        let reached = guard.reached(&asked, &response);
                        (response, hit, reached)
                    }
                }
                Err(response) => ((*response).map(Body::Full), false, Vec::new()),
            };
        if invalid {
            trace.outcome = Outcome::InvalidRequest;
        }
        let latency_us = clock.monotonic_micros().saturating_sub(started);
        let mut response = response;
        match response.body().full_len() {
            Some(bytes_out) if !streamed_in => {
                let event = UsageEvent {
                    at: now,
                    api_id: trace.api.as_deref().map_or("", |api| api.id.as_str()),
                    operation_id: trace.operation_id(),
                    key_id: trace.caller.key.as_deref().map(|key| key.id.as_str()),
                    app_id: trace.caller.key.as_deref().map(|key| key.app_id.as_str()),
                    developer_id: trace.caller.identity.as_deref().map(|identity| identity.developer_id.as_str()),
                    end_user: trace.caller.subject.as_deref(),
                    status: response.status().as_u16(),
                    outcome: trace.outcome,
                    latency_us,
                    bytes_in: bytes_in.unwrap_or(0),
                    bytes_out,
                    cache_hit,
                    classes: &classes,
                };
                self.adapters.usage().record(event);
            }
            _ => {
                let status = response.status().as_u16();
                let usage = trace.streamed(status, now, latency_us, bytes_in, cache_hit, classes);
                response.extensions_mut().insert(usage);
            }
        }
        cors.decorate(&mut response);
        if let Some(ip) = client_ip {
            response.extensions_mut().insert(forwarded::ClientIp(ip));
        }
        response
    }
}

/// What the pipeline learnt about a request on its way through, kept by [`Gateway::handle`]
/// for the usage event, which borrows its ids from here. Refusals need it as much as admitted
/// calls: a disabled key's refusal is still that key's usage.
struct Trace {
    outcome: Outcome,
    /// The matched API, and the index of the matched operation in it.
    api: Option<Arc<Api>>,
    operation: usize,
    caller: KnownCaller,
}

/// The authenticated caller, as far as authentication got.
#[derive(Default)]
struct KnownCaller {
    key: Option<Arc<Key>>,
    identity: Option<Arc<Identity>>,
    /// A bearer token's `sub`: the end user, told to the upstream and kept apart in the cache.
    subject: Option<String>,
}

impl Trace {
    fn operation_id(&self) -> &str {
        self.api.as_deref().and_then(|api| api.operations.get(self.operation)).map_or("", |op| op.id.as_str())
    }

    /// The usage event of a streamed call, owned, for the runtime to complete.
    fn streamed(
        &self,
        status: u16,
        at: UnixMillis,
        latency_us: u64,
        bytes_in: Option<u64>,
        hit: bool,
        classes: Vec<String>,
    ) -> StreamedUsage {
        let key = self.caller.key.as_deref();
        StreamedUsage {
            at,
            api_id: self.api.as_deref().map_or_else(String::new, |api| api.id.clone()),
            api_name: self.api.as_deref().map_or_else(String::new, |api| api.name.clone()),
            operation_id: self.operation_id().to_owned(),
            key_id: key.map(|key| key.id.clone()),
            app_id: key.map(|key| key.app_id.clone()),
            developer_id: self.caller.identity.as_deref().map(|identity| identity.developer_id.clone()),
            end_user: self.caller.subject.clone(),
            status,
            outcome: self.outcome,
            latency_us,
            bytes_in,
            cache_hit: hit,
            classes,
        }
    }
}
#[cfg(test)]
mod tests;
