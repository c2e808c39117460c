//! Writes the end-to-end test's Workers KV seed as JSON, built from the core's own types so
//! the records have exactly the shapes the control plane publishes:
//! `{"kv": {<kv key>: <json text>}, "secrets": {<who>: <api key>}}`.
//! The upstream URL is the placeholder `__UPSTREAM__`, the identity provider's `__IDP__`; the
//! harness substitutes its servers'. `jwt` says what the harness's tokens must carry, `mtls`
//! which certificate subject is registered, `crm` the CRM API's document (for the test that
//! imports it through a real control plane).
//!
//! Run: `cargo run -q -p gatehouse-edge --example seed > seed.json`.
#![allow(clippy::unwrap_used)]

#[path = "seed_parts/crm.rs"]
mod crm;
#[path = "seed_parts/mock.rs"]
mod mock;
#[path = "seed_parts/validation.rs"]
mod validation;
#[path = "seed_parts/versions.rs"]
mod versions;

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::entitlements::{Grant, Identity};
use gatehouse_core::jwt::{self, Algorithm, Jwk, JwkSet, JwtSettings};
use gatehouse_core::keys::{self, KeyEnv, RANDOM_BYTES};
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::limits::{FailureMode, LimitKind, LimitPolicy, LimitScope, QuotaWindow};
use gatehouse_core::model::{
    Api, AuthSettings, CacheSettings, ClientCertificate, Key, KeyStatus, OAuthClient, Operation, Requirement,
    UpstreamSettings,
};
use gatehouse_core::pipeline::client_certificate::certificate_hash;
use gatehouse_edge::layout;
use serde_json::json;

/// `api_slow`'s idle timeout and maximum duration (stream.test.mjs reads them from the seed).
const SLOW_IDLE_MS: u64 = 400;
const SLOW_MAX_MS: u64 = 1_500;
/// `api_slow`'s request body limit.
const SLOW_MAX_BODY: u64 = 100_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const SUNSET: i64 = 1_814_313_600_000; // 2027-06-30T00:00:00Z

fn op(id: &str, path: &str, public: bool) -> Operation {
    Operation {
        id: id.into(),
        method: "GET".into(),
        path: path.into(),
        public,
        scopes: vec![],
        requirements: vec![],
        summary: None,
        discriminators: Vec::new(),
        refused: None,
        sensitivity: None,
        mock: None,
        validator: None,
    }
}

fn api(id: &str, base: &str, lifecycle: Lifecycle, operations: Vec<Operation>) -> Api {
    Api {
        id: id.into(),
        name: id.into(),
        version: "1.0.0".into(),
        base_path: base.into(),
        hosts: vec![],
        upstream: UpstreamSettings {
            url: "__UPSTREAM__".into(),
            timeout_ms: 2_000,
            forward_credential: false,
            ..Default::default()
        },
        auth: AuthSettings::default(),
        cache: CacheSettings { enabled: true, public: false, default_ttl_secs: None },
        lifecycle,
        operations,
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: T0,
        updated_at: T0,
    }
}

const ISSUER: &str = "https://idp.gatehouse.test/";
const OIDC_ISSUER: &str = "https://oidc.gatehouse.test/";
const CLIENT: &str = "cli_edge";
/// The static HS256 secret of `api_hs` (test data, not a real secret).
const HS256_SECRET: &str = "a static HS256 secret of 32+ bytes";

/// An operation that takes a bearer JWT with `scopes` (and a key too when `or_key`).
fn token_op(id: &str, path: &str, scopes: &[&str], or_key: bool) -> Operation {
    let token = Requirement::token(scopes.iter().map(|s| s.to_string()).collect());
    Operation { requirements: if or_key { vec![Requirement::KEY, token] } else { vec![token] }, ..op(id, path, false) }
}

fn settings(keys: &str, algorithms: &[Algorithm]) -> JwtSettings {
    let mut settings = JwtSettings::discovered("unused");
    settings.discovery_url = None;
    settings.issuer = Some(ISSUER.into());
    settings.audiences = vec!["pets".into()];
    settings.jwks_url = Some(format!("__IDP__/{keys}/jwks.json"));
    settings.algorithms = algorithms.to_vec();
    settings
}

/// The APIs that take bearer JWTs: one per key-source scenario of the end-to-end test (each
/// has its own JWKS URL, so each scenario meets a cold key cache).
fn token_apis() -> Vec<Api> {
    let jwt_api = |id: &str, base: &str, jwt: JwtSettings, operations| {
        let mut api = api(id, base, Lifecycle::Published { published_at: T0 }, operations);
        api.auth.jwt = Some(jwt);
        api
    };
    let read = || vec![token_op("read", "/read", &[], false)];
    let rs = &[Algorithm::RS256];
    let main = vec![
        token_op("readPets", "/read", &["pets:read"], false),
        token_op("writePets", "/write", &["pets:write"], false),
        token_op("either", "/either", &[], true),
    ];
    use Algorithm::*;
    let all = [RS256, RS384, RS512, PS256, ES256, ES384, EdDSA];
    let mut oidc = JwtSettings::discovered("__IDP__/oidc/.well-known/openid-configuration");
    oidc.audiences = vec!["pets".into()];
    oidc.algorithms = vec![Algorithm::ES256];
    let secret = Jwk {
        kty: "oct".into(),
        kid: Some("hs1".into()),
        alg: None,
        usage: None,
        n: None,
        e: None,
        crv: None,
        x: None,
        y: None,
        k: Some(URL_SAFE_NO_PAD.encode(HS256_SECRET)),
    };
    let mut hs = settings("unused", &[Algorithm::HS256]);
    hs.jwks_url = None;
    hs.keys = Some(JwkSet { keys: vec![secret] });
    vec![
        jwt_api("api_jwt", "/jwt", settings("main", &all), main),
        jwt_api("api_roll", "/roll", settings("roll", rs), read()),
        jwt_api("api_down", "/down", settings("down", rs), read()),
        jwt_api("api_crowd", "/crowd", settings("crowd", rs), read()),
        jwt_api("api_odd", "/odd", settings("odd", rs), read()),
        jwt_api("api_warm", "/warm", settings("warm", rs), read()),
        jwt_api("api_oidc", "/oidc", oidc, read()),
        jwt_api("api_hs", "/hs", hs.clone(), read()),
        // Its client's app has a quota of 5 a day here (see main).
        jwt_api("api_hsq", "/hsq", hs, read()),
    ]
}

/// The OAuth client `cli_edge` registered on `app_oauth`, once per issuer: a key record found
/// by [`jwt::client_hash`], as the admin API registers it.
fn client_record(issuer: &str, id: &str) -> Key {
    Key {
        id: id.into(),
        app_id: "app_oauth".into(),
        name: format!("OAuth client {CLIENT}"),
        hash: jwt::client_hash(issuer, CLIENT),
        display_prefix: String::new(),
        last4: String::new(),
        status: KeyStatus::Active,
        created_at: T0,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: Some(OAuthClient { issuer: issuer.into(), client_id: CLIENT.into() }),
        client_certificate: None,
    }
}

/// The client certificate subject registered on `app_partner` (mtls.test.mjs presents it in
/// `cf.tlsClientAuth`, as Cloudflare would after verifying the certificate).
const PARTNER_SUBJECT: &str = "CN=billing,O=Partner A";

/// `api_mtls`: `/orders` takes the partner's certificate alone, `/either` a certificate or a
/// key.
fn mtls_api() -> Api {
    let certificate = Requirement { key: false, jwt: None, client_certificate: true };
    let orders = Operation { requirements: vec![certificate.clone()], ..op("orders", "/orders", false) };
    let either = Operation { requirements: vec![certificate, Requirement::KEY], ..op("either", "/either", false) };
    let mut api = api("api_mtls", "/mtls", Lifecycle::Published { published_at: T0 }, vec![orders, either]);
    api.cache.enabled = false;
    api
}

/// The partner's registration: a key record found by [`certificate_hash`] of its subject.
fn certificate_record() -> Key {
    Key {
        id: "key_partner_cert".into(),
        app_id: "app_partner".into(),
        name: "Partner A billing".into(),
        hash: certificate_hash(PARTNER_SUBJECT),
        display_prefix: "mtls:".into(),
        last4: "er A".into(),
        status: KeyStatus::Active,
        created_at: T0,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: None,
        client_certificate: Some(ClientCertificate { subject: PARTNER_SUBJECT.into() }),
    }
}

fn grant(api_id: &str, limits: Vec<LimitPolicy>) -> Grant {
    Grant {
        product_id: "prd_edge".into(),
        plan_id: "pln_edge".into(),
        api_id: api_id.into(),
        operations: None,
        scopes: vec![],
        limits,
        since: T0,
    }
}

fn main() {
    let pets = vec![
        op("getPet", "/pets/{id}", false),
        op("getCatalog", "/catalog", false),
        op("getTagged", "/tagged/{tag}", false),
        op("getSecret", "/secret", false),
        op("getQuota", "/quota", false),
        op("getRate", "/rate", false),
        op("health", "/health", true),
    ];
    let deprecated = Lifecycle::Deprecated {
        deprecated_at: T0,
        sunset_at: Some(SUNSET),
        successor: Some("https://api.example.com/v2".into()),
    };
    let retired = Lifecycle::Retired { retired_at: T0, successor: Some("https://api.example.com/v2".into()) };
    // The RFC 9111 cases (edge.test.mjs, like native/tests/cache_rfc9111.rs): any method on
    // any name, no key, in front of the upstream's /rfc/ script.
    let any = |id: &str, path: &str, public: bool| -> Vec<Operation> {
        ["GET", "POST", "PUT", "DELETE"]
            .iter()
            .map(|m| Operation { method: (*m).into(), id: format!("{id}{m}"), ..op(id, path, public) })
            .collect()
    };
    let published = || Lifecycle::Published { published_at: T0 };
    let mut rfc = api("api_rfc", "/rfc", published(), any("rfc", "/{name}", true));
    rfc.upstream.url = "__UPSTREAM__/rfc".into();
    // `cache.public`: one entry for every caller, even with the credential forwarded.
    let mut shared = api("api_shared", "/shared", published(), any("shared", "/{name}", false));
    shared.upstream.url = "__UPSTREAM__/shared".into();
    shared.upstream.forward_credential = true;
    shared.cache.public = true;
    // Nothing listens on port 9: the gateway's own 502, with Cache-Status.
    let mut dead = api("api_dead", "/dead", published(), any("dead", "/{name}", true));
    dead.upstream.url = "http://127.0.0.1:9".into();
    // An upstream that answers what no Response can hold (edge.test.mjs's hostile server).
    let mut hostile = api("api_hostile", "/hostile", published(), any("hostile", "/{name}", true));
    hostile.upstream.url = "__HOSTILE__".into();
    hostile.cache.enabled = false;
    // Streams that stall or run long (stream.test.mjs): no key, nothing cached, a short idle
    // timeout and maximum duration that apply after the response head.
    let mut slow = api("api_slow", "/slow", published(), any("slow", "/{name}", true));
    slow.upstream.url = "__UPSTREAM__/slow".into();
    slow.upstream.idle_timeout_ms = Some(SLOW_IDLE_MS);
    slow.upstream.max_duration_ms = Some(SLOW_MAX_MS);
    slow.upstream.max_body_bytes = Some(SLOW_MAX_BODY);
    slow.cache.enabled = false;
    let mut apis = vec![
        slow,
        api("api_pets", "/pets", Lifecycle::Published { published_at: T0 }, pets),
        rfc,
        shared,
        dead,
        hostile,
        api("api_old", "/old", deprecated, vec![op("oldHello", "/hello", false)]),
        api("api_gone", "/gone", retired, vec![op("goneHello", "/hello", false)]),
    ];
    let token_apis = token_apis();
    let mut token_grants: Vec<Grant> = token_apis.iter().map(|api| grant(&api.id, vec![])).collect();
    apis.extend(token_apis);
    apis.push(mtls_api());
    let mut crm = api("api_crm", "/crm", published(), crm::operations());
    crm.upstream.url = "__UPSTREAM__/crm".into();
    crm.cache.public = true;
    apis.push(crm);
    apis.push(mock::api(api("api_mock", "/mock", published(), Vec::new())));
    apis.push(validation::api(api("api_validated", "/validated", published(), Vec::new())));
    apis.push(versions::api(api("api_ver1", "/ver", published(), Vec::new()), "v1", true));
    apis.push(versions::api(api("api_ver2", "/ver", published(), Vec::new()), "v2", false));
    let everything = || vec![grant("api_pets", vec![]), grant("api_old", vec![]), grant("api_gone", vec![])];
    let daily = |limit| LimitPolicy {
        name: "daily".into(),
        scope: LimitScope::App,
        kind: LimitKind::Quota { limit, window: QuotaWindow::Day, durable: Default::default() },
    };
    let burst = LimitPolicy {
        name: "burst".into(),
        scope: LimitScope::Key,
        kind: LimitKind::Rate { limit: 1, period_secs: 60, burst: 3, on_failure: FailureMode::Closed },
    };
    let open_burst = LimitPolicy {
        name: "burst".into(),
        scope: LimitScope::Key,
        kind: LimitKind::Rate { limit: 100, period_secs: 1, burst: 100, on_failure: FailureMode::Open },
    };
    // One call a second, bursts of 2: the bucket drains within 2 s, so the test can watch the
    // limiter object's alarm delete the counter (roll the window).
    let short_burst = LimitPolicy {
        name: "burst".into(),
        scope: LimitScope::Key,
        kind: LimitKind::Rate { limit: 1, period_secs: 1, burst: 2, on_failure: FailureMode::Closed },
    };
    let team = LimitPolicy {
        name: "team".into(),
        scope: LimitScope::Group,
        kind: LimitKind::Quota { limit: 5, window: QuotaWindow::Day, durable: Default::default() },
    };
    // Counted per owner: for the apps of organisation org_acme, the organisation's counter.
    let per_owner = LimitPolicy {
        name: "owner".into(),
        scope: LimitScope::Developer,
        kind: LimitKind::Quota { limit: 4, window: QuotaWindow::Day, durable: Default::default() },
    };
    for limited in token_grants.iter_mut().filter(|g| g.api_id == "api_hsq") {
        limited.limits = vec![daily(5)];
    }
    // (who, app grants); alice's plan has a generous quota so her calls cross the limiter.
    let mut alice = everything();
    alice[0].limits = vec![daily(100_000)];
    alice.push(grant("api_shared", vec![]));
    let mut bob = everything();
    bob.push(grant("api_shared", vec![]));
    let callers: Vec<(&str, Vec<Grant>)> = vec![
        ("alice", alice),
        ("bob", bob),
        ("rate", vec![grant("api_pets", vec![burst])]),
        ("quota", vec![grant("api_pets", vec![daily(10)])]),
        ("openburst", vec![grant("api_pets", vec![open_burst])]),
        ("roll", vec![grant("api_pets", vec![short_burst])]),
        // Two apps of two developers in group "gold", sharing its quota of 5 a day.
        ("gold1", vec![grant("api_pets", vec![daily(1_000), team.clone()])]),
        ("gold2", vec![grant("api_pets", vec![daily(1_000), team])]),
        // Two apps of organisation org_acme, made by two developers, sharing its quota of 4.
        ("acme1", vec![grant("api_pets", vec![daily(1_000), per_owner.clone()])]),
        ("acme2", vec![grant("api_pets", vec![daily(1_000), per_owner])]),
        ("revoke", everything()),
        ("nogrant", vec![]),
        // A key for the operation that takes a key or a token.
        ("jwtkey", vec![grant("api_jwt", vec![])]),
        // The partner's app: its key, and its certificate registration below.
        ("partner", vec![grant("api_mtls", vec![])]),
    ];
    let callers = callers
        .into_iter()
        .chain(crm::CALLERS.map(|who| (who, vec![grant("api_crm", vec![])])))
        .chain(mock::CALLERS.map(|who| (who, vec![grant("api_mock", vec![])])))
        .chain(validation::CALLERS.map(|who| (who, vec![grant("api_validated", vec![])])))
        .chain(versions::CALLERS.map(|who| (who, vec![grant("api_ver1", vec![]), grant("api_ver2", vec![])])));

    let mut kv = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    kv.insert(layout::ROUTES_KEY.to_string(), serde_json::to_string(&apis).unwrap());
    for (i, (who, grants)) in callers.into_iter().enumerate() {
        let app_id = format!("app_{who}");
        let parsed = keys::generate(KeyEnv::Live, &[i as u8 + 1; RANDOM_BYTES]);
        let key = Key {
            id: format!("key_{who}"),
            app_id: app_id.clone(),
            name: who.into(),
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
        let group = who.starts_with("gold").then(|| "gold".to_string());
        let identity = Identity {
            app_id: app_id.clone(),
            developer_id: format!("dev_{who}"),
            organisation_id: who.starts_with("acme").then(|| "org_acme".to_string()),
            group,
            grants,
            classes: crm::classes_of(who, T0),
        };
        kv.insert(layout::key_record(&key.hash), serde_json::to_string(&key).unwrap());
        kv.insert(layout::identity_record(&app_id), serde_json::to_string(&identity).unwrap());
        secrets.insert(who.to_string(), json!({ "secret": parsed.secret(), "hash": key.hash.as_hex() }));
    }
    // A well-formed key (valid checksum) that was never issued: the edge must look it up and refuse.
    let unknown = keys::generate(KeyEnv::Live, &[0xEE; RANDOM_BYTES]);
    secrets.insert(
        "unknown".into(),
        json!({ "secret": unknown.secret(), "hash": keys::hash_secret(unknown.secret()).as_hex() }),
    );
    let oauth = Identity {
        app_id: "app_oauth".into(),
        developer_id: "dev_oauth".into(),
        organisation_id: None,
        group: None,
        grants: token_grants,
        classes: vec![],
    };
    kv.insert(layout::identity_record("app_oauth"), serde_json::to_string(&oauth).unwrap());
    for client in [client_record(ISSUER, "key_oauth_idp"), client_record(OIDC_ISSUER, "key_oauth_oidc")] {
        kv.insert(layout::key_record(&client.hash), serde_json::to_string(&client).unwrap());
    }
    let partner = certificate_record();
    kv.insert(layout::key_record(&partner.hash), serde_json::to_string(&partner).unwrap());
    let jwt = json!({ "issuer": ISSUER, "oidc_issuer": OIDC_ISSUER, "client": CLIENT, "hs256_secret": HS256_SECRET });
    let mtls = json!({ "subject": PARTNER_SUBJECT });
    let crm = json!({ "openapi": crm::DOCUMENT });
    let slow = json!({ "idle_ms": SLOW_IDLE_MS, "max_ms": SLOW_MAX_MS, "max_body": SLOW_MAX_BODY });
    let seed = json!({ "kv": kv, "secrets": secrets, "jwt": jwt, "mtls": mtls, "crm": crm, "slow": slow });
    println!("{}", serde_json::to_string_pretty(&seed).unwrap());
}
