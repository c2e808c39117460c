//! WebSockets over HTTP/2 (RFC 8441) through the native gateway, over real TLS with ALPN
//! `h2`: the client opens an extended CONNECT stream (hyper's HTTP/2 client with
//! `:protocol websocket`) and speaks WebSocket frames on it (tungstenite); the gateway runs
//! the pipeline on the CONNECT, refuses it without a key before any upstream connection, and
//! relays an admitted one to an RFC 6455 echo server over HTTP/1.1, counted as one request
//! with its bytes, and closed by the API's idle timeout.
#![allow(clippy::unwrap_used)]

mod support;
mod tls_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use gatehouse_native::tls::{ServerTls, TlsFiles};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2::SendRequest;
use hyper::ext::Protocol;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use support::{onboard, Harness};
use tls_support::{connector, tls_connect, TestCa};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const OPENAPI: &str = r#"{"openapi": "3.0.3", "info": {"title": "Chat", "version": "1"},
  "security": [{"key": []}],
  "paths": {"/chat": {"get": {"operationId": "chat", "responses": {"101": {"description": "switched"}}}}},
  "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}}}"#;

const IDLE_MS: u64 = 800;

/// An RFC 6455 echo server over HTTP/1.1 that counts the connections it accepted.
async fn echo_upstream() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
                while let Some(Ok(message)) = ws.next().await {
                    if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

struct Setup {
    h: Harness,
    ca: TestCa,
    key_id: String,
    key: String,
    accepted: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let (url, accepted) = echo_upstream().await;
    setup_with(&url, json!({}), accepted).await
}

/// Publishes the chat API on `url` with `settings` added to its upstream, behind TLS.
async fn setup_with(url: &str, settings: Value, accepted: Arc<AtomicUsize>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("clients' view");
    let (cert, key) = ca.leaf(&["localhost"], "gateway").write(dir.path(), "gateway");
    let files = TlsFiles { tls_cert: Some(cert), tls_key: Some(key), ..TlsFiles::default() };
    let tls = ServerTls::load(&files).unwrap().unwrap();
    let h = Harness::start_with(|config| config.serving.gateway_tls = Some(tls)).await;
    let mut upstream = json!({"url": url, "idle_timeout_ms": IDLE_MS});
    upstream.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    let api =
        h.admin_ok("POST", "/v1/apis", json!({"openapi": OPENAPI, "base_path": "/ws", "upstream": upstream})).await;
    let api_id = api["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, key_id, key) = onboard(&h, &api_id, "ws@example.com", json!([])).await;
    Setup { h, ca, key_id, key, accepted, _dir: dir }
}

/// An HTTP/2 connection to the gateway over TLS (ALPN `h2`), once the gateway's SETTINGS
/// (which must allow extended CONNECT) have arrived.
async fn h2_connection(s: &Setup) -> SendRequest<Empty<Bytes>> {
    let tls = tls_connect(&connector(&s.ca.pem, &[b"h2"], None), s.h.app.gateway_addr, "localhost").await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    // An ordinary request first: its answer comes after the server's SETTINGS.
    let ping = http::Request::get("https://localhost/ws/chat").body(Empty::new()).unwrap();
    assert_eq!(sender.send_request(ping).await.unwrap().status(), 401);
    sender
}

/// An extended CONNECT for `websocket` at /ws/chat, with `key` when given.
fn connect_request(key: Option<&str>) -> http::Request<Empty<Bytes>> {
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri("https://localhost/ws/chat")
        .header("sec-websocket-version", "13")
        .extension(Protocol::from_static("websocket"));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.body(Empty::new()).unwrap()
}

/// Opens a WebSocket over an extended CONNECT stream of `sender`'s connection.
async fn open(sender: &mut SendRequest<Empty<Bytes>>, key: &str) -> WebSocketStream<TokioIo<hyper::upgrade::Upgraded>> {
    let response = sender.send_request(connect_request(Some(key))).await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    assert!(response.headers().get("sec-websocket-accept").is_none(), "the HTTP/1.1 handshake's fields stay upstream");
    let upgraded = hyper::upgrade::on(response).await.unwrap();
    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_websocket_is_relayed_only_after_its_extended_connect_is_admitted_and_counts_as_one_request() {
    let s = setup().await;
    let mut sender = h2_connection(&s).await;

    // No key: a problem answer on the stream, and the upstream never sees a connection.
    let refused = sender.send_request(connect_request(None)).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let body = refused.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["status"], 401);
    assert_eq!(s.accepted.load(Ordering::SeqCst), 0, "no tunnel before the key is checked");

    // With the key: frames both ways, on a stream of the same connection.
    let mut ws = open(&mut sender, &s.key).await;
    assert_eq!(s.accepted.load(Ordering::SeqCst), 1);
    let mut rounds = Vec::new();
    for i in 0..200 {
        let text = format!("hello {i}");
        let sent = Instant::now();
        ws.send(Message::text(text.clone())).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
        rounds.push(sent.elapsed());
    }
    rounds.sort();
    println!(
        "WebSocket over h2 through the gateway, echo round trip of a short text message (200 rounds): \
         median {:?}, p99 {:?}, max {:?}",
        rounds[100], rounds[197], rounds[199]
    );
    let blob = vec![7u8; 100_000];
    ws.send(Message::binary(blob.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(blob));
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}

    // One request for the tunnel, one for each refusal, with the tunnel's bytes both ways.
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.h.app.flush_usage().await;
    let usage = s.h.admin_ok("GET", &format!("/v1/usage?key_id={}&group_by=total", s.key_id), Value::Null).await;
    let row = &usage["items"][0];
    assert_eq!(row["requests"], 1, "{usage}");
    assert!(row["bytes_in"].as_u64().unwrap() > 100_000, "{usage}");
    assert!(row["bytes_out"].as_u64().unwrap() > 100_000, "{usage}");
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_h2_websocket_is_closed_after_the_apis_idle_timeout() {
    let s = setup().await;
    let mut sender = h2_connection(&s).await;
    let mut ws = open(&mut sender, &s.key).await;
    ws.send(Message::text("one")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("one"));
    let started = Instant::now();
    let ended =
        tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = ws.next().await {} }).await;
    let waited = started.elapsed();
    assert!(ended.is_ok(), "the gateway closes an idle tunnel");
    assert!(waited >= Duration::from_millis(IDLE_MS - 50), "closed before the idle timeout ({waited:?})");
    assert!(waited < Duration::from_millis(IDLE_MS + 1_000), "took {waited:?}");
    println!("silent h2 WebSocket closed after {waited:?} (idle timeout {IDLE_MS} ms)");
    // The connection itself lives on: another stream is answered.
    let again = sender.send_request(connect_request(None)).await.unwrap();
    assert_eq!(again.status(), 401);
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_h2_websocket_is_closed_at_the_apis_maximum_duration() {
    let (url, accepted) = echo_upstream().await;
    let s = setup_with(&url, json!({"max_duration_ms": 1_000}), accepted).await;
    let mut sender = h2_connection(&s).await;
    let mut ws = open(&mut sender, &s.key).await;
    let started = Instant::now();
    let mut echoed = 0;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if ws.send(Message::text("tick")).await.is_err() {
                break;
            }
            match ws.next().await {
                Some(Ok(Message::Text(_))) => echoed += 1,
                _ => break,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let lasted = started.elapsed();
    assert!(ended.is_ok(), "the gateway closes the tunnel at its maximum duration");
    assert!(echoed > 5, "messages flowed until then ({echoed})");
    assert!(lasted >= Duration::from_millis(900) && lasted < Duration::from_millis(2_000), "lasted {lasted:?}");
    println!("busy h2 WebSocket closed after {lasted:?} (maximum duration 1 s), {echoed} echoes");
    s.h.app.shutdown().await;
}

/// An upstream that answers any upgrade `101` with an accept that answers no key.
async fn wrong_accept_upstream() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            let answer = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
                          sec-websocket-accept: c29tZXRoaW5nIGVsc2U=\r\n\r\n";
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_whose_accept_does_not_answer_the_key_gets_no_tunnel() {
    let (url, accepted) = wrong_accept_upstream().await;
    let s = setup_with(&url, json!({}), accepted).await;
    let mut sender = h2_connection(&s).await;
    let response = sender.send_request(connect_request(Some(&s.key))).await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(s.accepted.load(Ordering::SeqCst), 1, "the upstream was asked");
    s.h.app.shutdown().await;
}
