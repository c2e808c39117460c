//! Usage in the usage table: rollups pre-aggregated per minute by the edge, added with
//! `UpdateItem ADD` into
//!
//! - one **key item** per (key, minute, API, operation) — the only per-key write, carrying
//!   app and developer too, so key reports can filter on everything;
//! - **aggregate items** per (dimension, grain, bucket) for dimensions all / API / operation /
//!   app / developer and grains minute / hour / day, shared by every key in a batch.
//!
//! Counters are top-level numbers (`ADD` works only there): `requests`, `s1`–`s5`, `bytes_in`,
//! `bytes_out`, `cache_hits`, `o_<outcome>` and histogram buckets `h00`–`h31`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use gatehouse_core::store::{BatchOutcome, StoreError};
use gatehouse_core::time::{UnixMillis, DAY, HOUR, MINUTE};
use gatehouse_core::usage::{Rollup, RollupValues};

use super::items::{key, padded, s, ttl_secs};
use super::tables::TTL_ATTRIBUTE;
use super::{now_millis, unavailable, DynamoRepo};

/// Minute items (key and aggregate) are kept this long; hour items longer; day items forever.
pub const MINUTE_RETENTION: i64 = 35 * DAY;
pub const HOUR_RETENTION: i64 = 400 * DAY;
/// Batch guards outlive any redelivery: signatures older than minutes are refused anyway.
pub const BATCH_GUARD_RETENTION: i64 = 7 * DAY;
/// One guard plus this many updates per transaction (DynamoDB allows 100 items).
const UPDATES_PER_TRANSACTION: usize = 99;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    Minute,
    Hour,
    Day,
}

impl Grain {
    pub(crate) const ALL: [Grain; 3] = [Grain::Minute, Grain::Hour, Grain::Day];
    pub(crate) fn code(self) -> &'static str {
        match self {
            Grain::Minute => "m",
            Grain::Hour => "h",
            Grain::Day => "d",
        }
    }
    pub(crate) fn width(self) -> i64 {
        match self {
            Grain::Minute => MINUTE,
            Grain::Hour => HOUR,
            Grain::Day => DAY,
        }
    }
    fn retention(self) -> Option<i64> {
        match self {
            Grain::Minute => Some(MINUTE_RETENTION),
            Grain::Hour => Some(HOUR_RETENTION),
            Grain::Day => None,
        }
    }
}

/// What one item receives from a batch: summed values, string tags to set, its TTL.
#[derive(Default)]
struct Acc {
    values: RollupValues,
    tags: Vec<(&'static str, String)>,
    ttl: Option<UnixMillis>,
}

/// Coalesces rollups into item updates, keyed (and so ordered) by (pk, sk).
fn plan(rollups: &[Rollup]) -> BTreeMap<(String, String), Acc> {
    let mut plan: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for Rollup { key: k, values } in rollups {
        let sk = format!("m#{}#{}#{}", padded(k.minute), k.api_id, k.operation_id);
        let acc = plan.entry((format!("key#{}", k.key_id), sk)).or_default();
        acc.values.merge(values);
        acc.ttl = Some(k.minute + MINUTE_RETENTION);
        acc.tags = vec![
            ("api", k.api_id.clone()),
            ("op", k.operation_id.clone()),
            ("app", k.app_id.clone()),
            ("dev", k.developer_id.clone()),
        ];
        let dims = [
            Some(("all", "*".to_owned())),
            Some(("api", k.api_id.clone())),
            Some(("op", format!("{}#{}", k.api_id, k.operation_id))),
            (!k.app_id.is_empty()).then(|| ("app", k.app_id.clone())),
            (!k.developer_id.is_empty()).then(|| ("dev", k.developer_id.clone())),
        ];
        for (dim, id) in dims.into_iter().flatten() {
            for grain in Grain::ALL {
                let bucket = k.minute - k.minute.rem_euclid(grain.width());
                let at = (format!("{dim}#{id}"), format!("{}#{}", grain.code(), padded(bucket)));
                let acc = plan.entry(at).or_default();
                acc.values.merge(values);
                acc.ttl = grain.retention().map(|r| bucket + r);
            }
        }
    }
    plan
}

/// An update expression with its names and values, usable by `UpdateItem` and transactions.
struct Expr {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn expr(acc: &Acc) -> Expr {
    let v = &acc.values;
    let mut adds: Vec<(String, u64)> = vec![("requests".into(), v.requests)];
    adds.extend(v.status_classes.iter().enumerate().map(|(i, c)| (format!("s{}", i + 1), *c)));
    adds.extend([
        ("bytes_in".into(), v.bytes_in),
        ("bytes_out".into(), v.bytes_out),
        ("cache_hits".into(), v.cache_hits),
    ]);
    adds.extend(v.outcomes.iter().map(|(code, c)| (format!("o_{code}"), *c)));
    adds.extend(v.latency.counts.iter().enumerate().map(|(i, c)| (format!("h{i:02}"), *c)));
    let (mut names, mut values) = (HashMap::new(), HashMap::new());
    let mut add_parts = Vec::new();
    for (i, (name, count)) in adds.into_iter().filter(|(name, c)| *c > 0 || name == "requests").enumerate() {
        names.insert(format!("#a{i}"), name);
        values.insert(format!(":a{i}"), AttributeValue::N(count.to_string()));
        add_parts.push(format!("#a{i} :a{i}"));
    }
    let mut set_parts = Vec::new();
    for (i, (name, value)) in acc.tags.iter().enumerate() {
        names.insert(format!("#t{i}"), (*name).to_owned());
        values.insert(format!(":t{i}"), s(value));
        set_parts.push(format!("#t{i} = :t{i}"));
    }
    if let Some(ttl) = acc.ttl {
        values.insert(":ttl".into(), ttl_secs(ttl));
        set_parts.push(format!("{TTL_ATTRIBUTE} = :ttl"));
    }
    let mut expression = format!("ADD {}", add_parts.join(", "));
    if !set_parts.is_empty() {
        expression.push_str(&format!(" SET {}", set_parts.join(", ")));
    }
    Expr { expression, names, values }
}

/// Adds rollups without a batch id: one plain `UpdateItem` per item (not idempotent).
pub(crate) async fn add(repo: &DynamoRepo, rollups: &[Rollup]) -> Result<(), StoreError> {
    for ((pk, sk), acc) in plan(rollups) {
        let e = expr(&acc);
        repo.client
            .update_item()
            .table_name(&repo.tables.usage)
            .set_key(Some(key(pk, sk)))
            .update_expression(e.expression)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .send()
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

/// Adds a batch exactly once. The items are split into deterministic parts of at most 99
/// updates; each part is one transaction that also puts the guard `batch#<id>` / `part#<i>`
/// on condition that it does not exist. A part either adds everything and records its guard,
/// or (guard present: already applied) adds nothing — so a retry after a crash or a timeout
/// completes a partially applied batch and never double-counts.
pub(crate) async fn add_batch(
    repo: &DynamoRepo,
    batch_id: &str,
    rollups: &[Rollup],
) -> Result<BatchOutcome, StoreError> {
    let entries: Vec<_> = plan(rollups).into_iter().collect();
    let parts: Vec<&[((String, String), Acc)]> =
        if entries.is_empty() { vec![&[]] } else { entries.chunks(UPDATES_PER_TRANSACTION).collect() };
    let total = parts.len();
    let mut applied = 0;
    for (i, part) in parts.into_iter().enumerate() {
        let mut guard = key(format!("batch#{batch_id}"), format!("part#{i:05}/{total:05}"));
        guard.insert(TTL_ATTRIBUTE.into(), ttl_secs(now_millis() + BATCH_GUARD_RETENTION));
        let put = Put::builder()
            .table_name(&repo.tables.usage)
            .set_item(Some(guard))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for ((pk, sk), acc) in part {
            let e = expr(acc);
            let update = Update::builder()
                .table_name(&repo.tables.usage)
                .set_key(Some(key(pk, sk)))
                .update_expression(e.expression)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(Some(e.values))
                .build()
                .map_err(unavailable)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        if send_part(repo, items).await? {
            applied += 1;
        }
    }
    Ok(if applied > 0 { BatchOutcome::Applied } else { BatchOutcome::Duplicate })
}

/// Sends one part; `Ok(false)` when its guard shows it was applied before. Transaction
/// conflicts (another ingest adding to the same item) are retried with backoff.
async fn send_part(repo: &DynamoRepo, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
    let mut delay = Duration::from_millis(25);
    for _ in 0..6 {
        let result = repo.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
        let Err(e) = result else { return Ok(true) };
        let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() else {
            return Err(unavailable(e));
        };
        let codes: Vec<Option<&str>> = c.cancellation_reasons().iter().map(|r| r.code()).collect();
        if codes.first() == Some(&Some("ConditionalCheckFailed")) {
            return Ok(false);
        }
        if !codes.contains(&Some("TransactionConflict")) && !codes.is_empty() {
            return Err(unavailable(e));
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err(StoreError::Unavailable("usage batch kept conflicting with concurrent ingests".into()))
}

#[cfg(test)]
mod tests {
    use gatehouse_core::usage::RollupKey;

    use super::*;

    fn rollup(key_id: &str, app_id: &str, minute: i64, requests: u64) -> Rollup {
        let key = RollupKey {
            minute,
            api_id: "api_1".into(),
            operation_id: "getPet".into(),
            key_id: key_id.into(),
            app_id: app_id.into(),
            developer_id: "dev_1".into(),
        };
        Rollup { key, values: RollupValues { requests, ..RollupValues::default() } }
    }

    #[test]
    fn a_busy_key_costs_one_key_item_write_per_minute_whatever_its_rate() {
        // 1,000 or 100,000 requests in a minute arrive as one pre-aggregated rollup.
        for requests in [1_000, 100_000] {
            let plan = plan(&[rollup("key_1", "app_1", 0, requests)]);
            let per_key = plan.keys().filter(|(pk, _)| pk.starts_with("key#")).count();
            assert_eq!(per_key, 1, "one ADD on the key's minute item");
            assert_eq!(plan.len(), 1 + 5 * 3, "plus all/API/operation/app/developer × minute/hour/day");
        }
    }

    #[test]
    fn aggregates_are_shared_by_every_key_in_a_batch() {
        let rollups: Vec<Rollup> = (0..100).map(|i| rollup(&format!("key_{i}"), "app_1", 0, 1_000)).collect();
        let plan = plan(&rollups);
        assert_eq!(plan.len(), 100 + 15, "100 keys: 100 key items and still 15 aggregate items");
        assert_eq!(plan[&("api#api_1".to_owned(), format!("h#{}", padded(0)))].values.requests, 100_000);
    }
}
