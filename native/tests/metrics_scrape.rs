//! `/metrics` on the control-plane address, scraped over real HTTP after real gateway traffic
//! and parsed as the Prometheus text format: the counts match the calls made, the histogram
//! is well formed, the endpoint wants the admin token, and no key or app id is a label.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::json;
use support::{onboard, Harness};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DOC: &str = r#"
openapi: 3.0.3
info: { title: Pets, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /pets/{id}:
    get: { operationId: getPet, responses: { "200": { description: ok } } }
  /catalog:
    get: { operationId: getCatalog, responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

/// A sample's identity: its name and its labels, sorted.
type Series = (String, BTreeMap<String, String>);

/// A small parser of the Prometheus text format (0.0.4): `# TYPE` lines give each family's
/// type, every other non-comment line is `name{label="value",…} value` with `\\`, `\"` and
/// `\n` escaped in values. Panics on anything else, so a malformed scrape fails the test.
fn parse(text: &str) -> (BTreeMap<String, String>, BTreeMap<Series, f64>) {
    let (mut types, mut samples) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices().peekable();
            loop {
                let (start, c) = chars.next().unwrap();
                if c == '}' {
                    rest = &body[start + 1..];
                    break;
                }
                if c == ',' {
                    continue;
                }
                let eq = body[start..].find("=\"").unwrap() + start;
                let key = body[start..eq].to_owned();
                while chars.peek().unwrap().0 <= eq + 1 {
                    chars.next();
                }
                let mut value = String::new();
                loop {
                    match chars.next().unwrap().1 {
                        '\\' => match chars.next().unwrap().1 {
                            'n' => value.push('\n'),
                            other => value.push(other),
                        },
                        '"' => break,
                        other => value.push(other),
                    }
                }
                assert!(labels.insert(key, value).is_none(), "a label twice: {line}");
            }
        }
        let value = rest.trim();
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|e| panic!("{line}: {e}")),
        };
        assert!(samples.insert((name.to_owned(), labels), value).is_none(), "a sample twice: {line}");
    }
    (types, samples)
}

fn get(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    samples.get(&(name.to_owned(), labels)).copied().unwrap_or(0.0)
}

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    let ok = |cc: &str| ResponseTemplate::new(200).insert_header("cache-control", cc).set_body_string("{}");
    Mock::given(method("GET")).and(path("/pets/1")).respond_with(ok("no-store")).mount(&server).await;
    Mock::given(method("GET")).and(path("/catalog")).respond_with(ok("public, max-age=60")).mount(&server).await;
    server
}

async fn publish(h: &Harness, base: &str, url: String, cache: bool) -> String {
    let body = json!({"openapi": DOC, "base_path": base, "upstream": {"url": url}, "cache": {"enabled": cache}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scrape_counts_requests_latency_cache_limits_and_upstream_errors_without_key_ids() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let pets = publish(&h, "/pets", up.uri(), true).await;
    let gone = publish(&h, "/gone", "http://127.0.0.1:9".to_owned(), false).await;
    let burst = json!([{"name": "burst", "scope": "key", "type": "rate", "limit": 2, "period_secs": 60, "burst": 2}]);
    let (app_id, key_id, key) = onboard(&h, &pets, "m@example.com", json!([])).await;
    let (_, limited_key_id, limited) = onboard(&h, &pets, "l@example.com", burst).await;
    let (_, _, gone_key) = onboard(&h, &gone, "g@example.com", json!([])).await;

    for _ in 0..4 {
        assert_eq!(h.call("GET", "/pets/catalog", Some(&key)).await.status, 200);
        // 1 miss, then 3 hits
    }
    let statuses: Vec<u16> = calls(&h, "/pets/pets/1", &limited, 3).await;
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(h.call("GET", "/pets/pets/1", None).await.status, 401);
    assert_eq!(h.call("GET", "/nowhere", None).await.status, 404);
    assert_eq!(h.call("GET", "/gone/pets/1", Some(&gone_key)).await.status, 502);

    let url = format!("http://{}/metrics", h.app.admin_addr);
    assert_eq!(h.send("GET", &url, &[], Bytes::new()).await.status, 401, "the admin token is required");
    let auth = format!("Bearer {}", h.app.admin_token);
    let scrape = h.send("GET", &url, &[("authorization", &auth)], Bytes::new()).await;
    assert_eq!(scrape.status, 200);
    assert_eq!(scrape.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = String::from_utf8(scrape.body.to_vec()).unwrap();
    let (types, samples) = parse(&text);

    assert_eq!(types["gatehouse_requests_total"], "counter");
    assert_eq!(types["gatehouse_request_duration_seconds"], "histogram");
    let requests = |api: &str, outcome: &str, class: &str| {
        get(&samples, "gatehouse_requests_total", &[("api", api), ("outcome", outcome), ("status_class", class)])
    };
    assert_eq!(requests(&pets, "valid", "2xx"), 6.0);
    assert_eq!(requests(&pets, "rate_limited", "4xx"), 1.0);
    assert_eq!(requests(&pets, "missing", "4xx"), 1.0);
    assert_eq!(requests("_none", "no_route", "4xx"), 1.0);
    assert_eq!(requests(&gone, "valid", "5xx"), 1.0);
    let limiter = |api: &str, decision: &str| {
        get(&samples, "gatehouse_limiter_decisions_total", &[("api", api), ("decision", decision)])
    };
    assert_eq!((limiter(&pets, "allowed"), limiter(&pets, "rate_limited")), (6.0, 1.0));
    let cache = |result: &str| get(&samples, "gatehouse_cache_requests_total", &[("result", result)]);
    // /catalog: one miss then three hits; /pets/1 (no-store) forwards its two admitted calls.
    assert_eq!((cache("hit"), cache("miss")), (3.0, 3.0));
    let upstream_errors = get(&samples, "gatehouse_upstream_errors_total", &[("api", &gone), ("kind", "connect")]);
    assert_eq!(upstream_errors, 1.0);

    // The histogram: cumulative buckets ending in +Inf = _count = the API's requests.
    let count = get(&samples, "gatehouse_request_duration_seconds_count", &[("api", &pets)]);
    assert_eq!(count, 8.0);
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|((name, labels), _)| name == "gatehouse_request_duration_seconds_bucket" && labels["api"] == pets)
        .map(|((_, labels), v)| (labels["le"].parse::<f64>().unwrap(), *v))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative: {buckets:?}");
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 8.0)));
    assert!(get(&samples, "gatehouse_request_duration_seconds_sum", &[("api", &pets)]) > 0.0);

    // Bounded labels: only these names, and no key, app or secret anywhere.
    let names: std::collections::BTreeSet<&str> =
        samples.keys().flat_map(|(_, l)| l.keys().map(String::as_str)).collect();
    assert_eq!(names, ["api", "decision", "kind", "le", "outcome", "result", "status_class"].into());
    for secret in [&key_id, &limited_key_id, &app_id, &key, &limited] {
        assert!(!text.contains(secret.as_str()), "{secret} in the scrape");
    }
    h.app.shutdown().await;
}

/// `n` calls one after the other, their statuses.
async fn calls(h: &Harness, path: &str, key: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(h.call("GET", path, Some(key)).await.status);
    }
    statuses
}
