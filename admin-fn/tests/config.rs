//! Declarative config: export, then apply by name, idempotently.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{assert_problem, Harness, TOKEN};
use serde_json::json;

fn document() -> serde_json::Value {
    json!({
        "apis": [{
            "name": "Pets",
            "base_path": "/pets",
            "upstream": { "url": "http://127.0.0.1:9" },
            "openapi": {
                "openapi": "3.1.0",
                "info": { "title": "Pets", "version": "1.0.0" },
                "paths": { "/pets": { "get": { "operationId": "listPets", "responses": { "200": { "description": "ok" } } } } }
            }
        }],
        "products": [{
            "name": "Starter",
            "apis": [{ "api": "Pets" }],
            "plans": [{ "name": "free", "limits": [{ "name": "daily", "scope": "app", "type": "quota", "limit": 1000, "window": "day" }] }]
        }, {
            "name": "Partners",
            "apis": [{ "api": "Pets" }],
            "audience": { "organisations": ["Acme"] }
        }],
        "organisations": [{ "name": "Acme", "tier": "gold" }]
    })
}

#[tokio::test]
async fn config_apply_is_an_idempotent_upsert_by_name() {
    let h = Harness::new();
    let first = h.call("PUT", "/v1/config", Some(document())).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(
        first.body,
        json!({
            "apis": {"created": 1, "updated": 0, "unchanged": 0},
            "products": {"created": 2, "updated": 0, "unchanged": 0},
            "plans": {"created": 1, "updated": 0, "unchanged": 0},
            "organisations": {"created": 1, "updated": 0, "unchanged": 0}
        })
    );
    let again = h.call("PUT", "/v1/config", Some(document())).await;
    assert_eq!(again.body["apis"]["unchanged"], 1);
    assert_eq!(again.body["plans"]["unchanged"], 1);
    assert_eq!(again.body["organisations"]["unchanged"], 1);
    let exported = h.call("GET", "/v1/config", None).await;
    assert_eq!(exported.body["organisations"], json!([{"name": "Acme", "tier": "gold"}]));
    assert_eq!(exported.body["products"][1]["audience"], json!({"organisations": ["Acme"]}));
    let round_trip = h.call("PUT", "/v1/config", Some(exported.body.clone())).await;
    assert_eq!(round_trip.body["products"], json!({"created": 0, "updated": 0, "unchanged": 2}));
    assert_eq!(round_trip.body["organisations"], json!({"created": 0, "updated": 0, "unchanged": 1}));
    let mut retiered = document();
    retiered["organisations"][0]["tier"] = json!("silver");
    let changed = h.call("PUT", "/v1/config", Some(retiered)).await;
    assert_eq!(changed.body["organisations"], json!({"created": 0, "updated": 1, "unchanged": 0}));
    let mut changed = document();
    changed["products"][0]["plans"][0]["scopes"] = json!(["pets:read"]);
    let updated = h.call("PUT", "/v1/config", Some(changed)).await;
    assert_eq!(updated.body["plans"], json!({"created": 0, "updated": 1, "unchanged": 0}));
}

#[tokio::test]
async fn config_with_problems_writes_nothing_and_lists_them_all() {
    let h = Harness::new();
    let mut doc = document();
    doc["products"][0]["apis"] = json!([{ "api": "Nope" }]);
    doc["apis"][0]["base_path"] = json!("no-slash");
    let reply = h.call("PUT", "/v1/config", Some(doc)).await;
    assert_problem(&reply, 422, "validation-failed");
    let pointers: Vec<&str> =
        reply.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, ["/apis/0/base_path", "/products/0/apis/0/api"]);
    assert!(h.publisher.changes().is_empty());
}

async fn put_yaml(h: &Harness, yaml: &'static str) -> common::Reply {
    let request = Request::put("/v1/config")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/yaml")
        .body(Body::from(yaml))
        .expect("request");
    h.send(request).await
}

#[tokio::test]
async fn config_can_be_applied_as_yaml() {
    let h = Harness::new();
    let yaml = "products:\n  - name: Empty\n    plans:\n      - name: free\n";
    let reply = put_yaml(&h, yaml).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["plans"]["created"], 1);
}

#[tokio::test]
async fn config_of_the_wrong_shape_lists_every_type_error_and_unknown_field() {
    let h = Harness::new();
    let mut doc = document();
    doc["apis"][0]["upstream"]["timeout_ms"] = json!("soon");
    doc["apis"][0]["colour"] = json!("blue");
    doc["products"][0]["plans"][0]["requires_approval"] = json!("maybe");
    doc["products"][0]["plans"][0]["limits"][0]["window"] = json!("fortnight");
    let reply = h.call("PUT", "/v1/config", Some(doc)).await;
    assert_problem(&reply, 422, "validation-failed");
    let pointers: Vec<&str> =
        reply.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/apis/0/colour",
            "/apis/0/upstream/timeout_ms",
            "/products/0/plans/0/limits/0",
            "/products/0/plans/0/requires_approval"
        ]
    );
    assert!(h.publisher.changes().is_empty());
}

#[tokio::test]
async fn yaml_config_with_a_key_given_twice_is_refused() {
    let h = Harness::new();
    let yaml = "products:\n  - name: Empty\n    name: Other\n";
    let reply = put_yaml(&h, yaml).await;
    assert_problem(&reply, 400, "bad-request");
    assert!(reply.body["detail"].as_str().is_some_and(|d| d.contains("appears twice")), "{:?}", reply.body);
    assert!(h.publisher.changes().is_empty());
}

#[tokio::test]
async fn an_api_without_an_upstream_forwards_to_the_documents_first_absolute_server() {
    let h = Harness::new();
    let mut doc = document();
    doc["apis"][0].as_object_mut().unwrap().remove("upstream");
    doc["apis"][0]["openapi"]["servers"] = json!([{"url": "/relative"}, {"url": "https://{region}.pets.example/v1",
        "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}}}]);
    let applied = h.call("PUT", "/v1/config", Some(doc.clone())).await;
    assert_eq!(applied.status, 200, "{:?}", applied.body);
    let apis = h.call("GET", "/v1/apis", None).await;
    assert_eq!(apis.body["items"][0]["upstream"]["url"], "https://eu.pets.example/v1");
    doc["apis"][0]["openapi"]["servers"] = json!([{"url": "/relative"}]);
    doc["apis"][0]["name"] = json!("Other");
    doc["apis"][0]["base_path"] = json!("/other");
    let refused = h.call("PUT", "/v1/config", Some(doc)).await;
    assert_problem(&refused, 422, "validation-failed");
    let errors = refused.body["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["pointer"].as_str().unwrap().starts_with("/apis/0/upstream")), "{errors:?}");
}

#[tokio::test]
async fn a_mock_upstream_is_applied_and_exported_as_written_and_a_near_miss_is_refused() {
    let h = Harness::new();
    let mut doc = document();
    doc["apis"][0]["upstream"] = json!({"url": "mock:"});
    let applied = h.call("PUT", "/v1/config", Some(doc.clone())).await;
    assert_eq!(applied.status, 200, "{:?}", applied.body);
    let exported = h.call("GET", "/v1/config", None).await;
    assert_eq!(exported.body["apis"][0]["upstream"]["url"], "mock:");
    // The compiled responses live only in the gateway's read model, never in the store.
    let apis = h.call("GET", "/v1/apis", None).await;
    assert!(apis.body["items"][0]["operations"][0].get("mock").is_none(), "{:?}", apis.body);
    doc["apis"][0]["upstream"] = json!({"url": "mock://pets"});
    let refused = h.call("PUT", "/v1/config", Some(doc)).await;
    assert_problem(&refused, 422, "validation-failed");
    assert_eq!(refused.body["errors"][0]["pointer"], "/apis/0/upstream/url", "{:?}", refused.body);
}
