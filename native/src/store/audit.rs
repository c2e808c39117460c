//! The audit trail in SQLite: appended in order (`seq`), read newest first, or filtered to the
//! entries that target given records inside SQLite (`json_each` over each entry's targets),
//! so a developer's export does not carry the whole trail out of the database. Nothing here
//! updates or deletes a row: the trail is append-only.

use std::collections::BTreeSet;

use gatehouse_core::store::{AuditEntry, AuditFilter, AuditPage, StoreError};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Transaction};

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// The columns filters use, and the whole entry as JSON (migration 7) for the rest.
pub fn append(tx: &Transaction<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    let targets = serde_json::to_string(&entry.targets).map_err(unavailable)?;
    let whole = serde_json::to_string(entry).map_err(unavailable)?;
    let sql = "INSERT INTO audit (at, actor, action, targets, entry) VALUES (?1, ?2, ?3, ?4, ?5)";
    tx.execute(sql, params![entry.at, entry.actor, entry.action, targets, whole]).map_err(unavailable)?;
    Ok(())
}

const COLUMNS: &str = "SELECT seq, at, actor, action, targets, entry FROM audit";
const ABOUT: &str =
    "EXISTS (SELECT 1 FROM json_each(audit.targets) t WHERE t.value IN (SELECT value FROM json_each(?)))";

/// The newest `limit` entries, newest first.
pub fn recent(tx: &Transaction<'_>, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = format!("{COLUMNS} ORDER BY seq DESC LIMIT ?1");
    Ok(read(tx, &sql, params![i64::try_from(limit).unwrap_or(i64::MAX)])?.into_iter().map(|(_, e)| e).collect())
}

/// Entries targeting any of `ids`, oldest first.
pub fn about(tx: &Transaction<'_>, ids: &BTreeSet<String>) -> Result<Vec<AuditEntry>, StoreError> {
    let ids = serde_json::to_string(ids).map_err(unavailable)?;
    let sql = format!("{COLUMNS} WHERE {ABOUT} ORDER BY seq");
    Ok(read(tx, &sql, params![ids])?.into_iter().map(|(_, e)| e).collect())
}

/// A page of entries matching `filter`, newest first; the cursor is the `seq` of the last
/// entry given. Every filter is SQL, so a page reads only its own rows (plus one, to know
/// whether another page follows).
pub fn query(
    tx: &Transaction<'_>,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<AuditPage, StoreError> {
    let (mut clauses, mut args): (Vec<&str>, Vec<Value>) = (Vec::new(), Vec::new());
    if let Some(c) = cursor {
        let seq = c.parse::<i64>().map_err(|_| StoreError::Conflict("not an audit cursor".into()))?;
        clauses.push("seq < ?");
        args.push(seq.into());
    }
    if let Some(actor) = &filter.actor {
        clauses.push("actor = ?");
        args.push(actor.clone().into());
    }
    match filter.action.as_deref() {
        // A family (`key.`): the action's first characters are the prefix.
        Some(family) if family.ends_with('.') => {
            clauses.push("substr(action, 1, ?) = ?");
            args.extend([i64::try_from(family.len()).unwrap_or(i64::MAX).into(), family.to_owned().into()]);
        }
        Some(exact) => {
            clauses.push("action = ?");
            args.push(exact.to_owned().into());
        }
        None => {}
    }
    if let Some(target) = &filter.target {
        clauses.push("EXISTS (SELECT 1 FROM json_each(audit.targets) t WHERE t.value = ?)");
        args.push(target.clone().into());
    }
    if let Some(from) = filter.from {
        clauses.push("at >= ?");
        args.push(from.into());
    }
    if let Some(to) = filter.to {
        clauses.push("at < ?");
        args.push(to.into());
    }
    if let Some(ids) = &filter.about {
        clauses.push(ABOUT);
        args.push(serde_json::to_string(ids).map_err(unavailable)?.into());
    }
    let filters = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let sql = format!("{COLUMNS}{filters} ORDER BY seq DESC LIMIT {fetch}");
    let mut rows = read(tx, &sql, params_from_iter(args))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows.last().filter(|_| more).map(|(seq, _)| seq.to_string());
    Ok(AuditPage { entries: rows.into_iter().map(|(_, e)| e).collect(), next })
}

type Row = (i64, i64, String, String, String, Option<String>);

/// Rows as (seq, entry): the stored JSON where there is one, else the four old columns.
fn read(tx: &Transaction<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(args, |r| -> rusqlite::Result<Row> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .map_err(unavailable)?;
    rows.map(|row| {
        let (seq, at, actor, action, targets, whole) = row.map_err(unavailable)?;
        let entry = match whole {
            Some(json) => serde_json::from_str(&json).map_err(unavailable)?,
            None => AuditEntry::new(at, &actor, &action, serde_json::from_str(&targets).map_err(unavailable)?),
        };
        Ok((seq, entry))
    })
    .collect()
}
