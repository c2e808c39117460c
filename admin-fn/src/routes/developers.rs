//! Developers (unique by email, compared lower-cased) and their apps.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::model::Access;
use gatehouse_core::model::{App, Developer};
use gatehouse_core::store::{Repo, Write};
use serde::Deserialize;

use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/developers", Access::Read, list_developers::<R, P>),
        route(Method::POST, "/v1/developers", Access::Owner, create_developer::<R, P>),
        route(Method::GET, "/v1/developers/{id}", Access::Read, get_developer::<R, P>),
        route(Method::PATCH, "/v1/developers/{id}", Access::Owner, patch_developer::<R, P>),
        route(Method::GET, "/v1/developers/{id}/apps", Access::Read, list_developer_apps::<R, P>),
        route(Method::POST, "/v1/developers/{id}/apps", Access::Owner, create_developer_app::<R, P>),
        route(Method::GET, "/v1/apps", Access::Read, list_apps::<R, P>),
        route(Method::POST, "/v1/apps", Access::Owner, create_app::<R, P>),
        route(Method::GET, "/v1/apps/{id}", Access::Read, get_app::<R, P>),
        route(Method::PATCH, "/v1/apps/{id}", Access::Owner, patch_app::<R, P>),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "name": "Ada", "group": "partners"}))]
pub(crate) struct DeveloperBody {
    #[schema(pattern = r"^[^@\s]+@\S*\.\S*$")]
    email: Option<String>,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    group: Option<String>,
    organisation: Option<String>,
}

/// A closed account takes no new apps or keys, and its erased fields stay erased.
pub(crate) fn refuse_closed(d: &Developer) -> Result<(), AdminError> {
    match d.closed_at {
        Some(_) => Err(AdminError::conflict(format!("the account of developer {} is closed", d.id))),
        None => Ok(()),
    }
}

fn check_developer(d: &Developer) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    validate::email(&d.email, &mut errors);
    validate::non_empty(&d.name, "/name", &mut errors);
    AdminError::check(errors)
}

async fn create_developer<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<DeveloperBody>,
) -> Result<(StatusCode, Tagged<Json<Developer>>), AdminError> {
    let developer = Developer {
        id: fresh_id(IdKind::Developer)?,
        email: body.email.unwrap_or_default().trim().to_owned(),
        name: body.name.unwrap_or_default(),
        group: body.group,
        organisation: body.organisation,
        created_at: s.now(),
        terms_accepted_at: None,
        closed_at: None,
    };
    let developer = create(&s, &actor, developer).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&developer)?, Json(developer))))
}

/// Checks and stores a new developer: the one way in, for the admin API and the portal's
/// sign-up alike.
pub(crate) async fn create<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    developer: Developer,
) -> Result<Developer, AdminError> {
    check_developer(&developer)?;
    let change = Change::of(&developer, ChangeOp::Created);
    s.commit(actor, "developer.create", vec![Write::insert(&developer)?], vec![change]).await?;
    Ok(developer)
}

/// Changes only the fields the body names, on the stored record as it is at the write (see
/// `AdminState::modify`), so a concurrent PATCH of another field is kept.
async fn patch_developer<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<DeveloperBody>,
) -> Result<Tagged<Json<Developer>>, AdminError> {
    let patched = s
        .modify(&actor, "developer.update", ("developer", &id), &if_match, |developer: &mut Developer| {
            refuse_closed(developer)?;
            if let Some(email) = &body.email {
                developer.email = email.trim().to_owned();
            }
            if let Some(name) = &body.name {
                developer.name.clone_from(name);
            }
            if body.group.is_some() {
                developer.group.clone_from(&body.group);
            }
            if body.organisation.is_some() {
                developer.organisation.clone_from(&body.organisation);
            }
            check_developer(developer)?;
            Ok(vec![])
        })
        .await?;
    Ok(patched.map(Json))
}

async fn list_developers<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
) -> Result<Json<Items<Developer>>, AdminError> {
    Ok(Json(Items { items: s.repo.list(None).await? }))
}

async fn get_developer<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<Developer>>, AdminError> {
    let (developer, etag) = s.load_tagged("developer", &id).await?;
    Ok(Tagged(etag, Json(developer)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppBody {
    developer_id: Option<String>,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
}

pub(crate) async fn insert_app<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    developer_id: String,
    organisation_id: Option<String>,
    name: Option<String>,
) -> Result<App, AdminError> {
    let name = name.unwrap_or_default();
    let app = App { id: fresh_id(IdKind::App)?, developer_id, organisation_id, name, created_at: s.now() };
    let mut errors = Vec::new();
    validate::non_empty(&app.name, "/name", &mut errors);
    AdminError::check(errors)?;
    s.commit(actor, "app.create", vec![Write::insert(&app)?], vec![Change::of(&app, ChangeOp::Created)]).await?;
    Ok(app)
}

async fn create_developer_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<AppBody>,
) -> Result<(StatusCode, Tagged<Json<App>>), AdminError> {
    refuse_closed(&s.load::<Developer>("developer", &id).await?)?;
    let app = insert_app(&s, &actor, id, None, body.name).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&app)?, Json(app))))
}

async fn create_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<AppBody>,
) -> Result<(StatusCode, Tagged<Json<App>>), AdminError> {
    let developer_id = body.developer_id.unwrap_or_default();
    let Ok(developer) = s.repo.get::<Developer>(&developer_id).await else {
        return Err(AdminError::validation(vec![FieldError::new("/developer_id", "no developer with this id")]));
    };
    refuse_closed(&developer)?;
    let app = insert_app(&s, &actor, developer_id, None, body.name).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&app)?, Json(app))))
}

async fn patch_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<AppBody>,
) -> Result<Tagged<Json<App>>, AdminError> {
    let patched = s
        .modify(&actor, "app.update", ("app", &id), &if_match, |app: &mut App| {
            if body.developer_id.as_ref().is_some_and(|d| *d != app.developer_id) {
                return Err(AdminError::validation(vec![FieldError::new(
                    "/developer_id",
                    "an app cannot change owner",
                )]));
            }
            if let Some(name) = &body.name {
                app.name.clone_from(name);
            }
            let mut errors = Vec::new();
            validate::non_empty(&app.name, "/name", &mut errors);
            AdminError::check(errors)?;
            Ok(vec![])
        })
        .await?;
    Ok(patched.map(Json))
}

async fn list_developer_apps<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<App>>, AdminError> {
    s.load::<Developer>("developer", &id).await?;
    Ok(Json(Items { items: s.repo.list(Some(&id)).await? }))
}

async fn list_apps<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>) -> Result<Json<Items<App>>, AdminError> {
    Ok(Json(Items { items: s.repo.list(None).await? }))
}

async fn get_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<App>>, AdminError> {
    let (app, etag) = s.load_tagged("app", &id).await?;
    Ok(Tagged(etag, Json(app)))
}
