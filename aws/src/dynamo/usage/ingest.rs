//! Ingest: rollups (per minute, from the edge) become one item per key window (key, five-minute
//! window, API, operation) and batch, each minute's counters prefixed with its index in the
//! window, plus the batch's summaries (`tail`) and the hour index and hour states (`hours`).
//! Dimension and hourly/daily items are compaction's job.
//!
//! Every item a batch writes is a pure function of the batch (its id is in each sort key), so
//! ingest writes with plain `BatchWriteItem` puts and a redelivery overwrites with the same
//! values: no `UpdateItem ADD`, no transaction, no guard item. Whether a batch is a duplicate is
//! read, not written: its summaries go last, so if all of them exist the whole batch is stored.

use std::collections::BTreeMap;

use gatehouse_core::store::{BatchOutcome, StoreError};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{Rollup, RollupValues};

use super::counters::{counters, minute_prefix};
use super::hours::{prepare, settle, touched};
use super::io::{batch_get, batch_put};
use super::layout::{key_pk, minute_index, window_of, window_sk, MINUTE_RETENTION};
use super::tail::summaries;
use super::window_sums;
use crate::dynamo::items::{get_s, key, n, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{now_millis, DynamoRepo};

/// What one window item holds: each minute's summed values, its tags, its TTL.
#[derive(Default)]
struct WindowAcc {
    minutes: BTreeMap<i64, RollupValues>,
    tags: Vec<(&'static str, String)>,
    ttl: UnixMillis,
}

/// Coalesces a batch's rollups into window items, keyed (and so ordered) by (pk, sk).
fn plan(batch_id: &str, rollups: &[Rollup]) -> BTreeMap<(String, String), WindowAcc> {
    let mut plan: BTreeMap<(String, String), WindowAcc> = BTreeMap::new();
    for Rollup { key: k, values } in rollups {
        let window = window_of(k.minute);
        let at = (key_pk(&k.key_id), window_sk(window, &k.api_id, &k.operation_id, batch_id));
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

/// The whole window item: keys, tags, TTL and every minute's counters.
fn item((pk, sk): (String, String), acc: WindowAcc) -> Item {
    let mut item = key(pk, sk);
    for (name, value) in acc.tags {
        item.insert(name.to_owned(), s(value));
    }
    for (index, v) in &acc.minutes {
        let prefix = minute_prefix(*index);
        item.extend(counters(v).into_iter().map(|(name, count)| (format!("{prefix}{name}"), n(count))));
    }
    item.insert(TTL_ATTRIBUTE.into(), ttl_secs(acc.ttl));
    item
}

/// Adds rollups without a batch id: as a batch of its own with a fresh id (so, unlike a
/// batch, adding the same rollups twice counts them twice).
pub(crate) async fn add(repo: &DynamoRepo, rollups: &[Rollup]) -> Result<(), StoreError> {
    let batch_id = format!("add_{:016x}", rand::random::<u64>());
    add_batch(repo, &batch_id, rollups).await.map(|_| ())
}

/// Adds a batch exactly once. The hour index and states are prepared first; then, unless all
/// of the batch's summaries exist already (a duplicate: they are written last), the window
/// items and then the summaries are put. A retry after a crash or a timeout midway puts them
/// all again, to the same values; two deliveries at once put the same items twice. Either way
/// nothing counts twice and nothing is lost. The hour states are settled after, on every
/// delivery (see `hours`), and so are the window summaries of its windows (`window_sums`).
pub(crate) async fn add_batch(
    repo: &DynamoRepo,
    batch_id: &str,
    rollups: &[Rollup],
) -> Result<BatchOutcome, StoreError> {
    let (entries, hours) = touched(rollups);
    prepare(repo, &entries, &hours).await?;
    let summaries = summaries(batch_id, rollups, now_millis());
    let id = |item: &Item| {
        let text = |name| get_s(item, name).unwrap_or_default().to_owned();
        (text("pk"), text("sk"))
    };
    let found = batch_get(repo, summaries.iter().map(id).collect(), true).await?;
    let outcome = if found.len() == summaries.len() {
        BatchOutcome::Duplicate
    } else {
        batch_put(repo, plan(batch_id, rollups).into_iter().map(|(at, acc)| item(at, acc)).collect()).await?;
        batch_put(repo, summaries).await?;
        BatchOutcome::Applied
    };
    settle(repo, &hours).await?;
    window_sums::reopen(repo, &rollups.iter().map(|r| window_of(r.key.minute)).collect()).await?;
    Ok(outcome)
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
            let mut plan = plan("bat_1", &window);
            assert_eq!(plan.len(), 1, "five minutes, one window item, no aggregate");
            let at = ("key#key_1".to_owned(), window_sk(0, "api_1", "getPet", "bat_1"));
            let acc = plan.remove(&at).expect("the key's window item");
            let item = item(at, acc);
            assert_eq!(item["m0_requests"], n(requests));
            assert_eq!(item["m4_requests"], n(requests));
        }
    }

    #[test]
    fn a_window_split_across_batches_is_one_item_per_batch() {
        let first = plan("bat_1", &[rollup("key_1", 0, 1), rollup("key_1", WINDOW, 1)]);
        let late = plan("bat_2", &[rollup("key_1", 4 * MINUTE, 1)]);
        assert_eq!(first.len(), 2, "two windows");
        assert!(late.keys().all(|k| !first.contains_key(k)), "the straggler has its own item");
        let again = plan("bat_1", &[rollup("key_1", 0, 1), rollup("key_1", WINDOW, 1)]);
        assert!(again.keys().eq(first.keys()), "a redelivery puts the same items");
        assert_eq!(plan("b", &(0..100).map(|i| rollup(&format!("key_{i}"), 0, 9)).collect::<Vec<_>>()).len(), 100);
    }
}
