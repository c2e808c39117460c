//! Test support: start the whole native product in-process on ephemeral 127.0.0.1 ports and
//! talk to it over real HTTP.
#![allow(dead_code, clippy::unwrap_used)]

pub mod crm;
pub mod jwt;
pub mod smtp;

use std::time::Duration;

use bytes::Bytes;
use gatehouse_native::app::{AppConfig, Running};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub struct Harness {
    pub app: Running,
    pub http: Client<HttpConnector, Full<Bytes>>,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    /// Starts gateway and admin API on ephemeral ports with a fresh SQLite file.
    pub async fn start(with_demo: bool) -> Harness {
        Harness::start_with(|config| config.demo = with_demo).await
    }

    /// Starts like [`Harness::start`], with `configure` changing the config first.
    pub async fn start_with(configure: impl FnOnce(&mut AppConfig)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AppConfig::for_tests(dir.path());
        configure(&mut config);
        let app = gatehouse_native::app::start(config).await.unwrap();
        Harness { app, http: client(), _dir: dir }
    }

    /// Stops gracefully and starts again on the same data dir (new ports), as an upgrade does.
    pub async fn restart(self) -> Harness {
        let Harness { app, _dir, .. } = self;
        app.shutdown().await;
        let app = gatehouse_native::app::start(AppConfig::for_tests(_dir.path())).await.unwrap();
        Harness { app, http: client(), _dir }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Bytes) -> Reply {
        let mut req = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self.http.request(req.body(Full::new(body)).unwrap()).await.unwrap();
        let (parts, body) = res.into_parts();
        Reply { status: parts.status.as_u16(), headers: parts.headers, body: body.collect().await.unwrap().to_bytes() }
    }

    /// An admin API call with the admin token.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let url = format!("http://{}{path}", self.app.admin_addr);
        let auth = format!("Bearer {}", self.app.admin_token);
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        self.send(method, &url, &[("authorization", &auth), ("content-type", "application/json")], body).await
    }

    /// An admin call that must succeed; returns its JSON.
    pub async fn admin_ok(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() { None } else { Some(body) };
        let reply = self.admin(method, path, body).await;
        assert!(reply.status < 300, "{method} {path} -> {} {}", reply.status, String::from_utf8_lossy(&reply.body));
        reply.json()
    }

    /// A gateway call with an optional API key in `X-API-Key`.
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>) -> Reply {
        let url = format!("http://{}{path}", self.app.gateway_addr);
        match key {
            Some(k) => self.send(method, &url, &[("x-api-key", k)], Bytes::new()).await,
            None => self.send(method, &url, &[], Bytes::new()).await,
        }
    }
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(5)).build(HttpConnector::new())
}

/// Creates developer → app → subscription (product, plan with `limits`) → key; returns (app id, key id, secret).
pub async fn onboard(h: &Harness, api_id: &str, email: &str, limits: Value) -> (String, String, String) {
    let product = h
        .admin_ok(
            "POST",
            "/v1/products",
            serde_json::json!({"name": format!("p-{email}"), "items": [{"api_id": api_id}]}),
        )
        .await;
    let plan = h
        .admin_ok(
            "POST",
            "/v1/plans",
            serde_json::json!({"name": format!("plan-{email}"), "product_id": product["id"], "limits": limits}),
        )
        .await;
    let dev = h.admin_ok("POST", "/v1/developers", serde_json::json!({"email": email, "name": email})).await;
    let app = h.admin_ok("POST", "/v1/apps", serde_json::json!({"developer_id": dev["id"], "name": "app"})).await;
    let app_id = app["id"].as_str().unwrap().to_string();
    h.admin_ok(
        "POST",
        &format!("/v1/apps/{app_id}/subscriptions"),
        serde_json::json!({"product_id": product["id"], "plan_id": plan["id"]}),
    )
    .await;
    let created = h.admin_ok("POST", &format!("/v1/apps/{app_id}/keys"), serde_json::json!({"name": "k"})).await;
    let key_id = created["key"]["id"].as_str().unwrap().to_string();
    (app_id, key_id, created["secret"].as_str().unwrap().to_string())
}

/// Asserts a problem+json body with the given `type` suffix and returns it.
pub fn assert_problem(reply: &Reply, status: u16, type_suffix: &str) -> Value {
    assert_eq!(reply.status, status, "body: {}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    let p = reply.json();
    let t = p["type"].as_str().unwrap_or_default();
    assert!(t.ends_with(type_suffix), "problem type {t} should end with {type_suffix}");
    assert_eq!(p["status"], status);
    p
}

/// Sends a request that announces `content_length` bytes but writes only the first 64 KiB,
/// then reads the answer — what a real client sees when a server refuses an oversized body
/// early (a full client would be cut off mid-upload).
pub async fn announce_oversized(
    addr: std::net::SocketAddr,
    path: &str,
    auth: Option<&str>,
    content_length: usize,
) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = auth.map(|a| format!("authorization: {a}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n{auth}content-length: {content_length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(&vec![b' '; 64 * 1024]).await;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(reply) = parse_response(&raw) {
            return reply;
        }
    }
    parse_response(&raw).expect("a complete HTTP response")
}

fn parse_response(raw: &[u8]) -> Option<Reply> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = res.parse(raw).ok()? else { return None };
    let mut map = http::HeaderMap::new();
    for h in res.headers.iter() {
        map.append(http::HeaderName::from_bytes(h.name.as_bytes()).ok()?, http::HeaderValue::from_bytes(h.value).ok()?);
    }
    let len: usize = map.get("content-length")?.to_str().ok()?.parse().ok()?;
    let body = raw.get(head_len..head_len + len)?;
    Some(Reply { status: res.code?, headers: map, body: Bytes::copy_from_slice(body) })
}
