//! Usage reports over stored rollups.

mod common;

use common::{assert_problem, Harness};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};

fn rollup(minute: i64, key_id: &str, requests: u64) -> Rollup {
    let key = RollupKey {
        minute,
        api_id: "api_1".into(),
        operation_id: "getPet".into(),
        key_id: key_id.into(),
        app_id: "app_1".into(),
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
