//! Admin tokens of named principals: created with a role (the secret shown once, only its
//! SHA-256 stored), listed without secrets or hashes, and revoked (kept, marked, so the audit
//! trail's names stay meaningful). Owners only.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::{base62, hash_secret};
use gatehouse_core::model::{valid_principal_name, Access, AdminToken, Role};
use gatehouse_core::store::{Repo, Write};
use serde::{Deserialize, Serialize};

use super::{route, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, OptionalJson};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, random, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/admin-tokens", Access::Owner, list::<R, P>),
        route(Method::POST, "/v1/admin-tokens", Access::Owner, create::<R, P>),
        route(Method::POST, "/v1/admin-tokens/{id}/revoke", Access::Owner, revoke::<R, P>),
    ]
}

/// A token as listed: never its secret, nor its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AdminTokenView {
    id: String,
    name: String,
    role: Role,
    last4: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: String,
    created_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    revoked_at: Option<String>,
}

impl AdminTokenView {
    fn of(t: &AdminToken) -> AdminTokenView {
        let time = gatehouse_core::time::rfc3339;
        AdminTokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role,
            last4: t.last4.clone(),
            created_at: time(t.created_at),
            created_by: t.created_by.clone(),
            revoked_at: t.revoked_at.map(time),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "alice@example.com", "role": "approver"}))]
pub(crate) struct NewAdminToken {
    /// The principal, as the audit trail will name it: letters, digits, `.`, `-`, `_`, `@`.
    #[schema(max_length = 64)]
    name: String,
    /// `owner`, `api-admin`, `approver` or `viewer` (developers sign in to the portal).
    role: Role,
}

/// The only answer that ever carries an admin token's secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedAdminToken {
    token: AdminTokenView,
    secret: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeAdminToken {
    /// Why, for the audit trail.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
) -> Result<Json<Items<AdminTokenView>>, AdminError> {
    let tokens = s.repo.list::<AdminToken>(None).await?;
    Ok(Json(Items { items: tokens.iter().map(AdminTokenView::of).collect() }))
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewAdminToken>,
) -> Result<(StatusCode, Tagged<Json<IssuedAdminToken>>), AdminError> {
    let (token, secret) = issue(&s, &actor, body.name.trim(), body.role).await?;
    let etag = etag_of(&token)?;
    Ok((StatusCode::CREATED, Tagged(etag, Json(IssuedAdminToken { token: AdminTokenView::of(&token), secret }))))
}

/// Issues a token to principal `name` with `role`: the one way in, for the API and
/// `gatehouse admin bootstrap`-style callers inside this crate. A name keeps one role: a
/// second token for a live name with another role is a 409 (revoke the old one first).
pub(crate) async fn issue<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    name: &str,
    role: Role,
) -> Result<(AdminToken, String), AdminError> {
    let mut errors = Vec::new();
    if !valid_principal_name(name) {
        errors.push(FieldError::new("/name", "1 to 64 letters, digits, '.', '-', '_' or '@'"));
    }
    if !role.takes_tokens() {
        errors.push(FieldError::new(
            "/role",
            "developers sign in to the portal; a token's role is owner, api-admin, approver or viewer",
        ));
    }
    AdminError::check(errors)?;
    let tokens = s.repo.list::<AdminToken>(None).await?;
    if tokens.iter().any(|t| t.live() && t.name == name && t.role != role) {
        return Err(AdminError::conflict(format!("{name} holds a live token with another role; revoke it first")));
    }
    let secret = format!("gha_{}", base62(&random::<32>()?));
    let token = AdminToken {
        id: fresh_id(IdKind::AdminToken)?,
        name: name.to_owned(),
        role,
        hash: hash_secret(&secret).as_hex().to_owned(),
        last4: secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
        created_at: s.now(),
        created_by: actor.name.clone(),
        revoked_at: None,
    };
    let change = Change::of(&token, ChangeOp::Created);
    s.commit(actor, "admin_token.create", vec![Write::insert(&token)?], vec![change]).await?;
    Ok((token, secret))
}

async fn revoke<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<RevokeAdminToken>,
) -> Result<Tagged<Json<AdminTokenView>>, AdminError> {
    let actor = actor.because(body.reason.as_deref().unwrap_or_default());
    let Tagged(etag, token) = s
        .modify(&actor, "admin_token.revoke", ("admin token", &id), &if_match, |token: &mut AdminToken| {
            if token.revoked_at.is_some() {
                return Err(AdminError::conflict("the token is revoked already"));
            }
            token.revoked_at = Some(s.now());
            Ok(Vec::new())
        })
        .await?;
    Ok(Tagged(etag, Json(AdminTokenView::of(&token))))
}
