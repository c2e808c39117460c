//! The hour index and the hour states, which tie ingest, compaction and reports together.
//!
//! - **Active entries** `active#<hour>` / `<key>#<api>#<op>` (tags `key`, `api`, `op`, `app`,
//!   `dev`) list the key items of an hour: compaction reads them to find what to sum, and
//!   reports at minute grain fan out over them.
//! - **Hour states** `hours` / `<hour>`: `pending` (has data compaction has not summed yet),
//!   `compacting` or `compacted`, with a token `v` that changes whenever an ingest marks the
//!   hour pending; compaction takes the hours that are not compacted. Every hour that is not
//!   compacted, and every day whose day items are not built, also has an open mark, which is
//!   what reports read (`marks`).
//!
//! Both are written only when missing or stale, after reading them (a write is billed even
//! when its condition fails, and a `Put` of the same content is idempotent, so a race costs
//! one extra write at most). A batch that lands in an hour compaction has begun or finished
//! marks it pending again with a new token *after* its data is written: compaction marks the
//! hour `compacting` before it reads, and settles it as `compacted` only if the token is still
//! the one it saw, so a batch it may have missed always leaves the hour pending.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use gatehouse_core::store::StoreError;
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::Rollup;

use super::io::{batch_get, batch_put, query_all, query_partition};
use super::layout::{active_pk, active_sk, day_of, hour_of, HOURS_PK, MINUTE_RETENTION};
use super::marks;
use crate::dynamo::items::{get_s, key, padded, s, ttl_secs, Item};
use crate::dynamo::tables::TTL_ATTRIBUTE;
use crate::dynamo::{unavailable, DynamoRepo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HourState {
    Pending,
    Compacting,
    Compacted,
}

impl HourState {
    fn code(self) -> &'static str {
        match self {
            HourState::Pending => "pending",
            HourState::Compacting => "compacting",
            HourState::Compacted => "compacted",
        }
    }

    fn of(item: &Item) -> Option<HourState> {
        match get_s(item, "state")? {
            "pending" => Some(HourState::Pending),
            "compacting" => Some(HourState::Compacting),
            "compacted" => Some(HourState::Compacted),
            _ => None,
        }
    }
}

/// One key's use of one operation in an hour.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Active {
    pub hour: UnixMillis,
    pub key_id: String,
    pub api: String,
    pub op: String,
    pub app: String,
    pub dev: String,
}

impl Active {
    fn item(&self) -> Item {
        let mut item = key(active_pk(self.hour), active_sk(&self.key_id, &self.api, &self.op));
        for (name, value) in
            [("key", &self.key_id), ("api", &self.api), ("op", &self.op), ("app", &self.app), ("dev", &self.dev)]
        {
            item.insert(name.to_owned(), s(value));
        }
        item.insert(TTL_ATTRIBUTE.into(), ttl_secs(self.hour + MINUTE_RETENTION));
        item
    }

    fn of(hour: UnixMillis, item: &Item) -> Active {
        let tag = |name| get_s(item, name).unwrap_or_default().to_owned();
        Active { hour, key_id: tag("key"), api: tag("api"), op: tag("op"), app: tag("app"), dev: tag("dev") }
    }

    fn id(&self) -> (String, String) {
        (active_pk(self.hour), active_sk(&self.key_id, &self.api, &self.op))
    }
}

/// What a set of rollups touches: its active entries and its hours.
pub(crate) fn touched(rollups: &[Rollup]) -> (BTreeSet<Active>, BTreeSet<UnixMillis>) {
    let entries: BTreeSet<Active> = rollups
        .iter()
        .map(|r| Active {
            hour: hour_of(r.key.minute),
            key_id: r.key.key_id.clone(),
            api: r.key.api_id.clone(),
            op: r.key.operation_id.clone(),
            app: r.key.app_id.clone(),
            dev: r.key.developer_id.clone(),
        })
        .collect();
    let hours = entries.iter().map(|a| a.hour).collect();
    (entries, hours)
}

fn hour_id(hour: UnixMillis) -> (String, String) {
    (HOURS_PK.to_owned(), padded(hour))
}

/// Marks `hours` pending with a new token: their open marks (and `days`' marks) first, then
/// their states (see `marks`).
async fn reopen(repo: &DynamoRepo, hours: &[UnixMillis], days: &BTreeSet<UnixMillis>) -> Result<(), StoreError> {
    let mut marks = Vec::new();
    let mut states = Vec::new();
    for hour in hours {
        let token = marks::token();
        marks.push(marks::hour_mark(*hour, &token));
        let mut state = key(HOURS_PK, padded(*hour));
        state.insert("state".into(), s(HourState::Pending.code()));
        state.insert("v".into(), s(token));
        state.insert(TTL_ATTRIBUTE.into(), ttl_secs(hour + MINUTE_RETENTION));
        states.push(state);
    }
    marks.extend(days.iter().map(|d| marks::day_mark(*d)));
    batch_put(repo, marks).await?;
    batch_put(repo, states).await
}

/// Before a batch's data: puts the active entries that are missing, marks its hours pending
/// where they are missing or (a late batch) not pending, and its days open where they are not.
pub(crate) async fn prepare(
    repo: &DynamoRepo,
    entries: &BTreeSet<Active>,
    hours: &BTreeSet<UnixMillis>,
) -> Result<(), StoreError> {
    let days: BTreeSet<UnixMillis> = hours.iter().map(|h| day_of(*h)).collect();
    let ids = entries
        .iter()
        .map(Active::id)
        .chain(hours.iter().map(|h| hour_id(*h)))
        .chain(days.iter().map(|d| marks::day_mark_id(*d)))
        .collect();
    let found = batch_get(repo, ids, false).await?;
    let stale = |h: &UnixMillis| found.get(&hour_id(*h)).and_then(HourState::of) != Some(HourState::Pending);
    let closed = days.into_iter().filter(|d| !found.contains_key(&marks::day_mark_id(*d))).collect();
    reopen(repo, &hours.iter().copied().filter(stale).collect::<Vec<_>>(), &closed).await?;
    batch_put(repo, entries.iter().filter(|a| !found.contains_key(&a.id())).map(Active::item).collect()).await
}

/// Marks hours pending (compaction then takes them), whatever their state.
pub(crate) async fn open(repo: &DynamoRepo, hours: &BTreeSet<UnixMillis>) -> Result<(), StoreError> {
    let days = hours.iter().map(|h| day_of(*h)).collect();
    reopen(repo, &hours.iter().copied().collect::<Vec<_>>(), &days).await
}

/// After a batch's data (applied now or before: a redelivery settles too, in case the first
/// delivery stopped in between): reads its hours' states strongly consistently and marks
/// pending, with a new token, every hour compaction has begun or finished since.
pub(crate) async fn settle(repo: &DynamoRepo, hours: &BTreeSet<UnixMillis>) -> Result<(), StoreError> {
    let found = batch_get(repo, hours.iter().map(|h| hour_id(*h)).collect(), true).await?;
    let stale = |h: &UnixMillis| found.get(&hour_id(*h)).and_then(HourState::of) != Some(HourState::Pending);
    let stale: Vec<UnixMillis> = hours.iter().copied().filter(stale).collect();
    reopen(repo, &stale, &stale.iter().map(|h| day_of(*h)).collect()).await
}

/// Hour states with a start in `[from, to)`, oldest first.
pub(crate) async fn states(
    repo: &DynamoRepo,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<BTreeMap<UnixMillis, HourState>, StoreError> {
    let items = query_all(repo, HOURS_PK, &padded(from), &padded(to - 1), true).await?;
    Ok(items
        .iter()
        .filter_map(|item| Some((get_s(item, "sk")?.parse().ok()?, HourState::of(item).unwrap_or(HourState::Pending))))
        .collect())
}

/// Every active entry of an hour, read strongly consistently.
pub(crate) async fn active(repo: &DynamoRepo, hour: UnixMillis) -> Result<Vec<Active>, StoreError> {
    let items = query_partition(repo, &active_pk(hour)).await?;
    Ok(items.iter().map(|item| Active::of(hour, item)).collect())
}

/// Marks an hour `compacting` before compaction reads it; its token, or `None` when the hour
/// has no data at all.
pub(crate) async fn begin(repo: &DynamoRepo, hour: UnixMillis) -> Result<Option<String>, StoreError> {
    let (pk, sk) = hour_id(hour);
    let out = repo
        .client
        .update_item()
        .table_name(&repo.tables.usage)
        .set_key(Some(key(pk, sk)))
        .update_expression("SET #st = :st")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#st", "state")
        .expression_attribute_values(":st", s(HourState::Compacting.code()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.attributes.as_ref().and_then(|a| get_s(a, "v")).map(str::to_owned)),
        Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

/// Marks an hour `compacted` if no batch marked it pending since [`begin`], then clears its open
/// mark; `false` when one did (the hour stays pending and the next compaction takes it again).
pub(crate) async fn finish(repo: &DynamoRepo, hour: UnixMillis, token: &str) -> Result<bool, StoreError> {
    let (pk, sk) = hour_id(hour);
    let out = repo
        .client
        .update_item()
        .table_name(&repo.tables.usage)
        .set_key(Some(key(pk, sk)))
        .update_expression("SET #st = :st")
        .condition_expression("v = :v")
        .expression_attribute_names("#st", "state")
        .expression_attribute_values(":st", s(HourState::Compacted.code()))
        .expression_attribute_values(":v", s(token))
        .send()
        .await;
    match out {
        Ok(_) => marks::clear(repo, 'h', hour, token).await.map(|()| true),
        Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(e) => Err(unavailable(e)),
    }
}
