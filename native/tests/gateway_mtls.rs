//! Client certificates as an identity, end to end over real TLS on 127.0.0.1: a listener that
//! verifies client certificates against a partners' CA (made in the test with rcgen), an API
//! whose operations need `mutualTLS`, a key, or either, and a partner's certificate subject
//! registered on its app through the admin API, so that its calls count as the app's.
#![allow(clippy::unwrap_used)]

mod support;
mod tls_support;

use gatehouse_native::tls::{ClientAuth, ServerTls, TlsFiles};
use serde_json::{json, Value};
use support::{onboard, Harness};
use tls_support::{connector, request, send, tls_connect, Answer, Leaf, TestCa};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PARTNERS_API: &str = r#"
openapi: 3.1.0
info: { title: Orders, version: 1.0.0 }
paths:
  /orders:
    get: { operationId: listOrders, security: [ { partner: [] } ], responses: { "200": { description: ok } } }
  /status:
    get: { operationId: status, security: [ { key: [] } ], responses: { "200": { description: ok } } }
  /either:
    get: { operationId: either, security: [ { partner: [] }, { key: [] } ], responses: { "200": { description: ok } } }
components:
  securitySchemes:
    partner: { type: mutualTLS }
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

const PARTNER_A: &str = "CN=billing,O=Partner A";

struct Setup {
    h: Harness,
    server_ca: TestCa,
    partners: TestCa,
    app_id: String,
    key: String,
    _upstream: MockServer,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// A gateway whose listener asks for a partners' certificate but lets clients without one
    /// in (`optional`), with the API published and one onboarded app.
    async fn start() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (server_ca, partners) = (TestCa::new("server"), TestCa::new("partners"));
        let (cert, key) = server_ca.leaf(&["localhost"], "gateway").write(dir.path(), "gateway");
        let files = TlsFiles {
            tls_cert: Some(cert),
            tls_key: Some(key),
            client_ca: Some(partners.write(dir.path(), "partners.pem")),
            client_auth: ClientAuth::Optional,
        };
        let tls = ServerTls::load(&files).unwrap().unwrap();
        let h = Harness::start_with(|config| config.serving.gateway_tls = Some(tls)).await;
        let upstream = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&upstream)
            .await;
        let body = json!({"openapi": PARTNERS_API, "base_path": "/orders-api", "upstream": {"url": upstream.uri()}});
        let api = h.admin_ok("POST", "/v1/apis", body).await;
        let api_id = api["id"].as_str().unwrap().to_owned();
        h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
        let (app_id, _, key) = onboard(&h, &api_id, "ops@partner-a.test", json!([])).await;
        Setup { h, server_ca, partners, app_id, key, _upstream: upstream, _dir: dir }
    }

    /// `GET /orders-api<path>` over TLS with `certificate` (if any) and the app's key (if
    /// `with_key`), by HTTP/2 or HTTP/1.1.
    async fn call(&self, path: &str, certificate: Option<&Leaf>, with_key: bool, h2: bool) -> Answer {
        let alpn: &[u8] = if h2 { b"h2" } else { b"http/1.1" };
        let connector = connector(&self.server_ca.pem, &[alpn], certificate);
        let tls = tls_connect(&connector, self.h.app.gateway_addr, "localhost").await.unwrap();
        let headers: &[(&str, &str)] = if with_key { &[("x-api-key", &self.key)] } else { &[] };
        send(tls, request("GET", "localhost", &format!("/orders-api{path}"), headers, "")).await.unwrap()
    }

    async fn register(&self, subject: &str) -> support::Reply {
        let path = format!("/v1/apps/{}/client-certificates", self.app_id);
        self.h.admin("POST", &path, Some(json!({"subject": subject, "name": "Partner A billing"}))).await
    }
}

fn problem_type(answer: &Answer) -> String {
    answer.json()["type"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_certificate_subject_calls_as_its_app_over_http2_and_http1() {
    let s = Setup::start().await;
    let registered = s.register(PARTNER_A).await;
    assert_eq!(registered.status, 201, "{}", String::from_utf8_lossy(&registered.body));
    let view = registered.json();
    assert_eq!(view["client_certificate"], json!({"subject": PARTNER_A}));
    assert_eq!((&view["prefix"], &view["last4"]), (&json!("mtls:"), &json!("er A")), "told apart from keys");
    let partner_a = s.partners.client("Partner A", "billing");
    for h2 in [true, false] {
        let answer = s.call("/orders", Some(&partner_a), false, h2).await;
        assert_eq!(answer.status, 200, "h2={h2}: {answer:?}");
        assert_eq!(&answer.body[..], b"ok");
    }
    s.h.app.flush_usage().await;
    let registration = view["id"].as_str().unwrap();
    let usage = s.h.admin_ok("GET", &format!("/v1/usage?key_id={registration}"), Value::Null).await;
    assert_eq!(usage["items"][0]["requests"], 2, "both calls count as the registration's: {usage}");
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_registered_certificate_the_call_is_refused_and_says_why() {
    let s = Setup::start().await;
    assert_eq!(s.register(PARTNER_A).await.status, 201);
    let (partner_a, partner_b) = (s.partners.client("Partner A", "billing"), s.partners.client("Partner B", "billing"));

    let stranger = s.call("/orders", Some(&partner_b), false, true).await;
    assert_eq!((stranger.status, problem_type(&stranger)), (403, "forbidden".to_owned()), "{stranger:?}");
    let detail = stranger.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("\"CN=billing,O=Partner B\""), "the subject to register is named: {detail}");
    let without = s.call("/orders", None, false, false).await;
    assert_eq!((without.status, problem_type(&without)), (401, "missing-credential".to_owned()), "{without:?}");
    assert!(without.json()["detail"].as_str().unwrap().contains("client certificate"));
    // A key does not stand in for the certificate the operation asks for.
    assert_eq!(s.call("/orders", None, true, false).await.status, 401);

    // The optional listener still serves the operations that take keys, to clients without a
    // certificate; an operation that takes either takes each.
    assert_eq!(s.call("/status", None, true, true).await.status, 200);
    assert_eq!(s.call("/either", None, true, false).await.status, 200);
    assert_eq!(s.call("/either", Some(&partner_a), false, false).await.status, 200);

    // Disabled like a key, it stops working at once.
    let registration = s.h.admin_ok("GET", &format!("/v1/apps/{}/keys", s.app_id), Value::Null).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["client_certificate"].is_object())
        .map(|key| key["id"].as_str().unwrap().to_owned())
        .unwrap();
    s.h.admin_ok("POST", &format!("/v1/keys/{registration}/disable"), Value::Null).await;
    let disabled = s.call("/orders", Some(&partner_a), false, true).await;
    assert_eq!((disabled.status, problem_type(&disabled)), (401, "disabled-key".to_owned()), "{disabled:?}");
    s.h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_is_registered_once_and_must_look_like_a_distinguished_name() {
    let s = Setup::start().await;
    assert_eq!(s.register(PARTNER_A).await.status, 201);
    let again = s.register(PARTNER_A).await;
    support::assert_problem(&again, 409, "conflict");
    let malformed = s.register("billing at Partner A").await;
    let problem = support::assert_problem(&malformed, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/subject", "{problem}");
    let rotated = s.h.admin_ok("GET", &format!("/v1/apps/{}/keys", s.app_id), Value::Null).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["client_certificate"].is_object())
        .map(|key| key["id"].as_str().unwrap().to_owned())
        .unwrap();
    let refused = s.h.admin("POST", &format!("/v1/keys/{rotated}/rotate"), None).await;
    support::assert_problem(&refused, 409, "conflict");
    s.h.app.shutdown().await;
}
