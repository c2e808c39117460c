//! Developers (unique by email, compared lower-cased) and their apps.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::model::{App, Developer};
use gatehouse_core::store::{Repo, Write};
use serde::Deserialize;

use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{fresh_id, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/developers", list_developers::<R, P>),
        route(Method::POST, "/v1/developers", create_developer::<R, P>),
        route(Method::GET, "/v1/developers/{id}", get_developer::<R, P>),
        route(Method::PATCH, "/v1/developers/{id}", patch_developer::<R, P>),
        route(Method::GET, "/v1/developers/{id}/apps", list_developer_apps::<R, P>),
        route(Method::POST, "/v1/developers/{id}/apps", create_developer_app::<R, P>),
        route(Method::GET, "/v1/apps", list_apps::<R, P>),
        route(Method::POST, "/v1/apps", create_app::<R, P>),
        route(Method::GET, "/v1/apps/{id}", get_app::<R, P>),
        route(Method::PATCH, "/v1/apps/{id}", patch_app::<R, P>),
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
) -> Result<(StatusCode, Json<Developer>), AdminError> {
    let developer = Developer {
        id: fresh_id(IdKind::Developer)?,
        email: body.email.unwrap_or_default().trim().to_owned(),
        name: body.name.unwrap_or_default(),
        group: body.group,
        organisation: body.organisation,
        created_at: s.now(),
    };
    check_developer(&developer)?;
    let change = Change::of(&developer, ChangeOp::Created);
    s.commit(&actor, "developer.create", vec![Write::insert(&developer)?], vec![change]).await?;
    Ok((StatusCode::CREATED, Json(developer)))
}

async fn patch_developer<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<DeveloperBody>,
) -> Result<Json<Developer>, AdminError> {
    let mut developer = s.load::<Developer>("developer", &id).await?;
    developer.email = body.email.map_or(developer.email, |e| e.trim().to_owned());
    developer.name = body.name.unwrap_or(developer.name);
    developer.group = body.group.or(developer.group);
    developer.organisation = body.organisation.or(developer.organisation);
    check_developer(&developer)?;
    let change = Change::of(&developer, ChangeOp::Updated);
    s.commit(&actor, "developer.update", vec![Write::update(&developer)?], vec![change]).await?;
    Ok(Json(developer))
}

async fn list_developers<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
) -> Result<Json<Items<Developer>>, AdminError> {
    Ok(Json(Items { items: s.repo.list(None).await? }))
}

async fn get_developer<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Developer>, AdminError> {
    Ok(Json(s.load("developer", &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppBody {
    developer_id: Option<String>,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
}

async fn insert_app<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    developer_id: String,
    name: Option<String>,
) -> Result<App, AdminError> {
    let app = App { id: fresh_id(IdKind::App)?, developer_id, name: name.unwrap_or_default(), created_at: s.now() };
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
) -> Result<(StatusCode, Json<App>), AdminError> {
    s.load::<Developer>("developer", &id).await?;
    Ok((StatusCode::CREATED, Json(insert_app(&s, &actor, id, body.name).await?)))
}

async fn create_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<AppBody>,
) -> Result<(StatusCode, Json<App>), AdminError> {
    let developer_id = body.developer_id.unwrap_or_default();
    if s.repo.get::<Developer>(&developer_id).await.is_err() {
        return Err(AdminError::validation(vec![FieldError::new("/developer_id", "no developer with this id")]));
    }
    Ok((StatusCode::CREATED, Json(insert_app(&s, &actor, developer_id, body.name).await?)))
}

async fn patch_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<AppBody>,
) -> Result<Json<App>, AdminError> {
    let mut app = s.load::<App>("app", &id).await?;
    if body.developer_id.as_ref().is_some_and(|d| *d != app.developer_id) {
        return Err(AdminError::validation(vec![FieldError::new("/developer_id", "an app cannot change owner")]));
    }
    app.name = body.name.unwrap_or(app.name);
    let mut errors = Vec::new();
    validate::non_empty(&app.name, "/name", &mut errors);
    AdminError::check(errors)?;
    s.commit(&actor, "app.update", vec![Write::update(&app)?], vec![Change::of(&app, ChangeOp::Updated)]).await?;
    Ok(Json(app))
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
) -> Result<Json<App>, AdminError> {
    Ok(Json(s.load("app", &id).await?))
}
