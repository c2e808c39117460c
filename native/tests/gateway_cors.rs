//! The portal's try-it console calls the gateway from another origin: the gateway answers the
//! CORS preflight for the configured portal origin only, without a key and without counting
//! it, and lets the console read the limit headers. Real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::json;
use support::{onboard, Harness, Reply};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PORTAL: &str = "http://127.0.0.1:8081";
const DOC: &str = r#"
openapi: 3.0.3
info: { title: Hello, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /hello:
    get: { operationId: hello, responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

async fn from(h: &Harness, origin: &str, method: &str, headers: &[(&str, &str)]) -> Reply {
    let url = format!("http://{}/hello/hello", h.app.gateway_addr);
    let mut all = vec![("origin", origin)];
    all.extend_from_slice(headers);
    h.send(method, &url, &all, Bytes::new()).await
}

fn cors_headers(reply: &Reply) -> Vec<String> {
    reply.headers.keys().map(|n| n.as_str().to_owned()).filter(|n| n.starts_with("access-control-")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_answers_cors_for_the_portal_origin_only_and_never_counts_a_preflight() {
    let up = MockServer::start().await;
    Mock::given(method("GET")).and(path("/hello")).respond_with(ResponseTemplate::new(200)).mount(&up).await;
    let h = Harness::start_with(|c| c.gateway.portal_origin = Some(PORTAL.into())).await;
    let api = h
        .admin_ok("POST", "/v1/apis", json!({"openapi": DOC, "base_path": "/hello", "upstream": {"url": up.uri()}}))
        .await;
    let api_id = api["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let burst = json!([{"name": "burst", "scope": "key", "type": "rate", "limit": 2, "period_secs": 60, "burst": 2}]);
    let (_app, _key_id, key) = onboard(&h, &api_id, "cors@example.com", burst).await;

    // The preflight: no key, answered by the gateway, and it spends nothing of the burst of 2.
    let asks = [("access-control-request-method", "GET"), ("access-control-request-headers", "x-api-key")];
    for _ in 0..3 {
        let pre = from(&h, PORTAL, "OPTIONS", &asks).await;
        assert_eq!(pre.status, 204);
        assert_eq!(pre.header("access-control-allow-origin"), Some(PORTAL));
        assert_eq!(pre.header("access-control-allow-methods"), Some("GET"));
        assert_eq!(pre.header("access-control-allow-headers"), Some("x-api-key"));
    }
    // The same preflight from another origin is not ours to allow: no CORS header at all.
    let foreign = from(&h, "http://evil.example", "OPTIONS", &asks).await;
    assert!(cors_headers(&foreign).is_empty(), "{:?}", foreign.headers);

    // The calls: the console can read the answer and its RateLimit headers, 429 included.
    for expected in [200, 200, 429] {
        let reply = from(&h, PORTAL, "GET", &[("x-api-key", &key)]).await;
        assert_eq!(reply.status, expected);
        assert_eq!(reply.header("access-control-allow-origin"), Some(PORTAL));
        assert!(reply.headers.get_all("vary").iter().any(|v| v == "Origin"));
        let exposed = reply.header("access-control-expose-headers").unwrap();
        for name in ["RateLimit", "RateLimit-Policy", "Retry-After"] {
            assert!(exposed.split(", ").any(|e| e == name), "{name} not in {exposed}");
        }
        assert!(reply.header("ratelimit").is_some());
    }
    let other = from(&h, "http://evil.example", "GET", &[("x-api-key", &key)]).await;
    assert_eq!(other.status, 429);
    assert!(cors_headers(&other).is_empty(), "{:?}", other.headers);

    // Usage holds the four calls and none of the three preflights the gateway answered.
    h.app.flush_usage().await;
    let usage = h.admin_ok("GET", &format!("/v1/usage?group_by=total&api_id={api_id}"), json!(null)).await;
    assert_eq!(usage["items"][0]["requests"], 4, "{usage}");
    h.app.shutdown().await;
}

/// `gatehouse dev --admin-addr 127.0.0.1:0` allows its own portal, whose port is only known
/// once bound: the gateway must allow that bound origin, not `http://127.0.0.1:0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_on_an_ephemeral_port_is_the_origin_the_gateway_allows() {
    let h = Harness::start_with(|c| c.gateway.portal_origin = Some(format!("http://{}", c.admin_addr))).await;
    let portal = format!("http://{}", h.app.admin_addr);
    assert_ne!(h.app.admin_addr.port(), 0);
    let asks = [("access-control-request-method", "GET"), ("access-control-request-headers", "x-api-key")];
    let pre = from(&h, &portal, "OPTIONS", &asks).await;
    assert_eq!(pre.header("access-control-allow-origin"), Some(portal.as_str()), "{:?}", pre.headers);
}
