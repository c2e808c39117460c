//! The core request pipeline in process: `Gateway::handle` on the native adapters
//! (`InProcessReadModel`, `SqliteLimiter`, `MemoryResponseCache`, `UsageRecorder`,
//! `SystemClock`, `PooledUpstream`), without the HTTP server in front of it.
//!
//! - `pipeline/cache_hit`: a valid key under a plan with a burst limit and a daily quota,
//!   answered from the cache. The entry is put there first by one real call to an upstream
//!   started here (a std `TcpListener` thread on 127.0.0.1 answering `Cache-Control: public,
//!   max-age=3600`).
//! - `pipeline/refused_unknown_key`: a well-formed key that is not in the catalog (parse,
//!   hash, lookup, problem response).
//! - `pipeline_stage/*`: the pure stages of the proxy path that no in-process `handle` reaches
//!   without network I/O: building the upstream request, and the cache stage judging and
//!   labelling a `no-store` response.
//!
//! Requests are built outside the timed section (`iter_batched`); responses are dropped
//! outside it too. Usage events are recorded as in production (one aggregator lookup each).

mod common;

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use bytes::Bytes;
use common::ready;
use criterion::{criterion_group, BatchSize, Criterion};
use gatehouse_core::cache::FwdReason;
use gatehouse_core::cache::{self, CacheRequest, Lookup};
use gatehouse_core::config::GatewayConfig;
use gatehouse_core::keys::{self, KeyEnv};
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::limits::{FailureMode, LimitKind, LimitPolicy, LimitScope, QuotaWindow};
use gatehouse_core::model::{
    Api, App, AuthSettings, CacheSettings, Developer, Key, KeyStatus, Operation, Plan, Product, ProductItem,
    Subscription, SubscriptionStatus, UpstreamSettings,
};
use gatehouse_core::pipeline::forward::{self, Caller, IdentitySigner};
use gatehouse_core::pipeline::Gateway;
use gatehouse_core::store::CatalogSnapshot;
use gatehouse_core::usage::{Aggregator, UsageEvent};
use gatehouse_core::verdict::Outcome;
use gatehouse_native::adapters::clock::{now_millis, SystemClock};
use gatehouse_native::adapters::memory_cache::MemoryResponseCache;
use gatehouse_native::adapters::read_model::{InProcessReadModel, Snapshot};
use gatehouse_native::adapters::sqlite_limiter::SqliteLimiter;
use gatehouse_native::adapters::tokens::JwtVerifier;
use gatehouse_native::adapters::upstream::PooledUpstream;
use gatehouse_native::adapters::usage::UsageRecorder;
use gatehouse_native::body::GatewayBody;
use gatehouse_native::gateway::{NativeAdapters, NativeGateway};
use http::{Request, Response};

const T0: i64 = 1_750_000_000_000;

/// The gateway binary's allocator (`native/src/main.rs`), so the figures are those of the
/// gateway's own work: with the system allocator they were 2–18 % higher.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A keep-alive HTTP/1.1 upstream answering every request with a small cacheable JSON body.
fn start_upstream() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the bench upstream");
    let addr = listener.local_addr().expect("upstream address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    addr
}

fn answer(stream: std::net::TcpStream) {
    const BODY: &str = r#"{"id":1,"name":"Rex","kind":"dog"}"#;
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        // Read one request head (the gateway sends GETs without bodies here).
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, max-age=3600\r\n\
             etag: \"v1\"\r\ncontent-length: {}\r\n\r\n{BODY}",
            BODY.len()
        );
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

fn catalog(upstream: &str, secret: &str) -> CatalogSnapshot {
    let operation = Operation {
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
    let api = Api {
        id: "api_pets".into(),
        name: "Pets".into(),
        version: "1".into(),
        base_path: "/v1".into(),
        hosts: vec![],
        upstream: UpstreamSettings {
            url: upstream.into(),
            timeout_ms: 5_000,
            forward_credential: false,
            ..Default::default()
        },
        auth: AuthSettings::default(),
        cache: CacheSettings { enabled: true, public: false, default_ttl_secs: None },
        lifecycle: Lifecycle::Published { published_at: T0 },
        operations: vec![operation],
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: T0,
        updated_at: T0,
    };
    // Limits that never refuse during a run, so every iteration takes the same path.
    let burst = LimitPolicy {
        name: "burst".into(),
        scope: LimitScope::Key,
        kind: LimitKind::Rate {
            limit: 1_000_000_000,
            period_secs: 1,
            burst: 1_000_000_000,
            on_failure: FailureMode::Open,
        },
    };
    let daily = LimitPolicy {
        name: "daily".into(),
        scope: LimitScope::App,
        kind: LimitKind::Quota { limit: 1_000_000_000_000, window: QuotaWindow::Day, durable: Default::default() },
    };
    let product = Product {
        id: "prd_1".into(),
        name: "Pets".into(),
        description: String::new(),
        items: vec![ProductItem { api_id: api.id.clone(), operations: None }],
        audience: Default::default(),
        created_at: T0,
    };
    let plan = Plan {
        id: "pln_1".into(),
        product_id: product.id.clone(),
        name: "Gold".into(),
        limits: vec![burst, daily],
        scopes: vec![],
        requires_approval: false,
        classes: vec![],
        created_at: T0,
    };
    let developer = Developer {
        id: "dev_0001".into(),
        email: "bench@example.com".into(),
        name: "Bench".into(),
        group: None,
        organisation: None,
        created_at: T0,
        terms_accepted_at: None,
        closed_at: None,
    };
    let app = App {
        id: "app_0001".into(),
        developer_id: developer.id.clone(),
        organisation_id: None,
        name: "bench".into(),
        created_at: T0,
    };
    let subscription = Subscription {
        id: "sub_1".into(),
        app_id: app.id.clone(),
        product_id: product.id.clone(),
        plan_id: plan.id.clone(),
        status: SubscriptionStatus::Active,
        rejection: None,
        created_at: T0,
    };
    let parsed = keys::parse(secret).expect("a generated key parses");
    let key = Key {
        id: "key_000001".into(),
        app_id: app.id.clone(),
        name: "bench key".into(),
        hash: keys::hash_secret(parsed.secret()),
        display_prefix: parsed.display_prefix(),
        last4: parsed.last4(),
        status: KeyStatus::Active,
        created_at: T0,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: None,
        client_certificate: None,
    };
    CatalogSnapshot {
        apis: vec![api],
        products: vec![product],
        plans: vec![plan],
        developers: vec![developer],
        apps: vec![app],
        subscriptions: vec![subscription],
        keys: vec![key],
        access_requests: vec![],
        organisations: vec![],
        unreadable: vec![],
    }
}

struct Fixture {
    gateway: NativeGateway,
    valid: String,
    unknown: String,
    /// Holds the limiter's SQLite file for the bench's lifetime.
    _store: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let upstream = format!("http://{}", start_upstream());
    let valid = keys::generate(KeyEnv::Live, &[7; keys::RANDOM_BYTES]).secret().to_owned();
    let unknown = keys::generate(KeyEnv::Live, &[8; keys::RANDOM_BYTES]).secret().to_owned();
    let read_model = InProcessReadModel::default();
    read_model.replace(Snapshot::compile(catalog(&upstream, &valid)));
    // The gateway's own limiter: the daily quota is written behind (marked dirty per call).
    let store = tempfile::tempdir().expect("a temp dir for the limiter's store");
    let limiter = SqliteLimiter::open(store.path().join("gatehouse.db"), now_millis()).expect("open the counter store");
    let adapters = NativeAdapters {
        read_model,
        limiter: Arc::new(limiter),
        cache: Arc::new(MemoryResponseCache::new(16 * 1024 * 1024)),
        upstream: PooledUpstream::default(),
        usage: Arc::new(UsageRecorder::default()),
        clock: SystemClock::default(),
        tokens: Arc::new(JwtVerifier::default()),
        access_log: false,
        https: false,
    };
    let config = GatewayConfig {
        max_body_bytes: GatewayConfig::DEFAULT_MAX_BODY_BYTES,
        identity_secret: b"bench-identity-secret-0123456789".to_vec(),
        portal_origin: None,
        trusted_proxies: Default::default(),
    };
    Fixture { gateway: Gateway::new(adapters, config), valid, unknown, _store: store }
}

fn get(key: &str) -> Request<GatewayBody> {
    Request::builder()
        .uri("/v1/pets/1")
        .header("host", "gw.test")
        .header("accept", "application/json")
        .header("user-agent", "bench/1.0")
        .header("x-api-key", key)
        .body(GatewayBody::default())
        .expect("a valid request")
}

fn header<B>(response: &Response<B>, name: &str) -> String {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

fn bench_pipeline(c: &mut Criterion) {
    let f = fixture();
    // Fill the cache with one real upstream call (the upstream port needs a runtime).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let first = runtime.block_on(f.gateway.handle(&mut get(&f.valid)));
    assert_eq!(first.status(), 200, "{:?}", first.body().full_len());
    assert!(header(&first, "cache-status").contains("stored"), "{:?}", first.headers());
    let hit = ready(f.gateway.handle(&mut get(&f.valid)));
    assert_eq!(hit.status(), 200);
    assert!(header(&hit, "cache-status").contains("hit"), "{:?}", hit.headers());
    assert!(hit.headers().contains_key("ratelimit"));
    assert_eq!(ready(f.gateway.handle(&mut get(&f.unknown))).status(), 401);

    let mut group = c.benchmark_group("pipeline");
    group.bench_function("cache_hit", |b| {
        b.iter_batched(|| get(&f.valid), |mut req| ready(f.gateway.handle(&mut req)), BatchSize::SmallInput)
    });
    group.bench_function("refused_unknown_key", |b| {
        b.iter_batched(|| get(&f.unknown), |mut req| ready(f.gateway.handle(&mut req)), BatchSize::SmallInput)
    });
    group.finish();
    bench_stages(c, &f);
}

/// The proxy path's pure stages, on the same API and caller.
fn bench_stages(c: &mut Criterion, f: &Fixture) {
    let routes = ready(gatehouse_core::ports::ReadModel::routes(&f.gateway.adapters.read_model)).expect("routes");
    let api = Arc::clone(&routes.apis()[0]);
    let identity = ready(gatehouse_core::ports::ReadModel::identity(&f.gateway.adapters.read_model, "app_0001"))
        .expect("identity lookup")
        .expect("an identity");
    let signer = IdentitySigner::new(b"bench-identity-secret-0123456789");
    let original = get(&f.valid);
    let uri = forward::upstream_uri(&api, "/pets/1", None).expect("a valid upstream URL");
    let mut stages = c.benchmark_group("pipeline_stage");
    stages.bench_function("forward_build", |b| {
        b.iter_batched(
            || original.headers().clone(),
            |headers| {
                let caller = Some(Caller { identity: &identity, key_id: "key_000001", subject: None });
                forward::build(&original, GatewayBody::default(), uri.clone(), headers, caller, &signer, T0)
            },
            BatchSize::SmallInput,
        )
    });

    // A `no-store` answer on a miss: judged, not stored, labelled `Cache-Status`.
    let cache = MemoryResponseCache::new(1024 * 1024);
    let req = CacheRequest {
        api: &api,
        method: original.method(),
        path_and_query: "/v1/pets/1",
        headers: original.headers(),
        identity: Some("app_0001"),
    };
    let upstream = || {
        Response::builder()
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .header("content-length", "2")
            .body(Bytes::from_static(b"{}"))
            .expect("a valid response")
    };
    let now = now_millis();
    let lookup = || Lookup::Miss {
        key: "gatehouse:v1:api_pets:bench".into(),
        reason: FwdReason::UriMiss,
        requested_at: now,
        error: None,
    };
    stages.bench_function("cache_complete_no_store", |b| {
        b.iter_batched(
            || (lookup(), upstream()),
            |(lookup, response)| ready(cache::complete(&cache, &req, lookup, response, now)),
            BatchSize::SmallInput,
        )
    });
    // One request's usage event into the per-minute rollups (an existing rollup, as in steady
    // traffic).
    let event = UsageEvent {
        at: T0,
        api_id: &api.id,
        operation_id: "getPet",
        key_id: Some("key_000001"),
        app_id: Some("app_0001"),
        developer_id: Some("dev_0001"),
        end_user: None,
        status: 200,
        outcome: Outcome::Valid,
        latency_us: 40,
        bytes_in: 0,
        bytes_out: 35,
        cache_hit: true,
        classes: &[],
    };
    let mut aggregator = Aggregator::default();
    stages.bench_function("usage_aggregate", |b| b.iter(|| aggregator.add(black_box(&event))));
    stages.bench_function("cache_key", |b| {
        b.iter(|| cache::cache_key(&api, black_box(&http::Method::GET), black_box("/v1/pets/1"), Some("app_0001")))
    });
    stages.finish();
}

criterion_group!(benches, bench_pipeline);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
