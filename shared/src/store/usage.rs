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

/// A breakdown: one row per value of this field of the stored minutes (per time bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Api,
    Operation,
    Key,
    App,
    Developer,
}

impl Dimension {
    pub const ALL: [Dimension; 5] =
        [Dimension::Api, Dimension::Operation, Dimension::Key, Dimension::App, Dimension::Developer];

    /// Its name in queries and CSV headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dimension::Api => "api",
            Dimension::Operation => "operation",
            Dimension::Key => "key",
            Dimension::App => "app",
            Dimension::Developer => "developer",
        }
    }

    /// The value of this field in `key` (an operation is named with its API, as operation ids
    /// are only unique within one).
    pub fn of(self, key: &RollupKey) -> String {
        match self {
            Dimension::Api => key.api_id.clone(),
            Dimension::Operation => format!("{} {}", key.api_id, key.operation_id),
            Dimension::Key => key.key_id.clone(),
            Dimension::App => key.app_id.clone(),
            Dimension::Developer => key.developer_id.clone(),
        }
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
    /// A breakdown within each time group: one row per API, operation, key, app or developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Dimension>,
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
    /// The breakdown's value (an API id, `<api id> <operation id>`, a key, app or developer
    /// id; empty for calls without one, e.g. refused before a key was known) when the query
    /// has `by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
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
    fn new(bucket: Option<UnixMillis>, group: Option<String>, v: &RollupValues) -> UsageRow {
        UsageRow {
            bucket,
            group,
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

/// Groups the rollups that match `query` into rows, oldest first (and by the breakdown's value
/// within a time group). A total over nothing is one zero row, so "no traffic" reads as zero
/// rather than as a missing answer; a breakdown over nothing has no rows.
pub fn summarise<'a>(
    query: &UsageQuery,
    rollups: impl IntoIterator<Item = (&'a RollupKey, &'a RollupValues)>,
) -> Vec<UsageRow> {
    let mut groups: BTreeMap<(Option<UnixMillis>, Option<String>), RollupValues> = BTreeMap::new();
    for (key, values) in rollups.into_iter().filter(|(k, _)| query.matches(k)) {
        let group = query.by.map(|by| by.of(key));
        groups.entry((query.group_by.bucket(key.minute), group)).or_default().merge(values);
    }
    if query.group_by == GroupBy::Total && query.by.is_none() && groups.is_empty() {
        groups.insert((None, None), RollupValues::default());
    }
    groups.into_iter().map(|((bucket, group), values)| UsageRow::new(bucket, group, &values)).collect()
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
    fn a_breakdown_gives_a_row_per_value_within_each_time_group() {
        let mut other_app = key(0, "api_a");
        other_app.app_id = "app_2".into();
        let rows = [
            (key(0, "api_a"), values(2, 900)),
            (key(MINUTE, "api_a"), values(3, 900)),
            (other_app, values(4, 900)),
            (key(HOUR, "api_b"), values(1, 900)),
        ];
        let by_app = UsageQuery { group_by: GroupBy::Total, by: Some(Dimension::App), ..UsageQuery::default() };
        let out = summarise(&by_app, rows.iter().map(|(k, v)| (k, v)));
        let got: Vec<(Option<&str>, u64)> = out.iter().map(|r| (r.group.as_deref(), r.requests)).collect();
        assert_eq!(got, [(Some("app_1"), 6), (Some("app_2"), 4)]);
        let hourly = UsageQuery { group_by: GroupBy::Hour, by: Some(Dimension::Operation), ..UsageQuery::default() };
        let out = summarise(&hourly, rows.iter().map(|(k, v)| (k, v)));
        let got: Vec<(Option<i64>, Option<&str>, u64)> =
            out.iter().map(|r| (r.bucket, r.group.as_deref(), r.requests)).collect();
        assert_eq!(got, [(Some(0), Some("api_a op"), 9), (Some(HOUR), Some("api_b op"), 1)]);
        let nothing = UsageQuery { api_id: Some("api_z".into()), ..by_app };
        assert!(summarise(&nothing, rows.iter().map(|(k, v)| (k, v))).is_empty());
    }

    #[test]
    fn total_over_nothing_is_one_zero_row() {
        let q = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
        let out = summarise(&q, std::iter::empty());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].requests, out[0].p50_us), (0, None));
    }
}
