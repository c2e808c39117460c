//! The pipeline with in-memory ports: the order of checks, failure modes and what reaches the
//! upstream. End-to-end tests over real HTTP live in the native crate.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Request, Response};
use sha2::Sha256;

use super::{Adapters, Gateway};
use crate::body::Body;
use crate::cache::testkit::{block_on, MapCache};
use crate::config::GatewayConfig;
use crate::entitlements::{Grant, Identity};
use crate::jwt::{JwtSettings, KeySource, Parsed, Refusal};
use crate::keys::{self, KeyEnv, KeyHash};
use crate::lifecycle::Lifecycle;
use crate::limits::{
    self, CounterState, FailureMode, LimitCheck, LimitDecision, LimitKind, LimitPolicy, LimitScope, QuotaWindow,
};
use crate::model::{Api, AuthSettings, CacheSettings, Key, KeyStatus, Operation, UpstreamSettings};
use crate::ports::{
    Clock, Collected, Limiter, PortError, ReadModel, SignatureError, TokenVerifier, Upstream, UpstreamCall,
    UpstreamError, UsageSink,
};
use crate::routing::RouteTable;
use crate::usage::UsageEvent;
use crate::verdict::Outcome;

mod bearer;
mod mtls;
mod streaming;
mod validation;

const NOW: i64 = 1_800_000_000_000;
const PORTAL: &str = "http://portal.test";

/// What a test needs of a usage event, owned (events borrow from the request's records).
struct Recorded {
    outcome: Outcome,
    key_id: Option<String>,
    status: u16,
}

struct Fakes {
    routes: Arc<RouteTable>,
    key: Key,
    identity: Arc<Identity>,
    key_lookups: Cell<u32>,
    counters: RefCell<HashMap<String, CounterState>>,
    limiter_down: bool,
    cache: MapCache,
    upstream_seen: RefCell<Vec<Request<TestBody>>>,
    events: RefCell<Vec<Recorded>>,
}

impl ReadModel for Fakes {
    async fn routes(&self) -> Result<Arc<RouteTable>, PortError> {
        Ok(Arc::clone(&self.routes))
    }
    async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<Key>>, PortError> {
        self.key_lookups.set(self.key_lookups.get() + 1);
        Ok((hash == &self.key.hash).then(|| Arc::new(self.key.clone())))
    }
    async fn identity(&self, app_id: &str) -> Result<Option<Arc<Identity>>, PortError> {
        Ok((app_id == self.identity.app_id).then(|| Arc::clone(&self.identity)))
    }
}

impl Limiter for Fakes {
    async fn acquire(&self, checks: &[LimitCheck], now: i64) -> Result<LimitDecision, PortError> {
        if self.limiter_down {
            return Err(PortError::new("limiter", "down"));
        }
        let mut counters = self.counters.borrow_mut();
        let states: Vec<_> = checks.iter().map(|c| counters.get(&c.counter).copied()).collect();
        let eval = limits::evaluate(checks, &states, now, 1);
        for (check, state) in checks.iter().zip(eval.writes.into_iter().flatten()) {
            counters.insert(check.counter.clone(), state);
        }
        Ok(eval.decision)
    }
}

/// A body in these tests: whole, or a list of chunks standing for a runtime's stream.
type TestBody = Body<Vec<Bytes>>;

impl Upstream for Fakes {
    type Stream = Vec<Bytes>;

    /// Answers `{}`, or what the request's `x-test-*` fields ask for (see `tests::streaming`).
    async fn send(&self, request: Request<TestBody>, call: &UpstreamCall) -> Result<Response<TestBody>, UpstreamError> {
        let answer = streaming::answer(&request, call);
        self.upstream_seen.borrow_mut().push(request);
        answer
    }

    async fn collect(&self, stream: Vec<Bytes>, limit: usize) -> Collected<Vec<Bytes>> {
        if stream.iter().map(Bytes::len).sum::<usize>() > limit {
            return Collected::TooLarge(stream);
        }
        Collected::Whole(stream.concat().into())
    }
}

impl UsageSink for Fakes {
    fn record(&self, event: UsageEvent) {
        let (outcome, key_id, status) = (event.outcome, event.key_id.map(str::to_owned), event.status);
        self.events.borrow_mut().push(Recorded { outcome, key_id, status });
    }
}

impl Clock for Fakes {
    fn now(&self) -> i64 {
        NOW
    }
    fn monotonic_micros(&self) -> u64 {
        0
    }
}

/// HS256 with the API's static keys, checked for real: enough to drive the pipeline's token
/// path. The runtimes' verifiers (ring natively, WebCrypto at the edge) are tested in their crates.
impl TokenVerifier for Fakes {
    async fn verify(&self, settings: &JwtSettings, _raw: &str, token: &Parsed<'_>) -> Result<Arc<str>, SignatureError> {
        let Some(KeySource::Static(keys)) = settings.key_source() else {
            return Err(SignatureError::KeysUnavailable(PortError::new("jwks", "the fakes hold static keys only")));
        };
        let key =
            keys.find(token.kid.as_deref(), token.algorithm).ok_or(SignatureError::Refused(Refusal::UnknownKey))?;
        let secret = key.k.as_deref().and_then(|k| URL_SAFE_NO_PAD.decode(k).ok()).unwrap_or_default();
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&secret).map_err(|_| SignatureError::Refused(Refusal::UnknownKey))?;
        mac.update(token.signing_input.as_bytes());
        mac.verify_slice(&token.signature).map_err(|_| SignatureError::Refused(Refusal::BadSignature))?;
        Ok(settings.issuer.as_deref().unwrap_or_default().into())
    }
}

impl Adapters for Fakes {
    type Read = Self;
    type Limit = Self;
    type Cache = MapCache;
    type Up = Self;
    type Usage = Self;
    type Clock = Self;
    type Tokens = Self;
    fn tokens(&self) -> &Self {
        self
    }
    fn read_model(&self) -> &Self {
        self
    }
    fn limiter(&self) -> &Self {
        self
    }
    fn cache(&self) -> &MapCache {
        &self.cache
    }
    fn upstream(&self) -> &Self {
        self
    }
    fn usage(&self) -> &Self {
        self
    }
    fn clock(&self) -> &Self {
        self
    }
}

fn gateway(limits: Vec<LimitPolicy>, limiter_down: bool) -> (Gateway<Fakes>, String) {
    let secret = keys::generate(KeyEnv::Live, &[9; 24]);
    let op = Operation {
        id: "getPet".into(),
        method: "GET".into(),
        path: "/pets/{id}".into(),
        public: false,
        scopes: vec![],
        requirements: vec![],
        summary: None,
        discriminators: Vec::new(),
        refused: None,
        sensitivity: None,
        mock: None,
        validator: None,
    };
    let root_op = op.clone();
    let api = Api {
        id: "api_1".into(),
        name: "Pets".into(),
        version: "1".into(),
        base_path: "/v1".into(),
        hosts: vec![],
        upstream: UpstreamSettings {
            url: "http://upstream.test/base".into(),
            timeout_ms: 1000,
            forward_credential: false,
            ..Default::default()
        },
        auth: AuthSettings::default(),
        cache: CacheSettings { enabled: true, public: false, default_ttl_secs: None },
        lifecycle: Lifecycle::Published { published_at: 0 },
        operations: vec![op, Operation { id: "root".into(), path: "/".into(), ..root_op }],
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: 0,
        updated_at: 0,
    };
    let key = Key {
        id: "key_1".into(),
        app_id: "app_1".into(),
        name: "k".into(),
        hash: keys::hash_secret(secret.secret()),
        display_prefix: secret.display_prefix(),
        last4: secret.last4(),
        status: KeyStatus::Active,
        created_at: 0,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: None,
        client_certificate: None,
    };
    let grant = Grant {
        product_id: "prd".into(),
        plan_id: "pln".into(),
        api_id: "api_1".into(),
        operations: None,
        scopes: vec![],
        limits,
        since: 0,
    };
    let identity = Identity {
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
        organisation_id: None,
        group: None,
        grants: vec![grant],
        classes: vec![],
    };
    let fakes = Fakes {
        routes: Arc::new(RouteTable::new([api])),
        key,
        identity: Arc::new(identity),
        key_lookups: Cell::new(0),
        counters: RefCell::default(),
        limiter_down,
        cache: MapCache::default(),
        upstream_seen: RefCell::default(),
        events: RefCell::default(),
    };
    let config = GatewayConfig {
        max_body_bytes: 64,
        identity_secret: b"0123456789abcdef".to_vec(),
        portal_origin: Some(PORTAL.into()),
        trusted_proxies: Default::default(),
    };
    (Gateway::new(fakes, config), secret.secret().to_string())
}

fn get(path: &str, key: Option<&str>) -> Request<TestBody> {
    let mut req = Request::builder().uri(path).header("host", "gw.test");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.body(Body::default()).unwrap_or_default()
}

fn quota(limit: u64) -> LimitPolicy {
    LimitPolicy {
        name: "daily".into(),
        scope: LimitScope::App,
        kind: LimitKind::Quota { limit, window: QuotaWindow::Day, durable: Default::default() },
    }
}

#[test]
fn malformed_key_is_refused_without_any_lookup() {
    let (gw, _) = gateway(vec![], false);
    let res = block_on(gw.handle(&mut get("/v1/pets/1", Some("gh_live_not-a-key"))));
    assert_eq!(res.status(), 401);
    assert_eq!(gw.adapters.key_lookups.get(), 0);
    assert_eq!(gw.adapters.events.borrow()[0].outcome, Outcome::Malformed);
}

#[test]
fn the_base_path_itself_is_forwarded_as_the_upstream_root() {
    let (gw, key) = gateway(vec![], false);
    for path in ["/v1", "/v1/", "/v1?q=1"] {
        assert_eq!(block_on(gw.handle(&mut get(path, Some(&key)))).status(), 200, "{path}");
    }
    let seen: Vec<String> = gw.adapters.upstream_seen.borrow().iter().map(|r| r.uri().to_string()).collect();
    assert_eq!(seen, ["http://upstream.test/base/", "http://upstream.test/base/", "http://upstream.test/base/?q=1"]);
}

#[test]
fn valid_call_reaches_upstream_without_the_credential_but_with_a_signed_identity() {
    let (gw, key) = gateway(vec![], false);
    let res = block_on(gw.handle(&mut get("/v1/pets/1?x=1", Some(&key))));
    assert_eq!(res.status(), 200);
    let seen = gw.adapters.upstream_seen.borrow();
    assert_eq!(seen[0].uri(), "http://upstream.test/base/pets/1?x=1");
    assert!(seen[0].headers().get("x-api-key").is_none());
    assert!(seen[0].headers()["gatehouse-identity"]
        .to_str()
        .unwrap_or("")
        .starts_with("app=app_1;dev=dev_1;key=key_1;"));
    let event = &gw.adapters.events.borrow()[0];
    assert_eq!((event.outcome, event.key_id.as_deref(), event.status), (Outcome::Valid, Some("key_1"), 200));
}

#[test]
fn an_identity_the_client_sends_never_reaches_the_upstream() {
    let (gw, key) = gateway(vec![], false);
    let mut req = get("/v1/pets/1", Some(&key));
    for (name, value) in
        [("gatehouse-identity", "app=forged"), ("gatehouse-signature", "00"), ("gatehouse-identity", "x")]
    {
        req.headers_mut().append(name, http::HeaderValue::from_static(value));
    }
    assert_eq!(block_on(gw.handle(&mut req)).status(), 200);
    let seen = gw.adapters.upstream_seen.borrow();
    let values = |name| seen[0].headers().get_all(name).iter().map(|v| v.to_str().unwrap_or("")).collect::<Vec<_>>();
    let identity = values("gatehouse-identity");
    assert_eq!(identity.len(), 1, "{identity:?}");
    assert!(identity[0].starts_with("app=app_1;dev=dev_1;key=key_1;"), "{identity:?}");
    assert_eq!(values("gatehouse-signature").len(), 1);
    assert_ne!(values("gatehouse-signature"), ["00"]);
}

#[test]
fn refused_quota_call_is_answered_before_the_cache() {
    let (gw, key) = gateway(vec![quota(1)], false);
    assert_eq!(block_on(gw.handle(&mut get("/v1/pets/1", Some(&key)))).status(), 200);
    // The response is now cached, but the quota is used up: the cache must not answer.
    let res = block_on(gw.handle(&mut get("/v1/pets/1", Some(&key))));
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(gw.adapters.events.borrow()[1].outcome, Outcome::QuotaExceeded);
}

#[test]
fn unreachable_limiter_fails_closed_for_quotas() {
    let (gw, key) = gateway(vec![quota(100)], true);
    let res = block_on(gw.handle(&mut get("/v1/pets/1", Some(&key))));
    assert_eq!(res.status(), 503);
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
}

#[test]
fn unreachable_limiter_follows_a_burst_policy_that_fails_open() {
    let burst = |on_failure| LimitPolicy {
        name: "burst".into(),
        scope: LimitScope::Key,
        kind: LimitKind::Rate { limit: 10, period_secs: 1, burst: 10, on_failure },
    };
    let (gw, key) = gateway(vec![burst(FailureMode::Open)], true);
    assert_eq!(block_on(gw.handle(&mut get("/v1/pets/1", Some(&key)))).status(), 200);
    let (gw, key) = gateway(vec![burst(FailureMode::Closed)], true);
    assert_eq!(block_on(gw.handle(&mut get("/v1/pets/1", Some(&key)))).status(), 503);
}

#[test]
fn oversized_body_is_refused_and_never_reaches_the_upstream() {
    let (gw, key) = gateway(vec![], false);
    let mut req = get("/v1/pets/1", Some(&key));
    *req.body_mut() = Body::Full(Bytes::from(vec![0; 65]));
    assert_eq!(block_on(gw.handle(&mut req)).status(), 413);
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
}

#[test]
fn the_portals_preflight_needs_no_key_and_is_not_usage() {
    let (gw, _) = gateway(vec![quota(1)], false);
    let mut req = Request::builder()
        .method("OPTIONS")
        .uri("/v1/pets/1")
        .header("origin", PORTAL)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .body(Body::default())
        .unwrap_or_default();
    let res = block_on(gw.handle(&mut req));
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], PORTAL);
    assert!(gw.adapters.events.borrow().is_empty(), "a preflight is no call");
    assert_eq!(gw.adapters.key_lookups.get(), 0);
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
}

#[test]
fn a_portal_call_and_its_refusal_both_carry_cors_headers_but_another_origin_none() {
    let (gw, key) = gateway(vec![], false);
    for k in [Some(key.as_str()), None] {
        let mut req = get("/v1/pets/1", k);
        req.headers_mut().insert("origin", http::HeaderValue::from_static(PORTAL));
        let res = block_on(gw.handle(&mut req));
        assert_eq!(res.headers()["access-control-allow-origin"], PORTAL, "{}", res.status());
    }
    let mut req = get("/v1/pets/1", Some(&key));
    req.headers_mut().insert("origin", http::HeaderValue::from_static("http://elsewhere.test"));
    let res = block_on(gw.handle(&mut req));
    assert_eq!(res.status(), 200);
    assert!(res.headers().keys().all(|n| !n.as_str().starts_with("access-control-")));
}
