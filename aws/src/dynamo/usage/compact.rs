//! Hourly compaction: once an hour is over (plus [`LATENESS`]), its key window items are summed
//! into compacted items that reports read instead of the window items and batch summaries:
//!
//! - per key and operation: `key#<k>` / `h#<hour>#<api>#<op>` and `d#<day>#<api>#<op>`;
//! - per dimension (all, API, operation, app, developer): `<dim>#<id>` / `h#<hour>` and `d#<day>`.
//!
//! Hour items are the sum of the hour's windows. Day items are the sum of the day's hour items
//! (read back), built once a day: when the day's last hour is compacted (for every partition
//! active that day), and again for the partitions of any hour of that day recompacted later (a
//! late batch). Until then reports read the day's hour items. Every item is a pure function of
//! the key items: compaction writes with `Put` and can be re-run at any time to the same result.
//! It writes only items whose content changed, so re-compacting an hour after one late batch
//! costs that key's and its dimensions' items, not the whole hour's. One compaction runs at a
//! time (the function's reserved concurrency is 1): two interleaved runs could put an older sum
//! over a newer one.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_core::store::audit::ClassAccessTally;
use gatehouse_core::store::{AuditEntry, StoreError};
use gatehouse_core::time::{UnixMillis, DAY, HOUR};
use gatehouse_core::usage::RollupValues;
use serde::Serialize;

use super::counters::{minutes, put_counters, values};
use super::hours::{active, begin, finish, open, states, Active, HourState};
use super::io::{batch_get, batch_put, concurrently, query_all};
use super::layout::{
    bucket_sk, day_of, dimension_pks, key_bucket_sk, key_pk, sk_range, HOUR_RETENTION, LATENESS, MINUTE_RETENTION,
};
use super::{marks, window_sums};
use crate::dynamo::audit;
use crate::dynamo::items::{get_s, key, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::DynamoRepo;

/// What compacting one hour did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HourCompaction {
    /// Start of the hour, Unix ms.
    pub hour: UnixMillis,
    /// Keys whose window items were read.
    pub keys: usize,
    /// Hour and day items written (those whose content changed).
    pub written: usize,
    /// `false` when a batch marked the hour pending meanwhile: the next run compacts it again.
    pub settled: bool,
}

/// One key's use of one operation over an hour, summed from its windows.
struct KeyHour {
    key_id: String,
    tags: [(&'static str, String); 4],
    values: RollupValues,
}

/// Compacts every hour that is over (by [`LATENESS`]) and not compacted, oldest first, within
/// the minute retention (older window items are gone). A day that is over and had traffic but
/// none in its last hour gets that hour opened first, so its compaction builds the day items.
/// Then sums the finished windows of the hours not due yet (`window_sums`).
pub(crate) async fn compact_due(repo: &DynamoRepo, now: UnixMillis) -> Result<Vec<HourCompaction>, StoreError> {
    let last_due = now - HOUR - LATENESS;
    let mut due = states(repo, (now - MINUTE_RETENTION).max(0), last_due + 1).await?;
    let unclosed: BTreeSet<UnixMillis> =
        due.keys().map(|h| last_hour(*h)).filter(|last| *last <= last_due && !due.contains_key(last)).collect();
    open(repo, &unclosed).await?;
    due.extend(unclosed.into_iter().map(|h| (h, HourState::Pending)));
    let mut done = Vec::new();
    for (hour, state) in due {
        if state != HourState::Compacted {
            done.push(compact_hour(repo, hour).await?);
        }
    }
    let windows = window_sums::sum_due(repo, now).await?;
    tracing::info!(windows, "finished windows of the open hours summed");
    Ok(done)
}

/// The last hour of `hour`'s day.
fn last_hour(hour: UnixMillis) -> UnixMillis {
    day_of(hour) + DAY - HOUR
}

/// Compacts one hour: marks it compacting, sums its windows into hour items, builds day items
/// where they are due (see the module's doc), then marks it compacted unless a batch arrived.
pub(crate) async fn compact_hour(repo: &DynamoRepo, hour: UnixMillis) -> Result<HourCompaction, StoreError> {
    let Some(token) = begin(repo, hour).await? else {
        return Ok(HourCompaction { hour, settled: true, ..HourCompaction::default() });
    };
    let entries = active(repo, hour).await?;
    let keys: BTreeSet<String> = entries.iter().map(|a| a.key_id.clone()).collect();
    let key_count = keys.len();
    let per_key = concurrently(keys.into_iter().collect(), |key_id| {
        let repo = repo.clone();
        async move { key_hours(&repo, key_id, hour).await }
    })
    .await?;
    let items = hour_items(hour, per_key.iter().flatten());
    audit::put_class_access(repo, &class_access(hour, per_key.iter().flatten())).await?;
    let mut written = put_changed(repo, items).await?;
    let partitions = if hour == last_hour(hour) {
        let day = day_of(hour);
        let hours: Vec<UnixMillis> = (0..23).map(|i| day + i * HOUR).collect();
        let others = concurrently(hours, |h| {
            let repo = repo.clone();
            async move { active(&repo, h).await }
        })
        .await?;
        partitions_of(entries.iter().chain(others.iter().flatten()))
    } else if states(repo, last_hour(hour), last_hour(hour) + 1).await?.values().any(|s| *s == HourState::Compacted) {
        partitions_of(entries.iter())
    } else {
        BTreeSet::new()
    };
    written += build_days(repo, day_of(hour), partitions).await?;
    let settled = finish(repo, hour, &token).await?;
    Ok(HourCompaction { hour, keys: key_count, written, settled })
}

/// Builds the day items of `partitions` for `day`, then clears the day's open mark unless a
/// batch opened the day again meanwhile; how many items it put.
async fn build_days(repo: &DynamoRepo, day: UnixMillis, partitions: BTreeSet<String>) -> Result<usize, StoreError> {
    if partitions.is_empty() {
        return Ok(0);
    }
    let token = marks::day_token(repo, day).await?;
    let days = concurrently(partitions.into_iter().collect(), |pk| {
        let repo = repo.clone();
        async move { day_items(&repo, pk, day).await }
    })
    .await?;
    let written = put_changed(repo, days.into_iter().flatten().collect()).await?;
    if let Some(token) = token {
        marks::clear(repo, 'd', day, &token).await?;
    }
    Ok(written)
}

/// The partitions (keys' and dimensions') that hour index entries add to.
fn partitions_of<'a>(entries: impl Iterator<Item = &'a Active>) -> BTreeSet<String> {
    let mut partitions = BTreeSet::new();
    for a in entries {
        partitions.insert(key_pk(&a.key_id));
        partitions.extend(dimension_pks(&a.api, &a.op, &a.app, &a.dev));
    }
    partitions
}

/// The hour items of the keys' sums and of the five dimensions they add to.
fn hour_items<'a>(hour: UnixMillis, sums: impl Iterator<Item = &'a KeyHour>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut dimensions: BTreeMap<String, RollupValues> = BTreeMap::new();
    for kh in sums {
        let [(_, api), (_, op), (_, app), (_, dev)] = &kh.tags;
        let mut item = key(key_pk(&kh.key_id), key_bucket_sk('h', hour, api, op));
        for (name, value) in &kh.tags {
            item.insert((*name).to_owned(), s(value));
        }
        items.push(with_sum(item, &kh.values, hour));
        for pk in dimension_pks(api, op, app, dev) {
            dimensions.entry(pk).or_default().merge(&kh.values);
        }
    }
    for (pk, v) in dimensions {
        items.push(with_sum(key(pk.as_str(), bucket_sk('h', hour)), &v, hour));
    }
    items
}

/// The hour's sensitive-data access entries: one per app, API and class, from the classes its
/// keys' answers carried.
fn class_access<'a>(hour: UnixMillis, sums: impl Iterator<Item = &'a KeyHour>) -> Vec<AuditEntry> {
    let mut tally = ClassAccessTally::default();
    for kh in sums {
        let [(_, api), _, (_, app), _] = &kh.tags;
        for (class, n) in kh.values.classes.iter().filter(|_| !app.is_empty()) {
            tally.record(app, api, class, *n, hour);
        }
    }
    tally.drain_finished(hour + HOUR)
}

/// An hour item with its counters and its TTL.
fn with_sum(mut item: Item, v: &RollupValues, hour: UnixMillis) -> Item {
    put_counters(&mut item, v);
    item.insert(TTL_ATTRIBUTE.into(), ttl_secs(hour + HOUR_RETENTION));
    item
}

/// A key's window items of an hour, summed per API operation.
async fn key_hours(repo: &DynamoRepo, key_id: String, hour: UnixMillis) -> Result<Vec<KeyHour>, StoreError> {
    let (lo, hi) = sk_range('w', hour, hour + HOUR);
    let mut sums: BTreeMap<(String, String), KeyHour> = BTreeMap::new();
    for item in query_all(repo, &key_pk(&key_id), &lo, &hi, true).await? {
        let tag = |name| get_s(&item, name).unwrap_or_default().to_owned();
        let tags = [("api", tag("api")), ("op", tag("op")), ("app", tag("app")), ("dev", tag("dev"))];
        let sum = sums.entry((tag("api"), tag("op"))).or_insert_with(|| KeyHour {
            key_id: key_id.clone(),
            tags,
            values: RollupValues::default(),
        });
        for v in minutes(&item).values() {
            sum.values.merge(v);
        }
    }
    Ok(sums.into_values().collect())
}

/// A partition's day items rebuilt from its hour items of `day` (one per API operation in a
/// key's partition, one in a dimension's). Day items never expire.
async fn day_items(repo: &DynamoRepo, pk: String, day: UnixMillis) -> Result<Vec<Item>, StoreError> {
    let (lo, hi) = sk_range('h', day, day + DAY);
    let per_key = pk.starts_with("key#");
    let mut sums: BTreeMap<(String, String), (Item, RollupValues)> = BTreeMap::new();
    for hour in query_all(repo, &pk, &lo, &hi, true).await? {
        let tag = |name| get_s(&hour, name).unwrap_or_default().to_owned();
        let (api, op) = if per_key { (tag("api"), tag("op")) } else { Default::default() };
        let (_, sum) = sums.entry((api.clone(), op.clone())).or_insert_with(|| {
            let sk = if per_key { key_bucket_sk('d', day, &api, &op) } else { bucket_sk('d', day) };
            let mut item = key(pk.as_str(), sk);
            for name in ["api", "op", "app", "dev"].into_iter().filter(|_| per_key) {
                item.insert(name.to_owned(), s(tag(name)));
            }
            (item, RollupValues::default())
        });
        sum.merge(&values(&hour));
    }
    Ok(sums
        .into_values()
        .map(|(mut item, sum)| {
            put_counters(&mut item, &sum);
            item
        })
        .collect())
}

/// Puts the items whose stored content differs; how many it put.
async fn put_changed(repo: &DynamoRepo, items: Vec<Item>) -> Result<usize, StoreError> {
    let id = |item: &Item| {
        let text = |name| get_s(item, name).unwrap_or_default().to_owned();
        (text("pk"), text("sk"))
    };
    let stored = batch_get(repo, items.iter().map(id).collect(), true).await?;
    let changed: Vec<Item> = items.into_iter().filter(|item| stored.get(&id(item)) != Some(item)).collect();
    let count = changed.len();
    batch_put(repo, changed).await?;
    Ok(count)
}
