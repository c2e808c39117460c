//! Quotas and usage across a restart of the real `gatehouse` binary: a plan allows 5 calls a
//! day, 5 are served, the process is stopped (SIGTERM) or killed (SIGKILL), started again on
//! the same data dir, and the 6th call is refused. The usage the store reports afterwards
//! matches what the upstream (a counting server on 127.0.0.1) really served.
//!
//! The documented bounds (README, "Restarts and crashes"): a quota written behind and usage
//! lose at most the last flush interval (1 s by default) to a crash; an exact quota loses
//! nothing; a graceful stop loses nothing.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::{status_of, Dev};
use serde_json::{json, Value};

/// How long a condition may take on a loaded machine before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

const OPENAPI: &str = r#"{"openapi": "3.0.3", "info": {"title": "Counted", "version": "1"},
  "security": [{"key": []}],
  "paths": {"/hit": {"get": {"operationId": "hit", "responses": {"200": {"description": "ok"}}}}},
  "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}}}"#;

/// An upstream that counts the requests it answers (keep-alive, `no-store`).
fn counting_upstream() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve_counting(stream, &counter));
        }
    });
    (url, hits)
}

fn serve_counting(stream: TcpStream, hits: &AtomicU64) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        // One request head (the gateway forwards bodiless GETs here).
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
        }
        hits.fetch_add(1, Ordering::SeqCst);
        let reply =
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncache-control: no-store\r\ncontent-length: 2\r\n\r\nok";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// `gatehouse dev` with its default flush intervals and no demo.
fn start_dev(data: &Path) -> Dev {
    Dev::start_with(data, &["--no-demo"])
}

/// A gateway call with the key; returns the status.
fn call(dev: &Dev, key: &str) -> u16 {
    status_of(&format!("{}/counted/hit", dev.gateway), Some(key))
}

/// The key's usage totals: (requests, 2xx answers, quota refusals).
fn usage(dev: &Dev, key_id: &str) -> (u64, u64, u64) {
    let usage = dev.admin_call("GET", &format!("/v1/usage?key_id={key_id}&group_by=total"), None);
    let row = &usage["items"][0];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    (n(&row["requests"]), n(&row["status_classes"][1]), n(&row["outcomes"]["quota_exceeded"]))
}

/// Polls `condition` until it holds; fails the test after [`PATIENCE`].
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Publishes an API on `upstream` and onboards an app on a plan of 5 calls a day; returns
/// (key id, key secret).
fn onboard(dev: &Dev, upstream: &str, durable: Option<&str>) -> (String, String) {
    let api = dev.admin_call(
        "POST",
        "/v1/apis",
        Some(json!({"openapi": OPENAPI, "base_path": "/counted", "upstream": {"url": upstream},
            "cache": {"enabled": false}})),
    );
    let api_id = api["id"].as_str().unwrap_or_else(|| panic!("{api}"));
    dev.admin_call("POST", &format!("/v1/apis/{api_id}/lifecycle"), Some(json!({"action": "publish"})));
    let product =
        dev.admin_call("POST", "/v1/products", Some(json!({"name": "counted", "items": [{"api_id": api_id}]})));
    let mut quota = json!({"name": "daily", "scope": "app", "type": "quota", "limit": 5, "window": "day"});
    if let Some(durable) = durable {
        quota["durable"] = json!(durable);
    }
    let plan = dev.admin_call(
        "POST",
        "/v1/plans",
        Some(json!({"name": "five", "product_id": product["id"], "limits": [quota]})),
    );
    assert_eq!(plan["limits"][0]["durable"].as_str(), durable, "{plan}");
    let developer = dev.admin_call("POST", "/v1/developers", Some(json!({"email": "q@example.com", "name": "Q"})));
    let app = dev.admin_call("POST", "/v1/apps", Some(json!({"developer_id": developer["id"], "name": "app"})));
    let app_id = app["id"].as_str().unwrap();
    let subscription = json!({"product_id": product["id"], "plan_id": plan["id"]});
    dev.admin_call("POST", &format!("/v1/apps/{app_id}/subscriptions"), Some(subscription));
    let created = dev.admin_call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k"})));
    (created["key"]["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string())
}

/// The count the store holds for the app's daily quota, read from the side as an operator
/// could (a second reader on the WAL file never blocks the gateway).
fn saved_count(data: &Path) -> Option<i64> {
    let conn = rusqlite::Connection::open(data.join("gatehouse.db")).ok()?;
    conn.query_row("SELECT used FROM quota_counters WHERE counter LIKE 'app:%:daily'", [], |r| r.get(0)).ok()
}

/// Five calls pass, and the upstream served exactly those.
fn use_the_quota(dev: &Dev, key: &str, hits: &AtomicU64) {
    for i in 1..=5 {
        assert_eq!(call(dev, key), 200, "call {i} of 5");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

/// After the restart the 6th call is refused, never reaches the upstream, and usage shows the
/// 5 served calls plus the refusal once it is flushed.
fn sixth_call_is_refused(dev: &Dev, key: &str, key_id: &str, hits: &AtomicU64) {
    assert_eq!(call(dev, key), 429, "the 6th call of a quota of 5 after the restart");
    assert_eq!(hits.load(Ordering::SeqCst), 5, "the refused call never reached the upstream");
    wait_until("the refusal in usage", || usage(dev, key_id).2 == 1);
    let served = hits.load(Ordering::SeqCst);
    assert_eq!(usage(dev, key_id), (6, served, 1), "usage: 6 requests, of which the 5 served answered 2xx");
}

#[test]
fn quota_and_usage_survive_a_crash_once_the_flush_interval_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, hits) = counting_upstream();
    let dev = start_dev(&dir.path().join("data"));
    let (key_id, key) = onboard(&dev, &upstream, None);
    use_the_quota(&dev, &key, &hits);
    // Past the bound: the flushes (every 1 s by default) have saved both figures.
    wait_until("usage of the 5 calls to be flushed", || usage(&dev, &key_id) == (5, 5, 0));
    wait_until("the quota count to be saved", || saved_count(&dev.data) == Some(5));
    let data = dev.data.clone();
    dev.kill();

    let dev = start_dev(&data);
    assert_eq!(usage(&dev, &key_id), (5, 5, 0), "no usage lost to the crash");
    sixth_call_is_refused(&dev, &key, &key_id, &hits);
}

#[test]
fn quota_and_usage_survive_a_graceful_stop_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, hits) = counting_upstream();
    let dev = start_dev(&dir.path().join("data"));
    let (key_id, key) = onboard(&dev, &upstream, None);
    use_the_quota(&dev, &key, &hits);
    // No wait: a graceful stop saves what the flushes have not yet.
    let data = dev.data.clone();
    assert!(dev.stop().success());

    let dev = start_dev(&data);
    assert_eq!(usage(&dev, &key_id), (5, 5, 0), "no usage lost to a graceful stop");
    sixth_call_is_refused(&dev, &key, &key_id, &hits);
}

#[test]
fn an_exact_quota_survives_a_crash_right_after_the_last_call() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, hits) = counting_upstream();
    let dev = start_dev(&dir.path().join("data"));
    let (key_id, key) = onboard(&dev, &upstream, Some("exact"));
    use_the_quota(&dev, &key, &hits);
    // No wait: every admitted call's count was committed before it went ahead.
    let data = dev.data.clone();
    dev.kill();

    let dev = start_dev(&data);
    assert_eq!(call(&dev, &key), 429, "the 6th call of an exact quota of 5 after a crash");
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    // Usage is written behind even here: what the crash cut from it is bounded, never added.
    wait_until("the refusal in usage", || usage(&dev, &key_id).2 == 1);
    let (requests, ok, refused) = usage(&dev, &key_id);
    assert!(ok <= 5 && requests == ok + refused, "usage ({requests}, {ok}, {refused}) counts no call twice");
}
