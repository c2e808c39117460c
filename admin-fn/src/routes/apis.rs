//! APIs: import from OpenAPI, edit, move through the lifecycle, delete drafts, purge caches.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::ids::IdKind;
use gatehouse_core::lifecycle::{Lifecycle, Transition};
use gatehouse_core::model::{Api, AuthSettings, CacheSettings, UpstreamSettings};
use gatehouse_core::openapi::{import, ImportedApi};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::{Repo, Write};
use serde::{Deserialize, Serialize};

use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, OptionalJson};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{fresh_id, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/apis", list::<R, P>),
        route(Method::POST, "/v1/apis", create::<R, P>),
        route(Method::GET, "/v1/apis/{id}", get::<R, P>),
        route(Method::PATCH, "/v1/apis/{id}", patch::<R, P>),
        route(Method::DELETE, "/v1/apis/{id}", delete::<R, P>),
        route(Method::POST, "/v1/apis/{id}/lifecycle", lifecycle::<R, P>),
        route(Method::POST, "/v1/apis/{id}/cache/purge", purge::<R, P>),
    ]
}

/// An OpenAPI document as a string (JSON or YAML) or as an inline JSON object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OpenApiSource {
    Text(String),
    Document(serde_json::Value),
}

/// Written out because a derive would say `oneOf: [string, {}]`, which every string matches
/// twice: the document is JSON or YAML text, or a JSON object.
impl utoipa::PartialSchema for OpenApiSource {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let text = ObjectBuilder::new().schema_type(Type::String).description(Some("JSON or YAML text"));
        OneOfBuilder::new().item(text).item(ObjectBuilder::new().schema_type(Type::Object)).into()
    }
}

impl utoipa::ToSchema for OpenApiSource {}

/// Imports a document, returning every problem the importer found.
pub(crate) fn import_or_errors(source: &OpenApiSource) -> Result<ImportedApi, Vec<FieldError>> {
    let text = match source {
        OpenApiSource::Text(text) => text.clone(),
        OpenApiSource::Document(value) => value.to_string(),
    };
    import(&text).map_err(|problems| problems.into_iter().map(|p| FieldError::new(p.pointer, p.message)).collect())
}

/// Imports a document, answering 422 with every problem the importer found.
fn import_document(source: &OpenApiSource) -> Result<ImportedApi, AdminError> {
    import_or_errors(source).map_err(|errors| AdminError::invalid(ProblemKind::InvalidOpenApi, errors))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"openapi": {"openapi": "3.1.0", "info": {"title": "Pets", "version": "1.0.0"}, "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {"description": "OK"}}}}}}, "base_path": "/pets", "upstream": {"url": "https://pets.internal", "timeout_ms": 5000}}))]
pub(crate) struct NewApi {
    openapi: OpenApiSource,
    #[schema(pattern = r"^(/|(/[^/\s?#{}]+)+)$")]
    base_path: String,
    #[serde(default)]
    hosts: Vec<String>,
    upstream: UpstreamSettings,
    #[serde(default)]
    cache: CacheSettings,
    #[serde(default)]
    auth: Option<AuthSettings>,
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
}

/// Problems with where an API is mounted and where it forwards to.
pub(crate) fn placement_errors(api: &Api) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate::non_empty(&api.name, "/name", &mut errors);
    validate::base_path(&api.base_path, &mut errors);
    validate::hosts(&api.hosts, &mut errors);
    validate::upstream(&api.upstream, &mut errors);
    errors
}

fn check_placement(api: &Api) -> Result<(), AdminError> {
    AdminError::check(placement_errors(api))
}

/// Copies what the document defines onto the API; `auth` is kept when given explicitly.
pub(crate) fn apply_document(api: &mut Api, imported: ImportedApi, auth: Option<AuthSettings>) {
    api.version = imported.version;
    api.operations = imported.operations;
    api.auth = auth.unwrap_or(imported.auth);
    api.openapi = imported.document;
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewApi>,
) -> Result<(StatusCode, Json<Api>), AdminError> {
    let imported = import_document(&body.openapi)?;
    let now = s.now();
    let mut api = Api {
        id: fresh_id(IdKind::Api)?,
        name: body.name.unwrap_or_else(|| imported.title.clone()),
        version: String::new(),
        base_path: body.base_path,
        hosts: validate::normal_hosts(&body.hosts),
        upstream: body.upstream,
        auth: AuthSettings::default(),
        cache: body.cache,
        lifecycle: Lifecycle::Draft,
        operations: Vec::new(),
        openapi: serde_json::Value::Null,
        created_at: now,
        updated_at: now,
    };
    apply_document(&mut api, imported, body.auth);
    check_placement(&api)?;
    s.commit(&actor, "api.create", vec![Write::insert(&api)?], vec![Change::of(&api, ChangeOp::Created)]).await?;
    Ok((StatusCode::CREATED, Json(api)))
}

async fn list<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>) -> Result<Json<Items<Api>>, AdminError> {
    Ok(Json(Items { items: s.repo.list::<Api>(None).await? }))
}

async fn get<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>, Id(id): Id) -> Result<Json<Api>, AdminError> {
    Ok(Json(s.load::<Api>("API", &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiPatch {
    openapi: Option<OpenApiSource>,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    #[schema(pattern = r"^(/|(/[^/\s?#{}]+)+)$")]
    base_path: Option<String>,
    hosts: Option<Vec<String>>,
    upstream: Option<UpstreamSettings>,
    cache: Option<CacheSettings>,
    auth: Option<AuthSettings>,
}

async fn patch<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(patch): JsonBody<ApiPatch>,
) -> Result<Json<Api>, AdminError> {
    let mut api = s.load::<Api>("API", &id).await?;
    match patch.openapi.as_ref().map(import_document).transpose()? {
        Some(imported) => apply_document(&mut api, imported, patch.auth),
        None => api.auth = patch.auth.unwrap_or(api.auth),
    }
    api.name = patch.name.unwrap_or(api.name);
    api.base_path = patch.base_path.unwrap_or(api.base_path);
    api.hosts = patch.hosts.map_or(api.hosts, |h| validate::normal_hosts(&h));
    api.upstream = patch.upstream.unwrap_or(api.upstream);
    api.cache = patch.cache.unwrap_or(api.cache);
    api.updated_at = s.now();
    check_placement(&api)?;
    s.commit(&actor, "api.update", vec![Write::update(&api)?], vec![Change::of(&api, ChangeOp::Updated)]).await?;
    Ok(Json(api))
}

async fn lifecycle<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(transition): JsonBody<Transition>,
) -> Result<Json<Api>, AdminError> {
    let mut api = s.load::<Api>("API", &id).await?;
    let now = s.now();
    api.lifecycle = api
        .lifecycle
        .apply(transition, now)
        .map_err(|e| AdminError::problem(ProblemKind::InvalidTransition, e.to_string()))?;
    api.updated_at = now;
    s.commit(&actor, "api.lifecycle", vec![Write::update(&api)?], vec![Change::of(&api, ChangeOp::Updated)]).await?;
    Ok(Json(api))
}

/// Only drafts can be deleted: a published API has callers, who deserve a deprecation and a
/// `410 Gone` with a successor rather than a sudden 404.
async fn delete<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
) -> Result<StatusCode, AdminError> {
    let api = s.load::<Api>("API", &id).await?;
    if api.lifecycle != Lifecycle::Draft {
        let state = api.lifecycle.name();
        return Err(AdminError::conflict(format!(
            "the API is {state}; only drafts can be deleted (retire it instead)"
        )));
    }
    s.commit(&actor, "api.delete", vec![Write::delete::<Api>(&id)], vec![Change::of(&api, ChangeOp::Deleted)]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurgeRequest {
    tag: Option<String>,
}

async fn purge<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
    OptionalJson(request): OptionalJson<PurgeRequest>,
) -> Result<Json<Purged>, AdminError> {
    let api = s.load::<Api>("API", &id).await?;
    let selector = match request.tag {
        Some(tag) => PurgeSelector::Tag { api_id: api.id, tag },
        None => PurgeSelector::Api { api_id: api.id },
    };
    Ok(Json(Purged { purged: s.publisher.purge(selector).await? }))
}

/// What a purge removed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Purged {
    /// Cached responses removed (0 on the edge, which purges by time and cannot count them).
    purged: u64,
}
