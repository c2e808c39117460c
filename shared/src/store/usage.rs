//! Usage queries over stored rollups: which rows match, how they group, and what each group
//! reports. Pure, so every store answers a query the same way; a store only has to hand over
//! the matching per-minute rows (SQLite filters them with SQL first).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::{UnixMillis, DAY, HOUR, MINUTE};
use crate::usage::{RollupKey, RollupValues};

/// How rows are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Minute,
    Hour,
    #[default]
    Day,
    /// One row for the whole range.
    Total,
}

impl GroupBy {
    /// Start of the bucket (UTC) holding `minute`; `None` for [`GroupBy::Total`].
    pub fn bucket(self, minute: UnixMillis) -> Option<UnixMillis> {
        let width = match self {
            GroupBy::Minute => MINUTE,
            GroupBy::Hour => HOUR,
            GroupBy::Day => DAY,
            GroupBy::Total => return None,
        };
        Some(minute - minute.rem_euclid(width))
    }
}

/// A usage query. Every filter is optional; `from` is inclusive and `to` exclusive (Unix ms,
/// compared with the start of each stored minute).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct UsageQuery {
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub from: Option<UnixMillis>,
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub to: Option<UnixMillis>,
    #[serde(default)]
    pub api_id: Option<String>,
    #[serde(default)]
    pub operation_id: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub developer_id: Option<String>,
    #[serde(default)]
    pub group_by: GroupBy,
}

impl UsageQuery {
    pub fn matches(&self, key: &RollupKey) -> bool {
        let same = |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
        self.from.is_none_or(|from| key.minute >= from)
            && self.to.is_none_or(|to| key.minute < to)
            && same(&self.api_id, &key.api_id)
            && same(&self.operation_id, &key.operation_id)
            && same(&self.key_id, &key.key_id)
            && same(&self.app_id, &key.app_id)
            && same(&self.developer_id, &key.developer_id)
    }
}

/// One group of a usage report. Percentiles are bucket upper bounds of the merged latency
/// histograms (see [`crate::usage::BUCKET_BOUNDS_US`]), `None` when the group has no requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct UsageRow {
    /// Start of the group (Unix ms); `None` for a total.
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub bucket: Option<UnixMillis>,
    pub requests: u64,
    /// Index 0 = 1xx … 4 = 5xx.
    pub status_classes: [u64; 5],
    pub outcomes: BTreeMap<String, u64>,
    pub p50_us: Option<u64>,
    pub p95_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub cache_hits: u64,
    /// Requests per end user (a bearer token's `sub`), for calls tokens made; at most 64 by
    /// name per stored minute, the rest under `(others)`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub end_users: BTreeMap<String, u64>,
}

impl UsageRow {
    fn new(bucket: Option<UnixMillis>, v: &RollupValues) -> UsageRow {
        UsageRow {
            bucket,
            requests: v.requests,
            status_classes: v.status_classes,
            outcomes: v.outcomes.clone(),
            p50_us: v.latency.quantile_us(0.50),
            p95_us: v.latency.quantile_us(0.95),
            p99_us: v.latency.quantile_us(0.99),
            bytes_in: v.bytes_in,
            bytes_out: v.bytes_out,
            cache_hits: v.cache_hits,
            end_users: v.end_users.clone(),
        }
    }
}

/// Groups the rollups that match `query` into rows, oldest first. A total over nothing is one
/// zero row, so "no traffic" reads as zero rather than as a missing answer.
pub fn summarise<'a>(
    query: &UsageQuery,
    rollups: impl IntoIterator<Item = (&'a RollupKey, &'a RollupValues)>,
) -> Vec<UsageRow> {
    let mut groups: BTreeMap<Option<UnixMillis>, RollupValues> = BTreeMap::new();
    for (key, values) in rollups.into_iter().filter(|(k, _)| query.matches(k)) {
        groups.entry(query.group_by.bucket(key.minute)).or_default().merge(values);
    }
    if query.group_by == GroupBy::Total && groups.is_empty() {
        groups.insert(None, RollupValues::default());
    }
    groups.iter().map(|(bucket, values)| UsageRow::new(*bucket, values)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(minute: i64, api: &str) -> RollupKey {
        RollupKey {
            minute,
            api_id: api.into(),
            operation_id: "op".into(),
            key_id: "key_1".into(),
            app_id: "app_1".into(),
            developer_id: "dev_1".into(),
        }
    }

    fn values(requests: u64, latency_us: u64) -> RollupValues {
        let mut v = RollupValues { requests, ..RollupValues::default() };
        v.status_classes[1] = requests;
        for _ in 0..requests {
            v.latency.record(latency_us);
        }
        v
    }

    #[test]
    fn hourly_groups_merge_minutes_and_filters_apply() {
        let rows = [
            (key(0, "api_a"), values(2, 900)),
            (key(MINUTE, "api_a"), values(3, 900)),
            (key(HOUR, "api_a"), values(1, 30_000)),
            (key(0, "api_b"), values(7, 900)),
        ];
        let q = UsageQuery { api_id: Some("api_a".into()), group_by: GroupBy::Hour, ..UsageQuery::default() };
        let out = summarise(&q, rows.iter().map(|(k, v)| (k, v)));
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].bucket, out[0].requests, out[0].p99_us), (Some(0), 5, Some(1_000)));
        assert_eq!((out[1].bucket, out[1].requests, out[1].p50_us), (Some(HOUR), 1, Some(40_000)));
        let ranged = UsageQuery { from: Some(MINUTE), to: Some(HOUR), group_by: GroupBy::Total, ..q };
        let total = summarise(&ranged, rows.iter().map(|(k, v)| (k, v)));
        assert_eq!((total.len(), total[0].requests, total[0].bucket), (1, 3, None));
    }

    #[test]
    fn total_over_nothing_is_one_zero_row() {
        let q = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
        let out = summarise(&q, std::iter::empty());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].requests, out[0].p50_us), (0, None));
    }
}
