//! `GET /v1/audit`: the audit trail, newest first, filtered and paged. Admin roles read all of
//! it; a developer (the portal's session) reads the entries about their own account, apps,
//! keys and subscriptions. There is no route that changes or deletes an entry: the trail is
//! append-only through the API (`tests/audit.rs` proves every other method is refused).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use gatehouse_core::model::{Access, AccessRequest, App, Key, Subscription};
use gatehouse_core::store::{AuditEntry, AuditFilter, Repo, StoreError};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

use super::{route, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::QueryParams;
use crate::publisher::Publisher;
use crate::state::AdminState;

/// Entries per page unless `limit` says otherwise, and the most `limit` may ask for.
pub(crate) const DEFAULT_LIMIT: usize = 50;
pub(crate) const MAX_LIMIT: usize = 500;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::GET, "/v1/audit", Access::Audit, list::<R, P>)]
}

/// The filters of `GET /v1/audit`; all optional, combined with AND.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// The principal, exactly as entries name it (`alice`, `developer:dev_…`).
    #[serde(default)]
    pub actor: Option<String>,
    /// An action (`key.revoke`), or a family of them ending in a dot (`key.`).
    #[serde(default)]
    pub action: Option<String>,
    /// A record id among the entry's targets.
    #[serde(default)]
    pub target: Option<String>,
    /// Inclusive.
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<UnixMillis>,
    /// Exclusive.
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<UnixMillis>,
    /// The `next` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Entries per page, 1 to 500 (default 50).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// One page of the trail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditList {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditList>, AdminError> {
    Ok(Json(read(&s, &actor, &query).await?))
}

/// A page of the entries `actor` may read that match `query`: the API's and the portal's.
pub(crate) async fn read<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    query: &AuditQuery,
) -> Result<AuditList, AdminError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let mut errors = Vec::new();
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new("/limit", format!("must be from 1 to {MAX_LIMIT}")));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            errors.push(FieldError::new("/to", "must not be before from"));
        }
    }
    AdminError::check(errors)?;
    let about = match actor.developer_id() {
        Some(developer_id) => Some(records_of(s, developer_id).await?),
        None => None,
    };
    let blank = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let filter = AuditFilter {
        actor: blank(&query.actor),
        action: blank(&query.action),
        target: blank(&query.target),
        from: query.from,
        to: query.to,
        about,
    };
    match s.repo.query_audit(&filter, query.cursor.as_deref().filter(|c| !c.is_empty()), limit).await {
        Ok(page) => Ok(AuditList { items: page.entries, next: page.next }),
        Err(StoreError::Conflict(_)) => Err(AdminError::validation(vec![FieldError::new(
            "/cursor",
            "is not a cursor this API gave; start without one",
        )])),
        Err(e) => Err(e.into()),
    }
}

/// The ids of everything a developer owns: their account, apps, keys, subscriptions and
/// access requests (whose entries carry the approver's decision and reason).
pub(crate) async fn records_of<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    developer_id: &str,
) -> Result<BTreeSet<String>, AdminError> {
    let mut ids = BTreeSet::from([developer_id.to_owned()]);
    for app in s.repo.list::<App>(Some(developer_id)).await? {
        ids.extend(s.repo.list::<Key>(Some(&app.id)).await?.into_iter().map(|k| k.id));
        ids.extend(s.repo.list::<Subscription>(Some(&app.id)).await?.into_iter().map(|sub| sub.id));
        ids.extend(s.repo.list::<AccessRequest>(Some(&app.id)).await?.into_iter().map(|r| r.id));
        ids.insert(app.id);
    }
    Ok(ids)
}
