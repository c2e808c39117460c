//! Ingest: rollups (per minute, from the edge) become one `UpdateItem ADD` per key window item
//! (key, five-minute window, API, operation), each minute's counters prefixed with its index in
//! the window, plus the hour index and hour states (`hours`). Nothing else is written at
//! ingest: dimension and hourly/daily items are compaction's job.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use gatehouse_core::store::{BatchOutcome, StoreError};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{Rollup, RollupValues};

use super::counters::{counters, minute_prefix};
use super::hours::{prepare, settle, touched};
use super::layout::{key_pk, minute_index, window_of, window_sk, BATCH_GUARD_RETENTION, MINUTE_RETENTION};
use crate::dynamo::items::{key, s, ttl_secs};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{now_millis, unavailable, DynamoRepo};

/// One guard plus this many updates per transaction (DynamoDB allows 100 items).
const UPDATES_PER_TRANSACTION: usize = 99;

/// What one window item receives from a batch: each minute's summed values, its tags, its TTL.
#[derive(Default)]
struct WindowAcc {
    minutes: BTreeMap<i64, RollupValues>,
    tags: Vec<(&'static str, String)>,
    ttl: UnixMillis,
}

/// Coalesces rollups into window item updates, keyed (and so ordered) by (pk, sk).
fn plan(rollups: &[Rollup]) -> BTreeMap<(String, String), WindowAcc> {
    let mut plan: BTreeMap<(String, String), WindowAcc> = BTreeMap::new();
    for Rollup { key: k, values } in rollups {
        let window = window_of(k.minute);
        let at = (key_pk(&k.key_id), window_sk(window, &k.api_id, &k.operation_id));
        let acc = plan.entry(at).or_default();
        acc.minutes.entry(minute_index(k.minute)).or_default().merge(values);
        acc.ttl = window + MINUTE_RETENTION;
        acc.tags = vec![
            ("api", k.api_id.clone()),
            ("op", k.operation_id.clone()),
            ("app", k.app_id.clone()),
            ("dev", k.developer_id.clone()),
        ];
    }
    plan
}

/// An update expression with its names and values, usable by `UpdateItem` and transactions.
struct Expr {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn expr(acc: &WindowAcc) -> Expr {
    let adds = acc.minutes.iter().flat_map(|(index, v)| {
        let prefix = minute_prefix(*index);
        counters(v).into_iter().map(move |(name, count)| (format!("{prefix}{name}"), count))
    });
    let (mut names, mut values) = (HashMap::new(), HashMap::new());
    let mut add_parts = Vec::new();
    // Short placeholders: a busy window has hundreds, and an expression may hold 4 KB.
    for (i, (name, count)) in adds.enumerate() {
        names.insert(format!("#{i}"), name);
        values.insert(format!(":{i}"), AttributeValue::N(count.to_string()));
        add_parts.push(format!("#{i} :{i}"));
    }
    let mut set_parts = Vec::new();
    for (i, (name, value)) in acc.tags.iter().enumerate() {
        names.insert(format!("#t{i}"), (*name).to_owned());
        values.insert(format!(":t{i}"), s(value));
        set_parts.push(format!("#t{i} = :t{i}"));
    }
    values.insert(":ttl".into(), ttl_secs(acc.ttl));
    set_parts.push(format!("{TTL_ATTRIBUTE} = :ttl"));
    let expression = format!("ADD {} SET {}", add_parts.join(", "), set_parts.join(", "));
    Expr { expression, names, values }
}

/// Adds rollups without a batch id: one plain `UpdateItem` per item (not idempotent).
pub(crate) async fn add(repo: &DynamoRepo, rollups: &[Rollup]) -> Result<(), StoreError> {
    let (entries, hours) = touched(rollups);
    prepare(repo, &entries, &hours).await?;
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
    settle(repo, &hours).await
}

/// Adds a batch exactly once. The items are split into deterministic parts of at most 99
/// updates; each part is one transaction that also puts the guard `batch#<id>` / `part#<i>`
/// on condition that it does not exist. A part either adds everything and records its guard,
/// or (guard present: already applied) adds nothing — so a retry after a crash or a timeout
/// completes a partially applied batch and never double-counts. The hour index and states
/// are prepared before and settled after, on every delivery (see `hours`).
pub(crate) async fn add_batch(
    repo: &DynamoRepo,
    batch_id: &str,
    rollups: &[Rollup],
) -> Result<BatchOutcome, StoreError> {
    let (entries, hours) = touched(rollups);
    prepare(repo, &entries, &hours).await?;
    let entries: Vec<_> = plan(rollups).into_iter().collect();
    let parts: Vec<&[((String, String), WindowAcc)]> =
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
    settle(repo, &hours).await?;
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
    use gatehouse_core::time::MINUTE;
    use gatehouse_core::usage::{RollupKey, WINDOW};

    use super::*;

    fn rollup(key_id: &str, minute: i64, requests: u64) -> Rollup {
        let key = RollupKey {
            minute,
            api_id: "api_1".into(),
            operation_id: "getPet".into(),
            key_id: key_id.into(),
            app_id: "app_1".into(),
            developer_id: "dev_1".into(),
        };
        Rollup { key, values: RollupValues { requests, ..RollupValues::default() } }
    }

    #[test]
    fn a_key_window_is_one_item_whatever_the_rate_and_nothing_else_is_written() {
        for requests in [1_000, 100_000] {
            let window: Vec<Rollup> = (0..5).map(|m| rollup("key_1", m * MINUTE, requests)).collect();
            let plan = plan(&window);
            assert_eq!(plan.len(), 1, "five minutes, one ADD on the key's window item, no aggregate");
            let e = expr(&plan[&("key#key_1".to_owned(), window_sk(0, "api_1", "getPet"))]);
            let names: Vec<&String> = e.names.values().collect();
            assert!(names.iter().any(|n| *n == "m0_requests") && names.iter().any(|n| *n == "m4_requests"));
        }
    }

    #[test]
    fn a_window_split_across_batches_adds_into_the_same_item() {
        let first = plan(&[rollup("key_1", 0, 1), rollup("key_1", WINDOW, 1)]);
        let late = plan(&[rollup("key_1", 4 * MINUTE, 1)]);
        assert_eq!(first.len(), 2, "two windows");
        assert!(late.keys().all(|k| first.contains_key(k)), "the straggler lands in the first window's item");
        assert_eq!(plan(&(0..100).map(|i| rollup(&format!("key_{i}"), 0, 9)).collect::<Vec<_>>()).len(), 100);
    }
}
