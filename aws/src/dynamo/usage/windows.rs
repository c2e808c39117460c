//! Usage read from key window items, as per-minute rows for `summarise`: one key's (a range of
//! its partition), or every key's that was active in some hours (a fan-out over the hour
//! index). This is how reports see minutes, and hours not compacted yet, exactly.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_core::store::StoreError;
use gatehouse_core::store::UsageQuery;
use gatehouse_core::time::{UnixMillis, HOUR, MINUTE};
use gatehouse_core::usage::{RollupKey, RollupValues};

use super::counters::minutes;
use super::hours::{active, Active};
use super::io::{concurrently, query_all};
use super::layout::{bucket_of, hour_of, key_pk, sk_range, window_of};
use crate::dynamo::items::{get_s, Item};
use crate::dynamo::DynamoRepo;

/// One minute of one key on one operation.
pub(crate) type Row = (RollupKey, RollupValues);

/// A key's rows from its windows in `[from, to)` whose hour `keep` accepts.
pub(crate) async fn key_rows(
    repo: &DynamoRepo,
    key_id: &str,
    from: UnixMillis,
    to: UnixMillis,
    keep: impl Fn(UnixMillis) -> bool,
) -> Result<Vec<Row>, StoreError> {
    let (lo, hi) = sk_range('w', window_of(from), to);
    let items = query_all(repo, &key_pk(key_id), &lo, &hi, true).await?;
    let kept = items.iter().filter(|item| get_s(item, "sk").and_then(bucket_of).is_some_and(|w| keep(hour_of(w))));
    Ok(kept.flat_map(|item| rows(item, key_id)).collect())
}

fn rows(item: &Item, key_id: &str) -> Vec<Row> {
    let window = get_s(item, "sk").and_then(bucket_of).unwrap_or(0);
    let tag = |name| get_s(item, name).unwrap_or_default().to_owned();
    minutes(item)
        .into_iter()
        .map(|(index, values)| {
            let key = RollupKey {
                minute: window + index * MINUTE,
                api_id: tag("api"),
                operation_id: tag("op"),
                key_id: key_id.to_owned(),
                app_id: tag("app"),
                developer_id: tag("dev"),
            };
            (key, values)
        })
        .collect()
}

/// Whether a key's use of an operation can hold rows `q` matches (its filters but time).
fn could_match(q: &UsageQuery, a: &Active) -> bool {
    let same = |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
    same(&q.key_id, &a.key_id)
        && same(&q.api_id, &a.api)
        && same(&q.operation_id, &a.op)
        && same(&q.app_id, &a.app)
        && same(&q.developer_id, &a.dev)
}

/// The rows of every key active in `hours` that `q` may match, from its windows in those
/// hours only: one query per hour for the index, then one per key.
pub(crate) async fn fan_out(
    repo: &DynamoRepo,
    q: &UsageQuery,
    hours: &BTreeSet<UnixMillis>,
) -> Result<Vec<Row>, StoreError> {
    let entries = concurrently(hours.iter().copied().collect(), |hour| {
        let repo = repo.clone();
        async move { active(&repo, hour).await }
    })
    .await?;
    let mut by_key: BTreeMap<String, BTreeSet<UnixMillis>> = BTreeMap::new();
    for a in entries.into_iter().flatten().filter(|a| could_match(q, a)) {
        by_key.entry(a.key_id).or_default().insert(a.hour);
    }
    let rows = concurrently(by_key.into_iter().collect(), |(key_id, hours): (String, BTreeSet<UnixMillis>)| {
        let repo = repo.clone();
        async move {
            let (Some(first), Some(last)) = (hours.first(), hours.last()) else { return Ok(Vec::new()) };
            key_rows(&repo, &key_id, *first, last + HOUR, |h| hours.contains(&h)).await
        }
    })
    .await?;
    Ok(rows.into_iter().flatten().collect())
}
