//! The audit trail in SQLite: appended in order (`seq`), read newest first, or filtered to the
//! entries that target given records inside SQLite (`json_each` over each entry's targets),
//! so a developer's export does not carry the whole trail out of the database.

use std::collections::BTreeSet;

use gatehouse_core::store::{AuditEntry, StoreError};
use rusqlite::{params, Transaction};

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub fn append(tx: &Transaction<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    let targets = serde_json::to_string(&entry.targets).map_err(unavailable)?;
    let sql = "INSERT INTO audit (at, actor, action, targets) VALUES (?1, ?2, ?3, ?4)";
    tx.execute(sql, params![entry.at, entry.actor, entry.action, targets]).map_err(unavailable)?;
    Ok(())
}

const RECENT: &str = "SELECT at, actor, action, targets FROM audit ORDER BY seq DESC LIMIT ?1";
const ABOUT: &str = "SELECT at, actor, action, targets FROM audit
    WHERE EXISTS (SELECT 1 FROM json_each(audit.targets) t WHERE t.value IN (SELECT value FROM json_each(?1)))
    ORDER BY seq";

/// The newest `limit` entries, newest first.
pub fn recent(tx: &Transaction<'_>, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    read(tx, RECENT, params![i64::try_from(limit).unwrap_or(i64::MAX)])
}

/// Entries targeting any of `ids`, oldest first.
pub fn about(tx: &Transaction<'_>, ids: &BTreeSet<String>) -> Result<Vec<AuditEntry>, StoreError> {
    let ids = serde_json::to_string(ids).map_err(unavailable)?;
    read(tx, ABOUT, params![ids])
}

fn read(tx: &Transaction<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(unavailable)?;
    let rows =
        stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))).map_err(unavailable)?;
    rows.map(|row| {
        let (at, actor, action, targets) = row.map_err(unavailable)?;
        let targets = serde_json::from_str(&targets).map_err(unavailable)?;
        Ok(AuditEntry { at, actor, action, targets })
    })
    .collect()
}
