//! Every refusal is an RFC 9457 problem with the right status; bad input never gets a 500.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{assert_problem, Harness, TOKEN};
use gatehouse_admin::AdminSettings;
use serde_json::json;

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", content_type)
        .body(body.into())
        .expect("request")
}

#[tokio::test]
async fn bad_json_gets_400_problem() {
    let h = Harness::new();
    for body in ["{", "{\"email\": }", "not json", ""] {
        let reply = h.send(post("/v1/developers", "application/json", body)).await;
        assert_problem(&reply, 400, "invalid-json");
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_get_422_problem() {
    let h = Harness::new();
    let wrong_type = h.call("POST", "/v1/developers", Some(json!({"email": 5, "name": "x"}))).await;
    assert_problem(&wrong_type, 422, "validation-failed");
    let unknown_field = h.call("POST", "/v1/developers", Some(json!({"email": "a@x.io", "nmae": "x"}))).await;
    assert_problem(&unknown_field, 422, "validation-failed");
    let invalid = h.call("POST", "/v1/developers", Some(json!({"email": "nobody", "name": " "}))).await;
    assert_problem(&invalid, 422, "validation-failed");
    let pointers: Vec<&str> =
        invalid.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, ["/email", "/name"], "every problem is reported at once");
}

#[tokio::test]
async fn oversized_body_gets_413_problem() {
    let h = Harness::with_settings(AdminSettings { max_body_bytes: 64, ..AdminSettings::default() });
    let big = json!({"email": "a@x.io", "name": "x".repeat(100)}).to_string();
    // No Content-Length header: the limit holds while the body is read.
    assert_problem(&h.send(post("/v1/developers", "application/json", big.clone())).await, 413, "payload-too-large");
    // A declared length over the limit is refused before reading.
    let mut declared = post("/v1/developers", "application/json", big.clone());
    declared.headers_mut().insert("content-length", big.len().into());
    assert_problem(&h.send(declared).await, 413, "payload-too-large");
    let small = json!({"email": "a@x.io", "name": "x"}).to_string();
    assert_eq!(h.send(post("/v1/developers", "application/json", small)).await.status, 201);
}

#[tokio::test]
async fn non_json_media_type_gets_415_problem() {
    let h = Harness::new();
    let reply = h.send(post("/v1/developers", "text/plain", "{}")).await;
    assert_problem(&reply, 415, "unsupported-media-type");
}

#[tokio::test]
async fn admin_calls_without_token_get_401() {
    let h = Harness::new();
    let missing = h.send(Request::get("/v1/apis").body(Body::empty()).expect("request")).await;
    assert_problem(&missing, 401, "unauthorized");
    assert!(missing.headers["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    let wrong =
        Request::get("/v1/apis").header("authorization", "Bearer not-the-token").body(Body::empty()).expect("request");
    assert_problem(&h.send(wrong).await, 401, "unauthorized");
    let basic = Request::get("/v1/apis")
        .header("authorization", format!("Basic {TOKEN}"))
        .body(Body::empty())
        .expect("request");
    assert_problem(&h.send(basic).await, 401, "unauthorized");
    let health = h.send(Request::get("/v1/health").body(Body::empty()).expect("request")).await;
    assert_eq!(health.status, 200, "health needs no token");
}

#[tokio::test]
async fn unknown_ids_and_paths_get_404_problem() {
    let h = Harness::new();
    for path in ["/v1/apis/api_nope", "/v1/keys/key_nope", "/v1/developers/dev_nope/apps", "/v1/nothing-here"] {
        assert_problem(&h.call("GET", path, None).await, 404, "not-found");
    }
    assert_problem(&h.call("POST", "/v1/keys/key_nope/revoke", None).await, 404, "not-found");
}

#[tokio::test]
async fn wrong_method_gets_405_problem() {
    let h = Harness::new();
    let reply = h.call("DELETE", "/v1/developers", None).await;
    assert_problem(&reply, 405, "method-not-allowed");
    assert!(reply.headers.contains_key("allow"));
}

#[tokio::test]
async fn duplicate_developer_email_gets_409_problem() {
    let h = Harness::new();
    let first = h.call("POST", "/v1/developers", Some(json!({"email": "Ann@X.io", "name": "Ann"}))).await;
    assert_eq!(first.status, 201);
    let again = h.call("POST", "/v1/developers", Some(json!({"email": "ann@x.io", "name": "Ann"}))).await;
    assert_problem(&again, 409, "conflict");
}

/// The admin API takes any description the importer takes (10 MiB), sent as a JSON string with
/// its quotes and newlines escaped; a bigger body gets a 413 problem that names the limit.
#[tokio::test]
async fn a_description_just_under_10_mib_is_imported_and_a_bigger_body_gets_413_naming_the_limit() {
    let h = Harness::new();
    let max = gatehouse_core::openapi::MAX_DOCUMENT_BYTES;
    let head = "openapi: 3.0.3\ninfo:\n  title: Big\n  version: \"1\"\npaths:\n  /x:\n    get:\n      responses:\n        \"200\": { description: OK }\n";
    // Lines of YAML comments with quotes in them, which a JSON string escapes.
    let line = "# \"quoted\" words, é and ü\n";
    let text = format!("{head}{}", line.repeat((max - head.len() - 1024) / line.len()));
    assert!(text.len() > max - 2048 && text.len() <= max);
    let body = json!({"openapi": text, "base_path": "/big", "upstream": {"url": "http://127.0.0.1:9"}}).to_string();
    assert!(body.len() > max, "escaped, the body is larger than the description");
    let reply = h.send(post("/v1/apis", "application/json", body)).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    let over = "x".repeat(gatehouse_admin::MAX_BODY_BYTES + 1);
    let reply = h.send(post("/v1/apis", "application/json", over)).await;
    assert_problem(&reply, 413, "payload-too-large");
    let limit = gatehouse_admin::MAX_BODY_BYTES.to_string();
    assert!(reply.body["detail"].as_str().is_some_and(|d| d.contains(&limit)), "{:?}", reply.body);
}
