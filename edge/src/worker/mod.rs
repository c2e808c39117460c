//! The Worker: `#[event(fetch)]` wires `env` → adapters → the core's [`Gateway`]. Everything
//! that decides anything lives in `gatehouse-core`; this module only binds Cloudflare's
//! primitives to the core's ports.

mod cache_api;
mod clock;
mod convert;
mod guard;
mod jwks;
mod limiter;
mod metered;
mod read_model;
mod relay;
mod revocations;
mod stream;
mod tap;
mod tokens;
mod upload;
mod upstream;
mod usage;
mod webcrypto;

use gatehouse_core::config::GatewayConfig;
use gatehouse_core::pipeline::forwarded::Peer;
use gatehouse_core::pipeline::{Adapters, Gateway};
use gatehouse_core::problem::{Problem, ProblemKind};
use gatehouse_core::usage::StreamedUsage;
use gatehouse_core::validation::ResponseMismatch;
use worker::{event, Context, Env, Method, Request, Response, Result};

use crate::client_certificate;
use crate::layout::{names, test_hooks_enabled, test_limiter_object, PURGES_PATH, REVOCATIONS_PATH};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    if path == REVOCATIONS_PATH && req.method() == Method::Post {
        return revocations::accept(req, &env).await;
    }
    if path == PURGES_PATH && req.method() == Method::Post {
        return revocations::accept_purge(req, &env).await;
    }
    // Test hooks (GATEHOUSE_TEST_HOOKS=1 in the test's bindings only): read-only inspection of
    // a limiter object. Without the var this path goes to the gateway like any unknown route.
    if let Some(object) = test_limiter_object(&path) {
        if req.method() == Method::Get && test_hooks_enabled(setting(&env, names::TEST_HOOKS).as_deref()) {
            return limiter::inspect(&env, object).await;
        }
    }
    let config = match GatewayConfig::from_lookup(|name| setting(&env, name)) {
        Ok(config) => config,
        // Misconfigured: refuse (fail closed) and say nothing about which setting.
        Err(_) => {
            let refusal = Problem::new(ProblemKind::ServiceUnavailable).into_response();
            return convert::to_worker(refusal.map(gatehouse_core::body::Body::Full));
        }
    };
    // Read before the request is converted: `cf` is the platform's, not a header a client sets.
    let certificate = req.cf().and_then(|cf| cf.tls_client_auth()).and_then(|auth| {
        client_certificate::verified(&auth.cert_presented(), &auth.cert_verified(), &auth.cert_subject_dn_rfc2253())
    });
    let mut request = convert::to_http(req).await?;
    if let Some(certificate) = certificate {
        request.extensions_mut().insert(certificate);
    }
    // The client as Cloudflare saw it (it overwrites any client-sent CF-Connecting-IP): the
    // peer whose forwarding fields the core believes only if it is a trusted proxy.
    let https = request.uri().scheme_str() == Some("https");
    if let Some(ip) = request.headers().get("cf-connecting-ip").and_then(|v| v.to_str().ok()?.parse().ok()) {
        request.extensions_mut().insert(Peer { ip, https });
    }
    let gateway = Gateway::new(EdgeAdapters::new(&env), config);
    let mut response = gateway.handle(&mut request).await;
    if let Some(mismatch) = response.extensions_mut().remove::<ResponseMismatch>() {
        // Pointers only, never values (docs/validation.md); Workers Logs keep the line.
        let ResponseMismatch { api_id, operation_id, status, pointers } = mismatch;
        worker::console_warn!(
            "response does not match the API's description: api {api_id} operation {operation_id} status {status} at {}",
            pointers.join(", ")
        );
    }
    if setting(&env, names::SERVER_TIMING).as_deref() == Some("1") {
        gateway.adapters.limiter.server_timing(&mut response);
    }
    // A streamed call's usage, recorded once its body or socket has ended, with the bytes
    // that passed (the platform pipes the body after this handler returns).
    if let Some(usage) = response.extensions_mut().remove::<StreamedUsage>() {
        let uploaded = std::rc::Rc::clone(&gateway.adapters.upstream.uploaded);
        let guarded = gateway.adapters.upstream.guarded.borrow_mut().take();
        metered::complete(&mut response, usage, uploaded, guarded, &env, &ctx)?;
    }
    usage::flush(&env, &ctx);
    convert::to_worker(response)
}

/// A var or a secret from the Worker's `env`.
pub(crate) fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
}

/// The Worker's adapters for the core's ports, built per request from `env` (cheap: the
/// expensive state — read cache, deny list and purge log, usage, key sets and verified
/// tokens — lives per isolate in the adapters' modules).
pub struct EdgeAdapters {
    read_model: read_model::KvReadModel,
    limiter: limiter::DurableLimiter,
    cache: cache_api::CacheApiCache,
    upstream: upstream::FetchUpstream,
    usage: usage::EdgeUsage,
    clock: clock::JsClock,
    tokens: tokens::WebCryptoVerifier,
}

impl EdgeAdapters {
    fn new(env: &Env) -> Self {
        EdgeAdapters {
            read_model: read_model::KvReadModel::new(env.clone()),
            limiter: limiter::DurableLimiter::new(env.clone()),
            cache: cache_api::CacheApiCache::new(env.clone()),
            upstream: upstream::FetchUpstream::default(),
            usage: usage::EdgeUsage::new(env),
            clock: clock::JsClock,
            tokens: tokens::WebCryptoVerifier::new(env.clone()),
        }
    }
}

impl Adapters for EdgeAdapters {
    type Read = read_model::KvReadModel;
    type Limit = limiter::DurableLimiter;
    type Cache = cache_api::CacheApiCache;
    type Up = upstream::FetchUpstream;
    type Usage = usage::EdgeUsage;
    type Clock = clock::JsClock;
    type Tokens = tokens::WebCryptoVerifier;
    fn read_model(&self) -> &Self::Read {
        &self.read_model
    }
    fn limiter(&self) -> &Self::Limit {
        &self.limiter
    }
    fn cache(&self) -> &Self::Cache {
        &self.cache
    }
    fn upstream(&self) -> &Self::Up {
        &self.upstream
    }
    fn usage(&self) -> &Self::Usage {
        &self.usage
    }
    fn clock(&self) -> &Self::Clock {
        &self.clock
    }
    fn tokens(&self) -> &Self::Tokens {
        &self.tokens
    }
}
