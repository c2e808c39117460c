//! Importing and managing APIs. Needs the core's OpenAPI importer.

mod common;

use common::{assert_problem, text, Harness};
use serde_json::{json, Value};

fn pets() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Pets", "version": "1.0.0" },
        "paths": { "/pets": { "get": { "operationId": "listPets", "responses": { "200": { "description": "ok" } } } } }
    })
}

fn new_api(doc: Value) -> Value {
    json!({ "openapi": doc, "base_path": "/pets", "upstream": { "url": "http://127.0.0.1:9" } })
}

#[tokio::test]
async fn malformed_openapi_gets_422_with_every_problem() {
    let h = Harness::new();
    let broken = json!({ "openapi": "9.9", "info": {}, "paths": { "pets": { "get": 5 } } });
    let reply = h.call("POST", "/v1/apis", Some(new_api(broken))).await;
    assert_problem(&reply, 422, "invalid-openapi");
    let errors = reply.body["errors"].as_array().expect("errors");
    assert!(errors.len() >= 2, "every problem, not just the first: {errors:?}");
    assert!(errors.iter().all(|e| e["pointer"].is_string() && e["message"].is_string()));
    let yaml_garbage = h.call("POST", "/v1/apis", Some(new_api(json!(": not: [valid")))).await;
    assert_problem(&yaml_garbage, 422, "invalid-openapi");
    assert!(h.publisher.changes().is_empty());
}

#[tokio::test]
async fn imported_api_starts_as_draft_and_moves_forward_only() {
    let h = Harness::new();
    let created = h.call("POST", "/v1/apis", Some(new_api(pets()))).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        (created.body["name"].as_str(), created.body["lifecycle"]["state"].as_str()),
        (Some("Pets"), Some("draft"))
    );
    assert_eq!(created.body["operations"][0]["id"], "listPets");
    let id = text(&created.body["id"]);
    let path = format!("/v1/apis/{id}/lifecycle");
    assert_problem(&h.call("POST", &path, Some(json!({"action": "retire"}))).await, 409, "invalid-transition");
    assert_eq!(h.call("POST", &path, Some(json!({"action": "publish"}))).await.body["lifecycle"]["state"], "published");
    assert_problem(&h.call("DELETE", &format!("/v1/apis/{id}"), None).await, 409, "conflict");
    let dep = h
        .call(
            "POST",
            &path,
            Some(json!({"action": "deprecate", "sunset_at": 1_900_000_000_000_i64, "successor": "https://x/v2"})),
        )
        .await;
    assert_eq!(dep.body["lifecycle"]["state"], "deprecated");
    assert_problem(&h.call("POST", &path, Some(json!({"action": "fly"}))).await, 422, "validation-failed");
}

#[tokio::test]
async fn same_base_path_on_the_same_host_is_a_conflict() {
    let h = Harness::new();
    assert_eq!(h.call("POST", "/v1/apis", Some(new_api(pets()))).await.status, 201);
    assert_problem(&h.call("POST", "/v1/apis", Some(new_api(pets()))).await, 409, "conflict");
    let bad_place = json!({ "openapi": pets(), "base_path": "pets/", "upstream": { "url": "ftp://x" } });
    let reply = h.call("POST", "/v1/apis", Some(bad_place)).await;
    assert_problem(&reply, 422, "validation-failed");
    assert_eq!(reply.body["errors"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn draft_api_can_be_patched_purged_and_deleted() {
    let h = Harness::new();
    let id = text(&h.call("POST", "/v1/apis", Some(new_api(pets()))).await.body["id"]);
    let patched = h.call("PATCH", &format!("/v1/apis/{id}"), Some(json!({"hosts": ["API.example.com"]}))).await;
    assert_eq!(patched.body["hosts"], json!(["api.example.com"]));
    let purged = h.call("POST", &format!("/v1/apis/{id}/cache/purge"), Some(json!({"tag": "pets"}))).await;
    assert_eq!((purged.status.as_u16(), purged.body["purged"].as_u64()), (200, Some(1)));
    assert_eq!(h.publisher.purges().len(), 1);
    assert_eq!(h.call("DELETE", &format!("/v1/apis/{id}"), None).await.status, 204);
    assert_problem(&h.call("GET", &format!("/v1/apis/{id}"), None).await, 404, "not-found");
}
