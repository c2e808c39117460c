//! What a body must look like, as the served OpenAPI document says: a JSON object (an array is
//! not read into a struct field by field), and integers may be written as whole floats
//! (`10.0`), which JSON Schema counts as integers too.

mod common;

use common::{assert_problem, Harness};
use serde_json::json;

#[tokio::test]
async fn a_body_that_is_not_an_object_gets_422_and_changes_nothing() {
    let h = Harness::new();
    let app_id = h.app("a@x.io").await;
    let path = format!("/v1/apps/{app_id}");
    for body in [json!([null, null]), json!(["dev_x", "renamed"]), json!("name"), json!(5), json!(null)] {
        let reply = h.call("PATCH", &path, Some(body.clone())).await;
        assert_problem(&reply, 422, "validation-failed");
        assert_eq!(reply.body["errors"][0]["message"], "the body must be a JSON object", "{body}");
    }
    assert_eq!(h.call("GET", &path, None).await.body["name"], "app");
    let created = h.call("POST", "/v1/developers", Some(json!(["b@x.io", "B"]))).await;
    assert_problem(&created, 422, "validation-failed");
}

#[tokio::test]
async fn a_nested_struct_given_as_an_array_gets_422() {
    let h = Harness::new();
    let app_id = h.app("a@x.io").await;
    let limit = json!(["burst", "key", "rate", 10, 60, 5]);
    let reply = h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k", "limits": [limit]}))).await;
    assert_problem(&reply, 422, "validation-failed");
    let product = json!({"name": "p", "items": [["api_1", null]]});
    let reply = h.call("POST", "/v1/products", Some(product)).await;
    assert_problem(&reply, 422, "validation-failed");
    let message = reply.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("expected a JSON object"), "{message}");
}

#[tokio::test]
async fn whole_numbers_written_as_floats_are_read_as_integers() {
    let h = Harness::new();
    let app_id = h.app("a@x.io").await;
    let limit =
        json!({"name": "burst", "scope": "key", "type": "rate", "limit": 10.0, "period_secs": 60.0, "burst": 5.0});
    let reply = h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k", "limits": [limit]}))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["key"]["limits"][0]["limit"], 10);
    let fractional =
        json!({"name": "burst", "scope": "key", "type": "rate", "limit": 10.5, "period_secs": 60, "burst": 5});
    let refused =
        h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k2", "limits": [fractional]}))).await;
    assert_problem(&refused, 422, "validation-failed");
}
