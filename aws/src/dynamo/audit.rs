//! The audit trail in the catalog table: one item per entry under `pk = audit`, sorted by
//! `sk = <15-digit at>#<random>`, so a query reads it newest first by time alone and a time
//! range is a key condition. Items are only put, never updated or deleted.

use gatehouse_core::keys::crc32;
use gatehouse_core::store::{AuditEntry, AuditFilter, AuditPage, StoreError};

use super::items::{key, padded, require_s, s, Item};
use super::{unavailable, DynamoRepo};

const PK: &str = "audit";

pub(crate) async fn append(repo: &DynamoRepo, entry: &AuditEntry) -> Result<(), StoreError> {
    let body = serde_json::to_string(entry).map_err(unavailable)?;
    let sk = format!("{}#{:08x}", padded(entry.at), rand::random::<u32>());
    let mut item = key(PK, sk);
    item.insert("body".into(), s(body));
    repo.client.put_item().table_name(&repo.tables.catalog).set_item(Some(item)).send().await.map_err(unavailable)?;
    Ok(())
}

/// Puts an hour's sensitive-data access entries (`data.class_access`, from compaction) under
/// sort keys that follow from what each counts (hour, app, API, class) rather than at random:
/// compacting the hour again after a late batch then replaces an entry with the corrected
/// count instead of adding a second one. The entries are still never changed through the API.
pub(crate) async fn put_class_access(repo: &DynamoRepo, entries: &[AuditEntry]) -> Result<(), StoreError> {
    for entry in entries {
        let body = serde_json::to_string(entry).map_err(unavailable)?;
        let subject = format!("{}|{}", entry.targets.join("|"), entry.details.get("class").map_or("", String::as_str));
        let mut item = key(PK, format!("{}#{:08x}", padded(entry.at), crc32(subject.as_bytes())));
        item.insert("body".into(), s(body));
        repo.client
            .put_item()
            .table_name(&repo.tables.catalog)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn recent(repo: &DynamoRepo, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(query(repo, &AuditFilter::default(), None, limit).await?.entries)
}

/// Whether `cursor` is an audit item's sort key, as [`append`] writes them.
fn is_sort_key(cursor: &str) -> bool {
    cursor.split_once('#').is_some_and(|(at, rand)| {
        at.len() == 15
            && at.bytes().all(|b| b.is_ascii_digit())
            && rand.len() == 8
            && rand.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A page newest first: the key condition bounds the time (`to`, and the cursor, the sort
/// key of the last entry given); the other filters apply to each item read, and reading
/// stops at `from` or once one entry past the page is found.
pub(crate) async fn query(
    repo: &DynamoRepo,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<AuditPage, StoreError> {
    if cursor.is_some_and(|c| !is_sort_key(c)) {
        return Err(StoreError::Conflict("not an audit cursor".into()));
    }
    // Every sort key of an entry before `to` sorts before `padded(to)`.
    let bound = [cursor.map(str::to_owned), filter.to.map(padded)].into_iter().flatten().min();
    let (mut found, mut start): (Vec<(String, AuditEntry)>, Option<Item>) = (Vec::new(), None);
    'pages: loop {
        let mut q = repo
            .client
            .query()
            .table_name(&repo.tables.catalog)
            .expression_attribute_values(":pk", s(PK))
            .scan_index_forward(false)
            .consistent_read(true)
            .set_exclusive_start_key(start);
        q = match &bound {
            Some(hi) => {
                q.key_condition_expression("pk = :pk AND sk < :hi").expression_attribute_values(":hi", s(hi.clone()))
            }
            None => q.key_condition_expression("pk = :pk"),
        };
        let page = q.send().await.map_err(unavailable)?;
        for item in page.items() {
            let entry: AuditEntry = serde_json::from_str(&require_s(item, "body")?).map_err(unavailable)?;
            if filter.from.is_some_and(|from| entry.at < from) {
                break 'pages;
            }
            if filter.matches(&entry) {
                found.push((require_s(item, "sk")?, entry));
                if found.len() > limit {
                    break 'pages;
                }
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let more = found.len() > limit;
    found.truncate(limit);
    let next = found.last().filter(|_| more).map(|(sk, _)| sk.clone());
    Ok(AuditPage { entries: found.into_iter().map(|(_, e)| e).collect(), next })
}
