//! Window summaries: each finished window's batch summaries summed into one item, so that a
//! dimension's report of an hour compaction has not taken reads about one item per window
//! instead of one per batch (50 a window at 10,000 keys).
//!
//! A window summary lives beside its batch summaries in `tail#<hour>`: the head `s#<window>`
//! holds a `state` (`summing`, `summed` or `open`), a token `v`, the number of `parts`, the
//! number `n` of batch summary items it sums, and the first part of the sums (one map per
//! dimension, as in a batch summary); further parts `s#<window>#<part>` carry the same token.
//! A report uses a window summary only when its head is `summed` and every part has the head's
//! token, and then reads none of that window's batch summaries; otherwise it reads the batch
//! summaries and no part of the window summary. So it never adds both.
//!
//! The protocol mirrors the hours' (`hours`): the compaction run writes the head `summing` with
//! a fresh token *before* it reads the window's batch summaries, then writes the parts and puts
//! the head `summed` on condition that the token is unchanged. Ingest, *after* writing a
//! batch's summaries, reads the heads of its windows strongly consistently and puts `open` with
//! a fresh token over any that is `summing` or `summed`. Either the run read the batch, or the
//! batch's check saw the run's token and changed it, so the run's summary is never stored
//! as `summed` without the batch: a late batch counts at once (reports read the window's batch
//! summaries again) and the next run sums the window again. A head found `open` needs no new
//! token: no run has begun since it was written, so the next run's read comes after the batch.
//! Every item is a pure function of what the run read, so a re-run, a crash midway or two runs
//! at once leave either a complete summary of the batch summaries or none.
//!
//! Only windows holding [`SUM_AT`] batch summary items or more are summed: summing costs two
//! writes (the head twice) and saves a report nothing when a window has one batch, as a key
//! served alone by one isolate does; that keeps the lone key's write bound (docs/aws.md).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_core::store::StoreError;
use gatehouse_core::time::{UnixMillis, HOUR};
use gatehouse_core::usage::{RollupValues, WINDOW};

use super::counters::{counters, values};
use super::io::{batch_get, batch_put, query_all, query_projected};
use super::layout::{bucket_of, hour_of, sk_range, tail_pk, window_sum_sk, LATENESS, MINUTE_RETENTION};
use super::marks;
use crate::dynamo::items::{get_n, get_s, key, n, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{unavailable, DynamoRepo};

/// A window is summed once it holds this many batch summary items: below it, reading them
/// costs a report little (at most 7 items a window) and summing would cost more writes than
/// it saves reads.
pub(crate) const SUM_AT: usize = 8;
/// What one part holds at most, in DynamoDB's item size (names plus values), well below its
/// 400 KB: 10,000 keys in 100 apps make one part of 10–50 KB.
const PART_BYTES: usize = 64 * 1024;

const SUMMING: &str = "summing";
const SUMMED: &str = "summed";
const OPEN: &str = "open";

/// The part a summary item is (0 for the head), from its sort key `s#<window>[#<part>]`.
fn part_of(sk: &str) -> usize {
    sk.split('#').nth(2).and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// The windows of an hour's summary items (heads and parts, in sort-key order) whose summary
/// is complete: head `summed` and parts `0..parts` all there with its token. For each, the
/// number of batch summary items it sums and its items.
fn complete(items: &[Item]) -> BTreeMap<UnixMillis, (usize, Vec<&Item>)> {
    let mut by_window: BTreeMap<UnixMillis, Vec<&Item>> = BTreeMap::new();
    for item in items {
        if let Some(window) = get_s(item, "sk").and_then(bucket_of) {
            by_window.entry(window).or_default().push(item);
        }
    }
    by_window
        .into_iter()
        .filter_map(|(window, items)| {
            let head = items.iter().find(|i| get_s(i, "sk").map(part_of) == Some(0))?;
            let token = get_s(head, "v").filter(|_| get_s(head, "state") == Some(SUMMED))?;
            let parts: usize = get_n(head, "parts")?;
            // Only this summary's parts: a part left by an earlier, larger one is not summed.
            let mine: BTreeMap<usize, &Item> = items
                .iter()
                .filter(|i| get_s(i, "v") == Some(token))
                .filter_map(|i| Some((get_s(i, "sk").map(part_of).filter(|p| *p < parts)?, *i)))
                .collect();
            (mine.len() == parts).then(|| (window, (get_n(head, "n").unwrap_or(0), mine.into_values().collect())))
        })
        .collect()
}

/// The sums of dimension `pk` in each window of `hour` that has a complete summary.
pub(crate) async fn dimension(
    repo: &DynamoRepo,
    hour: UnixMillis,
    pk: &str,
) -> Result<BTreeMap<UnixMillis, RollupValues>, StoreError> {
    let (lo, hi) = sk_range('s', hour, hour + HOUR);
    let items = query_projected(repo, &tail_pk(hour), (&lo, &hi), &["sk", "state", "v", "parts", pk]).await?;
    Ok(complete(&items)
        .into_iter()
        .map(|(window, (_, items))| {
            let mut sum = RollupValues::default();
            for item in items {
                if let Some(AttributeValue::M(map)) = item.get(pk) {
                    sum.merge(&values(map));
                }
            }
            (window, sum)
        })
        .collect())
}

/// Sums the finished windows (ended [`LATENESS`] ago or more) of the hours compaction does not
/// take yet (the current hour, and the last one for its first [`LATENESS`]), where a window
/// holds [`SUM_AT`] batch summary items or more and has no complete summary of them all; how
/// many windows it summed. Part of every compaction run.
pub(crate) async fn sum_due(repo: &DynamoRepo, now: UnixMillis) -> Result<usize, StoreError> {
    let mut summed = 0;
    for hour in [hour_of(now) - HOUR, hour_of(now)] {
        let finished: Vec<UnixMillis> =
            (0..HOUR / WINDOW).map(|i| hour + i * WINDOW).filter(|w| w + WINDOW + LATENESS <= now).collect();
        if hour + HOUR + LATENESS > now && !finished.is_empty() {
            summed += sum_hour(repo, hour, &finished).await?;
        }
    }
    Ok(summed)
}

/// Sums those of `windows` (in `hour`, in order) that are due; how many it summed.
async fn sum_hour(repo: &DynamoRepo, hour: UnixMillis, windows: &[UnixMillis]) -> Result<usize, StoreError> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else { return Ok(0) };
    let (lo, hi) = sk_range('b', *first, last + WINDOW);
    let mut counts: BTreeMap<UnixMillis, usize> = BTreeMap::new();
    for item in query_projected(repo, &tail_pk(hour), (&lo, &hi), &["sk"]).await? {
        if let Some(window) = get_s(&item, "sk").and_then(bucket_of) {
            *counts.entry(window).or_default() += 1;
        }
    }
    let (lo, hi) = sk_range('s', hour, hour + HOUR);
    let stored = query_all(repo, &tail_pk(hour), &lo, &hi, true).await?;
    let done: BTreeMap<UnixMillis, usize> = complete(&stored).into_iter().map(|(w, (n, _))| (w, n)).collect();
    let mut summed = 0;
    for (window, count) in counts {
        if count >= SUM_AT && done.get(&window) != Some(&count) && sum_window(repo, window).await? {
            summed += 1;
        }
    }
    Ok(summed)
}

/// Part `part` of a window's summary, without sums yet: keys, token and TTL (and, on the head,
/// `state`).
fn stamped(window: UnixMillis, part: usize, state: &str, token: &str) -> Item {
    let mut item = key(tail_pk(hour_of(window)), window_sum_sk(window, part));
    if part == 0 {
        item.insert("state".into(), s(state));
    }
    item.insert("v".into(), s(token));
    item.insert(TTL_ATTRIBUTE.into(), ttl_secs(hour_of(window) + MINUTE_RETENTION));
    item
}

/// Sums one window: head `summing` with a fresh token, read its batch summaries, write the
/// parts, then the head `summed` if the token is unchanged; `false` when a batch changed it.
async fn sum_window(repo: &DynamoRepo, window: UnixMillis) -> Result<bool, StoreError> {
    let token = marks::token();
    batch_put(repo, vec![stamped(window, 0, SUMMING, &token)]).await?;
    let (lo, hi) = sk_range('b', window, window + WINDOW);
    let batches = query_all(repo, &tail_pk(hour_of(window)), &lo, &hi, true).await?;
    let mut sums: BTreeMap<String, RollupValues> = BTreeMap::new();
    for (name, value) in batches.iter().flatten() {
        if let AttributeValue::M(map) = value {
            sums.entry(name.clone()).or_default().merge(&values(map));
        }
    }
    let mut parts: Vec<Item> = pack(sums)
        .into_iter()
        .enumerate()
        .map(|(part, dims)| {
            let mut item = stamped(window, part, SUMMED, &token);
            item.extend(dims);
            item
        })
        .collect();
    let rest = if parts.len() > 1 { parts.split_off(1) } else { Vec::new() };
    let mut first = parts.pop().unwrap_or_else(|| stamped(window, 0, SUMMED, &token));
    first.insert("parts".into(), n(rest.len() + 1));
    first.insert("n".into(), n(batches.len()));
    batch_put(repo, rest).await?;
    let put = repo
        .client
        .put_item()
        .table_name(&repo.tables.usage)
        .set_item(Some(first))
        .condition_expression("v = :v")
        .expression_attribute_values(":v", s(&token))
        .send()
        .await;
    match put {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

/// The dimensions' maps, cut into parts of at most [`PART_BYTES`] (a dimension is never split).
fn pack(sums: BTreeMap<String, RollupValues>) -> Vec<Vec<(String, AttributeValue)>> {
    let mut parts: Vec<Vec<(String, AttributeValue)>> = vec![Vec::new()];
    let mut size = 0;
    for (pk, v) in sums {
        let map: Vec<(String, u64)> = counters(&v);
        let bytes = pk.len() + map.iter().map(|(name, _)| name.len() + 12).sum::<usize>();
        if size + bytes > PART_BYTES && parts.last().is_some_and(|p| !p.is_empty()) {
            parts.push(Vec::new());
            size = 0;
        }
        size += bytes;
        let map = map.into_iter().map(|(name, count)| (name, n(count))).collect();
        if let Some(part) = parts.last_mut() {
            part.push((pk, AttributeValue::M(map)));
        }
    }
    parts
}

/// After a batch's summaries are written (on every delivery): puts `open` with a fresh token
/// over the head of each of `windows` that a run has begun to sum or has summed, so reports
/// read those windows' batch summaries again and the next run sums them again.
pub(crate) async fn reopen(repo: &DynamoRepo, windows: &BTreeSet<UnixMillis>) -> Result<(), StoreError> {
    let ids = windows.iter().map(|w| (tail_pk(hour_of(*w)), window_sum_sk(*w, 0))).collect();
    let found = batch_get(repo, ids, true).await?;
    let stale = windows.iter().filter(|w| {
        let item = found.get(&(tail_pk(hour_of(**w)), window_sum_sk(**w, 0)));
        item.is_some_and(|item| get_s(item, "state") != Some(OPEN))
    });
    batch_put(repo, stale.map(|w| stamped(*w, 0, OPEN, &marks::token())).collect()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(window: UnixMillis, part: usize, state: Option<&str>, token: &str, parts: usize) -> Item {
        let mut item = key(tail_pk(0), window_sum_sk(window, part));
        item.insert("v".into(), s(token));
        if let Some(state) = state {
            item.insert("state".into(), s(state));
            item.insert("parts".into(), n(parts));
            item.insert("n".into(), n(50));
        }
        item
    }

    #[test]
    fn a_window_summary_counts_only_when_summed_and_every_part_has_its_token() {
        let items = vec![
            part(0, 0, Some(SUMMED), "a", 2),
            part(0, 1, None, "a", 0),
            part(WINDOW, 0, Some(SUMMED), "b", 2),
            part(WINDOW, 1, None, "older", 0),
            part(2 * WINDOW, 0, Some(SUMMING), "c", 1),
            part(3 * WINDOW, 0, Some(OPEN), "d", 1),
            part(4 * WINDOW, 0, Some(SUMMED), "e", 1),
        ];
        let mut items = items;
        items.push(part(4 * WINDOW, 1, None, "e", 0));
        let done = complete(&items);
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), [0, 4 * WINDOW], "a stale part, summing, open: raw");
        assert_eq!((done[&0].0, done[&0].1.len()), (50, 2));
        assert_eq!(done[&(4 * WINDOW)].1.len(), 1, "a part beyond the head's count is not this summary's");
    }

    #[test]
    fn many_dimensions_fill_parts_by_size_and_none_is_split() {
        let sums: BTreeMap<String, RollupValues> = (0..5_000)
            .map(|i| (format!("app#app_{i:05}"), RollupValues { requests: 1, ..RollupValues::default() }))
            .collect();
        let parts = pack(sums);
        assert!(parts.len() > 1 && parts.iter().all(|p| !p.is_empty()));
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 5_000);
        assert_eq!(pack(BTreeMap::new()).len(), 1, "an empty window still has its head");
    }
}
