//! Forwarded headers and the other fields a client must not smuggle to the upstream, over real
//! HTTP: spoofing from an untrusted peer and from a trusted proxy (issue 18 item 5), and
//! header names with `_` (item 8).
#![allow(clippy::unwrap_used)]

mod raw_upstream;
mod support;

use bytes::Bytes;
use raw_upstream::{ok, Action, RawUpstream, Seen};
use serde_json::{json, Value};
use support::Harness;

const DOC: &str = "openapi: 3.0.3
info: {title: Fwd, version: '1'}
security: []
paths:
  /{name}:
    get: {operationId: get, responses: {'200': {description: ok}}}
";

/// Spoofed forwarding fields a client might send.
const SPOOFED: [(&str, &str); 5] = [
    ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "api.example.com"),
    ("forwarded", "for=6.6.6.6;proto=https"),
    ("x-real-ip", "6.6.6.6"),
];

async fn start(trusted: &str) -> (Harness, RawUpstream) {
    let up = RawUpstream::start(|_, _, _| Action::Respond(ok("{}"))).await;
    let trusted = gatehouse_core::pipeline::forwarded::TrustedProxies::parse(trusted).unwrap();
    let h = Harness::start_with(|c| c.gateway.trusted_proxies = trusted).await;
    (h, up)
}

async fn publish(h: &Harness, base: &str, upstream: Value) {
    let api = h.admin_ok("POST", "/v1/apis", json!({"openapi": DOC, "base_path": base, "upstream": upstream})).await;
    let id = api["id"].as_str().unwrap();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
}

/// Sends `headers` through the gateway to `path` and returns what the upstream read.
async fn through(h: &Harness, up: &RawUpstream, path: &str, headers: &[(&str, &str)]) -> Seen {
    let before = up.seen().len();
    let reply = h.send("GET", &format!("http://{}{path}", h.app.gateway_addr), headers, Bytes::new()).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    up.seen()[before..].last().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_client_cannot_spoof_its_address_scheme_or_host() {
    let (h, up) = start("").await;
    publish(&h, "/f", json!({"url": up.url(""), "forwarded": "both"})).await;
    let seen = through(&h, &up, "/f/x", &SPOOFED).await;
    let gateway_host = h.app.gateway_addr.to_string();
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"), "the peer, and nothing the client wrote");
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.header("x-forwarded-host"), Some(gateway_host.as_str()));
    assert_eq!(seen.header("forwarded"), Some(format!("for=127.0.0.1;proto=http;host=\"{gateway_host}\"").as_str()));
    assert_eq!(seen.header("x-real-ip"), None);
    assert_eq!(seen.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for")).count(), 1);
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_trusted_proxy_the_client_is_the_first_untrusted_hop_and_the_rest_is_dropped() {
    let (h, up) = start("127.0.0.0/8").await;
    publish(&h, "/f", json!({"url": up.url("")})).await;
    let seen = through(&h, &up, "/f/x", &SPOOFED).await;
    // 6.6.6.6 is what the client told the proxy; 198.51.100.7 is who reached the proxy.
    assert_eq!(seen.header("x-forwarded-for"), Some("198.51.100.7, 127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"), "a trusted proxy terminated TLS");
    assert_eq!(seen.header("x-forwarded-host"), Some("api.example.com"));
    assert_eq!(seen.header("forwarded"), None, "this API asked for X-Forwarded-* only (the default)");
    assert_eq!(seen.header("x-real-ip"), None);
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_can_ask_for_no_forwarding_fields_and_still_gets_no_spoofed_ones() {
    let (h, up) = start("").await;
    publish(&h, "/f", json!({"url": up.url(""), "forwarded": "none"})).await;
    let seen = through(&h, &up, "/f/x", &SPOOFED).await;
    for (name, _) in SPOOFED {
        assert_eq!(seen.header(name), None, "{name}");
    }
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_names_with_underscores_are_dropped_unless_the_api_keeps_them() {
    let (h, up) = start("").await;
    publish(&h, "/f", json!({"url": up.url("")})).await;
    publish(&h, "/keep", json!({"url": up.url(""), "keep_underscore_headers": true})).await;
    let sneaky = [("content_length", "5"), ("x_user", "admin"), ("x-user", "alice")];
    let dropped = through(&h, &up, "/f/x", &sneaky).await;
    assert_eq!((dropped.header("content_length"), dropped.header("x_user")), (None, None));
    assert_eq!(dropped.header("x-user"), Some("alice"), "names without `_` pass");
    let kept = through(&h, &up, "/keep/x", &sneaky).await;
    assert_eq!(kept.header("x_user"), Some("admin"));
    h.app.shutdown().await;
}

/// Sends raw request bytes to the gateway and returns the response's status line.
async fn raw_status(h: &Harness, raw: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(h.app.gateway_addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed without an answer");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).lines().next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9112_3_2_2_an_absolute_form_target_routes_by_its_own_host_not_by_host() {
    let (h, up) = start("").await;
    let api =
        |host: &str, url: String| json!({"openapi": DOC, "base_path": "/h", "hosts": [host], "upstream": {"url": url}});
    for (host, path) in [("api.example.com", "/a"), ("other.example", "/b")] {
        let created = h.admin_ok("POST", "/v1/apis", api(host, up.url(path))).await;
        let id = created["id"].as_str().unwrap();
        h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    }
    let status = raw_status(&h, "GET http://api.example.com/h/x HTTP/1.1\r\nHost: other.example\r\n\r\n").await;
    assert!(status.contains(" 200 "), "{status}");
    let seen = up.seen();
    assert_eq!(seen.last().unwrap().path, "/a/x", "the target's host chose the API, not Host");
    let status = raw_status(&h, "GET /h/x HTTP/1.1\r\nHost: other.example\r\n\r\n").await;
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(up.seen().last().unwrap().path, "/b/x", "origin-form still routes by Host");
    h.app.shutdown().await;
}
