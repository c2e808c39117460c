//! In-process harness: the real router over `MemoryRepo` and `RecordingPublisher`, a clock
//! the test moves, and one admin token.
#![allow(dead_code)]

pub mod audience_walk;
pub mod oidc;
pub mod portal;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use gatehouse_admin::{router, AdminSettings, AdminState, OutboxMailer, PortalSettings, RecordingPublisher};
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

    /// With the portal's sign-in on: mail goes to `outbox` (a real lettre file transport).
    pub fn with_outbox(outbox: &std::path::Path) -> Harness {
        Harness::build(AdminSettings::default(), |state| {
            let mailer = OutboxMailer::new(outbox.to_path_buf(), "Portal <portal@example.com>").expect("outbox");
            let portal = PortalSettings {
                public_url: Some("http://portal.test".into()),
                gateway_url: Some("http://gateway.test".into()),
                terms: Some("Use the APIs fairly.\nKeep keys secret.\n\nWe may change these terms.".into()),
                ..PortalSettings::default()
            };
            state.with_portal(portal).with_mailer(Arc::new(mailer))
        })
    }

    /// With staff sign-in through the identity provider `staff` (and the portal's sign-in on,
    /// mail to `outbox`). The clock starts at the real time: the provider's tokens carry it.
    pub fn with_staff(outbox: &std::path::Path, staff: gatehouse_admin::staff::StaffSignInSettings) -> Harness {
        let harness = Harness::build(AdminSettings::default(), |state| {
            let mailer = OutboxMailer::new(outbox.to_path_buf(), "Portal <portal@example.com>").expect("outbox");
            let portal = PortalSettings { public_url: Some("http://portal.test".into()), ..PortalSettings::default() };
            state.with_portal(portal).with_mailer(Arc::new(mailer)).with_staff_sign_in(staff)
        });
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
        harness.clock.store(i64::try_from(now.as_millis()).expect("fits"), Ordering::SeqCst);
        harness
    }

    /// With the portal's sign-in on (mail to `outbox`) and sign-up limited to `domains`.
    pub fn with_signup_domains(outbox: &std::path::Path, domains: &[&str]) -> Harness {
        Harness::build(AdminSettings::default(), |state| {
            let mailer = OutboxMailer::new(outbox.to_path_buf(), "Portal <portal@example.com>").expect("outbox");
            let portal = PortalSettings {
                public_url: Some("http://portal.test".into()),
                signup_domains: domains.iter().map(|d| (*d).to_owned()).collect(),
                ..PortalSettings::default()
            };
            state.with_portal(portal).with_mailer(Arc::new(mailer))
        })
    }

    pub fn with_settings(settings: AdminSettings) -> Harness {
        Harness::build(settings, |state| state)
    }

    fn build(
        settings: AdminSettings,
        configure: impl FnOnce(AdminState<MemoryRepo, RecordingPublisher>) -> AdminState<MemoryRepo, RecordingPublisher>,
    ) -> Harness {
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
        Harness { router: router(configure(state)), repo, publisher, clock }
    }

    pub fn advance(&self, millis: i64) {
        self.clock.fetch_add(millis, Ordering::SeqCst);
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        let csv = parts.headers.get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/csv"));
        let body = match (bytes.is_empty(), csv) {
            (true, _) => Value::Null,
            // A CSV export is the one text answer; it is kept as a string.
            (false, true) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            (false, false) => serde_json::from_slice(&bytes).expect("every other reply is JSON"),
        };
        Reply { status: parts.status, headers: parts.headers, body }
    }

    /// Any request; answers only the status (for pages and redirects).
    pub async fn send_raw(&self, request: Request<Body>) -> u16 {
        self.router.clone().oneshot(request).await.expect("router is infallible").status().as_u16()
    }

    /// A portal page, as a browser asks for it: status, headers and the HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let request = Request::builder().uri(path).header("accept", "text/html").body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).expect("pages are UTF-8"))
    }

    /// A browser request with `cookies` (a `Cookie` header value) and, for a POST, a form.
    pub async fn browse(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Browsed {
        let mut builder = Request::builder().method(method).uri(path).header("accept", "text/html");
        if !cookies.is_empty() {
            builder = builder.header("cookie", cookies);
        }
        let body = if method == "POST" {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            encoded.extend_pairs(form.iter().copied());
            Body::from(encoded.finish())
        } else {
            Body::empty()
        };
        let response = self.router.clone().oneshot(builder.body(body).expect("request")).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        let set_cookies =
            parts.headers.get_all("set-cookie").iter().map(|v| v.to_str().expect("ascii").to_owned()).collect();
        Browsed {
            status: parts.status,
            headers: parts.headers,
            html: String::from_utf8_lossy(&bytes).into_owned(),
            set_cookies,
        }
    }

    /// An authenticated GET of a body that is not JSON (a CSV export): status, headers, text.
    pub async fn get_text(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let request = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
    }

    /// An authenticated JSON call, with the configured owner token.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_as(TOKEN, method, path, body).await
    }

    /// A JSON call with the admin token `token`.
    pub async fn call_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let builder = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
        let request = match body {
            Some(v) => builder.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.expect("request")).await
    }

    /// Creates an admin token for principal `name` with `role` (as the owner); its secret.
    pub async fn token_for(&self, name: &str, role: &str) -> String {
        let made = self.call("POST", "/v1/admin-tokens", Some(serde_json::json!({"name": name, "role": role}))).await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        text(&made.body["secret"])
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

    /// Offers the API to everyone: a public product bundling it. An API in no product is
    /// the staff's alone (docs/audiences.md).
    pub async fn offer(&self, api_id: &str) {
        let product = serde_json::json!({"name": format!("Offer of {api_id}"), "items": [{"api_id": api_id}]});
        assert_eq!(self.call("POST", "/v1/products", Some(product)).await.status, 201);
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

/// What a browser got back.
pub struct Browsed {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
    pub set_cookies: Vec<String>,
}

pub use audience_walk::{hidden, Jar};

impl audience_walk::SetsCookies for Browsed {
    fn set_cookies(&self) -> &[String] {
        &self.set_cookies
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
