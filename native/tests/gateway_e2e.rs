//! The whole product over real HTTP: admin API, gateway and a real upstream on 127.0.0.1.
//! One scenario walks an API from import to retirement, checking each guarantee on the way.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{announce_oversized, assert_problem, onboard, Harness};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PETSTORE: &str = r#"
openapi: 3.0.3
info: { title: Petstore, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /pets/{id}:
    get: { operationId: getPet, responses: { "200": { description: ok } } }
  /catalog:
    get: { operationId: getCatalog, responses: { "200": { description: ok } } }
  /me:
    get: { operationId: getMe, responses: { "200": { description: ok } } }
  /secret:
    get: { operationId: getSecret, responses: { "200": { description: ok } } }
  /health:
    get: { operationId: health, security: [], responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    let json =
        |body: Value, cc: &str| ResponseTemplate::new(200).insert_header("cache-control", cc).set_body_json(body);
    Mock::given(method("GET"))
        .and(path("/pets/1"))
        .respond_with(json(json!({"id": 1, "name": "Rex"}), "no-store"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/catalog"))
        .respond_with(json(json!({"items": [1, 2]}), "public, max-age=60").insert_header("etag", "\"c1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/secret"))
        .respond_with(json(json!({"s": 1}), "private, max-age=60"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(json(json!({"ok": true}), "no-store"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_lifecycle_from_import_to_retirement_over_real_http() {
    let up = upstream().await;
    let h = Harness::start(false).await;

    // Import and publish.
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": PETSTORE, "base_path": "/petstore",
            "upstream": {"url": up.uri()}, "cache": {"enabled": true}}),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_string();
    assert_eq!(api["lifecycle"]["state"], "draft");
    assert_problem(&h.call("GET", "/petstore/pets/1", None).await, 404, "no-route");
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;

    let burst = json!([{"name": "burst", "scope": "app", "type": "rate", "limit": 3, "period_secs": 60, "burst": 3}]);
    let (_app, key_id, key) = onboard(&h, &api_id, "a@example.com", json!([])).await;

    // A good call reaches the upstream without the caller's key, with a signed identity.
    let ok = h.call("GET", "/petstore/pets/1", Some(&key)).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.json()["name"], "Rex");
    let seen = &up.received_requests().await.unwrap()[0];
    assert!(seen.headers.get("x-api-key").is_none(), "credential must not be forwarded");
    assert!(seen.headers.get("gatehouse-identity").is_some());
    assert!(seen.headers.get("gatehouse-signature").is_some());

    // Refusals: no key, malformed key, well-formed unknown key.
    assert_problem(&h.call("GET", "/petstore/pets/1", None).await, 401, "missing-credential");
    assert_problem(&h.call("GET", "/petstore/pets/1", Some("gh_live_nope")).await, 401, "malformed-key");
    let mut typo = key.clone().into_bytes();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == b'A' { b'B' } else { b'A' };
    assert_problem(
        &h.call("GET", "/petstore/pets/1", Some(std::str::from_utf8(&typo).unwrap())).await,
        401,
        "malformed-key",
    );
    // Public operation needs no key.
    assert_eq!(h.call("GET", "/petstore/health", None).await.status, 200);

    // Burst limit: 3 pass with headers, the 4th gets 429 with Retry-After and a problem body.
    let (_b_app, _b_key_id, b_key) = onboard(&h, &api_id, "burst@example.com", burst).await;
    for remaining in [2, 1, 0] {
        let r = h.call("GET", "/petstore/pets/1", Some(&b_key)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-policy"), Some("\"burst\";q=3;w=60"));
        assert!(
            r.header("ratelimit").unwrap().starts_with(&format!("\"burst\";r={remaining};t=")),
            "{:?}",
            r.header("ratelimit")
        );
    }
    let limited = h.call("GET", "/petstore/pets/1", Some(&b_key)).await;
    let p = assert_problem(&limited, 429, "rate-limited");
    assert_eq!(p["outcome"], "rate_limited");
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(limited.header("ratelimit").unwrap().starts_with("\"burst\";r=0;t="));

    // Quota: 2 per day, then 429 quota-exceeded.
    let quota = json!([{"name": "daily", "scope": "app", "type": "quota", "limit": 2, "window": "day"}]);
    let (_q_app, _q_key_id, q_key) = onboard(&h, &api_id, "quota@example.com", quota).await;
    for _ in 0..2 {
        assert_eq!(h.call("GET", "/petstore/pets/1", Some(&q_key)).await.status, 200);
    }
    let exhausted = h.call("GET", "/petstore/pets/1", Some(&q_key)).await;
    assert_problem(&exhausted, 429, "quota-exceeded");
    assert!(exhausted.header("ratelimit-policy").unwrap().contains("\"daily\";q=2;w=86400"));

    // Cache: miss then hit for one identity; a second identity never gets the first one's copy.
    let miss = h.call("GET", "/petstore/catalog", Some(&key)).await;
    assert_eq!(miss.status, 200);
    assert!(miss.header("cache-status").unwrap().contains("fwd=uri-miss"), "{:?}", miss.header("cache-status"));
    let hit = h.call("GET", "/petstore/catalog", Some(&key)).await;
    assert!(hit.header("cache-status").unwrap().contains("hit"), "{:?}", hit.header("cache-status"));
    assert_eq!(hit.body, miss.body);
    let catalog_calls = |reqs: &[wiremock::Request]| reqs.iter().filter(|r| r.url.path() == "/catalog").count();
    assert_eq!(catalog_calls(&up.received_requests().await.unwrap()), 1);
    let other = h.call("GET", "/petstore/catalog", Some(&q_key)).await;
    assert!(other.status == 429 || other.header("cache-status").unwrap().contains("miss"));
    let (_c_app, _c_key_id, c_key) = onboard(&h, &api_id, "c@example.com", json!([])).await;
    let second = h.call("GET", "/petstore/catalog", Some(&c_key)).await;
    assert!(
        second.header("cache-status").unwrap().contains("fwd=uri-miss"),
        "a second identity must not hit the first's entry"
    );
    // Purging the API empties its cache: the next call is a miss again.
    let purged = h.admin_ok("POST", &format!("/v1/apis/{api_id}/cache/purge"), json!({})).await;
    assert!(purged["purged"].as_u64().unwrap() >= 2, "{purged}");
    let after = h.call("GET", "/petstore/catalog", Some(&key)).await;
    assert!(after.header("cache-status").unwrap().contains("fwd=uri-miss"), "{:?}", after.header("cache-status"));
    // `private` responses are never stored by the shared cache.
    for _ in 0..2 {
        let r = h.call("GET", "/petstore/secret", Some(&key)).await;
        assert!(!r.header("cache-status").unwrap().contains("hit"));
    }

    // Deprecation headers, then retirement.
    h.admin_ok(
        "POST",
        &format!("/v1/apis/{api_id}/lifecycle"),
        json!({"action": "deprecate", "sunset_at": "2027-06-30T00:00:00Z", "successor": "https://api.example.com/v2"}),
    )
    .await;
    let dep = h.call("GET", "/petstore/pets/1", Some(&key)).await;
    assert_eq!(dep.status, 200);
    assert!(dep.header("deprecation").unwrap().starts_with('@'));
    assert_eq!(dep.header("sunset"), Some("Wed, 30 Jun 2027 00:00:00 GMT"));
    assert_eq!(dep.header("link"), Some("<https://api.example.com/v2>; rel=\"successor-version\""));
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "retire"})).await;
    let gone = h.call("GET", "/petstore/pets/1", Some(&key)).await;
    let p = assert_problem(&gone, 410, "api-retired");
    assert_eq!(p["successor"], "https://api.example.com/v2");

    // Revocation applies to the very next request.
    h.admin_ok("POST", &format!("/v1/keys/{key_id}/revoke"), Value::Null).await;
    let revoked = h.call("GET", "/petstore/pets/1", Some(&key)).await;
    assert_problem(&revoked, 401, "revoked-key");

    // Usage: the rollups count what happened to the first key.
    h.app.flush_usage().await;
    let usage = h.admin_ok("GET", &format!("/v1/usage?key_id={key_id}&group_by=total"), Value::Null).await;
    let row = &usage["items"][0];
    // pets/1, catalog miss, hit and miss after purge, secret twice, deprecated call, retired, revoked.
    assert_eq!(row["requests"], 9, "{usage}");
    assert_eq!(row["outcomes"]["valid"], 7);
    assert_eq!(row["outcomes"]["revoked"], 1);
    assert_eq!(row["outcomes"]["retired"], 1);
    assert_eq!(row["cache_hits"], 1);
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_problem_never_a_500() {
    let h = Harness::start(false).await;
    // Malformed OpenAPI: every problem listed with its pointer.
    let bad_doc = json!({"openapi": "openapi: 3.0.0\ninfo: {}\npaths: {pets: {}}\n", "base_path": "/x", "upstream": {"url": "http://127.0.0.1:9"}});
    let p = assert_problem(&h.admin("POST", "/v1/apis", Some(bad_doc)).await, 422, "invalid-openapi");
    assert!(p["errors"].as_array().unwrap().len() >= 2, "{p}");
    // Bad JSON.
    let url = format!("http://{}/v1/developers", h.app.admin_addr);
    let auth = format!("Bearer {}", h.app.admin_token);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    assert_problem(&h.send("POST", &url, &headers, Bytes::from_static(b"{not json")).await, 400, "invalid-json");
    // Oversized bodies are refused from their announced length on the admin port, and the 413
    // names the limit. The gateway applies each API's own limit (tests/streaming.rs), so a
    // path no API serves is answered for what it is, without its body being read.
    let admin = announce_oversized(h.app.admin_addr, "/v1/developers", Some(&auth), 17 * 1024 * 1024).await;
    let too_large = assert_problem(&admin, 413, "payload-too-large");
    let limit = gatehouse_admin::MAX_BODY_BYTES.to_string();
    assert!(too_large["detail"].as_str().is_some_and(|d| d.contains(&limit)), "names the limit: {too_large}");
    let gateway = announce_oversized(h.app.gateway_addr, "/anything", None, 2 * 1024 * 1024).await;
    assert_problem(&gateway, 404, "no-route");
    // No admin token.
    assert_problem(
        &h.send("GET", &format!("http://{}/v1/apis", h.app.admin_addr), &[], Bytes::new()).await,
        401,
        "unauthorized",
    );
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_demo_answers_a_working_call() {
    let h = Harness::start(true).await;
    let key = h.app.demo_key.clone().expect("demo key seeded");
    let r = h.call("GET", "/demo/hello", Some(&key)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["message"].as_str().unwrap().contains("Gatehouse"));
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_absent_upstream_gets_504_or_502_problem() {
    let up = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(1_500)))
        .mount(&up)
        .await;
    let h = Harness::start(false).await;
    let doc = "openapi: 3.0.3\ninfo: {title: Slow, version: '1'}\npaths:\n  /slow:\n    get: {operationId: slow, security: [], responses: {'200': {description: ok}}}\n";
    let create = |base: &str, url: String| json!({"openapi": doc, "base_path": base, "upstream": {"url": url, "timeout_ms": 300}});
    for (base, url) in [("/slow", up.uri()), ("/gone", "http://127.0.0.1:9".to_string())] {
        let api = h.admin_ok("POST", "/v1/apis", create(base, url)).await;
        h.admin_ok(
            "POST",
            &format!("/v1/apis/{}/lifecycle", api["id"].as_str().unwrap()),
            json!({"action": "publish"}),
        )
        .await;
    }
    let started = std::time::Instant::now();
    assert_problem(&h.call("GET", "/slow/slow", None).await, 504, "upstream-timeout");
    assert!(started.elapsed() < std::time::Duration::from_millis(1_200), "the timeout must cut the wait short");
    assert_problem(&h.call("GET", "/gone/slow", None).await, 502, "upstream-unavailable");
    h.app.shutdown().await;
}
