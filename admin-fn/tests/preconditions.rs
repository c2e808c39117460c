//! Every admin resource has an `ETag`, and every write to one honours `If-Match`.

mod common;

use common::{assert_problem, text, Harness};
use serde_json::json;

fn etag(reply: &common::Reply) -> String {
    reply.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_string()
}

#[tokio::test]
async fn every_resource_answers_with_the_same_etag_on_create_and_get() {
    let h = Harness::new();
    let api = h.pets_api().await;
    let product =
        h.call("POST", "/v1/products", Some(json!({"name": "P", "items": [{"api_id": api.body["id"]}]}))).await;
    let plan = h.call("POST", "/v1/plans", Some(json!({"name": "Free", "product_id": product.body["id"]}))).await;
    let dev = h.call("POST", "/v1/developers", Some(json!({"email": "a@x.io", "name": "A"}))).await;
    let app = h.call("POST", "/v1/apps", Some(json!({"developer_id": dev.body["id"], "name": "app"}))).await;
    let app_id = text(&app.body["id"]);
    let sub_body = json!({"product_id": product.body["id"], "plan_id": plan.body["id"]});
    let sub = h.call("POST", &format!("/v1/apps/{app_id}/subscriptions"), Some(sub_body)).await;
    let key = h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k"}))).await;
    let created = [
        (format!("/v1/apis/{}", text(&api.body["id"])), &api),
        (format!("/v1/products/{}", text(&product.body["id"])), &product),
        (format!("/v1/plans/{}", text(&plan.body["id"])), &plan),
        (format!("/v1/developers/{}", text(&dev.body["id"])), &dev),
        (format!("/v1/apps/{app_id}"), &app),
        (format!("/v1/subscriptions/{}", text(&sub.body["id"])), &sub),
        (format!("/v1/keys/{}", text(&key.body["key"]["id"])), &key),
    ];
    for (path, reply) in created {
        assert_eq!(reply.status, 201, "{path}: {:?}", reply.body);
        assert_eq!(etag(&h.call("GET", &path, None).await), etag(reply), "{path}");
    }
}

#[tokio::test]
async fn a_stale_if_match_on_an_action_gets_412_and_the_key_stays_usable() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let key = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "k"}))).await;
    let path = format!("/v1/keys/{}", text(&key.body["key"]["id"]));
    let read = etag(&h.call("GET", &path, None).await);
    let disabled = h.call("POST", &format!("{path}/disable"), None).await;
    assert_eq!(disabled.status, 200);
    assert_ne!(etag(&disabled), read);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(format!("{path}/revoke"))
        .header("authorization", format!("Bearer {}", common::TOKEN))
        .header("if-match", &read)
        .body(axum::body::Body::empty())
        .expect("request");
    assert_problem(&h.send(request).await, 412, "precondition-failed");
    assert_eq!(h.call("GET", &path, None).await.body["status"], "disabled", "not revoked by the stale call");
}
