//! Answers derived from stored usage and audit for the developer portal: when each key was
//! last seen in usage, which apps called an API lately, and the audit entries about a set of
//! records. Each is a provided [`Repo`] method whose default uses only the port's basic
//! calls (so every store answers it, DynamoDB included), with pure helpers here that stores
//! holding rollups in memory, or able to aggregate in one query (SQLite), use instead.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{AuditEntry, GroupBy, Repo, StoreError, UsageQuery};
use crate::time::{UnixMillis, DAY};
use crate::usage::{RollupKey, RollupValues};

/// How many calls one app made to one API in a time range, from stored rollups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCalls {
    pub developer_id: String,
    pub app_id: String,
    pub requests: u64,
}

/// The start of the latest stored minute with traffic of each of `key_ids` (absent: never).
pub fn last_seen<'a>(
    rollups: impl IntoIterator<Item = (&'a RollupKey, &'a RollupValues)>,
    key_ids: &[String],
) -> BTreeMap<String, UnixMillis> {
    let wanted: BTreeSet<&str> = key_ids.iter().map(String::as_str).collect();
    let mut seen = BTreeMap::new();
    for (k, _) in rollups.into_iter().filter(|(k, v)| v.requests > 0 && wanted.contains(k.key_id.as_str())) {
        let at = seen.entry(k.key_id.clone()).or_insert(k.minute);
        *at = (*at).max(k.minute);
    }
    seen
}

/// Calls to `api_id` in `[from, to)` per (developer, app), most calls first; keyless calls
/// (public operations, refusals before a key was known) belong to no app and are left out.
pub fn app_calls<'a>(
    rollups: impl IntoIterator<Item = (&'a RollupKey, &'a RollupValues)>,
    api_id: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Vec<AppCalls> {
    let mut by_app: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (k, v) in rollups {
        if k.api_id == api_id && (from..to).contains(&k.minute) && !k.app_id.is_empty() {
            *by_app.entry((k.developer_id.clone(), k.app_id.clone())).or_default() += v.requests;
        }
    }
    sorted(by_app)
}

fn sorted(by_app: BTreeMap<(String, String), u64>) -> Vec<AppCalls> {
    let mut out: Vec<AppCalls> = by_app
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((developer_id, app_id), requests)| AppCalls { developer_id, app_id, requests })
        .collect();
    out.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.app_id.cmp(&b.app_id)));
    out
}

/// The default of [`Repo::keys_last_seen`]: per key, the latest day with traffic, then the
/// latest minute in it. Two queries per key, each in the key's own usage (a DynamoDB key
/// partition), never a scan of everyone's.
pub(super) async fn last_seen_by_queries<R: Repo + ?Sized>(
    repo: &R,
    key_ids: &[String],
) -> Result<BTreeMap<String, UnixMillis>, StoreError> {
    let mut seen = BTreeMap::new();
    for id in key_ids {
        let days = UsageQuery { key_id: Some(id.clone()), group_by: GroupBy::Day, ..UsageQuery::default() };
        let Some(day) = repo.query_usage(&days).await?.iter().rev().find(|r| r.requests > 0).and_then(|r| r.bucket)
        else {
            continue;
        };
        let minutes = UsageQuery { from: Some(day), to: Some(day + DAY), group_by: GroupBy::Minute, ..days };
        let rows = repo.query_usage(&minutes).await?;
        if let Some(minute) = rows.iter().rev().find(|r| r.requests > 0).and_then(|r| r.bucket) {
            seen.insert(id.clone(), minute);
        }
    }
    Ok(seen)
}

/// The default of [`Repo::app_calls`]: the keys of the apps subscribed (in any status) to a
/// product that holds the API, each asked for its total on the API: one query per such key,
/// in the key's own usage. An app can only have called the API with a key under such a
/// subscription; one whose subscription or product item was deleted since is missed.
pub(super) async fn app_calls_by_queries<R: Repo + ?Sized>(
    repo: &R,
    api_id: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<AppCalls>, StoreError> {
    let snap = repo.snapshot().await?;
    let products: BTreeSet<&str> =
        snap.products.iter().filter(|p| p.items.iter().any(|i| i.api_id == api_id)).map(|p| p.id.as_str()).collect();
    let apps: BTreeSet<&str> = snap
        .subscriptions
        .iter()
        .filter(|s| products.contains(s.product_id.as_str()))
        .map(|s| s.app_id.as_str())
        .collect();
    let owner: BTreeMap<&str, &str> = snap.apps.iter().map(|a| (a.id.as_str(), a.developer_id.as_str())).collect();
    let mut by_app: BTreeMap<(String, String), u64> = BTreeMap::new();
    for key in snap.keys.iter().filter(|k| apps.contains(k.app_id.as_str())) {
        let q = UsageQuery {
            from: Some(from),
            to: Some(to),
            api_id: Some(api_id.to_owned()),
            key_id: Some(key.id.clone()),
            group_by: GroupBy::Total,
            ..UsageQuery::default()
        };
        let requests: u64 = repo.query_usage(&q).await?.iter().map(|r| r.requests).sum();
        let developer = owner.get(key.app_id.as_str()).copied().unwrap_or_default().to_owned();
        *by_app.entry((developer, key.app_id.clone())).or_default() += requests;
    }
    Ok(sorted(by_app))
}

/// The default of [`Repo::audit_about`]: the whole trail, filtered. Stores that can filter
/// in the query override it.
pub(super) async fn audit_about_by_scan<R: Repo + ?Sized>(
    repo: &R,
    ids: &BTreeSet<String>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut entries = repo.recent_audit(usize::MAX).await?;
    entries.retain(|e| e.targets.iter().any(|t| ids.contains(t)));
    entries.reverse();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(minute: i64, key: &str, app: &str, api: &str, requests: u64) -> (RollupKey, RollupValues) {
        let k = RollupKey {
            minute,
            api_id: api.into(),
            operation_id: "op".into(),
            key_id: key.into(),
            app_id: app.into(),
            developer_id: format!("dev_{app}"),
        };
        (k, RollupValues { requests, ..RollupValues::default() })
    }

    #[test]
    fn last_seen_is_the_latest_minute_with_traffic_per_key() {
        let rows =
            [row(60_000, "k1", "a", "api", 1), row(180_000, "k1", "a", "api", 2), row(120_000, "k2", "a", "x", 1)];
        let seen = last_seen(rows.iter().map(|(k, v)| (k, v)), &["k1".into(), "k3".into()]);
        assert_eq!(seen, BTreeMap::from([("k1".into(), 180_000)]));
    }

    #[test]
    fn app_calls_sum_one_api_in_range_per_app_most_first_without_keyless_calls() {
        let rows = [
            row(0, "k1", "a", "api", 5),
            row(60_000, "k2", "a", "api", 1),
            row(60_000, "k3", "b", "api", 9),
            row(60_000, "k4", "c", "other", 9),
            row(60_000, "", "", "api", 7),
            row(DAY, "k1", "a", "api", 100),
        ];
        let calls = app_calls(rows.iter().map(|(k, v)| (k, v)), "api", 0, DAY);
        let got: Vec<(&str, u64)> = calls.iter().map(|c| (c.app_id.as_str(), c.requests)).collect();
        assert_eq!(got, [("b", 9), ("a", 6)]);
        assert_eq!(calls[0].developer_id, "dev_b");
    }
}
