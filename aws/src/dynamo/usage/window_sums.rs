//! Window summaries: each busy finished window's batch summaries summed, so that a dimension's
//! report of an hour compaction has not taken reads two small items per window instead of one
//! batch summary per batch (50 a window at 10,000 keys).
//!
//! A window summary lives beside its batch summaries in `tail#<hour>`: a head `s#<window>`
//! holding a `state` (`summing`, `summed` or `open`), a token `v`, the number `n` of batch
//! summary items summed and the number of `groups`; and the groups `t#<window>#<group>`, each
//! holding the token and the sums (one map per dimension, as in a batch summary) of the
//! dimensions whose CRC-32 falls in it, about [`PER_GROUP`] each. A report by one dimension reads
//! the hour's heads (12 at most), then its dimension's group of each summed window (one
//! `BatchGetItem`), whatever the number of keys, apps or batches. It uses a window's summary
//! only when the head is `summed` and the group is there with the head's token (a dimension
//! missing from it had no traffic in the window), and then reads none of that window's batch
//! summaries; otherwise it reads the batch summaries and nothing of the summary. So it never
//! adds both.
//!
//! The protocol mirrors the hours' (`hours`): the compaction run writes the head `summing` with
//! a fresh token *before* it reads the window's batch summaries, then writes the groups and puts
//! the head `summed` on condition that the token is unchanged. Ingest, *after* writing a batch's
//! summaries, reads the heads of its windows strongly consistently and puts `open` with a fresh
//! token over any that is `summing` or `summed`. Either the run read the batch, or the batch's
//! check saw the run's token and changed it, so the run's summary is never stored as `summed`
//! without the batch: a late batch counts at once (reports read the window's batch summaries
//! again) and the next run sums the window again. A head found `open` needs no new token: no
//! run has begun since it was written, so the next run reads the batch. Every item is a pure
//! function of what the run read; a group left with another token (a crash, or two runs at
//! once) only sends reports back to the batch summaries.
//!
//! Only windows holding [`SUM_AT`] batch summary items or more are summed: summing costs two
//! writes for the head and one per group, and saves a report nothing when a window has one
//! batch, as a key served alone by one isolate does; that keeps the lone key's write bound
//! (docs/aws.md).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_core::store::StoreError;
use gatehouse_core::time::{UnixMillis, HOUR};
use gatehouse_core::usage::{RollupValues, WINDOW};

use super::counters::{counters, values};
use super::io::{batch_get, batch_put, query_all, query_projected};
use super::layout::{
    bucket_of, hour_of, sk_range, tail_pk, window_group_sk, window_sum_sk, windows_in, LATENESS, MINUTE_RETENTION,
};
use super::marks;
use crate::dynamo::items::{get_n, get_s, key, n, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{unavailable, DynamoRepo};

/// A window is summed once it holds this many batch summary items: below it, reading them
/// costs a report little (at most 7 items a window) and summing would cost more writes than
/// it saves reads.
pub(crate) const SUM_AT: usize = 8;
/// Dimensions per group on average: a report reads one group, so a small one; the largest of
/// a hashed split stays within about twice this, far below DynamoDB's 400 KB even when every
/// dimension carries a full histogram, outcomes and 64 end users (a few KB each).
const PER_GROUP: usize = 16;

const SUMMING: &str = "summing";
const SUMMED: &str = "summed";
const OPEN: &str = "open";

/// A summed window's head: its token, its count `n` and its number of groups.
#[derive(Debug, PartialEq)]
struct Head {
    token: String,
    n: usize,
    groups: u32,
}

/// The group of dimension `pk` among `groups`.
fn group_of(pk: &str, groups: u32) -> u32 {
    crc32fast::hash(pk.as_bytes()) % groups.max(1)
}

/// The `summed` heads among an hour's heads, by window.
fn summed(heads: &[Item]) -> BTreeMap<UnixMillis, Head> {
    heads
        .iter()
        .filter(|head| get_s(head, "state") == Some(SUMMED))
        .filter_map(|head| {
            let window = get_s(head, "sk").and_then(bucket_of)?;
            let token = get_s(head, "v")?.to_owned();
            Some((window, Head { token, n: get_n(head, "n")?, groups: get_n(head, "groups")? }))
        })
        .collect()
}

/// Dimension `pk`'s sums in the windows whose summary a report may use: a `summed` head whose
/// group holding `pk` is found with the head's token.
fn usable(
    heads: &BTreeMap<UnixMillis, Head>,
    groups: &BTreeMap<UnixMillis, &Item>,
    pk: &str,
) -> BTreeMap<UnixMillis, RollupValues> {
    heads
        .iter()
        .filter_map(|(window, head)| {
            let group = groups.get(window).filter(|g| get_s(g, "v") == Some(head.token.as_str()))?;
            let sum = match group.get(pk) {
                Some(AttributeValue::M(map)) => values(map),
                _ => RollupValues::default(),
            };
            Some((*window, sum))
        })
        .collect()
}

/// The sums of dimension `pk` in each window of `hour` whose summary it may use (see the
/// module's doc); the other windows are read from their batch summaries.
pub(crate) async fn dimension(
    repo: &DynamoRepo,
    hour: UnixMillis,
    pk: &str,
) -> Result<BTreeMap<UnixMillis, RollupValues>, StoreError> {
    let (lo, hi) = sk_range('s', hour, hour + HOUR);
    let attributes = ["sk", "state", "v", "n", "groups"];
    let heads = summed(&query_projected(repo, &tail_pk(hour), (&lo, &hi), &attributes).await?);
    let id =
        |(window, head): (&UnixMillis, &Head)| (tail_pk(hour), window_group_sk(*window, group_of(pk, head.groups)));
    let found = batch_get(repo, heads.iter().map(id).collect(), true).await?;
    let groups = heads.iter().filter_map(|h| Some((*h.0, found.get(&id(h))?))).collect();
    Ok(usable(&heads, &groups, pk))
}

/// Sums the finished windows (ended [`LATENESS`] ago or more) of the hours compaction does not
/// take yet (the current hour, and the last one for its first [`LATENESS`]), where a window
/// holds [`SUM_AT`] batch summary items or more and has no `summed` head counting them all;
/// how many windows it summed. Part of every compaction run.
pub(crate) async fn sum_due(repo: &DynamoRepo, now: UnixMillis) -> Result<usize, StoreError> {
    let mut summed = 0;
    for hour in [hour_of(now) - HOUR, hour_of(now)] {
        let finished: Vec<UnixMillis> = windows_in(hour).filter(|w| w + WINDOW + LATENESS <= now).collect();
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
    let done = summed(&query_all(repo, &tail_pk(hour), &lo, &hi, true).await?);
    let mut summed = 0;
    for (window, count) in counts {
        if count >= SUM_AT && done.get(&window).map(|h| h.n) != Some(count) && sum_window(repo, window).await? {
            summed += 1;
        }
    }
    Ok(summed)
}

/// An item of a window's summary (sort key `sk`): keys, token and TTL.
fn stamped(window: UnixMillis, sk: String, token: &str) -> Item {
    let mut item = key(tail_pk(hour_of(window)), sk);
    item.insert("v".into(), s(token));
    item.insert(TTL_ATTRIBUTE.into(), ttl_secs(hour_of(window) + MINUTE_RETENTION));
    item
}

/// A window's head in `state`.
fn head(window: UnixMillis, state: &str, token: &str) -> Item {
    let mut item = stamped(window, window_sum_sk(window), token);
    item.insert("state".into(), s(state));
    item
}

/// The groups of a window's sums: every group, even one no dimension hashed to (a report
/// takes a missing group for an unfinished summary).
fn groups(window: UnixMillis, token: &str, sums: BTreeMap<String, RollupValues>) -> Vec<Item> {
    let count = u32::try_from(sums.len().div_ceil(PER_GROUP).max(1)).unwrap_or(u32::MAX);
    let mut groups: Vec<Item> = (0..count).map(|g| stamped(window, window_group_sk(window, g), token)).collect();
    for (pk, v) in sums {
        let map = counters(&v).into_iter().map(|(name, count)| (name, n(count))).collect();
        if let Some(group) = groups.get_mut(group_of(&pk, count) as usize) {
            group.insert(pk, AttributeValue::M(map));
        }
    }
    groups
}

/// Sums one window: head `summing` with a fresh token, read its batch summaries, write the
/// groups, then the head `summed` if the token is unchanged; `false` when a batch changed it.
async fn sum_window(repo: &DynamoRepo, window: UnixMillis) -> Result<bool, StoreError> {
    let token = marks::token();
    batch_put(repo, vec![head(window, SUMMING, &token)]).await?;
    let (lo, hi) = sk_range('b', window, window + WINDOW);
    let batches = query_all(repo, &tail_pk(hour_of(window)), &lo, &hi, true).await?;
    let mut sums: BTreeMap<String, RollupValues> = BTreeMap::new();
    for (name, value) in batches.iter().flatten() {
        if let AttributeValue::M(map) = value {
            sums.entry(name.clone()).or_default().merge(&values(map));
        }
    }
    let groups = groups(window, &token, sums);
    let mut done = head(window, SUMMED, &token);
    done.insert("n".into(), n(batches.len()));
    done.insert("groups".into(), n(groups.len()));
    batch_put(repo, groups).await?;
    let put = repo
        .client
        .put_item()
        .table_name(&repo.tables.usage)
        .set_item(Some(done))
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

/// After a batch's summaries are written (on every delivery): puts `open` with a fresh token
/// over the head of each of `windows` that a run has begun to sum or has summed, so reports
/// read those windows' batch summaries again and the next run sums them again.
pub(crate) async fn reopen(repo: &DynamoRepo, windows: &BTreeSet<UnixMillis>) -> Result<(), StoreError> {
    let id = |w: &UnixMillis| (tail_pk(hour_of(*w)), window_sum_sk(*w));
    let found = batch_get(repo, windows.iter().map(id).collect(), true).await?;
    let stale = windows.iter().filter(|w| found.get(&id(w)).is_some_and(|item| get_s(item, "state") != Some(OPEN)));
    batch_put(repo, stale.map(|w| head(*w, OPEN, &marks::token())).collect()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_state(window: UnixMillis, state: &str, token: &str, groups: usize) -> Item {
        let mut item = head(window, state, token);
        item.insert("n".into(), n(50));
        item.insert("groups".into(), n(groups));
        item
    }

    fn sums(dimensions: usize) -> BTreeMap<String, RollupValues> {
        (0..dimensions)
            .map(|i| (format!("app#app_{i:05}"), RollupValues { requests: i as u64 + 1, ..RollupValues::default() }))
            .collect()
    }

    #[test]
    fn a_window_summary_counts_only_when_summed_and_its_group_has_its_token() {
        let heads = summed(&[
            with_state(0, SUMMED, "a", 1),
            with_state(WINDOW, SUMMED, "b", 1),
            with_state(2 * WINDOW, SUMMING, "c", 1),
            with_state(3 * WINDOW, OPEN, "d", 1),
            with_state(4 * WINDOW, SUMMED, "e", 1),
            with_state(5 * WINDOW, SUMMED, "f", 1),
        ]);
        assert_eq!(heads.keys().copied().collect::<Vec<_>>(), [0, WINDOW, 4 * WINDOW, 5 * WINDOW]);
        assert_eq!(heads[&0], Head { token: "a".into(), n: 50, groups: 1 });
        let (a, other, e) = (groups(0, "a", sums(3)), groups(WINDOW, "another run", sums(3)), groups(0, "e", sums(1)));
        let found = BTreeMap::from([(0, &a[0]), (WINDOW, &other[0]), (4 * WINDOW, &e[0])]);
        let got: Vec<(UnixMillis, u64)> =
            usable(&heads, &found, "app#app_00002").iter().map(|(w, v)| (*w, v.requests)).collect();
        assert_eq!(got, [(0, 3), (4 * WINDOW, 0)], "another run's group or none: the batches; not in it: no traffic");
    }

    #[test]
    fn every_dimension_lands_in_the_one_group_a_report_reads_and_groups_stay_small() {
        let all = groups(0, "t", sums(5_000));
        assert_eq!(all.len(), 5_000_usize.div_ceil(PER_GROUP));
        for i in [0, 1, 2_500, 4_999] {
            let pk = format!("app#app_{i:05}");
            let group = &all[group_of(&pk, all.len() as u32) as usize];
            assert_eq!(group.get(&pk).and_then(|m| m.as_m().ok()).map(|m| values(m).requests), Some(i as u64 + 1));
        }
        let largest = all.iter().map(|g| g.len() - 4).max().unwrap_or(0);
        assert!(largest <= 2 * PER_GROUP + 8, "a hashed split stays near its average: {largest}");
        // CRC-32 (IEEE), as Python's zlib.crc32(b"app#app_1") = 2607833338: fixed across builds.
        assert_eq!((group_of("app#app_1", 8), group_of("all#*", 8), group_of("all#*", 0)), (2, 0, 0));
        assert_eq!(groups(0, "t", BTreeMap::new()).len(), 1, "an empty window still has a group");
    }
}
