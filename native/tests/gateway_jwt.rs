//! JWTs at the native gateway, end to end over real HTTP on 127.0.0.1: an identity provider's
//! JWK Set served by a real server (wiremock) with keys that rotate and an outage, tokens
//! signed in the test (RS256 and ES256, `support::jwt`), scopes per operation from the
//! OpenAPI document, and OAuth clients registered on apps through the admin API.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration as StdDuration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use support::jwt::{now_secs, ProviderKey, RSA_1, RSA_2};
use support::{assert_problem, onboard, Harness, Reply};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ISSUER: &str = "https://idp.test/";

fn document(jwks_url: &str) -> String {
    format!(
        r#"
openapi: 3.0.3
info: {{ title: Pets, version: 1.0.0 }}
x-gatehouse-jwt: {{ issuer: "{ISSUER}", jwks_url: "{jwks_url}", audiences: [pets], algorithms: [RS256, ES256] }}
paths:
  /pets:
    get:
      operationId: listPets
      security: [ {{ key: [] }}, {{ idp: [pets:read] }} ]
      responses: {{ "200": {{ description: ok }} }}
    post:
      operationId: addPet
      security: [ {{ idp: [pets:write] }} ]
      responses: {{ "200": {{ description: ok }} }}
components:
  securitySchemes:
    key: {{ type: apiKey, in: header, name: X-API-Key }}
    idp: {{ type: oauth2, flows: {{ clientCredentials: {{ tokenUrl: "https://idp.test/token", scopes: {{}} }} }} }}
"#
    )
}

/// An identity provider: its signing keys and the JWK Set it publishes.
struct Provider {
    rsa: Vec<ProviderKey>,
    ec: ProviderKey,
}

impl Provider {
    fn new() -> Provider {
        let rsa = vec![ProviderKey::rsa(RSA_1, "r1", "RS256"), ProviderKey::rsa(RSA_2, "r2", "RS256")];
        Provider { rsa, ec: ProviderKey::ec("e1", "ES256") }
    }

    fn rsa_jwk(&self, i: usize) -> Value {
        self.rsa[i].jwk()
    }

    fn ec_jwk(&self) -> Value {
        self.ec.jwk()
    }

    /// Publishes `keys` at `url_path` on `server`, cacheable for five minutes.
    async fn publish(server: &MockServer, url_path: &str, keys: Vec<Value>) {
        server.reset().await;
        let body = json!({ "keys": keys });
        let answer = ResponseTemplate::new(200).set_body_json(body).insert_header("cache-control", "max-age=300");
        Mock::given(method("GET")).and(path(url_path)).respond_with(answer).mount(server).await;
    }
}

fn claims(scope: &str, client: &str) -> Value {
    json!({"iss": ISSUER, "aud": "pets", "sub": "user-42", "exp": now_secs() + 300, "iat": now_secs(),
           "scope": scope, "client_id": client})
}

struct Setup {
    h: Harness,
    jwks: MockServer,
    upstream: MockServer,
    provider: Provider,
    key: String,
}

impl Setup {
    async fn start() -> Setup {
        let upstream = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("pets"))
            .mount(&upstream)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&upstream).await;
        let jwks = MockServer::start().await;
        let provider = Provider::new();
        Provider::publish(&jwks, "/jwks", vec![provider.rsa_jwk(0), provider.ec_jwk()]).await;
        let h = Harness::start_with(|c| c.jwks_unknown_kid_refetch = StdDuration::from_secs(2)).await;
        let body = json!({"openapi": document(&format!("{}/jwks", jwks.uri())), "base_path": "/pets", "upstream": {"url": upstream.uri()}});
        let api = h.admin_ok("POST", "/v1/apis", body).await;
        let api_id = api["id"].as_str().unwrap().to_owned();
        h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
        let (app_id, _, key) = onboard(&h, &api_id, "jwt@example.com", json!([])).await;
        let client = json!({"issuer": ISSUER, "client_id": "billing"});
        let registered = h.admin("POST", &format!("/v1/apps/{app_id}/oauth-clients"), Some(client.clone())).await;
        assert_eq!(registered.status, 201, "{}", String::from_utf8_lossy(&registered.body));
        assert_eq!(registered.json()["oauth_client"]["client_id"], "billing");
        let again = h.admin("POST", &format!("/v1/apps/{app_id}/oauth-clients"), Some(client)).await;
        assert_eq!(again.status, 409, "a client id is registered once per issuer");
        Setup { h, jwks, upstream, provider, key }
    }

    async fn call(&self, verb: &str, token: &str) -> Reply {
        let url = format!("http://{}/pets/pets", self.h.app.gateway_addr);
        let bearer = format!("Bearer {token}");
        self.h.send(verb, &url, &[("authorization", &bearer)], Bytes::new()).await
    }

    fn rs(&self, i: usize, scope: &str, client: &str) -> String {
        self.provider.rsa[i].sign(&claims(scope, client))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_calls_as_its_registered_clients_app_within_its_scopes() {
    let s = Setup::start().await;
    let ok = s.call("GET", &s.rs(0, "pets:read", "billing")).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let es = s.provider.ec.sign(&claims("pets:read", "billing"));
    assert_eq!(s.call("GET", &es).await.status, 200, "ES256 too");
    let seen = s.upstream.received_requests().await.unwrap();
    assert!(seen.iter().all(|r| !r.headers.contains_key("authorization")), "the token never reaches the upstream");
    let identity = seen[0].headers.get("gatehouse-identity").unwrap().to_str().unwrap().to_owned();
    assert!(identity.contains(";sub=user-42"), "{identity}");

    let denied = s.call("POST", &s.rs(0, "pets:read", "billing")).await;
    assert_problem(&denied, 403, "/insufficient-scope");
    assert_eq!(denied.header("www-authenticate"), Some("Bearer error=\"insufficient_scope\", scope=\"pets:write\""));
    assert_eq!(s.call("POST", &s.rs(0, "pets:read pets:write", "billing")).await.status, 200);

    // The operation that takes a key or a token still takes the key.
    let url = format!("http://{}/pets/pets", s.h.app.gateway_addr);
    assert_eq!(s.h.send("GET", &url, &[("x-api-key", &s.key)], Bytes::new()).await.status, 200);

    // Usage counts the token's calls under its client's registration, and its end user.
    s.h.app.flush_usage().await;
    let usage = s.h.admin_ok("GET", "/v1/usage", json!(null)).await;
    assert_eq!(usage["items"][0]["requests"], 5, "{usage}");
    assert_eq!(usage["items"][0]["end_users"], json!({"user-42": 4}), "the call refused for its scope too: {usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_token_gets_its_problem_type_and_a_challenge() {
    let s = Setup::start().await;
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let valid = s.rs(0, "pets:read", "billing");
    let (signed, _) = valid.rsplit_once('.').unwrap();
    let payload = valid.split('.').nth(1).unwrap();
    let with = |name: &str, value: Value| {
        let mut c = claims("pets:read", "billing");
        c[name] = value;
        s.provider.rsa[0].sign(&c)
    };
    let (expired, wrong_audience) = (with("exp", json!(now_secs() - 600)), with("aud", json!("other")));
    let no_expiry = {
        let mut c = claims("pets:read", "billing");
        c.as_object_mut().map(|c| c.remove("exp"));
        s.provider.rsa[0].sign(&c)
    };
    let cases = [
        (format!("{}.{payload}.", b64(json!({"alg": "none"}))), 401, "jwt-unsigned"),
        (format!("{}.{payload}.c2ln", b64(json!({"alg": "HS256", "kid": "r1"}))), 401, "jwt-algorithm-not-allowed"),
        (
            format!("{}.{payload}.c2ln", b64(json!({"alg": "RS256", "jku": "https://evil.test/"}))),
            401,
            "jwt-key-location-header",
        ),
        (format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7u8; 256])), 401, "jwt-bad-signature"),
        (expired, 401, "jwt-expired"),
        (no_expiry, 401, "jwt-no-expiry"),
        (with("nbf", json!(now_secs() + 600)), 401, "jwt-not-yet-valid"),
        (with("iss", json!("https://evil.test/")), 401, "jwt-wrong-issuer"),
        (wrong_audience, 401, "jwt-wrong-audience"),
        (s.rs(1, "pets:read", "billing"), 401, "jwt-unknown-key"),
        (s.rs(0, "pets:read", "stranger"), 403, "jwt-unknown-client"),
        ("x".repeat(9000) + ".a.b", 401, "jwt-too-large"),
    ];
    for (token, status, slug) in cases {
        let reply = s.call("GET", &token).await;
        assert_problem(&reply, status, &format!("/{slug}"));
        if status == 401 {
            assert_eq!(reply.header("www-authenticate"), Some("Bearer error=\"invalid_token\""), "{slug}");
        }
    }
    assert!(s.upstream.received_requests().await.unwrap().is_empty(), "nothing refused reached the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rollover_fails_no_request() {
    let s = Setup::start().await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(s.call("GET", &s.rs(0, "pets:read", "billing")).await.status);
    }
    // The provider publishes its next key beside the current one, then signs with it.
    Provider::publish(&s.jwks, "/jwks", vec![s.provider.rsa_jwk(0), s.provider.rsa_jwk(1)]).await;
    tokio::time::sleep(StdDuration::from_millis(2_100)).await; // the configured unknown-kid refetch interval
    for _ in 0..5 {
        statuses.push(s.call("GET", &s.rs(1, "pets:read", "billing")).await.status);
        statuses.push(s.call("GET", &s.rs(0, "pets:read", "billing")).await.status);
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_provider_down_the_gateway_fails_closed_and_recovers_when_it_is_back() {
    let s = Setup::start().await;
    s.jwks.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).mount(&s.jwks).await;
    let down = s.call("GET", &s.rs(0, "pets:read", "billing")).await;
    assert_problem(&down, 503, "/service-unavailable");
    Provider::publish(&s.jwks, "/jwks", vec![s.provider.rsa_jwk(0)]).await;
    tokio::time::sleep(StdDuration::from_millis(2_100)).await; // no refetch sooner after a failure
    assert_eq!(s.call("GET", &s.rs(0, "pets:read", "billing")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_first_requests_cause_one_fetch() {
    let s = Setup::start().await;
    let bearer = format!("Bearer {}", s.rs(0, "pets:read", "billing"));
    let url = format!("http://{}/pets/pets", s.h.app.gateway_addr);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..1_000 {
        let (http, url, bearer) = (s.h.http.clone(), url.clone(), bearer.clone());
        calls.spawn(async move {
            let request = http::Request::get(url).header("authorization", bearer).body(Default::default()).unwrap();
            http.request(request).await.map(|r| r.status().as_u16()).unwrap_or(0)
        });
    }
    let statuses = calls.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "{:?}", statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>());
    let fetches = s.jwks.received_requests().await.unwrap().len();
    assert_eq!(fetches, 1, "one JWK Set fetch for a thousand cold requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuers_anonymous_client_admits_unregistered_clients_under_its_apps_plan() {
    let s = Setup::start().await;
    let stranger = s.rs(0, "pets:read", "stranger");
    assert_eq!(s.call("GET", &stranger).await.status, 403);
    let apps = s.h.admin_ok("GET", "/v1/apps", json!(null)).await;
    let app_id = apps["items"][0]["id"].as_str().unwrap().to_owned();
    let any = json!({"issuer": ISSUER, "client_id": "*"});
    assert_eq!(s.h.admin("POST", &format!("/v1/apps/{app_id}/oauth-clients"), Some(any)).await.status, 201);
    assert_eq!(s.call("GET", &stranger).await.status, 200);
}
