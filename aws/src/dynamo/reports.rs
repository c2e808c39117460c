//! Usage reports from the usage table: which partition and grain answer a query exactly,
//! and how stored counters become rollup values for `summarise`.

use gatehouse_core::store::{summarise, GroupBy, StoreError, UsageQuery, UsageRow};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{LatencyHistogram, RollupKey, RollupValues, BUCKET_BOUNDS_US};

use super::items::{get_n, get_s, padded, s, Item};
use super::usage::Grain;
use super::{unavailable, DynamoRepo};

/// The item partition answering `q`; `true` when it is a key partition (full detail).
fn dimension(q: &UsageQuery) -> Result<(String, bool), StoreError> {
    if let Some(k) = &q.key_id {
        return Ok((format!("key#{k}"), true));
    }
    let pk = match (&q.api_id, &q.operation_id, &q.app_id, &q.developer_id) {
        (None, None, None, None) => "all#*".to_owned(),
        (Some(api), None, None, None) => format!("api#{api}"),
        (Some(api), Some(op), None, None) => format!("op#{api}#{op}"),
        (None, None, Some(app), None) => format!("app#{app}"),
        (None, None, None, Some(dev)) => format!("dev#{dev}"),
        _ => {
            return Err(StoreError::Unavailable(
                "on DynamoDB, filter usage by key_id (with anything), or by one of api_id (+ operation_id), \
                 app_id, developer_id"
                    .into(),
            ))
        }
    };
    Ok((pk, false))
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

fn values(item: &Item) -> RollupValues {
    let count = |name: &str| get_n::<u64>(item, name).unwrap_or(0);
    let mut v = RollupValues {
        requests: count("requests"),
        bytes_in: count("bytes_in"),
        bytes_out: count("bytes_out"),
        cache_hits: count("cache_hits"),
        latency: LatencyHistogram { counts: (0..BUCKET_BOUNDS_US.len()).map(|i| count(&format!("h{i:02}"))).collect() },
        ..RollupValues::default()
    };
    for (i, c) in v.status_classes.iter_mut().enumerate() {
        *c = count(&format!("s{}", i + 1));
    }
    for name in item.keys() {
        if let Some(code) = name.strip_prefix("o_") {
            v.outcomes.insert(code.to_owned(), count(name));
        }
    }
    v
}

pub(crate) async fn query(repo: &DynamoRepo, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
    let (pk, per_key) = dimension(q)?;
    let g = if per_key { Grain::Minute } else { grain(q) };
    const LAST: i64 = 999_999_999_999_999;
    let lower = format!("{}#{}", g.code(), padded(q.from.unwrap_or(0)));
    let upper = format!("{}#{}", g.code(), padded(q.to.unwrap_or(LAST).min(LAST)));
    let mut rows: Vec<(RollupKey, RollupValues)> = Vec::new();
    let mut start = None;
    loop {
        let page = repo
            .client
            .query()
            .table_name(&repo.tables.usage)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":lo", s(&lower))
            .expression_attribute_values(":hi", s(&upper))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        for item in page.items() {
            let sk = get_s(item, "sk").unwrap_or_default();
            let bucket: UnixMillis = sk.split('#').nth(1).and_then(|b| b.parse().ok()).unwrap_or(0);
            let tag = |name: &str, filter: &Option<String>| {
                if per_key {
                    get_s(item, name).unwrap_or_default().to_owned()
                } else {
                    filter.clone().unwrap_or_default()
                }
            };
            let key = RollupKey {
                minute: bucket,
                api_id: tag("api", &q.api_id),
                operation_id: tag("op", &q.operation_id),
                key_id: q.key_id.clone().unwrap_or_default(),
                app_id: tag("app", &q.app_id),
                developer_id: tag("dev", &q.developer_id),
            };
            rows.push((key, values(item)));
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    Ok(summarise(q, rows.iter().map(|(k, v)| (k, v))))
}

#[cfg(test)]
mod tests {
    use gatehouse_core::time::{DAY, HOUR, MINUTE};

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
}
