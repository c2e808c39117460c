//! No lost updates on DynamoDB (moto) (issue 16): the admin router's PATCHes are conditional
//! writes, so concurrent PATCHes of different fields both land, and a stale `If-Match` is 412.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use gatehouse_admin::{router, AdminSettings, AdminState, RecordingPublisher};
use gatehouse_aws::dynamo::now_millis;
use gatehouse_core::keys::hash_secret;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "conditional-admin-token";
const ROUNDS: usize = 100;

struct Reply {
    status: u16,
    etag: Option<String>,
    body: Value,
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Option<Value>, if_match: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {TOKEN}"));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let request = match body {
        Some(b) => request.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    };
    let response = app.clone().oneshot(request.expect("request")).await.expect("infallible");
    let status = response.status().as_u16();
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        etag,
        body: if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") },
    }
}

async fn app() -> axum::Router {
    let repo = Arc::new(support::fresh_repo().await);
    let publisher = Arc::new(RecordingPublisher::default());
    let state =
        AdminState::new(repo, publisher, vec![hash_secret(TOKEN)], AdminSettings::default(), Arc::new(now_millis));
    router(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_different_fields_never_lose_an_acknowledged_change_on_dynamodb() {
    let app = app().await;
    let dev =
        call(&app, "POST", "/v1/developers", Some(json!({"email": "ada@example.com", "name": "Ada"})), None).await;
    assert_eq!(dev.status, 201, "{:?}", dev.body);
    let path = format!("/v1/developers/{}", dev.body["id"].as_str().expect("id"));
    for round in 0..ROUNDS {
        let (name, group) = (format!("name-{round}"), format!("group-{round}"));
        let (a, b) = tokio::join!(
            tokio::spawn({
                let (app, path, name) = (app.clone(), path.clone(), name.clone());
                async move { call(&app, "PATCH", &path, Some(json!({ "name": name })), None).await }
            }),
            tokio::spawn({
                let (app, path, group) = (app.clone(), path.clone(), group.clone());
                async move { call(&app, "PATCH", &path, Some(json!({ "group": group })), None).await }
            }),
        );
        let (a, b) = (a.expect("task"), b.expect("task"));
        assert_eq!((a.status, b.status), (200, 200), "round {round}: {:?} {:?}", a.body, b.body);
        let now = call(&app, "GET", &path, None, None).await.body;
        assert_eq!((now["name"].as_str(), now["group"].as_str()), (Some(&*name), Some(&*group)), "round {round}");
    }
}

#[tokio::test]
async fn a_stale_if_match_gets_412_on_dynamodb_and_writes_nothing() {
    let app = app().await;
    let dev =
        call(&app, "POST", "/v1/developers", Some(json!({"email": "ada@example.com", "name": "Ada"})), None).await;
    let path = format!("/v1/developers/{}", dev.body["id"].as_str().expect("id"));
    let tag = dev.etag.expect("a created resource has an ETag");
    assert_eq!(call(&app, "GET", &path, None, None).await.etag.as_deref(), Some(tag.as_str()));
    let first = call(&app, "PATCH", &path, Some(json!({"name": "First"})), Some(&tag)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let stale = call(&app, "PATCH", &path, Some(json!({"group": "gold"})), Some(&tag)).await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    assert_eq!(stale.body["type"], "https://gatehouse.dev/problems/precondition-failed");
    let now = call(&app, "GET", &path, None, None).await.body;
    assert_eq!((now["name"].as_str(), now["group"].as_str()), (Some("First"), None));
}
