//! Usage reports from the usage table, exact at any time: compacted hour and day items where
//! compaction has summed the hour, and for the rest a key's window items or a dimension's window
//! and batch summaries; minute resolution from window items (a key's, or a fan-out over the hour index
//! for a dimension). So a batch counts in reports as soon as it is ingested, before any
//! compaction.

use std::collections::BTreeSet;

use gatehouse_core::store::{summarise, GroupBy, StoreError, UsageQuery, UsageRow};
use gatehouse_core::time::{UnixMillis, DAY, HOUR, MINUTE};
use gatehouse_core::usage::RollupKey;

use super::items::{get_s, Item};
use super::usage::{
    bucket_of, day_of, dimension_hours, fan_out, hour_of, key_pk, key_rows, open_marks, query_all, sk_range, states,
    values, Row,
};
use super::DynamoRepo;

/// The last time a sort key can hold (15 digits).
const LAST: UnixMillis = 999_999_999_999_999;

/// Which partition holds a query's compacted items.
enum Target {
    Key(String),
    Dimension(String),
    /// Several dimensions without a key: no compacted item sums them; only minutes answer.
    Combination,
}

fn target(q: &UsageQuery) -> Target {
    if let Some(k) = &q.key_id {
        return Target::Key(k.clone());
    }
    let pk = match (&q.api_id, &q.operation_id, &q.app_id, &q.developer_id) {
        (None, None, None, None) => "all#*".to_owned(),
        (Some(api), None, None, None) => format!("api#{api}"),
        (Some(api), Some(op), None, None) => format!("op#{api}#{op}"),
        (None, None, Some(app), None) => format!("app#{app}"),
        (None, None, None, Some(dev)) => format!("dev#{dev}"),
        _ => return Target::Combination,
    };
    Target::Dimension(pk)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Minute,
    Hour,
    Day,
}

impl Grain {
    fn width(self) -> i64 {
        match self {
            Grain::Minute => MINUTE,
            Grain::Hour => HOUR,
            Grain::Day => DAY,
        }
    }
}

/// The coarsest grain that answers `q` exactly: its buckets nest in the grouping and the
/// range starts and ends on bucket boundaries.
fn grain(q: &UsageQuery) -> Grain {
    let aligned = |g: Grain, t: Option<UnixMillis>| t.is_none_or(|t| t.rem_euclid(g.width()) == 0);
    let fits = |g: Grain| match q.group_by {
        GroupBy::Minute => g == Grain::Minute,
        GroupBy::Hour => g != Grain::Day,
        GroupBy::Day | GroupBy::Total => true,
    };
    [Grain::Day, Grain::Hour]
        .into_iter()
        .find(|g| fits(*g) && aligned(*g, q.from) && aligned(*g, q.to))
        .unwrap_or(Grain::Minute)
}

pub(crate) async fn query(repo: &DynamoRepo, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
    let (from, to) = (q.from.unwrap_or(0).max(0), q.to.unwrap_or(LAST).min(LAST));
    let target = target(q);
    let rows =
        if from >= to {
            Vec::new()
        } else {
            match (grain(q), &target) {
                (Grain::Minute, Target::Key(k)) => key_rows(repo, k, from, to, |_| true).await?,
                (Grain::Minute, _) => {
                    let hours = states(repo, hour_of(from), to).await?.into_keys().collect();
                    fan_out(repo, q, &hours).await?
                }
                (_, Target::Combination) => return Err(StoreError::Unavailable(
                    "on DynamoDB, hourly and daily usage is summed per key and per one of api_id (+ operation_id), \
                     app_id or developer_id: filter by key_id (with anything), by one of those, or ask for minutes \
                     (group_by=minute, the last 35 days)"
                        .into(),
                )),
                (g, _) => {
                    let (hours, days) = open_marks(repo).await?;
                    let pending: BTreeSet<UnixMillis> = hours.range(hour_of(from)..to).copied().collect();
                    let unrolled: BTreeSet<UnixMillis> = days.range(day_of(from)..to).copied().collect();
                    let mut rows = compacted(repo, q, &target, g, (from, to), &pending, &unrolled).await?;
                    rows.extend(tail(repo, q, &target, &pending).await?);
                    rows
                }
            }
        };
    Ok(summarise(q, rows.iter().map(|(k, v)| (k, v))))
}

/// Rows from compacted items in `[from, to)`, leaving out hours not compacted (`pending`) and
/// day items of days holding one or not built yet (`unrolled`): their other hours come from
/// hour items instead.
async fn compacted(
    repo: &DynamoRepo,
    q: &UsageQuery,
    target: &Target,
    grain: Grain,
    (from, to): (UnixMillis, UnixMillis),
    pending: &BTreeSet<UnixMillis>,
    unrolled: &BTreeSet<UnixMillis>,
) -> Result<Vec<Row>, StoreError> {
    let pk = match target {
        Target::Key(k) => key_pk(k),
        Target::Dimension(pk) => pk.clone(),
        Target::Combination => return Ok(Vec::new()),
    };
    let row = |item: &Item| -> Option<Row> {
        let bucket = bucket_of(get_s(item, "sk")?)?;
        Some((row_key(q, target, item, bucket), values(item)))
    };
    let mut rows = Vec::new();
    let hour_items = |from, to| {
        let (lo, hi) = sk_range('h', from, to);
        let pk = pk.clone();
        async move { query_all(repo, &pk, &lo, &hi, true).await }
    };
    if grain == Grain::Hour {
        for item in hour_items(from, to).await? {
            rows.extend(row(&item).filter(|(k, _)| !pending.contains(&k.minute)));
        }
        return Ok(rows);
    }
    let dirty: BTreeSet<UnixMillis> = pending.iter().map(|h| day_of(*h)).chain(unrolled.iter().copied()).collect();
    let (lo, hi) = sk_range('d', from, to);
    for item in query_all(repo, &pk, &lo, &hi, true).await? {
        rows.extend(row(&item).filter(|(k, _)| !dirty.contains(&k.minute)));
    }
    if let (Some(first), Some(last)) = (dirty.first(), dirty.last()) {
        for item in hour_items(*first, last + DAY).await? {
            let keep = |h: &UnixMillis| dirty.contains(&day_of(*h)) && !pending.contains(h);
            rows.extend(row(&item).filter(|(k, _)| keep(&k.minute)));
        }
    }
    Ok(rows)
}

/// Rows of the hours not compacted: a key's window items, or a dimension's sums from the window
/// and batch summaries of those hours (two Queries or so per hour, however many keys were active).
async fn tail(
    repo: &DynamoRepo,
    q: &UsageQuery,
    target: &Target,
    pending: &BTreeSet<UnixMillis>,
) -> Result<Vec<Row>, StoreError> {
    let (Some(first), Some(last)) = (pending.first(), pending.last()) else { return Ok(Vec::new()) };
    match target {
        Target::Key(k) => key_rows(repo, k, *first, last + HOUR, |h| pending.contains(&h)).await,
        Target::Dimension(pk) => Ok(dimension_hours(repo, pk, pending)
            .await?
            .into_iter()
            .map(|(hour, v)| (row_key(q, target, &Item::new(), hour), v))
            .collect()),
        Target::Combination => Ok(Vec::new()),
    }
}

/// A compacted item's row key: a key's items carry their tags; a dimension's stand for the
/// query's filters.
fn row_key(q: &UsageQuery, target: &Target, item: &Item, bucket: UnixMillis) -> RollupKey {
    let tag = |name: &str, filter: &Option<String>| match target {
        Target::Key(_) => get_s(item, name).unwrap_or_default().to_owned(),
        _ => filter.clone().unwrap_or_default(),
    };
    RollupKey {
        minute: bucket,
        api_id: tag("api", &q.api_id),
        operation_id: tag("op", &q.operation_id),
        key_id: q.key_id.clone().unwrap_or_default(),
        app_id: tag("app", &q.app_id),
        developer_id: tag("dev", &q.developer_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarsest_exact_grain_answers_a_query() {
        let q = |group_by, from: Option<i64>, to: Option<i64>| {
            grain(&UsageQuery { group_by, from, to, ..UsageQuery::default() })
        };
        assert_eq!(q(GroupBy::Total, None, None), Grain::Day);
        assert_eq!(q(GroupBy::Day, Some(DAY), Some(3 * DAY)), Grain::Day);
        assert_eq!(q(GroupBy::Day, Some(HOUR), None), Grain::Hour);
        assert_eq!(q(GroupBy::Hour, None, None), Grain::Hour);
        assert_eq!(q(GroupBy::Total, Some(MINUTE), Some(HOUR)), Grain::Minute);
        assert_eq!(q(GroupBy::Minute, None, None), Grain::Minute);
    }

    #[test]
    fn several_dimensions_without_a_key_have_no_compacted_item() {
        let q = UsageQuery { app_id: Some("app_1".into()), api_id: Some("api_1".into()), ..UsageQuery::default() };
        assert!(matches!(target(&q), Target::Combination));
        let with_key = UsageQuery { key_id: Some("key_1".into()), ..q };
        assert!(matches!(target(&with_key), Target::Key(k) if k == "key_1"));
    }
}
