//! Internal APIs at the gateway: an API limited to client networks does not exist for a
//! client outside them, whose call is answered exactly as a call to a path no API serves;
//! the client address is the one read through the trusted proxies.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{onboard, Harness};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DOC: &str = r#"{"openapi": "3.1.0", "info": {"title": "Payroll", "version": "1"},
  "paths": {"/runs": {"get": {"operationId": "listRuns", "responses": {"200": {"description": "ok"}}}}}}"#;

/// A call with `headers`: its status and body, with the request id (different every time) taken out.
async fn call(h: &Harness, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("http://{}{path}", h.app.gateway_addr);
    let reply = h.send("GET", &url, headers, Bytes::new()).await;
    let mut body = reply.json();
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
        map.remove("instance");
    }
    (reply.status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_its_networks_an_api_answers_as_a_path_no_api_serves() {
    let up = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!([]))).mount(&up).await;
    let trusted = gatehouse_core::pipeline::forwarded::TrustedProxies::parse("127.0.0.1/32").unwrap();
    let h = Harness::start_with(|c| c.gateway.trusted_proxies = trusted).await;
    let body = json!({"openapi": DOC, "base_path": "/payroll", "upstream": {"url": up.uri()},
                      "client_networks": ["10.20.0.0/16", "fd00::/8"]});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    assert_eq!(api["client_networks"], json!(["10.20.0.0/16", "fd00::/8"]));
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, _, secret) = onboard(&h, &api_id, "staff@example.com", json!([])).await;
    let key = [("x-api-key", secret.as_str())];

    // From the office network (through the trusted proxy on 127.0.0.1): served.
    let office = [key[0], ("x-forwarded-for", "10.20.3.4")];
    assert_eq!(call(&h, "/payroll/runs", &office).await.0, 200);
    let v6 = [key[0], ("x-forwarded-for", "fd00::17")];
    assert_eq!(call(&h, "/payroll/runs", &v6).await.0, 200);

    // From anywhere else, with a valid key or none: the answer of a path no API serves.
    let nowhere = call(&h, "/nothing/here", &key).await;
    assert_eq!(nowhere.0, 404);
    for headers in [vec![key[0], ("x-forwarded-for", "203.0.113.9")], vec![key[0]], vec![]] {
        assert_eq!(call(&h, "/payroll/runs", &headers).await, nowhere, "{headers:?}");
    }
    assert!(!nowhere.1.to_string().contains("Payroll") && !nowhere.1.to_string().contains(&api_id));

    // Opening it to every network again is one change.
    let opened = h.admin_ok("PATCH", &format!("/v1/apis/{api_id}"), json!({"client_networks": []})).await;
    assert_eq!(opened.get("client_networks"), None);
    assert_eq!(call(&h, "/payroll/runs", &key).await.0, 200);

    // A range that is not one is refused by the admin API, naming it.
    let bad = h.admin("PATCH", &format!("/v1/apis/{api_id}"), Some(json!({"client_networks": ["10.0.0.0/33"]}))).await;
    assert_eq!(bad.status, 422, "{}", String::from_utf8_lossy(&bad.body));
    assert!(String::from_utf8_lossy(&bad.body).contains("client_networks"), "{}", String::from_utf8_lossy(&bad.body));
}
