//! Validation at the gateway, end to end over real HTTP: with checks on, a request that does
//! not match the API's OpenAPI description is refused with 400 problem+json naming every
//! error by JSON Pointer, and the upstream never sees it; a valid one reaches the upstream
//! byte for byte. Off by default, per operation, carried by the admin API and `apply`/export.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{assert_problem, onboard, Harness};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn doc() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Orders", "version": "1"},
        "paths": {
            "/orders": {"get": {
                "operationId": "listOrders",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}}
            }},
            "/orders/{id}": {"put": {
                "operationId": "putOrder",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[a-f0-9]{8}$"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}}
            }},
            "/uploads": {"post": {
                "operationId": "upload",
                "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"204": {"description": "stored"}}
            }}
        },
        "components": {"schemas": {
            "Order": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "note": {"type": "string", "nullable": true}
            }},
            "Item": {"type": "object", "required": ["price"], "properties": {"price": {"type": "number", "minimum": 0}}}
        }}
    })
}

struct Setup {
    h: Harness,
    up: MockServer,
    api_id: String,
    key: String,
}

async fn setup(validation: Value) -> Setup {
    let up = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": "not an array"})))
        .mount(&up)
        .await;
    let h = Harness::start(false).await;
    let mut body =
        json!({"openapi": doc(), "base_path": "/shop", "upstream": {"url": up.uri(), "max_body_bytes": 8_388_608}});
    if !validation.is_null() {
        body["validation"] = validation;
    }
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, _, key) = onboard(&h, &api_id, "dev@example.com", json!([])).await;
    Setup { h, up, api_id, key }
}

impl Setup {
    async fn put(&self, path: &str, trace: &str, body: &str) -> support::Reply {
        let url = format!("http://{}/shop{path}", self.h.app.gateway_addr);
        let headers = [("x-api-key", self.key.as_str()), ("x-trace", trace), ("content-type", "application/json")];
        self.h.send("PUT", &url, &headers, Bytes::from(body.to_owned())).await
    }

    async fn upstream_saw(&self) -> usize {
        self.up.received_requests().await.unwrap().len()
    }
}

fn pointers(problem: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_request_never_reaches_the_upstream_and_a_valid_one_arrives_unchanged() {
    let s = setup(json!({"requests": true, "responses": "log"})).await;

    let valid = r#"{"items": [{"price": 2.5}], "note": null}"#;
    let reply = s.put("/orders/7", "0123abcd", valid).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let seen = s.up.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, valid.as_bytes(), "the body reaches the upstream byte for byte");
    assert_eq!(seen[0].url.path(), "/orders/7");
    assert_eq!(seen[0].headers.get("x-trace").unwrap(), "0123abcd");

    let reply = s.put("/orders/0", "not-hex!", r#"{"items": [{"price": -1}, {}]}"#).await;
    let problem = assert_problem(&reply, 400, "/invalid-request");
    assert_eq!(pointers(&problem), ["/body/items/0/price", "/body/items/1", "/header/X-Trace", "/path/id"]);
    assert_eq!(problem["outcome"], "invalid_request");

    let url = format!("http://{}/shop/orders?limit=500", s.h.app.gateway_addr);
    let reply = s.h.send("GET", &url, &[("x-api-key", s.key.as_str())], Bytes::new()).await;
    assert_eq!(pointers(&assert_problem(&reply, 400, "/invalid-request")), ["/query/limit"]);

    let reply = s.put("/orders/7", "0123abcd", r#"{"items": [}"#).await;
    assert_eq!(pointers(&assert_problem(&reply, 400, "/invalid-request")), ["/body"]);
    let reply = s.put("/orders/7", "0123abcd", "").await;
    assert_eq!(pointers(&assert_problem(&reply, 400, "/invalid-request")), ["/body"], "the body is required");

    assert_eq!(s.upstream_saw().await, 1, "no invalid request reached the upstream");

    // Operations whose bodies are not JSON stream as before, unread.
    let url = format!("http://{}/shop/uploads", s.h.app.gateway_addr);
    let headers = [("x-api-key", s.key.as_str()), ("content-type", "application/octet-stream")];
    let reply = s.h.send("POST", &url, &headers, Bytes::from(vec![7u8; 300_000])).await;
    assert_eq!(reply.status, 200);
    assert_eq!(s.up.received_requests().await.unwrap()[1].body.len(), 300_000);

    s.h.app.flush_usage().await;
    let usage = s.h.admin_ok("GET", &format!("/v1/usage?api_id={}&group_by=total", s.api_id), Value::Null).await;
    assert_eq!(usage["items"][0]["outcomes"]["invalid_request"], 4, "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_json_body_is_checked_within_the_bound_and_refused_past_it() {
    let s = setup(json!({"requests": true})).await;
    let addr = s.h.app.gateway_addr;
    let valid = r#"{"items": [{"price": 1}]}"#;
    let (status, _) = chunked_put(addr, &s.key, valid).await;
    assert_eq!(status, 200);
    assert_eq!(s.up.received_requests().await.unwrap()[0].body, valid.as_bytes());
    let (status, body) = chunked_put(addr, &s.key, r#"{"items": [{"price": "x"}]}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("/body/items/0/price"), "{body}");

    // Past the 1 MiB the check reads (the API itself allows 8 MiB): 413 naming the bound.
    let (status, body) = oversized_put(addr, &s.key, 2 << 20).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload-too-large") && body.contains(r#""max_bytes":1048576"#), "{body}");
    assert_eq!(s.upstream_saw().await, 1);
}

/// A `PUT /shop/orders/7` that announces `length` bytes of JSON and sends the first 64 KiB
/// (a server that refuses early is not waited for), the rest never comes.
async fn oversized_put(addr: std::net::SocketAddr, key: &str, length: usize) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /shop/orders/7 HTTP/1.1\r\nhost: gw\r\nx-api-key: {key}\r\nx-trace: 0123abcd\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(&vec![b' '; 64 * 1024]).await;
    read_reply(&mut stream).await
}

/// The status and text of the answer, read until the server closes or its body is whole.
async fn read_reply(stream: &mut tokio::net::TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf)).await;
        match read.unwrap() {
            Ok(n) if n > 0 => raw.extend_from_slice(&buf[..n]),
            _ => break,
        }
        let text = String::from_utf8_lossy(&raw);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// A `PUT /shop/orders/7` whose JSON body is sent chunked (no length known up front).
async fn chunked_put(addr: std::net::SocketAddr, key: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /shop/orders/7 HTTP/1.1\r\nhost: gw\r\nx-api-key: {key}\r\nx-trace: 0123abcd\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (a, b) = body.split_at(body.len() / 2);
    for part in [a, b] {
        stream.write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    read_reply(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_is_off_by_default_and_set_per_operation_through_the_admin_api() {
    let s = setup(Value::Null).await;
    let api = s.h.admin_ok("GET", &format!("/v1/apis/{}", s.api_id), Value::Null).await;
    assert_eq!(api.get("validation"), None, "off, and left out of the record");
    let reply = s.put("/orders/0", "nope", r#"{"items": 3}"#).await;
    assert_eq!(reply.status, 200, "unchecked by default");

    let path = format!("/v1/apis/{}", s.api_id);
    let on = json!({"validation": {"requests": true, "operations": {"listOrders": {"requests": false}}}});
    let api = s.h.admin_ok("PATCH", &path, on).await;
    assert_eq!(api["validation"]["operations"]["listOrders"]["requests"], false);
    assert_eq!(s.put("/orders/0", "nope", r#"{"items": 3}"#).await.status, 400);
    let url = format!("http://{}/shop/orders?limit=500", s.h.app.gateway_addr);
    let reply = s.h.send("GET", &url, &[("x-api-key", s.key.as_str())], Bytes::new()).await;
    assert_eq!(reply.status, 200, "the operation's override turns its check off");

    let typo =
        s.h.admin("PATCH", &path, Some(json!({"validation": {"operations": {"listOrder": {"requests": true}}}}))).await;
    assert_eq!(typo.status, 422);
    assert!(String::from_utf8_lossy(&typo.body).contains("/validation/operations/listOrder"));

    // The admin API's own document describes the settings where they are written.
    let described = s.h.admin_ok("GET", "/v1/openapi.json", Value::Null).await;
    let schemas = &described["components"]["schemas"];
    assert_eq!(
        schemas["ValidationSettings"]["properties"]["responses"]["$ref"],
        "#/components/schemas/ResponseValidation"
    );
    for holder in ["NewApi", "ApiPatch", "ApiConfig", "Api"] {
        assert!(schemas[holder]["properties"].get("validation").is_some(), "{holder} has no validation property");
    }

    // `apply`/export carry the settings as written.
    let exported = s.h.admin_ok("GET", "/v1/config", Value::Null).await;
    assert_eq!(exported["apis"][0]["validation"]["requests"], true, "{exported}");
    assert_eq!(exported["apis"][0]["validation"]["operations"]["listOrders"]["requests"], false);
}
