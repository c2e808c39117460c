//! The admin scenario on the AWS adapters: the admin router over `DynamoRepo` (moto) with
//! `KvPublisher` publishing to a wiremock Cloudflare API and Worker. A developer signs up,
//! gets an app and a key, rotates it and revokes the old one; every step lands in DynamoDB
//! and in the edge's read model, and the revocation takes the signed fast path.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use gatehouse_admin::{router, AdminSettings, AdminState};
use gatehouse_aws::config::EdgeConfig;
use gatehouse_aws::dynamo::now_millis;
use gatehouse_aws::kv::{KvPublisher, Retry};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::store::Repo;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "scenario-admin-token";
const BULK: &str = "/client/v4/accounts/acc/storage/kv/namespaces/ns/bulk";

async fn call(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
    let request = Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {TOKEN}"));
    let request = match body {
        Some(b) => request.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    };
    let response = app.clone().oneshot(request.expect("request")).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") })
}

#[tokio::test]
async fn keys_are_issued_rotated_and_revoked_on_dynamodb_and_published_to_the_edge() {
    let edge = MockServer::start().await;
    let ok = json!({"success": true, "errors": [], "messages": [], "result": {"successful_key_count": 1, "unsuccessful_keys": []}});
    Mock::given(method("PUT"))
        .and(path(BULK))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok))
        .mount(&edge)
        .await;
    Mock::given(method("POST"))
        .and(path("/_gatehouse/revocations"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&edge)
        .await;
    let repo = Arc::new(support::fresh_repo().await);
    let config = EdgeConfig {
        api_base: format!("{}/client/v4", edge.uri()),
        account_id: "acc".into(),
        namespace_id: "ns".into(),
        api_token: "cf".into(),
        edge_url: edge.uri(),
        control_secret: b"control".to_vec(),
    };
    let clock: gatehouse_admin::Clock = Arc::new(now_millis);
    let retry = Retry { attempts: 2, first_delay: Duration::from_millis(5) };
    let publisher = KvPublisher::new(Arc::clone(&repo), config, retry, Arc::clone(&clock)).expect("publisher");
    let state = AdminState::new(
        Arc::clone(&repo),
        Arc::new(publisher),
        vec![hash_secret(TOKEN)],
        AdminSettings::default(),
        clock,
    );
    let app = router(state);

    let (status, dev) =
        call(&app, "POST", "/v1/developers", Some(json!({"email": "Grace@example.com", "name": "Grace"}))).await;
    assert_eq!(status, 201, "{dev}");
    let (status, _) =
        call(&app, "POST", "/v1/developers", Some(json!({"email": "grace@EXAMPLE.com", "name": "G"}))).await;
    assert_eq!(status, 409, "emails are unique ignoring case, enforced by a DynamoDB guard item");
    let (status, created) =
        call(&app, "POST", "/v1/apps", Some(json!({"developer_id": dev["id"], "name": "laptop"}))).await;
    assert_eq!(status, 201, "{created}");
    let app_id = created["id"].as_str().expect("app id").to_owned();
    let (status, issued) = call(&app, "POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "ci"}))).await;
    assert_eq!(status, 201, "{issued}");
    let old_id = issued["key"]["id"].as_str().expect("key id").to_owned();
    let (status, rotated) =
        call(&app, "POST", &format!("/v1/keys/{old_id}/rotate"), Some(json!({"grace_secs": 60}))).await;
    assert_eq!(status, 201, "{rotated}");
    let (status, revoked) = call(&app, "POST", &format!("/v1/keys/{old_id}/revoke"), None).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    let (_, listed) = call(&app, "GET", &format!("/v1/apps/{app_id}/keys"), None).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");

    let old: Key = repo.get(&old_id).await.expect("stored");
    assert_eq!(old.status, KeyStatus::Revoked);
    let requests = edge.received_requests().await.expect("recorded");
    let written: Vec<String> = requests
        .iter()
        .filter(|r| r.url.path() == BULK)
        .flat_map(|r| serde_json::from_slice::<Vec<Value>>(&r.body).expect("pairs"))
        .map(|p| p["key"].as_str().expect("key").to_owned())
        .collect();
    assert!(written.contains(&format!("identity:{app_id}")), "{written:?}");
    assert!(written.contains(&format!("key:{}", old.hash.as_hex())), "{written:?}");
    let notice = requests.iter().rfind(|r| r.url.path() == "/_gatehouse/revocations").expect("fast path used");
    let notice: RevocationNotice = serde_json::from_slice(&notice.body).expect("notice");
    assert_eq!(notice.key_hashes, vec![old.hash]);
    let audit = repo.recent_audit(10).await.expect("audit");
    assert!(audit.iter().any(|e| e.action.contains("revoke")), "{audit:?}");
}
