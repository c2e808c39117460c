//! What only the DynamoDB adapter has: TTLs, batches applied once without transactions (large,
//! interrupted, delivered twice at once), and usage answered from key window items and batch
//! summaries until compaction, and from hour and day items after.

mod support;

use gatehouse_core::model::KeyStatus;
use gatehouse_core::store::contract::key;
use gatehouse_core::store::{BatchOutcome, GroupBy, Repo, UsageQuery};
use gatehouse_core::time::{DAY, HOUR, MINUTE};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};

fn rollup(key_id: &str, app_id: &str, minute: i64, requests: u64) -> Rollup {
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
    Rollup { key, values }
}

async fn ttl_of(table: &str, pk: &str, sk: &str) -> Option<String> {
    let out = support::client()
        .get_item()
        .table_name(table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
        .send()
        .await
        .expect("get item");
    out.item.and_then(|i| i.get("expires_at").and_then(|v| v.as_n().ok().cloned()))
}

#[tokio::test]
async fn revoked_keys_and_their_hash_guards_expire_by_ttl_active_ones_never() {
    let (client, tables) = (support::client(), support::tables());
    gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
    let repo = gatehouse_aws::DynamoRepo::new(client, tables.clone());
    let mut k = key("key_1", "app_1", "secret");
    repo.insert(&k).await.expect("insert");
    let guard = format!("uniq#key#hash:{}", k.hash.as_hex());
    assert_eq!(ttl_of(&tables.catalog, "rec#key", "key_1").await, None, "an active key without expiry stays");
    k.status = KeyStatus::Revoked;
    repo.update(&k).await.expect("revoke");
    let record_ttl = ttl_of(&tables.catalog, "rec#key", "key_1").await.expect("revoked key has a TTL");
    assert_eq!(ttl_of(&tables.catalog, &guard, "uniq").await, Some(record_ttl.clone()), "its guard goes with it");
    let in_days = (record_ttl.parse::<i64>().expect("seconds") * 1000 - gatehouse_aws::dynamo::now_millis()) / DAY;
    assert!((89..=90).contains(&in_days), "kept 90 days: {in_days}");
}

#[tokio::test]
async fn a_batch_of_many_keys_and_apps_is_applied_once() {
    let repo = support::fresh_repo().await;
    let rollups: Vec<Rollup> = (0..250).map(|i| rollup(&format!("key_{i:03}"), &format!("app_{i}"), 0, 4)).collect();
    assert_eq!(repo.add_usage_batch("bat_big", &rollups).await, Ok(BatchOutcome::Applied));
    assert_eq!(repo.add_usage_batch("bat_big", &rollups).await, Ok(BatchOutcome::Duplicate));
    let total = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
    assert_eq!(repo.query_usage(&total).await.expect("query")[0].requests, 1_000);
    let app = UsageQuery { app_id: Some("app_249".into()), group_by: GroupBy::Day, ..UsageQuery::default() };
    assert_eq!(repo.query_usage(&app).await.expect("query")[0].requests, 4, "from the summary's last part");
}

/// The summaries of one window of a batch (`tail#<hour>` / `b#<window>#<batch_id>#...`), as a
/// crash before they were written would leave them: absent.
async fn delete_summaries(table: &str, window: i64, batch_id: &str) -> usize {
    let hour = window - window.rem_euclid(HOUR);
    let client = support::client();
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :b)")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("tail#{hour:015}")))
        .expression_attribute_values(
            ":b",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("b#{window:015}#{batch_id}#")),
        )
        .send()
        .await
        .expect("summaries");
    let items = out.items.unwrap_or_default();
    for item in &items {
        let key = item.iter().filter(|(name, _)| *name == "pk" || *name == "sk");
        let key = key.map(|(n, v)| (n.clone(), v.clone())).collect();
        client.delete_item().table_name(table).set_key(Some(key)).send().await.expect("delete");
    }
    items.len()
}

#[tokio::test]
async fn a_batch_cut_off_before_its_summaries_is_completed_by_its_redelivery_and_counted_once() {
    let (client, tables) = (support::client(), support::tables());
    gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
    let repo = gatehouse_aws::DynamoRepo::new(client, tables.clone());
    let batch: Vec<Rollup> = (0..40).map(|i| rollup(&format!("key_{i:02}"), "app_1", (i % 5) * MINUTE, 10)).collect();
    assert_eq!(repo.add_usage_batch("bat_cut", &batch).await, Ok(BatchOutcome::Applied));
    assert_eq!(delete_summaries(&tables.usage, 0, "bat_cut").await, 1, "one summary: 40 keys of one app");
    let app = UsageQuery { app_id: Some("app_1".into()), group_by: GroupBy::Total, ..UsageQuery::default() };
    let key = UsageQuery { key_id: Some("key_07".into()), group_by: GroupBy::Total, ..UsageQuery::default() };
    let requests = |q: UsageQuery| {
        let repo = repo.clone();
        async move { repo.query_usage(&q).await.expect("query").iter().map(|r| r.requests).sum::<u64>() }
    };
    assert_eq!(requests(key.clone()).await, 10, "the window items were written");
    assert_eq!(requests(app.clone()).await, 0, "a dimension's open hour is read from the summaries");
    assert_eq!(repo.add_usage_batch("bat_cut", &batch).await, Ok(BatchOutcome::Applied), "not a duplicate yet");
    assert_eq!(repo.add_usage_batch("bat_cut", &batch).await, Ok(BatchOutcome::Duplicate));
    assert_eq!((requests(app.clone()).await, requests(key.clone()).await), (400, 10), "counted once");
    assert!(repo.compact_hour(0).await.expect("compaction").settled);
    assert_eq!((requests(app).await, requests(key).await), (400, 10), "and once compacted");
}

#[tokio::test]
async fn two_deliveries_of_a_batch_at_the_same_moment_count_it_once() {
    let repo = support::fresh_repo().await;
    for round in 0..10 {
        let batch: Vec<Rollup> = (0..30).map(|i| rollup(&format!("key_{i:02}"), "app_1", round * HOUR, 3)).collect();
        let id = format!("bat_twice_{round}");
        let (a, b) = tokio::join!(repo.add_usage_batch(&id, &batch), repo.add_usage_batch(&id, &batch));
        assert!(a.is_ok() && b.is_ok() && (a == Ok(BatchOutcome::Applied) || b == Ok(BatchOutcome::Applied)));
    }
    let by_hour = UsageQuery { developer_id: Some("dev_1".into()), group_by: GroupBy::Hour, ..UsageQuery::default() };
    let rows = repo.query_usage(&by_hour).await.expect("query");
    assert_eq!(rows.iter().map(|r| r.requests).collect::<Vec<_>>(), [90; 10], "30 keys × 3, each hour once");
}

#[tokio::test]
async fn reports_by_app_api_and_key_are_the_same_before_and_after_compaction() {
    let repo = support::fresh_repo().await;
    let batch =
        [rollup("key_a", "app_1", 0, 10), rollup("key_b", "app_2", MINUTE, 5), rollup("key_a", "app_1", HOUR, 1)];
    repo.add_usage_batch("bat_1", &batch).await.expect("ingest");
    check_reports(&repo).await; // from the key window items only
    for hour in [0, HOUR] {
        assert!(repo.compact_hour(hour).await.expect("compaction").settled);
    }
    check_reports(&repo).await; // from the compacted hour and day items
}

async fn check_reports(repo: &gatehouse_aws::DynamoRepo) {
    let q = |f: fn(&mut UsageQuery)| {
        let mut q = UsageQuery { group_by: GroupBy::Hour, ..UsageQuery::default() };
        f(&mut q);
        q
    };
    let by_app = repo.query_usage(&q(|q| q.app_id = Some("app_1".into()))).await.expect("app");
    assert_eq!(by_app.iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(), [(Some(0), 10), (Some(HOUR), 1)]);
    let by_api = repo.query_usage(&q(|q| q.api_id = Some("api_1".into()))).await.expect("api");
    assert_eq!(by_api.iter().map(|r| r.requests).collect::<Vec<_>>(), [15, 1]);
    let by_day = repo.query_usage(&q(|q| q.group_by = GroupBy::Day)).await.expect("all");
    assert_eq!(by_day.iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(), [(Some(0), 16)]);
    let key_in_range = repo
        .query_usage(&q(|q| {
            q.key_id = Some("key_a".into());
            q.api_id = Some("api_1".into());
            q.to = Some(HOUR);
        }))
        .await
        .expect("key");
    assert_eq!(key_in_range.iter().map(|r| r.requests).collect::<Vec<_>>(), [10]);
    let minutes = q(|q| {
        q.group_by = GroupBy::Minute;
        q.developer_id = Some("dev_1".into());
        q.to = Some(HOUR);
    });
    assert_eq!(
        repo.query_usage(&minutes).await.expect("dev").iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(),
        [(Some(0), 10), (Some(MINUTE), 5)]
    );
    let combined = |group_by| UsageQuery {
        app_id: Some("app_1".into()),
        api_id: Some("api_1".into()),
        group_by,
        ..UsageQuery::default()
    };
    assert!(
        repo.query_usage(&combined(GroupBy::Hour)).await.is_err(),
        "app and API together have no hourly item; the caller is told, not misled"
    );
    let by_minute = repo.query_usage(&combined(GroupBy::Minute)).await.expect("minutes fan out");
    assert_eq!(by_minute.iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(), [(Some(0), 10), (Some(HOUR), 1)]);
}

#[tokio::test]
async fn compaction_writes_one_class_access_entry_per_app_api_class_and_hour_and_corrects_it() {
    use gatehouse_core::store::AuditFilter;
    let repo = support::fresh_repo().await;
    let with_pii = |key_id: &str, app_id: &str, minute: i64, pii: u64| {
        let mut r = rollup(key_id, app_id, minute, pii + 1);
        r.values.classes.insert("pii".into(), pii);
        r
    };
    let batch = [
        with_pii("key_a", "app_1", 0, 3),
        with_pii("key_c", "app_1", 2 * MINUTE, 2),
        with_pii("key_b", "app_2", MINUTE, 1),
    ];
    repo.add_usage_batch("bat_1", &batch).await.expect("ingest");
    assert!(repo.compact_hour(0).await.expect("compaction").settled);
    let filter = AuditFilter { action: Some("data.class_access".into()), ..AuditFilter::default() };
    let counts = |page: gatehouse_core::store::AuditPage| {
        let mut seen: Vec<(String, String)> =
            page.entries.iter().map(|e| (e.targets[0].clone(), e.details["count"].clone())).collect();
        seen.sort();
        seen
    };
    let read = repo.query_audit(&filter, None, 50).await.expect("audit");
    assert_eq!(counts(read), [("app_1".into(), "5".into()), ("app_2".into(), "1".into())]);

    // A late batch for the hour: compacting it again corrects the entry, it does not add one.
    repo.add_usage_batch("bat_2", &[with_pii("key_a", "app_1", 30 * MINUTE, 4)]).await.expect("late batch");
    assert!(repo.compact_hour(0).await.expect("compaction").settled);
    let read = repo.query_audit(&filter, None, 50).await.expect("audit");
    assert_eq!(counts(read), [("app_1".into(), "9".into()), ("app_2".into(), "1".into())]);
}
