//! In-process harness: the real router over `MemoryRepo` and `RecordingPublisher`, a clock
//! the test moves, and one admin token.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use gatehouse_admin::{router, AdminSettings, AdminState, RecordingPublisher};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::store::MemoryRepo;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "test-admin-token";
pub const START: i64 = 1_700_000_000_000;

pub struct Harness {
    pub router: Router,
    pub repo: Arc<MemoryRepo>,
    pub publisher: Arc<RecordingPublisher>,
    pub clock: Arc<AtomicI64>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_settings(AdminSettings::default())
    }

    pub fn with_settings(settings: AdminSettings) -> Harness {
        let repo = Arc::new(MemoryRepo::new());
        let publisher = Arc::new(RecordingPublisher::default());
        let clock = Arc::new(AtomicI64::new(START));
        let now = Arc::clone(&clock);
        let state = AdminState::new(
            Arc::clone(&repo),
            Arc::clone(&publisher),
            vec![hash_secret(TOKEN)],
            settings,
            Arc::new(move || now.load(Ordering::SeqCst)),
        );
        Harness { router: router(state), repo, publisher, clock }
    }

    pub fn advance(&self, millis: i64) {
        self.clock.fetch_add(millis, Ordering::SeqCst);
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        let body =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("every reply is JSON") };
        Reply { status: parts.status, headers: parts.headers, body }
    }

    /// A portal page, as a browser asks for it: status, headers and the HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let request = Request::builder().uri(path).header("accept", "text/html").body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).expect("pages are UTF-8"))
    }

    /// An authenticated JSON call.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let builder = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {TOKEN}"));
        let request = match body {
            Some(v) => builder.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.expect("request")).await
    }

    /// Imports a one-operation API at `/pets` (a draft); returns the reply.
    pub async fn pets_api(&self) -> Reply {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": { "title": "Pets", "version": "1.0.0" },
            "paths": { "/pets": { "get": { "responses": { "200": { "description": "ok" } } } } }
        });
        let body = serde_json::json!({"openapi": doc, "base_path": "/pets", "upstream": {"url": "http://127.0.0.1:9"}});
        self.call("POST", "/v1/apis", Some(body)).await
    }

    /// Creates a developer and an app; returns the app id.
    pub async fn app(&self, email: &str) -> String {
        let dev = self.call("POST", "/v1/developers", Some(serde_json::json!({"email": email, "name": "Dev"}))).await;
        assert_eq!(dev.status, 201, "{:?}", dev.body);
        let app = self
            .call("POST", "/v1/apps", Some(serde_json::json!({"developer_id": dev.body["id"], "name": "app"})))
            .await;
        assert_eq!(app.status, 201, "{:?}", app.body);
        text(&app.body["id"])
    }
}

pub fn text(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// Asserts an RFC 9457 problem with the given status and type slug.
pub fn assert_problem(reply: &Reply, status: u16, slug: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.body["type"], format!("https://gatehouse.dev/problems/{slug}"));
    assert_eq!(reply.body["status"], status);
}
