//! Closing an account on the AWS adapters: the admin router over `DynamoRepo` (moto) with
//! `KvPublisher` publishing to a wiremock Cloudflare API and Worker. More keys than one
//! DynamoDB transaction holds are all revoked, each through the signed revocation fast path;
//! the export works before; no email, name or organisation is left in either table after.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use gatehouse_admin::{router, AdminSettings, AdminState};
use gatehouse_aws::config::EdgeConfig;
use gatehouse_aws::dynamo::now_millis;
use gatehouse_aws::kv::{KvPublisher, Retry};
use gatehouse_aws::{create_tables, DynamoRepo};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::store::{GroupBy, Repo, UsageQuery};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "close-admin-token";
const BULK: &str = "/client/v4/accounts/acc/storage/kv/namespaces/ns/bulk";
const EMAIL: &str = "Katherine.Johnson@Example.net";
const NAME: &str = "Creola Katherine Johnson";
const ORG: &str = "Langley Flight Research";

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

async fn edge() -> MockServer {
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
    edge
}

fn admin(repo: &Arc<DynamoRepo>, edge: &MockServer) -> axum::Router {
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
    let publisher = KvPublisher::new(Arc::clone(repo), config, retry, Arc::clone(&clock)).expect("publisher");
    router(AdminState::new(
        Arc::clone(repo),
        Arc::new(publisher),
        vec![hash_secret(TOKEN)],
        AdminSettings::default(),
        clock,
    ))
}

/// Every item of a table, as text, lower-cased.
async fn table_text(client: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let mut all = String::new();
    let mut start = None;
    loop {
        let page = client.scan().table_name(table).set_exclusive_start_key(start).send().await.expect("scan");
        all.push_str(&format!("{:?}", page.items()).to_lowercase());
        start = page.last_evaluated_key;
        if start.is_none() {
            return all;
        }
    }
}

#[tokio::test]
async fn closing_an_account_on_dynamodb_revokes_every_key_at_the_edge_and_leaves_nothing_personal() {
    let edge = edge().await;
    let (client, tables) = (support::client(), support::tables());
    create_tables(&client, &tables).await.expect("create tables");
    let repo = Arc::new(DynamoRepo::new(client.clone(), tables.clone()));
    let app = admin(&repo, &edge);

    let (status, dev) =
        call(&app, "POST", "/v1/developers", Some(json!({"email": EMAIL, "name": NAME, "organisation": ORG}))).await;
    assert_eq!(status, 201, "{dev}");
    let dev = dev["id"].as_str().expect("id").to_owned();
    let mut keys = Vec::new();
    for a in 0..2 {
        let (_, created) =
            call(&app, "POST", &format!("/v1/developers/{dev}/apps"), Some(json!({"name": format!("{NAME} {a}")})))
                .await;
        let app_id = created["id"].as_str().expect("app id").to_owned();
        for k in 0..16 {
            let (status, issued) =
                call(&app, "POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": format!("{NAME} {k}")})))
                    .await;
            assert_eq!(status, 201, "{issued}");
            keys.push((app_id.clone(), issued["key"]["id"].as_str().expect("key id").to_owned()));
        }
    }
    let minute = now_millis() - now_millis() % 60_000;
    let rollups: Vec<Rollup> = keys
        .iter()
        .map(|(app_id, key_id)| {
            let key = RollupKey {
                minute,
                api_id: "api_1".into(),
                operation_id: "op".into(),
                key_id: key_id.clone(),
                app_id: app_id.clone(),
                developer_id: dev.clone(),
            };
            Rollup { key, values: RollupValues { requests: 2, ..RollupValues::default() } }
        })
        .collect();
    repo.add_usage_batch("bat_close", &rollups).await.expect("usage");

    let (status, export) = call(&app, "GET", &format!("/v1/developers/{dev}/export"), None).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(
        (export["developer"]["email"].as_str(), export["keys"].as_array().map(Vec::len)),
        (Some(EMAIL), Some(32))
    );
    assert!(export["keys"].as_array().expect("keys").iter().all(|k| k["last_used_at"].is_string()), "usage says when");

    let (status, closed) = call(&app, "POST", &format!("/v1/developers/{dev}/close"), None).await;
    assert_eq!((status, closed["name"].as_str()), (200, Some("Closed account")), "{closed}");
    let mut hashes = BTreeSet::new();
    for (_, id) in &keys {
        let key: Key = repo.get(id).await.expect("stored");
        assert_eq!(key.status, KeyStatus::Revoked, "{id}");
        hashes.insert(key.hash.as_hex().to_owned());
    }
    let requests = edge.received_requests().await.expect("recorded");
    let noticed: BTreeSet<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/_gatehouse/revocations")
        .flat_map(|r| serde_json::from_slice::<RevocationNotice>(&r.body).expect("notice").key_hashes)
        .map(|h| h.as_hex().to_owned())
        .collect();
    assert_eq!(noticed, hashes, "every key took the signed revocation fast path");

    for table in [&tables.catalog, &tables.usage] {
        let text = table_text(&client, table).await;
        for personal in [EMAIL, NAME, ORG, "katherine", "langley"] {
            assert!(!text.contains(&personal.to_lowercase()), "{personal} is still in {table}");
        }
    }
    let total = UsageQuery { developer_id: Some(dev.clone()), group_by: GroupBy::Total, ..UsageQuery::default() };
    assert_eq!(repo.query_usage(&total).await.expect("usage")[0].requests, 64, "usage kept, by id");
    let (status, again) = call(&app, "POST", "/v1/developers", Some(json!({"email": EMAIL, "name": "K"}))).await;
    assert_eq!(status, 201, "the email's unique claim was released: {again}");
}
