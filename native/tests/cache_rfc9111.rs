//! The HTTP cache's RFC 9111 cases end to end: a real gateway on 127.0.0.1 in front of a
//! scripted upstream that answers with exactly the bytes each case needs (repeated `Age`
//! lines, a 304 that tries to relabel the body, statuses with `must-understand`, …). Each test
//! is named for the section it protects; edge/tests/edge.test.mjs runs the same cases under
//! workerd.
#![allow(clippy::unwrap_used)]

mod raw_upstream;
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use raw_upstream::{Action, RawUpstream, Seen};
use serde_json::json;
use support::{assert_problem, onboard, Harness, Reply};

/// Every path under the API, any method, no key: the cache is what is under test.
const OPEN_DOC: &str = "openapi: 3.0.3
info: {title: Cache, version: '1'}
security: []
paths:
  /{name}:
    get: {operationId: get, responses: {'200': {description: ok}}}
    post: {operationId: post, responses: {'200': {description: ok}}}
    put: {operationId: put, responses: {'200': {description: ok}}}
    delete: {operationId: delete, responses: {'200': {description: ok}}}
";

/// A response with a `Content-Length` body; `headers` are written as given, repeats included.
fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// The upstream's answer to its `nth` request for `seen.path` (0-based).
fn script(seen: &Seen, nth: usize) -> Action {
    let fresh = |body: &str| response("200 OK", &[("Cache-Control", "max-age=3600")], body);
    let path = seen.path.split('?').next().unwrap_or_default();
    let name = path.rsplit('/').next().unwrap_or_default();
    let body = format!("{name}-{nth}");
    Action::Respond(match (seen.method.as_str(), name) {
        ("POST" | "PUT" | "DELETE", "fail") => response("500 Internal Server Error", &[], "no"),
        ("POST" | "PUT" | "DELETE", _) => {
            response("201 Created", &[("Location", "/c/loc"), ("Content-Location", "/c/cl")], "made")
        }
        (_, "age-two-lines") => {
            response("200 OK", &[("Cache-Control", "max-age=3600"), ("Age", "7200"), ("Age", "0")], &body)
        }
        (_, "age-joined") => response("200 OK", &[("Cache-Control", "max-age=3600"), ("Age", "7200, 0")], &body),
        (_, "age-junk") => response("200 OK", &[("Cache-Control", "max-age=3600"), ("Age", "abc")], &body),
        (_, "mu-200") => response("200 OK", &[("Cache-Control", "must-understand, no-store, max-age=3600")], &body),
        (_, "mu-299") => response("299 Odd", &[("Cache-Control", "must-understand, no-store, max-age=3600")], &body),
        (_, "etag") if seen.header("if-none-match").is_some() => response(
            "304 Not Modified",
            &[
                ("Cache-Control", "max-age=3600"),
                ("ETag", "\"v2\""),
                ("Content-Encoding", "br"),
                ("X-Refreshed", "yes"),
            ],
            "",
        ),
        (_, "etag") => response(
            "200 OK",
            &[
                ("Cache-Control", "max-age=1"),
                ("ETag", "\"v1\""),
                ("Content-Encoding", "identity"),
                ("X-Refreshed", "no"),
            ],
            &body,
        ),
        (_, "hang") => return Action::Hang,
        (_, "range") => fresh("01234567890"),
        _ => fresh(&body),
    })
}

struct Setup {
    h: Harness,
    up: RawUpstream,
}

impl Setup {
    /// The gateway with API `/c` (open, cached, 300 ms timeout) in front of [`script`].
    async fn start() -> Setup {
        let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let up = RawUpstream::start(move |_, _, seen| {
            let mut counts = counts.lock().unwrap();
            let n = counts.entry(format!("{} {}", seen.method, seen.path)).or_default();
            *n += 1;
            script(seen, *n - 1)
        })
        .await;
        let h = Harness::start(false).await;
        let upstream = json!({"url": up.url(""), "timeout_ms": 300});
        publish(&h, json!({"openapi": OPEN_DOC, "base_path": "/c", "upstream": upstream, "cache": {"enabled": true}}))
            .await;
        Setup { h, up }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers).await
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let url = format!("http://{}{path}", self.h.app.gateway_addr);
        self.h.send(method, &url, headers, Bytes::new()).await
    }

    /// How many requests for `path` (below the upstream's root) reached the upstream.
    fn upstream_saw(&self, path: &str) -> usize {
        self.up.seen().iter().filter(|s| s.path == path).count()
    }
}

async fn publish(h: &Harness, api: serde_json::Value) -> String {
    let created = h.admin_ok("POST", "/v1/apis", api).await;
    let id = created["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    id
}

fn cache_status(r: &Reply) -> &str {
    r.header("cache-status").unwrap_or_default()
}

fn text(r: &Reply) -> &str {
    std::str::from_utf8(&r.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_4_4_successful_unsafe_methods_invalidate_the_url_location_and_content_location() {
    let s = Setup::start().await;
    for method in ["POST", "PUT", "DELETE"] {
        for path in ["/c/inv", "/c/loc", "/c/cl"] {
            s.get(path, &[]).await;
            assert!(cache_status(&s.get(path, &[]).await).contains("hit"), "{path} is cached before the {method}");
        }
        let made = s.send(method, "/c/inv", &[]).await;
        assert_eq!(made.status, 201);
        for path in ["/c/inv", "/c/loc", "/c/cl"] {
            let after = s.get(path, &[]).await;
            assert!(
                cache_status(&after).contains("fwd=uri-miss"),
                "{method} must invalidate {path}: {}",
                cache_status(&after)
            );
        }
    }
    // A failed unsafe request invalidates nothing (RFC 9111 §4.4 only asks it of successes).
    s.get("/c/fail", &[]).await;
    assert_eq!(s.send("POST", "/c/fail", &[]).await.status, 500);
    assert!(cache_status(&s.get("/c/fail", &[]).await).contains("hit"));
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_3_2_a_304_refresh_never_relabels_the_stored_body() {
    let s = Setup::start().await;
    let first = s.get("/c/etag", &[]).await;
    assert_eq!((text(&first), first.header("etag")), ("etag-0", Some("\"v1\"")));
    tokio::time::sleep(Duration::from_millis(1_100)).await; // max-age=1 has passed
    let refreshed = s.get("/c/etag", &[]).await;
    assert_eq!(cache_status(&refreshed), "Gatehouse; fwd=stale; fwd-status=304");
    let hit = s.get("/c/etag", &[]).await;
    assert!(cache_status(&hit).contains("hit"), "{}", cache_status(&hit));
    for r in [&refreshed, &hit] {
        assert_eq!(text(r), "etag-0");
        assert_eq!(r.header("etag"), Some("\"v1\""), "the stored body's own validator");
        assert_eq!(r.header("content-encoding"), Some("identity"), "the stored body's own coding");
        assert_eq!(r.header("x-refreshed"), Some("yes"), "other fields are updated");
    }
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_5_1_an_invalid_or_repeated_age_is_read_strictly_and_the_same_as_at_the_edge() {
    let s = Setup::start().await;
    // `7200` then `0` on two lines natively, `7200, 0` as the Workers Headers API joins them,
    // and junk: all stale against max-age=3600, so the second call goes upstream again.
    for path in ["/c/age-two-lines", "/c/age-joined", "/c/age-junk"] {
        s.get(path, &[]).await;
        let second = s.get(path, &[]).await;
        assert!(
            cache_status(&second).contains("fwd="),
            "{path} must not be served as fresh: {}",
            cache_status(&second)
        );
        assert_eq!(s.upstream_saw(&path[2..]), 2, "{path}");
    }
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_5_2_2_3_must_understand_stores_only_understood_statuses() {
    let s = Setup::start().await;
    s.get("/c/mu-200", &[]).await;
    assert!(cache_status(&s.get("/c/mu-200", &[]).await).contains("hit"), "200 is understood; no-store yields");
    assert_eq!(s.get("/c/mu-299", &[]).await.status, 299);
    assert!(cache_status(&s.get("/c/mu-299", &[]).await).contains("fwd=uri-miss"), "299 is not understood");
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_5_2_1_7_only_if_cached_is_answered_504_by_the_cache_never_forwarded() {
    let s = Setup::start().await;
    let only = [("cache-control", "only-if-cached")];
    let miss = s.get("/c/never", &only).await;
    assert_problem(&miss, 504, "not-cached");
    assert_eq!(cache_status(&miss), "Gatehouse; detail=only-if-cached");
    assert_eq!(s.upstream_saw("/never"), 0);
    s.get("/c/stored", &[]).await;
    let hit = s.get("/c/stored", &only).await;
    assert_eq!((hit.status, text(&hit)), (200, "stored-0"));
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_5_4_pragma_no_cache_without_cache_control_forwards() {
    let s = Setup::start().await;
    s.get("/c/pragma", &[]).await;
    let forwarded = s.get("/c/pragma", &[("pragma", "no-cache")]).await;
    assert_eq!((cache_status(&forwarded), text(&forwarded)), ("Gatehouse; fwd=request; stored", "pragma-1"));
    let with_cc = s.get("/c/pragma", &[("pragma", "no-cache"), ("cache-control", "max-age=3600")]).await;
    assert!(cache_status(&with_cc).contains("hit"), "Cache-Control wins over Pragma");
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9110_14_a_range_request_is_served_206_from_a_complete_cached_response() {
    let s = Setup::start().await;
    s.get("/c/range", &[]).await;
    let part = s.get("/c/range", &[("range", "bytes=0-1")]).await;
    assert_eq!((part.status, text(&part), part.header("content-range")), (206, "01", Some("bytes 0-1/11")));
    assert!(cache_status(&part).contains("hit"));
    let suffix = s.get("/c/range", &[("range", "bytes=-1")]).await;
    assert_eq!((suffix.status, text(&suffix)), (206, "0"));
    let past = s.get("/c/range", &[("range", "bytes=20-")]).await;
    assert_eq!((past.status, past.header("content-range")), (416, Some("bytes */11")));
    assert_eq!(s.upstream_saw("/range"), 1);
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9211_the_gateways_own_502_and_504_carry_cache_status() {
    let s = Setup::start().await;
    let dead = json!({"url": "http://127.0.0.1:9", "timeout_ms": 300});
    publish(&s.h, json!({"openapi": OPEN_DOC, "base_path": "/dead", "upstream": dead, "cache": {"enabled": true}}))
        .await;
    let timeout = s.get("/c/hang", &[]).await;
    assert_problem(&timeout, 504, "upstream-timeout");
    assert_eq!(cache_status(&timeout), "Gatehouse; fwd=uri-miss");
    let unreachable = s.get("/dead/x", &[]).await;
    assert_problem(&unreachable, 502, "upstream-unavailable");
    assert_eq!(cache_status(&unreachable), "Gatehouse; fwd=uri-miss");
    assert_eq!(cache_status(&s.send("POST", "/dead/x", &[]).await), "Gatehouse; fwd=bypass");
    s.h.app.shutdown().await;
}

/// `cache.public: true`: one entry serves every caller, so the upstream must not be told who
/// is asking when its answer may be stored for all (docs/config.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9111_3_5_a_public_cache_never_shares_an_answer_built_for_one_caller() {
    let s = Setup::start().await;
    let doc = OPEN_DOC.replace("security: []", "security: [{key: []}]")
        + "components:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-API-Key}\n";
    let upstream = json!({"url": s.up.url(""), "forward_credential": true});
    let api = publish(
        &s.h,
        json!({"openapi": doc, "base_path": "/pub", "upstream": upstream, "cache": {"enabled": true, "public": true}}),
    )
    .await;
    let (_, _, alice) = onboard(&s.h, &api, "alice@example.com", json!([])).await;
    let (_, _, bob) = onboard(&s.h, &api, "bob@example.com", json!([])).await;
    let first = s.h.call("GET", "/pub/shared", Some(&alice)).await;
    assert_eq!(first.status, 200);
    let bobs = s.h.call("GET", "/pub/shared", Some(&bob)).await;
    assert!(cache_status(&bobs).contains("hit"), "one entry for every caller");
    let seen = s.up.seen().into_iter().find(|r| r.path == "/shared").unwrap();
    for never in ["gatehouse-identity", "gatehouse-signature", "x-api-key"] {
        assert!(seen.header(never).is_none(), "{never} reached the upstream of a shared entry");
    }
    // An unsafe request is never stored, so the upstream learns who made it.
    assert_eq!(
        s.h.send(
            "POST",
            &format!("http://{}/pub/shared", s.h.app.gateway_addr),
            &[("x-api-key", &alice)],
            Bytes::new()
        )
        .await
        .status,
        201
    );
    let posted = s.up.seen().into_iter().find(|r| r.method == "POST").unwrap();
    assert!(posted.header("gatehouse-identity").is_some());
    s.h.app.shutdown().await;
}
