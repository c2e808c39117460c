//! WebSockets through the native gateway (RFC 6455), against a real echo server
//! (tokio-tungstenite) on 127.0.0.1: the upgrade request is authenticated and limited like any
//! call (refused with problem+json and no switch), an admitted one is relayed both ways,
//! counted as one request with its bytes, and closed by the API's idle timeout.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{onboard, Harness};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const OPENAPI: &str = r#"{"openapi": "3.0.3", "info": {"title": "Chat", "version": "1"},
  "security": [{"key": []}],
  "paths": {"/chat": {"get": {"operationId": "chat", "responses": {"101": {"description": "switched"}}}}},
  "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}}}"#;

const IDLE_MS: u64 = 800;

/// A WebSocket server that echoes every text and binary message.
async fn echo_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
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
    url
}

async fn publish(h: &Harness, url: &str) -> (String, String) {
    let upstream = json!({"url": url, "idle_timeout_ms": IDLE_MS});
    let api =
        h.admin_ok("POST", "/v1/apis", json!({"openapi": OPENAPI, "base_path": "/ws", "upstream": upstream})).await;
    let api_id = api["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, key_id, key) = onboard(h, &api_id, "ws@example.com", json!([])).await;
    (key_id, key)
}

async fn connect(h: &Harness, key: &str) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let mut request = format!("ws://{}/ws/chat", h.app.gateway_addr).into_client_request().unwrap();
    request.headers_mut().insert("x-api-key", key.parse().unwrap());
    let tcp = TcpStream::connect(h.app.gateway_addr).await.unwrap();
    let (ws, response) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    assert_eq!(response.status(), 101);
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_is_relayed_only_after_its_upgrade_is_admitted_and_counts_as_one_request() {
    let url = echo_upstream().await;
    let h = Harness::start(false).await;
    let (key_id, key) = publish(&h, &url).await;

    // No key: an ordinary problem answer, and the connection is never switched.
    let mut raw = TcpStream::connect(h.app.gateway_addr).await.unwrap();
    let upgrade = "GET /ws/chat HTTP/1.1\r\nhost: gw\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    raw.write_all(upgrade.as_bytes()).await.unwrap();
    let mut seen = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut seen)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&seen[..n]).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 401"), "{text}");
    assert!(text.contains("application/problem+json") && !text.contains("upgrade: websocket"), "{text}");

    // With the key: messages both ways, as the echo server sends them back.
    let mut ws = connect(&h, &key).await;
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    let blob = vec![7u8; 100_000];
    ws.send(Message::binary(blob.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(blob));
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}

    // One request, with the bytes of its messages both ways.
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.app.flush_usage().await;
    let usage = h.admin_ok("GET", &format!("/v1/usage?key_id={key_id}&group_by=total"), Value::Null).await;
    let row = &usage["items"][0];
    assert_eq!(row["requests"], 1, "{usage}");
    assert!(row["bytes_in"].as_u64().unwrap() > 100_000, "{usage}");
    assert!(row["bytes_out"].as_u64().unwrap() > 100_000, "{usage}");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_websocket_is_closed_after_the_apis_idle_timeout() {
    let url = echo_upstream().await;
    let h = Harness::start(false).await;
    let (_, key) = publish(&h, &url).await;
    let mut ws = connect(&h, &key).await;
    let started = Instant::now();
    let ended =
        tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = ws.next().await {} }).await;
    let waited = started.elapsed();
    assert!(ended.is_ok(), "the gateway closes an idle tunnel");
    assert!(waited >= Duration::from_millis(IDLE_MS - 50), "closed before the idle timeout ({waited:?})");
    assert!(waited < Duration::from_millis(IDLE_MS + 1_000), "took {waited:?}");
    h.app.shutdown().await;
}
