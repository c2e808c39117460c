//! What an OpenAPI import promises, end to end through the native product over real HTTP:
//! every operation of every template shape is reached by a request for its own path; a
//! security scheme the gateway cannot check closes the operation; a Swagger 2.0 description
//! and `servers` give the upstream; a description of several MiB fits the admin API.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use gatehouse_core::model::Api;
use gatehouse_core::routing::probe::Probe;
use serde_json::{json, Value};
use support::{assert_problem, Harness};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_string("upstream")).mount(&server).await;
    server
}

/// Every shape the router knows, one operation each (two where a shape is about choosing).
fn shapes() -> Value {
    let op = |id: &str| json!({"operationId": id, "responses": {"200": {"description": "OK"}}});
    let header_op = |id: &str| {
        let mut o = op(id);
        o["parameters"] =
            json!([{"name": "X-Amz-Target", "in": "header", "required": true, "schema": {"type": "string"}}]);
        o
    };
    json!({
        "/files/{name}": {"get": op("file")},
        "/files/{name}.json": {"get": op("fileJson")},
        "/jobs/{id}": {"post": op("job")},
        "/jobs/{id}:cancel": {"post": op("cancel")},
        "/v/{major}.{minor}": {"get": op("version")},
        "/p/{id}{ext}": {"get": op("profile")},
        "/pets/{id}": {"get": op("pet")},
        "/pets/mine": {"get": op("mine"), "head": op("mineHead")},
        "/a": {"get": op("a")},
        "/a/": {"get": op("aSlash")},
        "/things?action=start": {"post": op("start")},
        "/things?action=stop": {"post": op("stop")},
        "/things": {"post": op("things")},
        "/#X-Amz-Target=Svc.Get": {"post": header_op("svcGet")},
        "/#X-Amz-Target=Svc.Put": {"post": header_op("svcPut")},
        "/tags/{arn}#tagKeys": {"delete": op("untag")},
        "/tags/{arn}": {"delete": op("deleteTags")},
    })
}

/// The shapes with only operation `open` public and every other one needing a key: a call
/// without a key is answered by the upstream only if it reached `open`.
fn document_opening(open: &str) -> Value {
    let mut paths = shapes();
    for item in paths.as_object_mut().unwrap().values_mut() {
        for operation in item.as_object_mut().unwrap().values_mut() {
            let public = operation["operationId"] == open;
            operation["security"] = if public { json!([]) } else { json!([{"key": []}]) };
        }
    }
    json!({
        "openapi": "3.0.3", "info": {"title": "Shapes", "version": "1"}, "paths": paths,
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
    })
}

async fn call(h: &Harness, base: &str, probe: &Probe) -> u16 {
    let query = probe.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("http://{}{base}{}{query}", h.app.gateway_addr, probe.path);
    let headers: Vec<(String, String)> =
        probe.headers.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())).collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    h.send(&probe.method, &url, &headers, Bytes::new()).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_every_template_shape_is_reached_by_a_request_for_its_own_path() {
    let h = Harness::start(false).await;
    let up = upstream().await;
    let body = json!({"openapi": document_opening("file"), "base_path": "/shapes", "upstream": {"url": up.uri()}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    let operations: Vec<String> = shapes()
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().map(|op| op["operationId"].as_str().unwrap().to_owned()))
        .collect();
    for open in &operations {
        let updated = h.admin_ok("PATCH", &format!("/v1/apis/{id}"), json!({"openapi": document_opening(open)})).await;
        let api: Api = serde_json::from_value(updated).unwrap();
        for operation in &api.operations {
            let probe = Probe::of(operation).unwrap();
            let status = call(&h, "/shapes", &probe).await;
            let expected = if operation.id == *open { 200 } else { 401 };
            assert_eq!(status, expected, "{} {} (only {open} is open) answered {status}", probe.method, probe.path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheme_the_gateway_cannot_check_closes_the_operation_and_is_reported() {
    let h = Harness::start(false).await;
    let up = upstream().await;
    let op = |security: Value| json!({"security": security, "responses": {"200": {"description": "OK"}}});
    let document = json!({
        "openapi": "3.0.3", "info": {"title": "Basic", "version": "1"},
        "paths": {"/basic": {"get": op(json!([{"basic": []}]))}, "/either": {"get": op(json!([{"basic": []}, {"key": []}]))}},
        "components": {"securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        }},
    });
    let api = h
        .admin_ok("POST", "/v1/apis", json!({"openapi": document, "base_path": "/b", "upstream": {"url": up.uri()}}))
        .await;
    let report = api["import_report"].as_array().unwrap();
    assert!(report.iter().any(|n| n["pointer"] == "/paths/~1basic/get/security/0"), "{report:?}");
    let id = api["id"].as_str().unwrap();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, _, key) = support::onboard(&h, id, "basic@example.com", json!([])).await;
    let closed = h.call("GET", "/b/basic", Some(&key)).await;
    let problem = assert_problem(&closed, 403, "forbidden");
    assert!(problem["detail"].as_str().unwrap().contains("cannot check"), "{problem}");
    assert_eq!(h.call("GET", "/b/either", Some(&key)).await.status, 200, "the key alternative still admits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_2_and_servers_give_the_upstream_when_the_request_names_none() {
    let h = Harness::start(false).await;
    let up = upstream().await;
    let host = up.address().to_string();
    let swagger = format!(
        "swagger: '2.0'\ninfo: {{title: Old, version: '1'}}\nhost: '{host}'\nbasePath: /v2\nschemes: [http]\n\
         paths:\n  /pets/{{id}}:\n    get:\n      security: []\n      parameters: [{{name: id, in: path, required: true, type: string}}]\n      \
         responses: {{'200': {{description: OK}}}}\n"
    );
    let api = h.admin_ok("POST", "/v1/apis", json!({"openapi": swagger, "base_path": "/old"})).await;
    assert_eq!(api["upstream"]["url"], format!("http://{host}/v2"));
    let id = api["id"].as_str().unwrap();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    assert_eq!(h.call("GET", "/old/pets/7", None).await.status, 200);
    let seen = up.received_requests().await.unwrap();
    assert_eq!(seen.last().unwrap().url.path(), "/v2/pets/7");

    let servers = json!({
        "openapi": "3.0.3", "info": {"title": "S", "version": "1"},
        "servers": [{"url": "/relative"}, {"url": "http://{host}/{base}", "variables": {"host": {"default": host}, "base": {"default": "api"}}}],
        "paths": {"/x": {"get": {"security": [], "responses": {"200": {"description": "OK"}}}}},
    });
    let api = h.admin_ok("POST", "/v1/apis", json!({"openapi": servers, "base_path": "/s"})).await;
    assert_eq!(
        api["upstream"]["url"],
        format!("http://{host}/api"),
        "the first absolute server, variables at their defaults"
    );
    let none = json!({"openapi": "3.0.3", "info": {"title": "N", "version": "1"}, "paths": {}});
    let refused = h.admin("POST", "/v1/apis", Some(json!({"openapi": none, "base_path": "/n"}))).await;
    let problem = assert_problem(&refused, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_of_several_mib_fits_and_an_empty_title_is_named_where_it_was_written() {
    let h = Harness::start(false).await;
    let big = json!({
        "openapi": "3.0.3", "info": {"title": "Big", "version": "1", "description": "é".repeat(3 * 1024 * 1024)},
        "paths": {"/x": {"get": {"responses": {"200": {"description": "OK"}}}}},
    });
    let reply = h
        .admin(
            "POST",
            "/v1/apis",
            Some(json!({"openapi": big.to_string(), "base_path": "/big", "upstream": {"url": "http://127.0.0.1:9"}})),
        )
        .await;
    assert_eq!(reply.status, 201, "a 6 MiB description is imported");
    let untitled = json!({"openapi": "3.0.3", "info": {"title": "", "version": "1"}, "paths": {}});
    let refused = h
        .admin(
            "POST",
            "/v1/apis",
            Some(json!({"openapi": untitled, "base_path": "/u", "upstream": {"url": "http://127.0.0.1:9"}})),
        )
        .await;
    let problem = assert_problem(&refused, 422, "invalid-openapi");
    assert_eq!(problem["errors"][0]["pointer"], "/openapi/info/title", "{problem}");
}
