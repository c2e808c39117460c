//! A developer's own data: everything held about them as one document, and closing the
//! account (every key revoked, personal fields erased, usage kept under ids only).
//!
//! What a closed account keeps: the developer record as a tombstone (id, group, times, with
//! `closed_at`) so the ids in usage rollups and audit entries still resolve; apps and keys
//! (renamed, since their names were written by the developer; keys revoked); subscriptions;
//! usage rollups (keyed by API, operation, key, app and developer ids, with counts only, so
//! they hold nothing personal once the developer record is anonymised); audit entries (ids
//! only). Email, name and organisation are replaced; the email's unique claim is released.
//! Memberships of organisations are deleted: the person leaves, and the organisations' apps
//! and keys, which belong to the organisations, keep working.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::model::{AccessRequest, App, Developer, Key, KeyStatus, Membership, Subscription};
use gatehouse_core::store::{AuditEntry, Entity, Etag, GroupBy, Record, Repo, StoreError, UsageQuery, UsageRow, Write};
use gatehouse_core::time::UnixMillis;
use serde::Serialize;

use super::{route, Route};
use crate::auth::Actor;
use crate::error::AdminError;
use crate::extract::Id;
use crate::organisations;
use crate::preconditions::Tagged;
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, AdminState};
use crate::views::{KeyView, SubscriptionView};

/// Records written per transaction when closing: a DynamoDB transaction holds at most 100
/// items, and a key's update can take two (its record and its hash's claim).
const RECORDS_PER_WRITE: usize = 25;
/// How often closing re-reads the keys when a concurrent change touched one of them.
const MAX_ATTEMPTS: usize = 8;
pub(crate) const CLOSED_NAME: &str = "Closed account";
const CLOSED_APP: &str = "App of a closed account";
const CLOSED_KEY: &str = "Key of a closed account";

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/developers/{id}/export", Access::Owner, export::<R, P>),
        route(Method::POST, "/v1/developers/{id}/close", Access::Owner, close::<R, P>),
    ]
}

/// Everything the platform holds about one developer. Keys are metadata only: never a
/// secret, never a hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeveloperExport {
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: UnixMillis,
    pub developer: Developer,
    /// The developer's own apps (an organisation's apps are the organisation's data).
    pub apps: Vec<App>,
    /// The organisations they belong to, with their role.
    pub memberships: Vec<Membership>,
    pub subscriptions: Vec<SubscriptionView>,
    pub keys: Vec<KeyView>,
    /// Each key's usage per day (UTC), oldest first.
    pub usage: Vec<KeyUsage>,
    /// Every audit entry that targets the developer, their apps, subscriptions, keys or access
    /// requests.
    pub audit: Vec<AuditEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyUsage {
    pub key_id: String,
    pub app_id: String,
    pub days: Vec<UsageRow>,
}

async fn export<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<DeveloperExport>, AdminError> {
    Ok(Json(developer_export(&s, &id).await?))
}

/// The export of developer `id` (404 if unknown); the portal's "download my data" uses it.
pub(crate) async fn developer_export<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    id: &str,
) -> Result<DeveloperExport, AdminError> {
    let developer = s.load::<Developer>("developer", id).await?;
    let now = s.now();
    let apps = s.repo.list::<App>(Some(id)).await?;
    let (mut subscriptions, mut keys) = (Vec::new(), Vec::new());
    for app in &apps {
        subscriptions.extend(s.repo.list::<Subscription>(Some(&app.id)).await?.into_iter().map(SubscriptionView::new));
        keys.extend(s.repo.list::<Key>(Some(&app.id)).await?);
    }
    let key_ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let seen = s.repo.keys_last_seen(&key_ids).await?;
    let mut usage = Vec::new();
    for key in &keys {
        let q = UsageQuery { key_id: Some(key.id.clone()), group_by: GroupBy::Day, ..UsageQuery::default() };
        usage.push(KeyUsage {
            key_id: key.id.clone(),
            app_id: key.app_id.clone(),
            days: s.repo.query_usage(&q).await?,
        });
    }
    let mut ids: BTreeSet<String> = BTreeSet::from([developer.id.clone()]);
    ids.extend(apps.iter().map(|a| a.id.clone()).chain(key_ids));
    ids.extend(subscriptions.iter().map(|v| v.subscription.id.clone()));
    for app in &apps {
        ids.extend(s.repo.list::<AccessRequest>(Some(&app.id)).await?.into_iter().map(|r| r.id));
    }
    let memberships = s.repo.list::<Membership>(Some(id)).await?;
    let audit = s.repo.audit_about(&ids).await?;
    let keys = keys.iter().map(|k| KeyView::new(k, now).seen_at(seen.get(&k.id).copied())).collect();
    Ok(DeveloperExport { exported_at: now, developer, apps, memberships, subscriptions, keys, usage, audit })
}

/// Closes the account: the developer record is anonymised and marked closed first (from then
/// on no key can be issued to it, see `keys::create`), then every key of every app is revoked
/// and published through the ordinary revoke path, so the native gateway refuses them on the
/// next request and the edge within its published bound. Answers once every key is revoked.
/// Closing again is harmless and finishes a close that failed half-way.
async fn close<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
) -> Result<Tagged<Json<Developer>>, AdminError> {
    let developer = close_account(&s, &actor, &id).await?;
    Ok(Tagged(etag_of(&developer)?, Json(developer)))
}

/// Closes developer `id`'s account (see [`close`]) and answers the closed record; the
/// portal's "close my account" calls this too.
pub(crate) async fn close_account<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
) -> Result<Developer, AdminError> {
    let developer = close_developer(s, actor, id).await?;
    for attempt in 1..=MAX_ATTEMPTS {
        match revoke_all(s, actor, id).await {
            Err(AdminError::Store(StoreError::Changed)) if attempt < MAX_ATTEMPTS => continue,
            other => other?,
        }
        break;
    }
    for membership in s.repo.list::<Membership>(Some(id)).await? {
        organisations::remove_member(s, actor, &membership.organisation_id, id).await?;
    }
    Ok(developer)
}

/// Anonymises and closes the developer record (compare-and-set), unless already closed.
async fn close_developer<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
) -> Result<Developer, AdminError> {
    let developer = s.load::<Developer>("developer", id).await?;
    if developer.closed_at.is_some() {
        return Ok(developer);
    }
    let now = s.now();
    s.conditional(actor, "developer.close", ("developer", id), &Default::default(), |mut d: Developer, expected| {
        if d.closed_at.is_some() {
            return Ok((vec![], vec![], d));
        }
        d.email = format!("closed-{}@invalid", d.id); // RFC 6761: `.invalid` never delivers
        d.name = CLOSED_NAME.to_owned();
        d.organisation = None;
        d.closed_at = Some(now);
        let write = Write::UpdateIf { record: Record::of(&d)?, expected };
        Ok((vec![write], vec![Change::of(&d, ChangeOp::Updated)], d))
    })
    .await
}

/// Revokes and renames every key, and renames every app, of developer `id`, a bounded number
/// of records per transaction, each guarded by the version read (`Changed` if a concurrent
/// write touched one: the caller reads again).
async fn revoke_all<R: Repo, P: Publisher>(s: &AdminState<R, P>, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let mut apps = Vec::new();
    let mut keys = Vec::new();
    for record in s.repo.list_records(App::KIND, Some(id)).await? {
        keys.extend(s.repo.list_records(Key::KIND, Some(&record.id)).await?);
        let Some(mut app) = readable::<App>(&record) else { continue };
        if app.name != CLOSED_APP {
            app.name = CLOSED_APP.to_owned();
            apps.push(guarded(&app, &record)?);
        }
    }
    let mut revoked = Vec::new();
    for record in keys {
        let Some(mut key) = readable::<Key>(&record) else { continue };
        if key.status != KeyStatus::Revoked || key.name != CLOSED_KEY {
            (key.status, key.name) = (KeyStatus::Revoked, CLOSED_KEY.to_owned());
            revoked.push(guarded(&key, &record)?);
        }
    }
    for chunk in revoked.chunks(RECORDS_PER_WRITE) {
        let (writes, changes) = chunk.iter().cloned().unzip();
        s.commit(actor, "key.revoke", writes, changes).await?;
    }
    for chunk in apps.chunks(RECORDS_PER_WRITE) {
        let (writes, changes) = chunk.iter().cloned().unzip();
        s.commit(actor, "app.update", writes, changes).await?;
    }
    Ok(())
}

/// The record decoded, or `None` (logged) when it does not decode: such a key is already
/// refused by the gateway (it is left out of the read model), and it must not stop the
/// revocation of the others.
fn readable<E: Entity>(record: &Record) -> Option<E> {
    match record.decode() {
        Ok(entity) => Some(entity),
        Err(e) => {
            tracing::warn!(kind = record.kind.as_str(), id = %record.id, error = %e, "unreadable record skipped by close");
            None
        }
    }
}

/// `entity` written only over the version `read`.
fn guarded<E: Entity>(entity: &E, read: &Record) -> Result<(Write, Change), AdminError> {
    let expected = Etag::of_body(&read.body);
    Ok((Write::UpdateIf { record: Record::of(entity)?, expected }, Change::of(entity, ChangeOp::Updated)))
}
