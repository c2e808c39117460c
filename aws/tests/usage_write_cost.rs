//! The usage write budget, measured: every item write the SDK client sends (ingest, hour
//! index, guards, compaction) is counted by an interceptor, for steady traffic through
//! `add_usage_batch` (one batch per five-minute window, as the edge sends them) and hourly
//! compaction. Also: reports agree before and after compaction, late and redelivered batches.

#[path = "usage_write_cost/seed.rs"]
mod seed;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_aws::dynamo::{now_millis, HourCompaction, LATENESS};
use gatehouse_aws::{create_tables, DynamoRepo};
use gatehouse_core::store::{BatchOutcome, GroupBy, Repo, UsageQuery};
use gatehouse_core::time::{DAY, HOUR, MINUTE};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues, WINDOW};

/// Item writes by operation: PutItem, UpdateItem and DeleteItem count 1, TransactWriteItems its
/// items, BatchWriteItem its requests (each is billed as a write, conditions failing or not).
#[derive(Debug, Clone, Default)]
struct WriteMeter(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl WriteMeter {
    fn total(&self) -> u64 {
        self.0.lock().expect("meter").values().sum()
    }

    fn by_operation(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("meter").clone()
    }
}

impl Intercept for WriteMeter {
    fn name(&self) -> &'static str {
        "WriteMeter"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let batch_requests =
            |b: &BatchWriteItemInput| b.request_items().map_or(0, |r| r.values().map(Vec::len).sum::<usize>());
        let counted = match () {
            _ if input.downcast_ref::<PutItemInput>().is_some() => Some(("PutItem", 1)),
            _ if input.downcast_ref::<UpdateItemInput>().is_some() => Some(("UpdateItem", 1)),
            _ if input.downcast_ref::<DeleteItemInput>().is_some() => Some(("DeleteItem", 1)),
            _ => input
                .downcast_ref::<TransactWriteItemsInput>()
                .map(|t| ("TransactWriteItems", t.transact_items().len()))
                .or_else(|| input.downcast_ref::<BatchWriteItemInput>().map(|b| ("BatchWriteItem", batch_requests(b)))),
        };
        if let Some((operation, items)) = counted {
            *self.0.lock().expect("meter").entry(operation).or_default() += items as u64;
        }
        Ok(())
    }
}

/// A repo over fresh tables whose client counts its writes, and the usage table's name.
async fn metered_repo() -> (DynamoRepo, WriteMeter, String) {
    let meter = WriteMeter::default();
    let client = aws_sdk_dynamodb::Client::from_conf(support::config().interceptor(meter.clone()).build());
    let tables = support::tables();
    create_tables(&client, &tables).await.expect("tables");
    let usage = tables.usage.clone();
    (DynamoRepo::new(client, tables), meter, usage)
}

/// One minute of a busy key: 1,000 requests, 1 % rate limited, latencies over eight buckets.
fn busy_minute() -> RollupValues {
    let mut v =
        RollupValues { requests: 1_000, bytes_in: 24_000, bytes_out: 850_000, cache_hits: 310, ..Default::default() };
    v.status_classes = [0, 990, 0, 10, 0];
    v.outcomes = BTreeMap::from([("valid".into(), 990), ("rate_limited".into(), 10)]);
    for (bucket, count) in [(3, 40), (4, 100), (5, 250), (6, 300), (7, 200), (8, 80), (10, 25), (12, 5)] {
        v.latency.counts[bucket] = count;
    }
    v
}

/// A minute spread wider: three status classes, four outcomes, latencies over twelve buckets.
fn wide_minute() -> RollupValues {
    let mut v = busy_minute();
    v.status_classes = [0, 970, 0, 25, 5];
    v.outcomes = BTreeMap::from([
        ("valid".into(), 970),
        ("rate_limited".into(), 20),
        ("quota_exceeded".into(), 5),
        ("forbidden".into(), 5),
    ]);
    v.latency.counts = vec![0; v.latency.counts.len()];
    for (bucket, count) in [
        (3, 10),
        (4, 30),
        (5, 60),
        (6, 150),
        (7, 250),
        (8, 200),
        (9, 120),
        (10, 80),
        (11, 50),
        (12, 30),
        (13, 15),
        (15, 5),
    ] {
        v.latency.counts[bucket] = count;
    }
    v
}

/// The same minute with only what a write's count does not depend on (fewer counters: moto
/// parses long update expressions slowly).
fn plain_minute() -> RollupValues {
    let mut v = RollupValues { requests: 1_000, ..Default::default() };
    v.status_classes[1] = 1_000;
    v
}

fn rollup(key_id: &str, minute: i64) -> Rollup {
    rollup_with(key_id, minute, busy_minute)
}

fn rollup_with(key_id: &str, minute: i64, values: fn() -> RollupValues) -> Rollup {
    let key = RollupKey {
        minute,
        api_id: "api_pets".into(),
        operation_id: "getPet".into(),
        key_id: key_id.into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    Rollup { key, values: values() }
}

/// Midnight UTC yesterday: recent (within every retention) and a whole day to itself.
fn base() -> i64 {
    let now = now_millis();
    now - now.rem_euclid(DAY) - DAY
}

/// Delivers `windows` windows from `start` on the compaction schedule, every key's busy minutes.
async fn deliver(repo: &DynamoRepo, keys: &[String], start: i64, windows: i64, tag: &str) {
    deliver_on_schedule(repo, keys, start, windows, tag, busy_minute).await;
}

/// Delivers `windows` windows from `start` as the edge sends them, one batch per window just
/// after it ends, with the compaction schedule's run every 15 minutes in between (hours that
/// are due, and window summaries of the open hours); what those runs compacted.
async fn deliver_on_schedule(
    repo: &DynamoRepo,
    keys: &[String],
    start: i64,
    windows: i64,
    tag: &str,
    values: fn() -> RollupValues,
) -> Vec<HourCompaction> {
    let mut compacted = Vec::new();
    for w in 0..windows {
        let window = start + w * WINDOW;
        let rollups: Vec<Rollup> =
            keys.iter().flat_map(|k| (0..5).map(move |m| rollup_with(k, window + m * MINUTE, values))).collect();
        let outcome = repo.add_usage_batch(&format!("bat_{tag}_{w}"), &rollups).await.expect("ingest");
        assert_eq!(outcome, BatchOutcome::Applied);
        if (window + WINDOW).rem_euclid(15 * MINUTE) == 0 {
            compacted.extend(repo.compact_due(window + WINDOW).await.expect("scheduled run"));
        }
    }
    compacted
}

async fn requests(repo: &DynamoRepo, q: UsageQuery) -> Vec<(Option<i64>, u64)> {
    repo.query_usage(&q).await.expect("query").iter().map(|r| (r.bucket, r.requests)).collect()
}

/// DynamoDB's item size: attribute names plus values (a number is about one byte per two
/// significant digits plus one). Writes are billed per started KB of it.
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    let value = |v: &AttributeValue| match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.trim_start_matches('-').replace('.', "").trim_matches('0').len().div_ceil(2) + 1,
        _ => 0,
    };
    item.iter().map(|(name, v)| name.len() + value(v)).sum()
}

async fn size_of(table: &str, pk: &str, sk: &str) -> usize {
    let out = support::client()
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .expect("get");
    item_size(&out.item.unwrap_or_else(|| panic!("{pk} / {sk} exists")))
}

#[tokio::test]
async fn a_lone_key_at_1000_requests_a_minute_costs_well_under_one_write_per_1000_requests() {
    let (repo, meter, usage) = metered_repo().await;
    // The last two hours of a day, so that compaction also builds the day's items (once a day)
    // and they are counted here against two hours of traffic rather than a day's.
    let (day, keys) = (base(), vec!["key_lone".to_owned()]);
    let start = day + 22 * HOUR;
    let mut compacted = deliver_on_schedule(&repo, &keys, start, 24, "lone", busy_minute).await;
    let ingest = meter.by_operation();
    let total = |q: UsageQuery| UsageQuery { group_by: GroupBy::Total, ..q };
    let before = requests(&repo, total(UsageQuery { app_id: Some("app_1".into()), ..Default::default() })).await;
    assert_eq!(before, [(None, 120_000)], "reports count a batch as soon as it is ingested");
    compacted.extend(repo.compact_due(start + 2 * HOUR + LATENESS).await.expect("compaction"));
    assert_eq!(compacted.iter().map(|c| (c.hour - start, c.settled)).collect::<Vec<_>>(), [(0, true), (HOUR, true)]);
    let writes = meter.total();
    let per_1000 = writes as f64 * 1_000.0 / 120_000.0;
    eprintln!(
        "lone key, 1,000 req/min for 2 h (120,000 requests): {writes} item writes = {per_1000:.3} per 1,000 requests; \
         ingest {ingest:?}, all {:?}",
        meter.by_operation()
    );
    assert!(per_1000 <= 1.0, "{writes} writes for 120,000 requests");
    for q in [
        UsageQuery { key_id: Some("key_lone".into()), ..Default::default() },
        UsageQuery { api_id: Some("api_pets".into()), ..Default::default() },
        UsageQuery { app_id: Some("app_1".into()), ..Default::default() },
        UsageQuery { developer_id: Some("dev_1".into()), ..Default::default() },
        UsageQuery::default(),
    ] {
        assert_eq!(requests(&repo, total(q.clone())).await, [(None, 120_000)], "{q:?}");
        let days = UsageQuery { group_by: GroupBy::Day, ..q.clone() };
        assert_eq!(requests(&repo, days).await, [(Some(day), 120_000)], "{q:?}");
        let hours = UsageQuery { group_by: GroupBy::Hour, ..q.clone() };
        assert_eq!(requests(&repo, hours).await, [(Some(start), 60_000), (Some(start + HOUR), 60_000)], "{q:?}");
        let minutes = UsageQuery {
            group_by: GroupBy::Minute,
            from: Some(start + HOUR - 2 * MINUTE),
            to: Some(start + HOUR + MINUTE),
            ..q
        };
        assert_eq!(
            requests(&repo, minutes).await,
            [
                (Some(start + HOUR - 2 * MINUTE), 1_000),
                (Some(start + HOUR - MINUTE), 1_000),
                (Some(start + HOUR), 1_000)
            ]
        );
    }
    let row = &repo.query_usage(&total(UsageQuery::default())).await.expect("query")[0];
    assert_eq!((row.outcomes["rate_limited"], row.status_classes[3], row.cache_hits), (1_200, 1_200, 37_200));
    let window = size_of(&usage, "key#key_lone", &format!("w#{start:015}#api_pets#getPet#bat_lone_0")).await;
    let hour = size_of(&usage, "key#key_lone", &format!("h#{start:015}#api_pets#getPet")).await;
    let day = size_of(&usage, "app#app_1", &format!("d#{day:015}")).await;
    let wide: Vec<Rollup> = (0..5).map(|m| rollup_with("key_wide", start + m * MINUTE, wide_minute)).collect();
    repo.add_usage_batch("bat_wide", &wide).await.expect("ingest");
    let wide = size_of(&usage, "key#key_wide", &format!("w#{start:015}#api_pets#getPet#bat_wide")).await;
    eprintln!("item sizes: key window {window} B (a wider spread: {wide} B), key hour {hour} B, app day {day} B");
    assert!(window < 1_024 && hour < 1_024, "one write unit each");
}

#[tokio::test]
async fn a_hundred_keys_of_one_app_share_their_aggregates() {
    let (repo, meter, _) = metered_repo().await;
    // The last hour of a day: its compaction also builds the day's items, all counted against
    // this one hour (a steady key spreads them over 24).
    let start = base() + 23 * HOUR;
    let keys: Vec<String> = (0..100).map(|i| format!("key_{i:03}")).collect();
    deliver_on_schedule(&repo, &keys, start, 12, "many", plain_minute).await; // one hour
    repo.compact_due(start + HOUR + LATENESS).await.expect("compaction");
    let writes = meter.total();
    let per_1000 = writes as f64 * 1_000.0 / 6_000_000.0;
    eprintln!(
        "100 keys of one app, 1,000 req/min each for 1 h (6,000,000 requests): {writes} item writes = {per_1000:.3} \
         per 1,000 requests, {:.1} per key-hour; {:?}",
        writes as f64 / 100.0,
        meter.by_operation()
    );
    assert!(per_1000 <= 1.0);
    let app = UsageQuery { app_id: Some("app_1".into()), group_by: GroupBy::Hour, ..Default::default() };
    assert_eq!(requests(&repo, app).await, [(Some(start), 6_000_000)]);
    let one = UsageQuery { key_id: Some("key_042".into()), group_by: GroupBy::Total, ..Default::default() };
    assert_eq!(requests(&repo, one).await, [(None, 60_000)]);
}

#[tokio::test]
async fn a_late_batch_for_a_compacted_hour_counts_at_once_and_is_recompacted() {
    let (repo, meter, _) = metered_repo().await;
    let start = base();
    deliver(&repo, &["key_a".to_owned(), "key_b".to_owned()], start, 12, "on_time").await;
    assert!(repo.compact_due(start + HOUR + LATENESS).await.expect("compaction")[0].settled);
    let day = |q: UsageQuery| UsageQuery { group_by: GroupBy::Day, ..q };
    assert_eq!(requests(&repo, day(UsageQuery::default())).await, [(Some(start), 120_000)]);
    let late = [rollup("key_a", start + 30 * MINUTE)];
    assert_eq!(repo.add_usage_batch("bat_late", &late).await, Ok(BatchOutcome::Applied));
    assert_eq!(requests(&repo, day(UsageQuery::default())).await, [(Some(start), 121_000)], "before recompaction");
    let key_a = UsageQuery { key_id: Some("key_a".into()), group_by: GroupBy::Hour, ..Default::default() };
    assert_eq!(requests(&repo, key_a.clone()).await, [(Some(start), 61_000)]);
    let before = meter.total();
    let again = repo.compact_due(start + 3 * HOUR).await.expect("recompaction");
    assert_eq!(again.iter().map(|c| (c.hour, c.settled)).collect::<Vec<_>>(), [(start, true)]);
    eprintln!("recompacting an hour after one late batch: {} item writes", meter.total() - before);
    assert_eq!(again[0].written, 6, "key_a's hour item and the five dimensions': not key_b's (no day items yet)");
    assert_eq!(requests(&repo, day(UsageQuery::default())).await, [(Some(start), 121_000)], "after recompaction");
    assert_eq!(requests(&repo, key_a).await, [(Some(start), 61_000)]);
    assert!(repo.compact_due(start + 4 * HOUR).await.expect("nothing due").is_empty());
}

#[tokio::test]
async fn a_redelivered_batch_is_counted_once_before_and_after_compaction() {
    let (repo, _, _) = metered_repo().await;
    let start = base();
    let batch: Vec<Rollup> = (0..5).map(|m| rollup("key_r", start + m * MINUTE)).collect();
    let total = UsageQuery { group_by: GroupBy::Total, developer_id: Some("dev_1".into()), ..Default::default() };
    assert_eq!(repo.add_usage_batch("bat_r", &batch).await, Ok(BatchOutcome::Applied));
    assert_eq!(repo.add_usage_batch("bat_r", &batch).await, Ok(BatchOutcome::Duplicate));
    assert_eq!(requests(&repo, total.clone()).await, [(None, 5_000)]);
    repo.compact_hour(start).await.expect("compaction");
    assert_eq!(repo.add_usage_batch("bat_r", &batch).await, Ok(BatchOutcome::Duplicate), "after compaction too");
    assert_eq!(requests(&repo, total.clone()).await, [(None, 5_000)]);
    let again = repo.compact_hour(start).await.expect("re-run");
    assert_eq!((again.written, again.settled), (0, true), "re-running compaction rewrites nothing");
    assert_eq!(requests(&repo, total).await, [(None, 5_000)]);
}

/// `keys` keys' five minutes from `window`, in batches of 200 keys (1,000 rollups: the edge's
/// cap), each key in app `app_<i / 100>` of developer `dev_<i / 1,000>`.
async fn deliver_window_in_batches(repo: &DynamoRepo, keys: &[String], window: i64, tag: &str) {
    for (b, chunk) in keys.chunks(200).enumerate() {
        let rollups: Vec<Rollup> = chunk
            .iter()
            .flat_map(|k| (0..5).map(move |m| rollup_with(k, window + m * MINUTE, plain_minute)))
            .map(|mut r| {
                let i: usize = r.key.key_id.trim_start_matches("key_").parse().expect("numbered key");
                (r.key.app_id, r.key.developer_id) = (format!("app_{}", i / 100), format!("dev_{}", i / 1_000));
                r
            })
            .collect();
        let outcome = repo.add_usage_batch(&format!("bat_{tag}_{b}"), &rollups).await.expect("ingest");
        assert_eq!(outcome, BatchOutcome::Applied);
    }
}

/// Times `q` over the 30 days ending with `start`'s day, by day, three times (the machine is
/// shared: one sample can catch another build's burst); returns its total requests and the
/// median time.
async fn timed_30_days(repo: &DynamoRepo, what: &str, q: UsageQuery, start: i64) -> (u64, std::time::Duration) {
    let q = UsageQuery { from: Some(start - 29 * DAY), to: Some(start + DAY), group_by: GroupBy::Day, ..q };
    let (mut times, mut totals) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let began = std::time::Instant::now();
        let rows = repo.query_usage(&q).await.expect("query");
        times.push(began.elapsed());
        totals.push(rows.iter().map(|r| r.requests).sum::<u64>());
    }
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "the same answer each time");
    let all: Vec<u128> = times.iter().map(std::time::Duration::as_millis).collect();
    times.sort();
    eprintln!("30 days by day, {what}: {} requests in {} ms (median of {all:?} ms)", totals[0], times[1].as_millis());
    (totals[0], times[1])
}

/// How many keys the many-keys measurement uses: `GATEHOUSE_WRITE_COST_KEYS`, 10,000 unless set
/// (a multiple of 200: the edge's batches hold 200 keys' windows).
fn many_keys() -> usize {
    let n = std::env::var("GATEHOUSE_WRITE_COST_KEYS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    assert!(n >= 200 && n % 200 == 0, "GATEHOUSE_WRITE_COST_KEYS is a multiple of 200");
    n
}

/// Windows of batch summaries seeded, once the ingested hour is compacted, in the two hours
/// after it, still pending: the longest tail at steady state. Compaction runs every 15 minutes
/// and takes the hours that ended 15 minutes ago or more, so just before a run the last run was
/// 15 minutes ago, at most 15 minutes after the first hour ended (else it would have taken it):
/// that hour's 12 windows and the next hour's 5 finished ones (the sixth is under way; the edge
/// sends only finished windows), 85 minutes.
const TAIL: [(i64, i64); 2] = [(HOUR, 12), (2 * HOUR, 5)];
/// When that last run was: just under 15 minutes after the first tail hour ended. It summed
/// the windows that had ended 15 minutes before it: the first hour's 11 first.
const LAST_RUN: i64 = 2 * HOUR + LATENESS - 1;

/// How many windows of `hour` have a window summary (`tail#<hour>` / `s#<window>`, `summed`).
async fn summed_windows(table: &str, hour: i64) -> usize {
    let summed =
        |i: &HashMap<String, AttributeValue>| i.get("state").and_then(|s| s.as_s().ok()).is_some_and(|s| s == "summed");
    support::window_summary_heads(table, hour).await.iter().filter(|i| summed(i)).count()
}

/// The 30-day queries by all keys, one API, one app and one key, with the totals expected on
/// top of the seeded history (all, app 1, key 42) and tail (all, app 1); the slowest time.
async fn queries(repo: &DynamoRepo, n: u64, start: i64, seeded: [u64; 3], label: &str) -> std::time::Duration {
    let mut worst = std::time::Duration::ZERO;
    for (what, q, expected) in [
        ("all keys", UsageQuery::default(), seeded[0] + n * 10_000),
        ("one API", UsageQuery { api_id: Some("api_pets".into()), ..Default::default() }, seeded[0] + n * 10_000),
        (
            "one app (100 keys)",
            UsageQuery { app_id: Some("app_1".into()), ..Default::default() },
            seeded[1] + 1_000_000,
        ),
        ("one key", UsageQuery { key_id: Some("key_00042".into()), ..Default::default() }, seeded[2] + 10_000),
    ] {
        let (total, took) = timed_30_days(repo, &format!("{what}, {label}"), q, start).await;
        assert_eq!(total, expected, "{what}");
        worst = worst.max(took);
    }
    worst
}

#[tokio::test]
async fn many_keys_write_cost_and_30_day_queries() {
    let (repo, meter, usage) = metered_repo().await;
    let start = base();
    let n = many_keys();
    let keys: Vec<String> = (0..n).map(|i| format!("key_{i:05}")).collect();
    let began = std::time::Instant::now();
    deliver_window_in_batches(&repo, &keys, start, "w0").await;
    let first_window = meter.total();
    deliver_window_in_batches(&repo, &keys, start + WINDOW, "w1").await;
    let next_window = meter.total() - first_window;
    eprintln!("{n} keys, two five-minute windows ingested in {} s", began.elapsed().as_secs());
    let n64 = n as u64;
    let (all, app, key) = seed::history(&support::client(), &usage, start, n64).await;
    let pending = queries(&repo, n64, start, [all, app, key], "the ingested hour pending").await;
    let (before, began) = (meter.total(), std::time::Instant::now());
    repo.compact_due(start + HOUR + LATENESS).await.expect("compaction");
    let compaction = meter.total() - before;
    eprintln!("{n} keys, the ingested hour compacted in {} s", began.elapsed().as_secs());
    let compacted = queries(&repo, n64, start, [all, app, key], "the ingested hour compacted").await;
    // Steady load: each key makes 1,000 req/min, so an hour is 12 windows and 60,000 requests
    // per key. The first window of an hour also writes the hour index; compaction writes once
    // per hour (the day items, once a day, are measured in the two cases above).
    let per_key_hour = (first_window + 11 * next_window + compaction) as f64 / n as f64;
    eprintln!(
        "{n} keys at 1,000 req/min each: first window of an hour {first_window} item writes, each further window \
         {next_window}, hourly compaction {compaction}; steady state {per_key_hour:.2} writes per key-hour = {:.3} \
         per 1,000 requests; {:?}",
        per_key_hour * 1_000.0 / 60_000.0,
        meter.by_operation()
    );
    assert!(per_key_hour * 1_000.0 / 60_000.0 <= 1.0);
    eprintln!(
        "slowest 30-day query at {n} keys: {} ms pending, {} ms compacted",
        pending.as_millis(),
        compacted.as_millis()
    );
    let second = std::time::Duration::from_secs(1);
    assert!(pending < second && compacted < second, "30-day queries answer within 1 s");
    // The longest steady tail: the run summed the first hour's 11 first windows into window
    // summaries; reports read those and the batch summaries of the 6 windows since.
    let mut tail = [all, app, key];
    for (after, windows) in TAIL {
        let (all, app) = seed::tail(&support::client(), &usage, start + after, n64, windows).await;
        (tail[0], tail[1]) = (tail[0] + all, tail[1] + app);
    }
    let batches = n as i64 / 200;
    let unsummed = format!("the same tail before it is summed ({} batch summaries)", 17 * batches);
    let slowest_unsummed = queries(&repo, n64, start, tail, &unsummed).await;
    let (before, began) = (meter.total(), std::time::Instant::now());
    assert!(repo.compact_due(start + LAST_RUN).await.expect("the last run").is_empty(), "no hour due");
    let summing = meter.total() - before;
    let summed = summed_windows(&usage, start + HOUR).await;
    assert_eq!(summed, if batches >= 8 { 11 } else { 0 }, "windows of 8 batches or more are summed");
    eprintln!(
        "{n} keys, the last run summed {summed} windows of {batches} batch summaries in {} ms: {summing} item writes",
        began.elapsed().as_millis()
    );
    let steady = per_key_hour + 12.0 * summing as f64 / 11.0 / n as f64;
    eprintln!(
        "{n} keys, with 12 window summaries an hour: {steady:.2} writes per key-hour = {:.3} per 1,000 requests",
        steady * 1_000.0 / 60_000.0
    );
    assert!(steady * 1_000.0 / 60_000.0 <= 1.0);
    let raw = (17 - summed as i64) * batches;
    let label = format!("a tail of {summed} window summaries and {raw} batch summaries");
    let worst = queries(&repo, n64, start, tail, &label).await;
    eprintln!(
        "slowest 30-day query at {n} keys with the longest tail: {} ms ({} ms before its windows were summed)",
        worst.as_millis(),
        slowest_unsummed.as_millis()
    );
    assert!(worst < second, "30-day queries answer within 1 s with the longest tail too");
}
