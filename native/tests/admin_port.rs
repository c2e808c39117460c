//! The admin port over real HTTP, as the native binary serves it: what it refuses itself (a
//! body, target or head too large, a head that never finishes) is an RFC 9457 problem, like
//! everything the admin router answers, and a slow client cannot hold a connection open.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use gatehouse_native::app::{self, AppConfig, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_secs(1);

async fn start(dir: &tempfile::TempDir) -> Running {
    let mut config = AppConfig::for_tests(dir.path());
    config.admin_read_timeout = READ_TIMEOUT;
    app::start(config).await.unwrap()
}

struct Answer {
    status: u16,
    head: String,
    body: serde_json::Value,
}

/// Sends `raw` (the server may stop reading it early) and reads until the server closes.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(raw).await;
    read_to_close(&mut stream).await
}

async fn read_to_close(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes)).await;
    assert!(read.is_ok(), "the server did not close the connection");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, head: head.to_lowercase(), body: serde_json::from_str(body).unwrap_or_default() }
}

fn assert_problem(answer: &Answer, status: u16, slug: &str) {
    assert_eq!(answer.status, status, "{}", answer.head);
    assert!(answer.head.contains("content-type: application/problem+json"), "{}", answer.head);
    assert_eq!(answer.body["type"], format!("https://gatehouse.dev/problems/{slug}"));
    assert_eq!(answer.body["status"], status);
    assert!(answer.body["detail"].is_string(), "{}", answer.body);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_problem_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir).await;
    let head = format!(
        "POST /v1/developers HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.admin_token,
        64 * 1024 * 1024
    );
    assert_problem(&exchange(app.admin_addr, head.as_bytes()).await, 413, "payload-too-large");
    app.shutdown().await;
}

#[tokio::test]
async fn an_overlong_target_gets_414_problem() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir).await;
    let raw = format!("GET /v1/usage?api_id={} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(20 * 1024));
    assert_problem(&exchange(app.admin_addr, raw.as_bytes()).await, 414, "uri-too-long");
    app.shutdown().await;
}

#[tokio::test]
async fn an_oversized_head_gets_431_problem() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir).await;
    let raw = format!("GET /v1/health HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n", "a".repeat(70 * 1024));
    assert_problem(&exchange(app.admin_addr, raw.as_bytes()).await, 431, "headers-too-large");
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    let raw = format!("GET /v1/health HTTP/1.1\r\nHost: a\r\n{many}\r\n");
    assert_problem(&exchange(app.admin_addr, raw.as_bytes()).await, 431, "headers-too-large");
    app.shutdown().await;
}

#[tokio::test]
async fn a_head_that_never_finishes_gets_408_problem_within_the_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir).await;
    let started = Instant::now();
    let slow = exchange(app.admin_addr, b"GET /v1/health HTTP/1.1\r\nHost: a\r\n").await;
    assert_problem(&slow, 408, "request-timeout");
    let waited = started.elapsed();
    assert!(waited >= READ_TIMEOUT && waited < READ_TIMEOUT * 5, "answered after {waited:?}");
    // A connection that sends nothing at all is closed quietly after the same time.
    let mut idle = TcpStream::connect(app.admin_addr).await.unwrap();
    assert_eq!(read_to_close(&mut idle).await.status, 0, "closed without an answer");
    app.shutdown().await;
}

#[tokio::test]
async fn ordinary_requests_are_answered_on_a_kept_alive_connection() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir).await;
    let auth = format!("Authorization: Bearer {}\r\n", app.admin_token);
    let body = r#"{"email": "a@x.io", "name": "A"}"#;
    let raw = format!(
        "GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n\
         POST /v1/developers HTTP/1.1\r\nHost: a\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}\
         GET /v1/nothing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(app.admin_addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes)).await.unwrap().unwrap();
    let all = String::from_utf8_lossy(&bytes);
    let statuses: Vec<&str> = all.match_indices("HTTP/1.1 ").filter_map(|(i, _)| all.get(i + 9..i + 12)).collect();
    assert_eq!(statuses, ["200", "201", "404"], "{all}");
    app.shutdown().await;
}
