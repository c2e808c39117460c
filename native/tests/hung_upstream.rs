//! A hung upstream never holds a call for long, however it hangs (issue 18 item 8, with the
//! stream timeouts of issue 19): silent after accepting gets `504` within its time-to-first-
//! byte timeout + 1 s; silent after a head that promises a body ends the body detectably within
//! the idle timeout + 1 s; and dripping a body one byte at a time forever, which is a healthy
//! stream as far as any per-read timer can tell, is cut by the API's maximum duration.
#![allow(clippy::unwrap_used)]

mod raw_upstream;
mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use raw_upstream::{Action, RawUpstream};
use serde_json::json;
use support::{assert_problem, Harness};

const TIMEOUT_MS: u64 = 500;
const IDLE_MS: u64 = 700;
const MAX_MS: u64 = 2_000;

async fn publish_hung_api(h: &Harness, url: &str) {
    let doc = "openapi: 3.0.3\ninfo: {title: Hung, version: '1'}\nsecurity: []\npaths:\n  /{name}:\n    get: {operationId: get, responses: {'200': {description: ok}}}\n";
    let upstream = json!({"url": url, "timeout_ms": TIMEOUT_MS, "idle_timeout_ms": IDLE_MS, "max_duration_ms": MAX_MS});
    let api = h.admin_ok("POST", "/v1/apis", json!({"openapi": doc, "base_path": "/hung", "upstream": upstream})).await;
    h.admin_ok("POST", &format!("/v1/apis/{}/lifecycle", api["id"].as_str().unwrap()), json!({"action": "publish"}))
        .await;
}

/// Reads a call's body to its end: the bytes, whether it ended cleanly, and when it ended.
async fn read_body(h: &Harness, path: &str) -> (u16, usize, bool, Duration) {
    let started = Instant::now();
    let url = format!("http://{}{path}", h.app.gateway_addr);
    let request = http::Request::get(url).body(Full::new(Bytes::new())).unwrap();
    let response = h.http.request(request).await.unwrap();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut read = 0;
    loop {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) => return (status, read, false, started.elapsed()),
            None => return (status, read, true, started.elapsed()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_upstream_never_holds_a_call_past_its_timeouts() {
    let up = RawUpstream::start(|_, _, seen| match seen.path.as_str() {
        "/silent" => Action::Hang,
        "/half" => Action::RespondThenHang(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly some".to_vec()),
        _ => Action::Drip {
            head: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n".to_vec(),
            drip: b'x',
            every: Duration::from_millis(50),
        },
    })
    .await;
    let h = Harness::start(false).await;
    publish_hung_api(&h, &up.url("")).await;

    let started = Instant::now();
    let reply = h.call("GET", "/hung/silent", None).await;
    let waited = started.elapsed();
    assert_problem(&reply, 504, "upstream-timeout");
    assert!(waited >= Duration::from_millis(TIMEOUT_MS), "answered before the timeout ({waited:?})");
    assert!(waited < Duration::from_millis(TIMEOUT_MS + 1_000), "took {waited:?}");

    // The head came, then nothing: the body ends short (never as a complete one). (A body
    // small enough to be read whole, up to 64 KiB, is under the first-byte timeout instead.)
    let (status, read, complete, waited) = read_body(&h, "/hung/half").await;
    assert_eq!((status, read, complete), (200, 9, false), "a stalled body is cut, detectably");
    assert!(waited >= Duration::from_millis(IDLE_MS), "cut before the idle timeout ({waited:?})");
    assert!(waited < Duration::from_millis(IDLE_MS + 1_000), "took {waited:?}");

    // A byte every 50 ms never trips the idle or first-byte timeout: only the maximum duration.
    let (status, read, complete, waited) = read_body(&h, "/hung/drip").await;
    assert_eq!((status, complete), (200, false));
    assert!(read > (TIMEOUT_MS / 50) as usize, "the stream ran past the first-byte timeout: {read} bytes");
    assert!(waited >= Duration::from_millis(MAX_MS), "cut before the maximum duration ({waited:?})");
    assert!(waited < Duration::from_millis(MAX_MS + 1_000), "took {waited:?}");
    h.app.shutdown().await;
}
