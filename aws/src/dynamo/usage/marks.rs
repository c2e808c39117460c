//! Open marks: what reports must read finer than compacted items, in one small partition.
//!
//! `open` / `h#<hour>` marks an hour that is not compacted, and `open` / `d#<day>` a day whose
//! day items are not built (or must be rebuilt after a late batch). A report reads this
//! partition, a handful of items at steady state, instead of every hour state of its range (720
//! for 30 days). A mark is written before the state it shadows and deleted after it, on
//! condition that its token `v` is the one compaction saw, so a mark is never missing while its
//! hour or day is open; a mark left over by a crash only makes reports read hour items or
//! summaries that give the same sums, and it expires with the minute retention.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use gatehouse_core::store::StoreError;
use gatehouse_core::time::UnixMillis;

use super::io::{batch_get, query_partition};
use super::layout::{bucket_of, day_of, MINUTE_RETENTION};
use crate::dynamo::items::{get_s, key, padded, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{unavailable, DynamoRepo};

const OPEN_PK: &str = "open";

/// A fresh token: it changes whenever an hour or a day is opened again.
pub(crate) fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn mark(grain: char, at: UnixMillis, token: &str) -> Item {
    let mut item = key(OPEN_PK, format!("{grain}#{}", padded(at)));
    item.insert("v".into(), s(token));
    item.insert(TTL_ATTRIBUTE.into(), ttl_secs(at + MINUTE_RETENTION));
    item
}

/// The mark of an hour that is not compacted, with its state's token.
pub(crate) fn hour_mark(hour: UnixMillis, token: &str) -> Item {
    mark('h', hour, token)
}

/// The mark of a day whose day items are not (all) built.
pub(crate) fn day_mark(day: UnixMillis) -> Item {
    mark('d', day, &token())
}

pub(crate) fn day_mark_id(day: UnixMillis) -> (String, String) {
    (OPEN_PK.to_owned(), format!("d#{}", padded(day_of(day))))
}

/// The open hours and the open days, read strongly consistently.
pub(crate) async fn read(repo: &DynamoRepo) -> Result<(BTreeSet<UnixMillis>, BTreeSet<UnixMillis>), StoreError> {
    let (mut hours, mut days) = (BTreeSet::new(), BTreeSet::new());
    for item in query_partition(repo, OPEN_PK).await? {
        let sk = get_s(&item, "sk").unwrap_or_default();
        match (sk.chars().next(), bucket_of(sk)) {
            (Some('h'), Some(at)) => hours.insert(at),
            (Some('d'), Some(at)) => days.insert(at),
            _ => false,
        };
    }
    Ok((hours, days))
}

/// The token of a day's mark, `None` when the day is not open.
pub(crate) async fn day_token(repo: &DynamoRepo, day: UnixMillis) -> Result<Option<String>, StoreError> {
    let found = batch_get(repo, vec![day_mark_id(day)], true).await?;
    Ok(found.values().next().and_then(|item| get_s(item, "v")).map(str::to_owned))
}

/// Deletes an hour's (`'h'`) or a day's (`'d'`) mark if its token is still `token`: when it was
/// opened again meanwhile, the mark stays.
pub(crate) async fn clear(repo: &DynamoRepo, grain: char, at: UnixMillis, token: &str) -> Result<(), StoreError> {
    let out = repo
        .client
        .delete_item()
        .table_name(&repo.tables.usage)
        .set_key(Some(key(OPEN_PK, format!("{grain}#{}", padded(at)))))
        .condition_expression("v = :v")
        .expression_attribute_values(":v", s(token))
        .send()
        .await;
    match out {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}
