//! A hung upstream gets `504` within its timeout + 1 s, however it hangs (issue 18 item 8):
//! silent after accepting, silent after a head that promises a body, or dripping a body one
//! byte at a time forever, which a per-read idle timer would never end.
#![allow(clippy::unwrap_used)]

mod raw_upstream;
mod support;

use std::time::{Duration, Instant};

use raw_upstream::{Action, RawUpstream};
use serde_json::json;
use support::{assert_problem, Harness};

const TIMEOUT_MS: u64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_upstream_gets_504_within_its_timeout_plus_one_second() {
    let up = RawUpstream::start(|_, _, seen| match seen.path.as_str() {
        "/silent" => Action::Hang,
        "/half" => Action::RespondThenHang(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some".to_vec()),
        _ => Action::Drip {
            head: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n".to_vec(),
            drip: b'x',
            every: Duration::from_millis(50),
        },
    })
    .await;
    let h = Harness::start(false).await;
    let doc = "openapi: 3.0.3\ninfo: {title: Hung, version: '1'}\nsecurity: []\npaths:\n  /{name}:\n    get: {operationId: get, responses: {'200': {description: ok}}}\n";
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": doc, "base_path": "/hung", "upstream": {"url": up.url(""), "timeout_ms": TIMEOUT_MS}}),
        )
        .await;
    h.admin_ok("POST", &format!("/v1/apis/{}/lifecycle", api["id"].as_str().unwrap()), json!({"action": "publish"}))
        .await;
    for path in ["/hung/silent", "/hung/half", "/hung/drip"] {
        let started = Instant::now();
        let reply = h.call("GET", path, None).await;
        let waited = started.elapsed();
        assert_problem(&reply, 504, "upstream-timeout");
        assert!(waited >= Duration::from_millis(TIMEOUT_MS), "{path}: answered before the timeout ({waited:?})");
        assert!(waited < Duration::from_millis(TIMEOUT_MS + 1_000), "{path}: took {waited:?}");
    }
    h.app.shutdown().await;
}
