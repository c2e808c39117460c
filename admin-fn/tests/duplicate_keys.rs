//! A body that names a JSON member twice is refused with 400, at any depth and in YAML too,
//! and nothing is written: the API never picks one of two answers on the client's behalf.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{assert_problem, Harness, TOKEN};
use serde_json::json;

fn with_body(method: &str, path: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .expect("request")
}

#[tokio::test]
async fn a_member_named_twice_gets_400_and_writes_nothing() {
    let h = Harness::new();
    let twice = r#"{"email": "a@x.io", "name": "First", "name": "Second"}"#;
    let reply = h.send(with_body("POST", "/v1/developers", "application/json", twice)).await;
    assert_problem(&reply, 400, "invalid-json");
    let detail = reply.body["detail"].as_str().expect("detail");
    assert!(detail.contains(r#""name" appears twice"#), "{detail}");
    assert_eq!(h.call("GET", "/v1/developers", None).await.body["items"], json!([]));

    let created = h.call("POST", "/v1/developers", Some(json!({"email": "b@x.io", "name": "Kept"}))).await;
    let path = format!("/v1/developers/{}", created.body["id"].as_str().expect("id"));
    let patch = r#"{"group": "a", "group": "b"}"#;
    assert_problem(&h.send(with_body("PATCH", &path, "application/json", patch)).await, 400, "invalid-json");
    assert_eq!(h.call("GET", &path, None).await.body["group"], json!(null), "the PATCH changed nothing");
}

#[tokio::test]
async fn a_nested_member_named_twice_in_a_config_document_gets_400() {
    let h = Harness::new();
    let json = r#"{"products": [{"name": "p", "plans": [{"name": "a", "requires_approval": true, "requires_approval": false}]}]}"#;
    assert_problem(&h.send(with_body("PUT", "/v1/config", "application/json", json)).await, 400, "invalid-json");
    let yaml = "products:\n  - name: p\n    description: one\n    description: two\n";
    let reply = h.send(with_body("PUT", "/v1/config", "application/yaml", yaml)).await;
    assert_problem(&reply, 400, "bad-request");
    assert_eq!(h.call("GET", "/v1/products", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn distinct_members_with_the_same_name_in_different_objects_are_fine() {
    let h = Harness::new();
    let body = r#"{"name": "a", "items": [], "description": "{\"name\": 1, \"name\": 2}"}"#;
    assert_eq!(h.send(with_body("POST", "/v1/products", "application/json", body)).await.status, 201);
}
