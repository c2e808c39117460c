//! Batch summaries: what reports read for the hours compaction has not summed yet, instead of
//! one Query per active key.
//!
//! Each batch writes, for each window it touches, the sums of its rollups per dimension (all,
//! API, operation, app, developer) into `tail#<hour>` / `b#<window>#<batch_id>#<part>/<parts>`:
//! one map attribute per dimension, named by the dimension's partition key (`api#api_pets`),
//! holding the counters. A report by a dimension reads, for each uncompacted hour, its window
//! summaries (`window_sums`: two small items per window that compaction summed) and the batch
//! summaries of the other windows, projected on that one attribute, so its cost follows the
//! number of windows in the tail, plus the batches of the windows not summed yet (an isolate's
//! batch per window holds up to 200 keys), not the number of keys.
//!
//! A summary is a pure function of its batch, so writing it again writes the same item; and it
//! is written after the batch's key window items, so all of a batch's summaries existing means
//! the whole batch is stored. That is how ingest tells a duplicate delivery (see `ingest`).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_core::store::StoreError;
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{Rollup, RollupValues, WINDOW};

use super::counters::{counters, values};
use super::io::{concurrently, query_projected};
use super::layout::{
    dimension_pks, hour_of, sk_range, tail_pk, tail_sk, window_of, windows_in, MINUTE_RETENTION, RECEIPT_RETENTION,
};
use super::window_sums;
use crate::dynamo::items::{key, n, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::DynamoRepo;

/// Dimensions per summary item: keeps an item far below DynamoDB's 400 KB even when every
/// dimension carries a full histogram, outcomes and 64 end users (a few KB each).
const DIMENSIONS_PER_ITEM: usize = 32;

/// The summary items of a batch, in a fixed order; for an empty batch, one receipt item
/// (`batch#<id>` / `empty`, kept as long as batch ids are), so a redelivery is still known.
pub(crate) fn summaries(batch_id: &str, rollups: &[Rollup], now: UnixMillis) -> Vec<Item> {
    let mut sums: BTreeMap<UnixMillis, BTreeMap<String, RollupValues>> = BTreeMap::new();
    for Rollup { key: k, values: v } in rollups {
        let window = sums.entry(window_of(k.minute)).or_default();
        for pk in dimension_pks(&k.api_id, &k.operation_id, &k.app_id, &k.developer_id) {
            window.entry(pk).or_default().merge(v);
        }
    }
    if sums.is_empty() {
        let mut receipt = key(format!("batch#{batch_id}"), "empty");
        receipt.insert(TTL_ATTRIBUTE.into(), ttl_secs(now + RECEIPT_RETENTION));
        return vec![receipt];
    }
    let mut items = Vec::new();
    for (window, dimensions) in sums {
        let dimensions: Vec<(String, RollupValues)> = dimensions.into_iter().collect();
        let parts = dimensions.len().div_ceil(DIMENSIONS_PER_ITEM);
        for (part, chunk) in dimensions.chunks(DIMENSIONS_PER_ITEM).enumerate() {
            let mut item = key(tail_pk(hour_of(window)), tail_sk(window, batch_id, part, parts));
            for (pk, v) in chunk {
                let map = counters(v).into_iter().map(|(name, count)| (name, n(count))).collect();
                item.insert(pk.clone(), AttributeValue::M(map));
            }
            item.insert(TTL_ATTRIBUTE.into(), ttl_secs(hour_of(window) + MINUTE_RETENTION));
            items.push(item);
        }
    }
    items
}

/// The sums of dimension `pk` in each of `hours`: per hour, its window summaries and the batch
/// summaries of the windows without one (one Query per run of such windows, usually one).
pub(crate) async fn dimension_hours(
    repo: &DynamoRepo,
    pk: &str,
    hours: &BTreeSet<UnixMillis>,
) -> Result<Vec<(UnixMillis, RollupValues)>, StoreError> {
    concurrently(hours.iter().copied().collect(), |hour| {
        let (repo, pk) = (repo.clone(), pk.to_owned());
        async move {
            let summed = window_sums::dimension(&repo, hour, &pk).await?;
            let mut sum = RollupValues::default();
            summed.values().for_each(|v| sum.merge(v));
            for (first, last) in runs(hour, |w| !summed.contains_key(&w)) {
                let (lo, hi) = sk_range('b', first, last + WINDOW);
                for item in query_projected(&repo, &tail_pk(hour), (&lo, &hi), &[&pk]).await? {
                    if let Some(AttributeValue::M(map)) = item.get(&pk) {
                        sum.merge(&values(map));
                    }
                }
            }
            Ok((hour, sum))
        }
    })
    .await
    .map(|sums| sums.into_iter().filter(|(_, v)| *v != RollupValues::default()).collect())
}

/// The runs (first and last window) of consecutive windows of `hour` that `wanted` accepts.
fn runs(hour: UnixMillis, wanted: impl Fn(UnixMillis) -> bool) -> Vec<(UnixMillis, UnixMillis)> {
    let mut runs: Vec<(UnixMillis, UnixMillis)> = Vec::new();
    for window in windows_in(hour).filter(|w| wanted(*w)) {
        match runs.last_mut() {
            Some((_, last)) if *last + WINDOW == window => *last = window,
            _ => runs.push((window, window)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use gatehouse_core::time::{HOUR, MINUTE};
    use gatehouse_core::usage::RollupKey;

    use super::*;
    use crate::dynamo::items::get_s;

    fn rollup(key_id: &str, app: &str, minute: i64, requests: u64) -> Rollup {
        let key = RollupKey {
            minute,
            api_id: "api_1".into(),
            operation_id: "getPet".into(),
            key_id: key_id.into(),
            app_id: app.into(),
            developer_id: "dev_1".into(),
        };
        Rollup { key, values: RollupValues { requests, ..RollupValues::default() } }
    }

    fn requests(item: &Item, dimension: &str) -> Option<u64> {
        item.get(dimension)?.as_m().ok().map(|m| values(m).requests)
    }

    #[test]
    fn a_batch_sums_its_keys_per_dimension_and_window_whatever_its_keys() {
        let batch: Vec<Rollup> = (0..200)
            .map(|i| rollup(&format!("key_{i}"), &format!("app_{}", i / 100), (i % 5) * MINUTE, 10))
            .chain([rollup("key_0", "app_0", HOUR, 7)])
            .collect();
        let items = summaries("bat_1", &batch, 0);
        assert_eq!(items.len(), 2, "one item per window: 200 keys, six dimensions");
        assert_eq!(get_s(&items[0], "pk"), Some(tail_pk(0).as_str()));
        assert_eq!(requests(&items[0], "all#*"), Some(2_000));
        assert_eq!(requests(&items[0], "app#app_1"), Some(1_000));
        assert_eq!(requests(&items[0], "op#api_1#getPet"), Some(2_000));
        assert_eq!(requests(&items[1], "dev#dev_1"), Some(7));
        assert_eq!(items, summaries("bat_1", &batch, 99), "a pure function of the batch");
    }

    #[test]
    fn many_dimensions_split_into_parts_and_an_empty_batch_leaves_a_receipt() {
        let batch: Vec<Rollup> = (0..100).map(|i| rollup("key_1", &format!("app_{i}"), 0, 1)).collect();
        let items = summaries("bat_2", &batch, 0);
        assert_eq!(items.len(), 4, "104 dimensions, 32 to an item");
        assert_eq!(get_s(&items[3], "sk"), Some("b#000000000000000#bat_2#00003/00004"));
        let sum: u64 = items.iter().filter_map(|i| requests(i, "app#app_57")).sum();
        assert_eq!(sum, 1);
        let receipt = summaries("bat_3", &[], 0);
        assert_eq!((get_s(&receipt[0], "pk"), get_s(&receipt[0], "sk")), (Some("batch#bat_3"), Some("empty")));
    }

    #[test]
    fn the_windows_without_a_summary_are_read_in_runs() {
        let summed = [WINDOW, 2 * WINDOW, 5 * WINDOW];
        let runs = runs(HOUR, |w| !summed.contains(&(w - HOUR)));
        assert_eq!(
            runs,
            [(HOUR, HOUR), (HOUR + 3 * WINDOW, HOUR + 4 * WINDOW), (HOUR + 6 * WINDOW, 2 * HOUR - WINDOW)]
        );
        assert_eq!(super::runs(0, |_| true), [(0, HOUR - WINDOW)], "nothing summed: the whole hour, one Query");
    }
}
