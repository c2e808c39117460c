//! Reading entity records and unique-value guards and key last-use marks in the catalog
//! table (the audit trail is in `audit.rs`). Writes (transactions with their guards) are in `writes.rs`.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_core::model::Key;
use gatehouse_core::store::{EntityKind, Record, StoreError};
use gatehouse_core::time::UnixMillis;

use super::items::{get_n, get_s, key, n, require_s, s, Item};
use super::tables::BY_PARENT;
use super::{unavailable, DynamoRepo};

pub(crate) const GUARD_SK: &str = "uniq";

pub(crate) fn rec_pk(kind: EntityKind) -> String {
    format!("rec#{}", kind.as_str())
}

pub(crate) fn guard_pk(kind: EntityKind, value: &str) -> String {
    format!("uniq#{}#{value}", kind.as_str())
}

/// A record as stored, with what an update or delete must know about it.
pub(crate) struct Stored {
    pub ver: i64,
    pub uniques: Vec<String>,
}

/// A key's body with `last_used_at` raised to the separately stored `last_used` attribute.
fn with_last_used(body: String, last_used: Option<UnixMillis>) -> Result<String, StoreError> {
    let Some(at) = last_used else { return Ok(body) };
    let mut key: Key = serde_json::from_str(&body).map_err(unavailable)?;
    key.last_used_at = Some(key.last_used_at.map_or(at, |t| t.max(at)));
    serde_json::to_string(&key).map_err(unavailable)
}

pub(crate) fn to_record(kind: EntityKind, item: &Item) -> Result<Record, StoreError> {
    let mut body = require_s(item, "body")?;
    if kind == EntityKind::Key {
        body = with_last_used(body, get_n(item, "last_used"))?;
    }
    let parent = get_s(item, "parent").map(str::to_owned);
    Ok(Record { kind, id: require_s(item, "sk")?, parent, uniques: Vec::new(), body, expires_at: None })
}

pub(crate) async fn stored(
    repo: &DynamoRepo,
    kind: EntityKind,
    id: &str,
) -> Result<Option<(Stored, Item)>, StoreError> {
    let out = repo
        .client
        .get_item()
        .table_name(&repo.tables.catalog)
        .set_key(Some(key(rec_pk(kind), id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    let Some(item) = out.item else { return Ok(None) };
    let uniques = match item.get("uniques") {
        Some(AttributeValue::L(values)) => values.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
        _ => Vec::new(),
    };
    Ok(Some((Stored { ver: get_n(&item, "ver").unwrap_or(0), uniques }, item)))
}

pub(crate) async fn get(repo: &DynamoRepo, kind: EntityKind, id: &str) -> Result<Option<Record>, StoreError> {
    stored(repo, kind, id).await?.map(|(_, item)| to_record(kind, &item)).transpose()
}

pub(crate) async fn list(repo: &DynamoRepo, kind: EntityKind, parent: Option<&str>) -> Result<Vec<Record>, StoreError> {
    let mut out: Vec<(i64, Record)> = Vec::new();
    let mut start = None;
    loop {
        let q = repo.client.query().table_name(&repo.tables.catalog).set_exclusive_start_key(start);
        let q = match parent {
            // Owner listings come from the GSI: eventually consistent, in creation order.
            Some(p) => q
                .index_name(BY_PARENT)
                .key_condition_expression("gsi1pk = :g")
                .expression_attribute_values(":g", s(format!("{}#{p}", kind.as_str()))),
            None => q
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(rec_pk(kind)))
                .consistent_read(true),
        };
        let page = q.send().await.map_err(unavailable)?;
        for item in page.items() {
            out.push((get_n(item, "seq").unwrap_or(0), to_record(kind, item)?));
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    out.sort_by_key(|(seq, _)| *seq);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

pub(crate) async fn find_unique(
    repo: &DynamoRepo,
    kind: EntityKind,
    value: &str,
) -> Result<Option<Record>, StoreError> {
    let out = repo
        .client
        .get_item()
        .table_name(&repo.tables.catalog)
        .set_key(Some(key(guard_pk(kind, value), GUARD_SK)))
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    match out.item.as_ref().and_then(|i| get_s(i, "holder")) {
        Some(holder) => get(repo, kind, holder).await,
        None => Ok(None),
    }
}

/// One conditional write per key, no read: `last_used` only moves forward, and it lives
/// beside the body so it never races an admin change to the key.
pub(crate) async fn mark_used(repo: &DynamoRepo, used: &[(String, UnixMillis)]) -> Result<(), StoreError> {
    for (id, at) in used {
        let result = repo
            .client
            .update_item()
            .table_name(&repo.tables.catalog)
            .set_key(Some(key(rec_pk(EntityKind::Key), id)))
            .update_expression("SET last_used = :at")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(last_used) OR last_used < :at)")
            .expression_attribute_values(":at", n(at))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {}
            Err(e) => return Err(unavailable(e)),
        }
    }
    Ok(())
}
