//! Usage reports over stored rollups.

mod common;

use common::{assert_problem, Harness};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};

fn rollup(minute: i64, key_id: &str, requests: u64) -> Rollup {
    let app_id = if key_id == "key_c" { "app_2" } else { "app_1" };
    let key = RollupKey {
        minute,
        api_id: "api_1".into(),
        operation_id: "getPet".into(),
        key_id: key_id.into(),
        app_id: app_id.into(),
        developer_id: "dev_1".into(),
    };
    let mut values = RollupValues { requests, ..RollupValues::default() };
    values.status_classes[1] = requests;
    (0..requests).for_each(|_| values.latency.record(2_000));
    Rollup { key, values }
}

#[tokio::test]
async fn usage_is_grouped_and_filtered_as_asked() {
    let h = Harness::new();
    let hour = 3_600_000;
    h.repo
        .add_rollups(&[rollup(0, "key_a", 2), rollup(60_000, "key_a", 3), rollup(hour, "key_b", 4)])
        .await
        .expect("add");
    let hourly = h.call("GET", "/v1/usage?group_by=hour&api_id=api_1", None).await;
    assert_eq!(hourly.status, 200, "{:?}", hourly.body);
    let rows = hourly.body["items"].as_array().expect("items");
    let summary: Vec<(&str, u64)> =
        rows.iter().map(|r| (r["bucket"].as_str().expect("bucket"), r["requests"].as_u64().expect("n"))).collect();
    assert_eq!(summary, [("1970-01-01T00:00:00Z", 5), ("1970-01-01T01:00:00Z", 4)]);
    assert_eq!(rows[0]["p95_us"], 2_500);
    let one_key = h.call("GET", "/v1/usage?group_by=total&key_id=key_b", None).await;
    assert_eq!(one_key.body["items"][0]["requests"], 4);
}

#[tokio::test]
async fn bad_usage_parameters_get_422() {
    let h = Harness::new();
    assert_problem(&h.call("GET", "/v1/usage?group_by=fortnight", None).await, 422, "validation-failed");
    assert_problem(&h.call("GET", "/v1/usage?from=yesterday", None).await, 422, "validation-failed");
    assert_problem(&h.call("GET", "/v1/usage?from=10&to=5", None).await, 422, "validation-failed");
}

#[tokio::test]
async fn a_breakdown_and_its_csv_export_hold_the_same_rows() {
    let h = Harness::new();
    let hour = 3_600_000;
    let mut refused = rollup(hour, "key_c", 3);
    refused.values.status_classes = [0, 1, 0, 2, 0];
    refused.values.outcomes.insert("rate_limited".into(), 2);
    h.repo.add_rollups(&[rollup(0, "key_a", 2), rollup(hour, "key_b", 4), refused]).await.expect("add");
    let by_app = h.call("GET", "/v1/usage?group_by=total&by=app", None).await;
    assert_eq!(by_app.status, 200, "{:?}", by_app.body);
    let rows: Vec<(&str, u64)> = by_app.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| (r["group"].as_str().expect("group"), r["requests"].as_u64().expect("n")))
        .collect();
    assert_eq!(rows, [("app_1", 6), ("app_2", 3)]);

    let (status, headers, csv) = h.get_text("/v1/usage/export.csv?group_by=total&by=app").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "period,app,requests,status_1xx,status_2xx,status_3xx,status_4xx,status_5xx,outcome_rate_limited,p50_ms,p95_ms,p99_ms,bytes_in,bytes_out,cache_hits",
            "total,app_1,6,0,6,0,0,0,0,2.500,2.500,2.500,0,0,0",
            "total,app_2,3,0,1,0,2,0,2,2.500,2.500,2.500,0,0,0",
        ]
    );
    let (status, _, hourly) = h.get_text("/v1/usage/export.csv?group_by=hour&by=key").await;
    assert_eq!(status, 200);
    assert_eq!(hourly.lines().count(), 1 + 3, "a line per (hour, key): {hourly}");
    assert!(hourly.contains("1970-01-01T01:00:00Z,key_c,3"), "{hourly}");
    assert_problem(&h.call("GET", "/v1/usage?by=planet", None).await, 422, "validation-failed");
}
