//! `Repo::transact` on DynamoDB: every write of a batch, with the guard items of the unique
//! values it claims or releases, in one conditional `TransactWriteItems`.

use std::collections::HashSet;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update};
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::store::{refuse_put_with_uniques, EntityKind, Etag, Record, StoreError, Write};
use gatehouse_core::time::{UnixMillis, DAY};

use super::catalog::{guard_pk, rec_pk, stored, to_record, Stored, GUARD_SK};
use super::items::{get_n, key, n, padded, s, ttl_secs};
use super::tables::TTL_ATTRIBUTE;
use super::{now_millis, unavailable, DynamoRepo};

/// How long a revoked, expired or superseded key's record is kept (for audit and support)
/// before TTL deletes it with its hash guard.
pub const KEY_RETENTION: i64 = 90 * DAY;
/// DynamoDB's limit on items in one `TransactWriteItems`.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// Why a transaction item's condition can fail, in the port's words.
enum Fail {
    IdTaken(EntityKind, String),
    Unique(String),
    Changed,
    /// A conditional write's record changed after the caller read it.
    Stale,
}

impl Fail {
    fn error(&self) -> StoreError {
        match self {
            Fail::IdTaken(kind, id) => StoreError::Conflict(format!("{} id {id} is taken", kind.as_str())),
            Fail::Unique(what) => StoreError::Conflict(what.clone()),
            Fail::Changed => StoreError::Conflict("the record changed while it was being written; try again".into()),
            Fail::Stale => StoreError::Changed,
        }
    }
}

/// When TTL may delete a key record: a while after it stopped working for good.
fn record_ttl(record: &Record, now: UnixMillis) -> Result<Option<UnixMillis>, StoreError> {
    if record.kind != EntityKind::Key {
        return Ok(record.expires_at);
    }
    let key: Key = record.decode()?;
    let stopped = match key.status {
        KeyStatus::Revoked | KeyStatus::Expired => Some(now),
        KeyStatus::Active | KeyStatus::Disabled => match (key.expires_at, key.grace_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    };
    Ok(stopped.map(|t| t + KEY_RETENTION))
}

/// Reserves `count` creation-order numbers; returns the first.
async fn next_seqs(repo: &DynamoRepo, count: usize) -> Result<i64, StoreError> {
    let out = repo
        .client
        .update_item()
        .table_name(&repo.tables.catalog)
        .set_key(Some(key("meta", "seq")))
        .update_expression("ADD n :c")
        .expression_attribute_values(":c", n(count))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .map_err(unavailable)?;
    let last: i64 = out.attributes.as_ref().and_then(|a| get_n(a, "n")).ok_or_else(|| unavailable("no seq"))?;
    Ok(last - i64::try_from(count).unwrap_or(0) + 1)
}

fn uniques_attr(record: &Record) -> AttributeValue {
    AttributeValue::L(record.uniques.iter().map(|u| s(&u.value)).collect())
}

/// `overwrite`: a [`Write::Put`], which replaces what is stored instead of failing on it.
fn put_record(
    repo: &DynamoRepo,
    r: &Record,
    seq: i64,
    ttl: Option<i64>,
    overwrite: bool,
) -> Result<TransactWriteItem, StoreError> {
    let mut item = key(rec_pk(r.kind), &r.id);
    item.extend([
        ("body".into(), s(&r.body)),
        ("seq".into(), n(seq)),
        ("ver".into(), n(1)),
        ("uniques".into(), uniques_attr(r)),
    ]);
    if let Some(parent) = &r.parent {
        item.insert("parent".into(), s(parent));
        item.insert("gsi1pk".into(), s(format!("{}#{parent}", r.kind.as_str())));
        item.insert("gsi1sk".into(), s(padded(seq)));
    }
    if let Some(ttl) = ttl {
        item.insert(TTL_ATTRIBUTE.into(), ttl_secs(ttl));
    }
    let condition = (!overwrite).then(|| "attribute_not_exists(pk)".to_owned());
    let put = Put::builder()
        .table_name(&repo.tables.catalog)
        .set_item(Some(item))
        .set_condition_expression(condition)
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// An update keeps `seq` (creation order) and `last_used`, and bumps `ver`, guarded by the
/// version read before, so the guards it releases are the ones the record really held.
fn update_record(repo: &DynamoRepo, r: &Record, ver: i64, ttl: Option<i64>) -> Result<TransactWriteItem, StoreError> {
    let mut set = vec!["body = :body", "ver = :next", "uniques = :u"];
    let mut remove = Vec::new();
    let mut b = Update::builder()
        .table_name(&repo.tables.catalog)
        .set_key(Some(key(rec_pk(r.kind), &r.id)))
        .condition_expression("ver = :ver")
        .expression_attribute_values(":body", s(&r.body))
        .expression_attribute_values(":next", n(ver + 1))
        .expression_attribute_values(":ver", n(ver))
        .expression_attribute_values(":u", uniques_attr(r));
    match &r.parent {
        Some(parent) => {
            set.extend(["parent = :p", "gsi1pk = :g"]);
            b = b.expression_attribute_values(":p", s(parent));
            b = b.expression_attribute_values(":g", s(format!("{}#{parent}", r.kind.as_str())));
        }
        None => remove.extend(["parent", "gsi1pk", "gsi1sk"]),
    }
    match ttl {
        Some(ttl) => {
            set.push("expires_at = :ttl");
            b = b.expression_attribute_values(":ttl", ttl_secs(ttl));
        }
        None => remove.push(TTL_ATTRIBUTE),
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    let update = b.update_expression(expression).build().map_err(unavailable)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn claim_guard(
    repo: &DynamoRepo,
    kind: EntityKind,
    value: &str,
    id: &str,
    ttl: Option<i64>,
) -> Result<TransactWriteItem, StoreError> {
    let mut item = key(guard_pk(kind, value), GUARD_SK);
    item.insert("holder".into(), s(id));
    if let Some(ttl) = ttl {
        item.insert(TTL_ATTRIBUTE.into(), ttl_secs(ttl));
    }
    let put = Put::builder()
        .table_name(&repo.tables.catalog)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk) OR holder = :id")
        .expression_attribute_values(":id", s(id))
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn delete_item(
    repo: &DynamoRepo,
    pk: String,
    sk: &str,
    condition: &str,
    value: (&str, AttributeValue),
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(&repo.tables.catalog)
        .set_key(Some(key(pk, sk)))
        .condition_expression(condition)
        .expression_attribute_values(value.0, value.1)
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Every write of the batch in one `TransactWriteItems`: records and the guards of their
/// unique values, each conditional, so the batch applies whole or not at all.
pub(crate) async fn transact(repo: &DynamoRepo, writes: Vec<Write>) -> Result<(), StoreError> {
    let inserts = writes.iter().filter(|w| matches!(w, Write::Insert(_) | Write::Put(_))).count();
    let mut seq = if inserts > 0 { next_seqs(repo, inserts).await? } else { 0 };
    let now = now_millis();
    let mut plan: Plan = Vec::new();
    for write in writes {
        match write {
            Write::Insert(r) => {
                let ttl = record_ttl(&r, now)?;
                plan.push((
                    put_record(repo, &r, seq, ttl, false)?,
                    (rec_pk(r.kind), r.id.clone()),
                    Fail::IdTaken(r.kind, r.id.clone()),
                ));
                seq += 1;
                for u in &r.uniques {
                    let at = (guard_pk(r.kind, &u.value), GUARD_SK.to_owned());
                    plan.push((claim_guard(repo, r.kind, &u.value, &r.id, ttl)?, at, Fail::Unique(u.what.clone())));
                }
            }
            Write::Put(r) => {
                refuse_put_with_uniques(&r)?;
                let ttl = record_ttl(&r, now)?;
                let at = (rec_pk(r.kind), r.id.clone());
                plan.push((put_record(repo, &r, seq, ttl, true)?, at, Fail::Changed));
                seq += 1;
            }
            Write::Remove { kind, id } => {
                let delete = Delete::builder()
                    .table_name(&repo.tables.catalog)
                    .set_key(Some(key(rec_pk(kind), &id)))
                    .build()
                    .map_err(unavailable)?;
                plan.push((TransactWriteItem::builder().delete(delete).build(), (rec_pk(kind), id), Fail::Changed));
            }
            Write::Update(r) => plan_update(repo, &mut plan, r, None, now).await?,
            Write::UpdateIf { record, expected } => plan_update(repo, &mut plan, record, Some(expected), now).await?,
            Write::Delete { kind, id } => plan_delete(repo, &mut plan, kind, id, None).await?,
            Write::DeleteIf { kind, id, expected } => plan_delete(repo, &mut plan, kind, id, Some(expected)).await?,
        }
    }
    send(repo, plan).await
}

type Plan = Vec<(TransactWriteItem, (String, String), Fail)>;

/// The stored version of a record that a write is about to replace, checked against the tag
/// the caller read (`UpdateIf`/`DeleteIf`). The write is then conditioned on that version's
/// `ver`, so the check and the write are one atomic step.
async fn current(repo: &DynamoRepo, kind: EntityKind, id: &str, expected: Option<&Etag>) -> Result<Stored, StoreError> {
    let (old, item) = stored(repo, kind, id).await?.ok_or(StoreError::NotFound)?;
    if let Some(expected) = expected {
        if Etag::of_body(&to_record(kind, &item)?.body) != *expected {
            return Err(StoreError::Changed);
        }
    }
    Ok(old)
}

async fn plan_update(
    repo: &DynamoRepo,
    plan: &mut Plan,
    r: Record,
    expected: Option<Etag>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let old = current(repo, r.kind, &r.id, expected.as_ref()).await?;
    let changed = if expected.is_some() { Fail::Stale } else { Fail::Changed };
    let ttl = record_ttl(&r, now)?;
    plan.push((update_record(repo, &r, old.ver, ttl)?, (rec_pk(r.kind), r.id.clone()), changed));
    let kept: HashSet<&str> = r.uniques.iter().map(|u| u.value.as_str()).collect();
    for u in &r.uniques {
        let at = (guard_pk(r.kind, &u.value), GUARD_SK.to_owned());
        plan.push((claim_guard(repo, r.kind, &u.value, &r.id, ttl)?, at, Fail::Unique(u.what.clone())));
    }
    for value in old.uniques.iter().filter(|v| !kept.contains(v.as_str())) {
        let at = (guard_pk(r.kind, value), GUARD_SK.to_owned());
        let delete = delete_item(repo, at.0.clone(), GUARD_SK, "holder = :id", (":id", s(&r.id)))?;
        plan.push((delete, at, Fail::Changed));
    }
    Ok(())
}

async fn plan_delete(
    repo: &DynamoRepo,
    plan: &mut Plan,
    kind: EntityKind,
    id: String,
    expected: Option<Etag>,
) -> Result<(), StoreError> {
    let old = current(repo, kind, &id, expected.as_ref()).await?;
    let changed = if expected.is_some() { Fail::Stale } else { Fail::Changed };
    let delete = delete_item(repo, rec_pk(kind), &id, "ver = :ver", (":ver", n(old.ver)))?;
    plan.push((delete, (rec_pk(kind), id.clone()), changed));
    for value in &old.uniques {
        let at = (guard_pk(kind, value), GUARD_SK.to_owned());
        plan.push((delete_item(repo, at.0.clone(), GUARD_SK, "holder = :id", (":id", s(&id)))?, at, Fail::Changed));
    }
    Ok(())
}

async fn send(repo: &DynamoRepo, plan: Plan) -> Result<(), StoreError> {
    if plan.is_empty() {
        return Ok(());
    }
    let mut seen = HashSet::new();
    if let Some((_, _, fail)) = plan.iter().find(|(_, at, _)| !seen.insert(at.clone())) {
        // DynamoDB refuses two operations on one item in a transaction; within one batch that
        // only happens when two writes claim the same unique value (or record).
        return Err(match fail {
            Fail::Unique(_) | Fail::IdTaken(..) => fail.error(),
            Fail::Changed | Fail::Stale => StoreError::Conflict("one change writes the same record twice".into()),
        });
    }
    if plan.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::Unavailable(format!("{} writes exceed one DynamoDB transaction", plan.len())));
    }
    let (items, fails): (Vec<_>, Vec<_>) = plan.into_iter().map(|(item, _, fail)| (item, fail)).unzip();
    let result = repo.client.transact_write_items().set_transact_items(Some(items)).send().await;
    let Err(e) = result else { return Ok(()) };
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = e.as_service_error() else {
        return Err(unavailable(e));
    };
    let reasons = cancelled.cancellation_reasons();
    let failed = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed"));
    match failed.and_then(|i| fails.get(i)) {
        Some(fail) => Err(fail.error()),
        None => Err(StoreError::Conflict("a concurrent change touched the same records; try again".into())),
    }
}
