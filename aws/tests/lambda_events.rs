//! The Lambda handlers end to end without a network: real API Gateway HTTP API (v2) event
//! JSON → lambda_http's conversion (`Adapter`, what `lambda_http::run` uses) → the admin
//! router → `DynamoRepo` on moto → the v2 response JSON API Gateway would receive; and an
//! EventBridge scheduled event → the compaction handler.

mod support;

use std::collections::HashMap;

use gatehouse_aws::config::names;
use gatehouse_aws::{lambda, Config};
use gatehouse_core::signing::sign;
use gatehouse_core::store::{GroupBy, Repo, UsageQuery};
use gatehouse_core::time::{DAY, HOUR, MINUTE};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{service_fn, Adapter};
use serde_json::Value;

const INGEST_SECRET: &str = "fixture-ingest-secret";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

async fn router() -> axum::Router {
    let (client, tables) = (support::client(), support::tables());
    gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
    let env = HashMap::from([
        (names::CATALOG_TABLE, tables.catalog),
        (names::USAGE_TABLE, tables.usage),
        (names::ADMIN_TOKENS, "fixture-admin-token".to_owned()),
        (names::INGEST_SECRET, INGEST_SECRET.to_owned()),
    ]);
    let config = Config::from_lookup(|n| env.get(n).cloned()).expect("config");
    lambda::app(config, client).expect("app")
}

/// One invocation: the event through lambda_http and the router; the v2 response as JSON.
async fn invoke(router: &axum::Router, event: Value) -> (u16, Value, Value) {
    let request: LambdaRequest = serde_json::from_value(event).expect("an API Gateway v2 event");
    let adapter = Adapter::from(router.clone());
    let response = adapter.oneshot(LambdaEvent::new(request, Context::default())).await.expect("handled");
    let response = serde_json::to_value(&response).expect("response JSON");
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let body = response["body"].as_str().map(|b| serde_json::from_str(b).expect("JSON body")).unwrap_or(Value::Null);
    (status, response["headers"].clone(), body)
}

#[tokio::test]
async fn health_answers_through_the_lambda_adapter() {
    let router = router().await;
    let (status, headers, body) = invoke(&router, fixture("apigw-v2-get-health.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
}

#[tokio::test]
async fn admin_writes_are_authenticated_and_unique_on_dynamodb() {
    let router = router().await;
    let event = fixture("apigw-v2-post-developer.json");
    let (status, _, body) = invoke(&router, event.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("dev_")), "{body}");
    let (status, _, body) = invoke(&router, event.clone()).await;
    assert_eq!((status, body["type"].as_str()), (409, Some("https://gatehouse.dev/problems/conflict")));
    let mut anonymous = event;
    anonymous["headers"].as_object_mut().expect("headers").remove("authorization");
    let (status, headers, _) = invoke(&router, anonymous).await;
    assert_eq!(status, 401);
    assert_eq!(headers["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_signed_edge_batch_is_counted_once_and_reported() {
    let router = router().await;
    let mut event = fixture("apigw-v2-post-usage-batch.json");
    let body = event["body"].as_str().expect("body").to_owned();
    let (status, _, _) = invoke(&router, event.clone()).await;
    assert_eq!(status, 401, "the fixture's placeholder signature is refused");
    event["headers"]["gatehouse-signature"] =
        sign(INGEST_SECRET.as_bytes(), body.as_bytes(), gatehouse_aws::dynamo::now_millis()).into();
    let (status, _, receipt) = invoke(&router, event.clone()).await;
    assert_eq!((status, receipt["outcome"].as_str()), (202, Some("applied")), "{receipt}");
    let (status, _, receipt) = invoke(&router, event).await;
    assert_eq!((status, receipt["outcome"].as_str()), (200, Some("duplicate")), "{receipt}");
    let (status, _, report) = invoke(&router, fixture("apigw-v2-get-usage.json")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["items"][0]["requests"], 1000, "{report}");
    assert_eq!(report["items"][0]["outcomes"]["rate_limited"], 10, "{report}");
}

#[tokio::test]
async fn a_scheduled_event_compacts_the_hours_that_are_due() {
    let repo = support::fresh_repo().await;
    let now = gatehouse_aws::dynamo::now_millis();
    // The day before yesterday: its last hour is due whatever the time of day.
    let yesterday = now - now.rem_euclid(DAY) - 2 * DAY;
    let key = RollupKey {
        minute: yesterday + 7 * MINUTE,
        api_id: "api_1".into(),
        operation_id: "op".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    let rollup = Rollup { key, values: RollupValues { requests: 42, ..RollupValues::default() } };
    repo.add_usage_batch("bat_sched", &[rollup]).await.expect("ingest");
    let event = LambdaEvent::new(fixture("eventbridge-scheduled.json"), Context::default());
    let handler = service_fn(|event| lambda::compact_now(&repo, event));
    let result = handler.oneshot(event).await.expect("compacted");
    // The hour's key item and five dimension items; then the day's last hour, opened by
    // compaction since the day is over, builds the day's six day items.
    let expected = serde_json::json!([
        {"hour": yesterday, "keys": 1, "written": 6, "settled": true},
        {"hour": yesterday + DAY - HOUR, "keys": 0, "written": 6, "settled": true},
    ]);
    assert_eq!(result, expected, "{result}");
    let event = LambdaEvent::new(fixture("eventbridge-scheduled.json"), Context::default());
    let again = service_fn(|event| lambda::compact_now(&repo, event)).oneshot(event).await.expect("ran");
    assert_eq!(again, serde_json::json!([]), "nothing left to compact");
    let day = UsageQuery { app_id: Some("app_1".into()), group_by: GroupBy::Day, ..UsageQuery::default() };
    let rows = repo.query_usage(&day).await.expect("report");
    assert_eq!(rows.iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(), [(Some(yesterday), 42)]);
}
