//! Usage rollups in SQLite: one row per (minute, API, operation, key, app, developer).
//! Counters merge with `INSERT … ON CONFLICT DO UPDATE` arithmetic; the outcome map and the
//! latency histogram are JSON merged in Rust, inside the same transaction, so a concurrent
//! flush can never lose an increment.

use std::collections::BTreeMap;

use gatehouse_core::store::{AppCalls, UsageQuery};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{count_end_user, LatencyHistogram, Rollup, RollupKey, RollupValues};
use rusqlite::{params, OptionalExtension, Row, Transaction};

/// SQLite integers are signed; counts never get near `i64::MAX`, so saturating is safe.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

const UPSERT: &str = "
    INSERT INTO rollups (minute, api_id, operation_id, key_id, app_id, developer_id, requests,
        s1xx, s2xx, s3xx, s4xx, s5xx, bytes_in, bytes_out, cache_hits, outcomes, latency, end_users)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?20)
    ON CONFLICT (minute, api_id, operation_id, key_id, app_id, developer_id) DO UPDATE SET
        requests = requests + excluded.requests,
        s1xx = s1xx + excluded.s1xx, s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx,
        s4xx = s4xx + excluded.s4xx, s5xx = s5xx + excluded.s5xx,
        bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
        cache_hits = cache_hits + excluded.cache_hits,
        outcomes = ?18, latency = ?19, end_users = ?21";

const EXISTING: &str = "SELECT outcomes, latency, end_users FROM rollups WHERE minute = ?1 AND api_id = ?2
    AND operation_id = ?3 AND key_id = ?4 AND app_id = ?5 AND developer_id = ?6";

/// Merges `rollups` into the table; the caller commits.
pub fn add(tx: &Transaction<'_>, rollups: &[Rollup]) -> Result<(), String> {
    let mut existing = tx.prepare_cached(EXISTING).map_err(|e| e.to_string())?;
    let mut upsert = tx.prepare_cached(UPSERT).map_err(|e| e.to_string())?;
    let mut seen = tx.prepare_cached(SEEN).map_err(|e| e.to_string())?;
    for Rollup { key: k, values: v } in rollups {
        let ids = params![k.minute, k.api_id, k.operation_id, k.key_id, k.app_id, k.developer_id];
        let stored: Option<(String, String, String)> = existing
            .query_row(ids, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()
            .map_err(|e| e.to_string())?;
        let (mut outcomes, mut latency) = (v.outcomes.clone(), v.latency.clone());
        let mut end_users = BTreeMap::new();
        if let Some((o, l, u)) = stored {
            let o: BTreeMap<String, u64> = serde_json::from_str(&o).map_err(|e| e.to_string())?;
            let l: LatencyHistogram = serde_json::from_str(&l).map_err(|e| e.to_string())?;
            end_users = serde_json::from_str(&u).map_err(|e| e.to_string())?;
            o.into_iter().for_each(|(code, n)| *outcomes.entry(code).or_default() += n);
            latency.merge(&l);
        }
        for (user, count) in &v.end_users {
            count_end_user(&mut end_users, user, *count);
        }
        let merged_u = serde_json::to_string(&end_users).map_err(|e| e.to_string())?;
        let own_u = serde_json::to_string(&v.end_users).map_err(|e| e.to_string())?;
        let merged_o = serde_json::to_string(&outcomes).map_err(|e| e.to_string())?;
        let merged_l = serde_json::to_string(&latency).map_err(|e| e.to_string())?;
        let own_o = serde_json::to_string(&v.outcomes).map_err(|e| e.to_string())?;
        let own_l = serde_json::to_string(&v.latency).map_err(|e| e.to_string())?;
        let [c1, c2, c3, c4, c5] = v.status_classes.map(int);
        upsert
            .execute(params![
                k.minute,
                k.api_id,
                k.operation_id,
                k.key_id,
                k.app_id,
                k.developer_id,
                int(v.requests),
                c1,
                c2,
                c3,
                c4,
                c5,
                int(v.bytes_in),
                int(v.bytes_out),
                int(v.cache_hits),
                own_o,
                own_l,
                merged_o,
                merged_l,
                own_u,
                merged_u
            ])
            .map_err(|e| e.to_string())?;
        if !k.key_id.is_empty() {
            seen.execute(params![k.key_id, k.minute]).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Raises a key's latest usage minute (`key_last_seen`) in the same transaction as its rollup.
const SEEN: &str = "INSERT INTO key_last_seen (key_id, minute) VALUES (?1, ?2)
    ON CONFLICT (key_id) DO UPDATE SET minute = MAX(minute, excluded.minute)";

const SELECT: &str = "
    SELECT minute, api_id, operation_id, key_id, app_id, developer_id, requests,
        s1xx, s2xx, s3xx, s4xx, s5xx, bytes_in, bytes_out, cache_hits, outcomes, latency, end_users
    FROM rollups
    WHERE (?1 IS NULL OR minute >= ?1) AND (?2 IS NULL OR minute < ?2)
      AND (?3 IS NULL OR api_id = ?3) AND (?4 IS NULL OR operation_id = ?4)
      AND (?5 IS NULL OR key_id = ?5) AND (?6 IS NULL OR app_id = ?6)
      AND (?7 IS NULL OR developer_id = ?7)";

/// The stored minutes matching `q`'s filters (grouping is left to `summarise`).
pub fn select(tx: &Transaction<'_>, q: &UsageQuery) -> Result<Vec<(RollupKey, RollupValues)>, String> {
    let mut stmt = tx.prepare_cached(SELECT).map_err(|e| e.to_string())?;
    let filters = params![q.from, q.to, q.api_id, q.operation_id, q.key_id, q.app_id, q.developer_id];
    let rows = stmt.query_map(filters, read_row).map_err(|e| e.to_string())?;
    rows.map(|r| r.map_err(|e| e.to_string())).collect()
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<(RollupKey, RollupValues)> {
    let json = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    let corrupt = |e: serde_json::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
    let key = RollupKey {
        minute: row.get(0)?,
        api_id: row.get(1)?,
        operation_id: row.get(2)?,
        key_id: row.get(3)?,
        app_id: row.get(4)?,
        developer_id: row.get(5)?,
    };
    let count = |i: usize| -> rusqlite::Result<u64> { row.get::<_, i64>(i).map(uint) };
    let values = RollupValues {
        requests: count(6)?,
        status_classes: [count(7)?, count(8)?, count(9)?, count(10)?, count(11)?],
        bytes_in: count(12)?,
        bytes_out: count(13)?,
        cache_hits: count(14)?,
        outcomes: serde_json::from_str(&json(15)?).map_err(corrupt)?,
        latency: serde_json::from_str(&json(16)?).map_err(corrupt)?,
        end_users: serde_json::from_str(&json(17)?).map_err(corrupt)?,
        // Not stored per minute: the gateway turns them into the audit trail's
        // `data.class_access` entries as it flushes (`app::flush`).
        classes: BTreeMap::new(),
    };
    Ok((key, values))
}

/// The latest usage minute of each key, from `key_last_seen` (one primary-key seek each).
pub fn last_seen(tx: &Transaction<'_>, key_ids: &[String]) -> Result<BTreeMap<String, UnixMillis>, String> {
    let mut stmt =
        tx.prepare_cached("SELECT minute FROM key_last_seen WHERE key_id = ?1").map_err(|e| e.to_string())?;
    let mut seen = BTreeMap::new();
    for id in key_ids {
        let latest: Option<i64> = stmt.query_row([id], |row| row.get(0)).optional().map_err(|e| e.to_string())?;
        if let Some(minute) = latest {
            seen.insert(id.clone(), minute);
        }
    }
    Ok(seen)
}

const APP_CALLS: &str = "
    SELECT developer_id, app_id, SUM(requests) FROM rollups
    WHERE api_id = ?1 AND minute >= ?2 AND minute < ?3 AND app_id <> ''
    GROUP BY developer_id, app_id HAVING SUM(requests) > 0
    ORDER BY 3 DESC, app_id";

/// Calls to one API per (developer, app) in `[from, to)`: one range scan of `rollups_by_api`,
/// which holds every column the query reads.
pub fn app_calls(
    tx: &Transaction<'_>,
    api_id: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<AppCalls>, String> {
    let mut stmt = tx.prepare_cached(APP_CALLS).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map(params![api_id, from, to], |row| {
            Ok(AppCalls { developer_id: row.get(0)?, app_id: row.get(1)?, requests: uint(row.get(2)?) })
        })
        .map_err(|e| e.to_string())?;
    rows.map(|r| r.map_err(|e| e.to_string())).collect()
}
