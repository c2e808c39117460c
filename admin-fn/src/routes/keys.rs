//! API keys: issued with the secret shown once, listed without it, rotated with a grace
//! period, disabled, enabled and revoked. Only the SHA-256 of a secret is ever stored, and no
//! secret reaches a log line.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::{
    check_key, generate, hash_secret, rotation_grace_end, KeyCheck, MAX_GRACE_SECS, RANDOM_BYTES,
};
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{Access, App, Developer, Key, KeyStatus, Organisation};
use gatehouse_core::store::{Record, Repo, Write};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

use super::developers::refuse_closed;
use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, OptionalJson};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, random, AdminState};
use crate::views::{Items, KeyView};

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/apps/{id}/keys", Access::Read, list::<R, P>),
        route(Method::POST, "/v1/apps/{id}/keys", Access::Owner, create::<R, P>),
        route(Method::GET, "/v1/keys/{id}", Access::Read, get::<R, P>),
        route(Method::POST, "/v1/keys/{id}/rotate", Access::Owner, rotate::<R, P>),
        route(Method::POST, "/v1/keys/{id}/revoke", Access::Owner, revoke::<R, P>),
        route(Method::POST, "/v1/keys/{id}/disable", Access::Owner, disable::<R, P>),
        route(Method::POST, "/v1/keys/{id}/enable", Access::Owner, enable::<R, P>),
    ]
}

/// The only response that ever carries a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedKey {
    key: KeyView,
    secret: String,
}

/// A new key record and its secret, from fresh OS randomness.
fn issue<R, P>(s: &AdminState<R, P>, app_id: &str, name: String, now: UnixMillis) -> Result<(Key, String), AdminError> {
    let parsed = generate(s.settings.key_env, &random::<RANDOM_BYTES>()?);
    let key = Key {
        id: fresh_id(IdKind::Key)?,
        app_id: app_id.to_owned(),
        name,
        hash: hash_secret(parsed.secret()),
        display_prefix: parsed.display_prefix(),
        last4: parsed.last4(),
        status: KeyStatus::Active,
        created_at: now,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: Vec::new(),
        oauth_client: None,
        client_certificate: None,
    };
    Ok((key, parsed.secret().to_owned()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ci", "expires_at": "2099-01-01T00:00:00Z", "limits": [{"name": "burst", "scope": "key", "type": "rate", "limit": 10, "period_secs": 1, "burst": 20}]}))]
pub(crate) struct NewKey {
    #[schema(pattern = r"\S", max_length = 200)]
    name: String,
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<UnixMillis>,
    #[serde(default)]
    limits: Vec<LimitPolicy>,
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(app_id): Id,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<(StatusCode, Tagged<Json<IssuedKey>>), AdminError> {
    let (key, secret) = create_key(&s, &actor, &app_id, body).await?;
    let etag = etag_of(&key)?;
    Ok((StatusCode::CREATED, Tagged(etag, Json(IssuedKey { key: KeyView::new(&key, s.now()), secret }))))
}

impl NewKey {
    /// A key with just a name (the portal's "Get a key").
    pub(crate) fn named(name: &str) -> NewKey {
        NewKey { name: name.to_owned(), expires_at: None, limits: Vec::new() }
    }

    /// A key that stops working at `at` (the portal's console key).
    pub(crate) fn expiring(name: &str, at: UnixMillis) -> NewKey {
        NewKey { name: name.to_owned(), expires_at: Some(at), limits: Vec::new() }
    }
}

/// Issues a key to an app: the one way in, for the admin API and the portal. Answers the key
/// and its secret, which exists nowhere else from here on.
pub(crate) async fn create_key<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    app_id: &str,
    body: NewKey,
) -> Result<(Key, String), AdminError> {
    let app = s.load::<App>("app", app_id).await?;
    let now = s.now();
    let mut errors = Vec::new();
    validate::non_empty(&body.name, "/name", &mut errors);
    validate::limits(&body.limits, "/limits", &mut errors);
    if body.expires_at.is_some_and(|t| t <= now) {
        errors.push(FieldError::new("/expires_at", "must be in the future"));
    }
    AdminError::check(errors)?;
    add_credential(s, actor, "key.create", &app, || {
        let (mut key, secret) = issue(s, app_id, body.name.clone(), now)?;
        key.expires_at = body.expires_at;
        key.limits.clone_from(&body.limits);
        Ok((key, secret))
    })
    .await
}

/// Writes a new credential record (a key, or an OAuth client's or certificate's registration) for `app`, made
/// by `make` on each attempt: the one guard for both. The owner's record is written
/// back unchanged with it, over the version read: if the account is closed in between, the
/// write fails and is tried again on the closed record, which refuses. So no credential is
/// ever added to a closed account. An organisation's app is guarded by the organisation's
/// record instead: it outlives the member who made it.
pub(crate) async fn add_credential<R: Repo, P: Publisher, T>(
    s: &AdminState<R, P>,
    actor: &Actor,
    action: &str,
    app: &App,
    make: impl Fn() -> Result<(Key, T), AdminError>,
) -> Result<(Key, T), AdminError> {
    if let Some(org) = &app.organisation_id {
        let owner = ("organisation", org.as_str());
        return s
            .conditional(actor, action, owner, &IfMatch::default(), |org: Organisation, expected| {
                let (key, extra) = make()?;
                let guard = Write::UpdateIf { record: Record::of(&org)?, expected };
                let change = Change::of(&key, ChangeOp::Created);
                Ok((vec![Write::insert(&key)?, guard], vec![change], (key, extra)))
            })
            .await;
    }
    let owner = ("developer", app.developer_id.as_str());
    s.conditional(actor, action, owner, &IfMatch::default(), |developer: Developer, expected| {
        refuse_closed(&developer)?;
        let (key, extra) = make()?;
        let guard = Write::UpdateIf { record: Record::of(&developer)?, expected };
        let change = Change::of(&key, ChangeOp::Created);
        Ok((vec![Write::insert(&key)?, guard], vec![change], (key, extra)))
    })
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateRequest {
    grace_secs: Option<u64>,
}

/// The new key and the old key's grace period are written in one transaction: there is no
/// moment when the old key is already on its way out and the new one does not exist yet.
/// `If-Match` names the old key's version. Answers the new key, with its tag.
async fn rotate<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> Result<(StatusCode, Tagged<Json<IssuedKey>>), AdminError> {
    let grace_secs = body.grace_secs.unwrap_or(s.settings.default_grace_secs);
    let (new, secret) = rotate_key(&s, &actor, &id, &if_match, grace_secs).await?;
    let etag = etag_of(&new)?;
    Ok((StatusCode::CREATED, Tagged(etag, Json(IssuedKey { key: KeyView::new(&new, s.now()), secret }))))
}

/// Rotates a key: the one way in, for the admin API and the portal. Answers the new key and
/// its secret; the old one keeps working for `grace_secs`.
pub(crate) async fn rotate_key<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    grace_secs: u64,
) -> Result<(Key, String), AdminError> {
    if grace_secs > MAX_GRACE_SECS {
        let message = format!("must be at most {MAX_GRACE_SECS} seconds (365 days)");
        return Err(AdminError::validation(vec![FieldError::new("/grace_secs", message)]));
    }
    let now = s.now();
    let mut issued = None;
    s.modify(actor, "key.rotate", ("key", id), if_match, |old: &mut Key| {
        if old.oauth_client.is_some() {
            return Err(AdminError::conflict(
                "an OAuth client registration is not rotated: register the new client id",
            ));
        }
        if old.client_certificate.is_some() {
            return Err(AdminError::conflict(
                "a client certificate registration is not rotated: register the new subject",
            ));
        }
        if check_key(old, now) != KeyCheck::Active || old.replaced_by.is_some() {
            return Err(AdminError::conflict("only an active key that was not rotated already can be rotated"));
        }
        let (mut new, secret) = issue(s, &old.app_id, old.name.clone(), now)?;
        new.limits = old.limits.clone();
        new.expires_at = old.expires_at;
        old.grace_until = Some(rotation_grace_end(now, grace_secs));
        old.replaced_by = Some(new.id.clone());
        let also = vec![(Write::insert(&new)?, Change::of(&new, ChangeOp::Created))];
        issued = Some((new, secret));
        Ok(also)
    })
    .await?;
    issued.ok_or_else(|| AdminError::Internal("a committed rotation issued no key".into()))
}

/// Moves a key to `to`; revocation is final, so a revoked key accepts no other status.
/// Revoking reads and writes this key's record only, never another.
pub(crate) async fn set_status<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    to: KeyStatus,
) -> Result<Tagged<Json<KeyView>>, AdminError> {
    let action = match to {
        KeyStatus::Revoked => "key.revoke",
        KeyStatus::Disabled => "key.disable",
        _ => "key.enable",
    };
    let changed = s
        .modify(actor, action, ("key", id), if_match, |key: &mut Key| {
            if key.status == KeyStatus::Revoked && to != KeyStatus::Revoked {
                return Err(AdminError::conflict("the key is revoked; issue a new key instead"));
            }
            key.status = to;
            Ok(vec![])
        })
        .await?;
    let now = s.now();
    Ok(changed.map(|key| Json(KeyView::new(&key, now))))
}

async fn revoke<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<Tagged<Json<KeyView>>, AdminError> {
    set_status(&s, &actor, &id, &if_match, KeyStatus::Revoked).await
}

async fn disable<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<Tagged<Json<KeyView>>, AdminError> {
    set_status(&s, &actor, &id, &if_match, KeyStatus::Disabled).await
}

async fn enable<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<Tagged<Json<KeyView>>, AdminError> {
    set_status(&s, &actor, &id, &if_match, KeyStatus::Active).await
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(app_id): Id,
) -> Result<Json<Items<KeyView>>, AdminError> {
    s.load::<App>("app", &app_id).await?;
    let now = s.now();
    let keys = s.repo.list::<Key>(Some(&app_id)).await?;
    // One store call for the whole listing, not one per key.
    let seen = s.repo.keys_last_seen(&keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>()).await?;
    let view = |k: &Key| KeyView::new(k, now).seen_at(seen.get(&k.id).copied());
    Ok(Json(Items { items: keys.iter().map(view).collect() }))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<KeyView>>, AdminError> {
    let (key, etag) = s.load_tagged::<Key>("key", &id).await?;
    let seen = s.repo.keys_last_seen(std::slice::from_ref(&key.id)).await?;
    Ok(Tagged(etag, Json(KeyView::new(&key, s.now()).seen_at(seen.get(&key.id).copied()))))
}
