//! Organisations in the admin API: the organisations themselves (name, tier), their members
//! and roles, invitations by mail, and the apps they own. The portal's organisation pages
//! call the same functions (`crate::organisations`).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::model::{Access, App, Invitation, Membership, OrgRole, Organisation};
use gatehouse_core::store::Repo;
use serde::{Deserialize, Serialize};

use super::{route, Route};
use crate::auth::Actor;
use crate::error::AdminError;
use crate::extract::{Id, IdPair, JsonBody};
use crate::organisations;
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::Publisher;
use crate::state::{etag_of, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/organisations", Access::Read, list::<R, P>),
        route(Method::POST, "/v1/organisations", Access::Owner, create::<R, P>),
        route(Method::GET, "/v1/organisations/{id}", Access::Read, get::<R, P>),
        route(Method::PATCH, "/v1/organisations/{id}", Access::Owner, patch::<R, P>),
        route(Method::GET, "/v1/organisations/{id}/members", Access::Read, list_members::<R, P>),
        route(Method::PUT, "/v1/organisations/{id}/members/{developer_id}", Access::Owner, set_member::<R, P>),
        route(Method::DELETE, "/v1/organisations/{id}/members/{developer_id}", Access::Owner, remove_member::<R, P>),
        route(Method::GET, "/v1/organisations/{id}/invitations", Access::Read, list_invitations::<R, P>),
        route(Method::POST, "/v1/organisations/{id}/invitations", Access::Owner, invite::<R, P>),
        route(Method::GET, "/v1/organisations/{id}/apps", Access::Read, list_apps::<R, P>),
        route(Method::POST, "/v1/organisations/{id}/apps", Access::Owner, create_app::<R, P>),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Logistics", "tier": "gold"}))]
pub(crate) struct OrganisationBody {
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    /// The tier its apps' `group` limits count in.
    tier: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberBody {
    role: OrgRole,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "lead@acme.example", "role": "org-admin"}))]
pub(crate) struct InvitationBody {
    email: String,
    /// `member` when not given.
    role: Option<OrgRole>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrgAppBody {
    /// The member who makes it; usage is attributed to them.
    developer_id: String,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
}

/// A member as listed: the membership and who it is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MemberView {
    #[serde(flatten)]
    membership: Membership,
    email: String,
    name: String,
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
) -> Result<Json<Items<Organisation>>, AdminError> {
    Ok(Json(Items { items: s.repo.list(None).await? }))
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<OrganisationBody>,
) -> Result<(StatusCode, Tagged<Json<Organisation>>), AdminError> {
    let org = organisations::create(&s, &actor, body.name.as_deref().unwrap_or_default(), body.tier).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&org)?, Json(org))))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<Organisation>>, AdminError> {
    let (org, etag) = s.load_tagged("organisation", &id).await?;
    Ok(Tagged(etag, Json(org)))
}

/// Renames it or changes its tier (`"tier": ""` removes the tier); its apps' identities are
/// republished, so a tier change reaches the gateway's limits.
async fn patch<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<OrganisationBody>,
) -> Result<Tagged<Json<Organisation>>, AdminError> {
    let patched = s
        .modify(&actor, "organisation.update", ("organisation", &id), &if_match, |org: &mut Organisation| {
            if let Some(name) = &body.name {
                org.name = name.trim().to_owned();
            }
            if let Some(tier) = &body.tier {
                org.tier = Some(tier.trim().to_owned()).filter(|t| !t.is_empty());
            }
            organisations::check(org)?;
            Ok(vec![])
        })
        .await?;
    Ok(patched.map(Json))
}

async fn list_members<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<MemberView>>, AdminError> {
    s.load::<Organisation>("organisation", &id).await?;
    let items = organisations::members(&s, &id)
        .await?
        .into_iter()
        .map(|(membership, d)| MemberView { membership, email: d.email, name: d.name })
        .collect();
    Ok(Json(Items { items }))
}

/// Adds the developer with the role, or changes their role.
async fn set_member<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    IdPair(id, developer_id): IdPair,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<Membership>, AdminError> {
    Ok(Json(organisations::set_member(&s, &actor, &id, &developer_id, body.role).await?))
}

async fn remove_member<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    IdPair(id, developer_id): IdPair,
) -> Result<StatusCode, AdminError> {
    organisations::remove_member(&s, &actor, &id, &developer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pending invitations (neither accepted nor expired).
async fn list_invitations<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<Invitation>>, AdminError> {
    s.load::<Organisation>("organisation", &id).await?;
    Ok(Json(Items { items: organisations::pending(&s, &id).await? }))
}

async fn invite<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<InvitationBody>,
) -> Result<(StatusCode, Json<Invitation>), AdminError> {
    let role = body.role.unwrap_or(OrgRole::Member);
    Ok((StatusCode::CREATED, Json(organisations::invite(&s, &actor, &id, &body.email, role).await?)))
}

async fn list_apps<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<App>>, AdminError> {
    s.load::<Organisation>("organisation", &id).await?;
    Ok(Json(Items { items: s.repo.list(Some(&id)).await? }))
}

async fn create_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<OrgAppBody>,
) -> Result<(StatusCode, Tagged<Json<App>>), AdminError> {
    let app = organisations::create_app(&s, &actor, &id, &body.developer_id, body.name).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&app)?, Json(app))))
}
