//! APIs: import from OpenAPI, edit, move through the lifecycle, delete drafts, purge caches.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::ids::IdKind;
use gatehouse_core::lifecycle::{Lifecycle, Transition};
use gatehouse_core::model::Access;
use gatehouse_core::model::{Api, AuthSettings, CacheSettings, UpstreamSettings, Versioning};
use gatehouse_core::openapi::{import, ImportedApi};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::{EntityKind, Repo, Write};
use gatehouse_core::time::UnixMillis;
use gatehouse_core::validation::ValidationSettings;
use serde::{Deserialize, Serialize};

use super::{revisions, route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, OptionalJson, QueryParams};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/apis", Access::Read, list::<R, P>),
        route(Method::POST, "/v1/apis", Access::Catalog, create::<R, P>),
        route(Method::GET, "/v1/apis/{id}", Access::Read, get::<R, P>),
        route(Method::PATCH, "/v1/apis/{id}", Access::Catalog, patch::<R, P>),
        route(Method::DELETE, "/v1/apis/{id}", Access::Catalog, delete::<R, P>),
        route(Method::POST, "/v1/apis/{id}/lifecycle", Access::Catalog, lifecycle::<R, P>),
        route(Method::POST, "/v1/apis/{id}/cache/purge", Access::Catalog, purge::<R, P>),
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
pub(crate) fn import_document(source: &OpenApiSource) -> Result<ImportedApi, AdminError> {
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
    /// Where calls go; when omitted, the document's first absolute `servers` URL (server
    /// variables at their defaults).
    #[serde(default)]
    upstream: Option<UpstreamSettings>,
    #[serde(default)]
    cache: CacheSettings,
    #[serde(default)]
    auth: Option<AuthSettings>,
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    /// Only clients in these CIDR ranges reach the API; to others it does not exist.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    client_networks: Vec<gatehouse_core::model::IpNet>,
    /// This API as one version of a family served side by side, by path or by header
    /// (docs/versions.md).
    #[serde(default)]
    versioning: Option<Versioning>,
    /// Requests checked against the document (and responses logged); off when omitted
    /// (docs/validation.md).
    #[serde(default)]
    validation: ValidationSettings,
}

/// Problems with where an API is mounted and where it forwards to.
pub(crate) fn placement_errors(api: &Api) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate::non_empty(&api.name, "/name", &mut errors);
    validate::base_path(&api.base_path, &mut errors);
    validate::hosts(&api.hosts, &mut errors);
    validate::upstream(&api.upstream, &mut errors);
    for (field, message) in api.versioning.iter().flat_map(Versioning::problems) {
        errors.push(FieldError::new(format!("/versioning/{field}"), message));
    }
    for id in api.validation.unknown_operations(&api.operations) {
        let at = format!("/validation/operations/{}", id.replace('~', "~0").replace('/', "~1"));
        errors
            .push(FieldError::new(at, "names no operation of the API's document (an operationId, or `METHOD /path`)"));
    }
    if let Some(jwt) = &api.auth.jwt {
        for (field, message) in jwt.problems() {
            errors.push(FieldError::new(format!("/auth/jwt/{field}"), message));
        }
    }
    errors
}

/// The upstream given, else one from the document's `servers`; neither is a 422 that says
/// both ways to fix it.
fn upstream_or_servers(
    given: Option<UpstreamSettings>,
    imported: &ImportedApi,
) -> Result<UpstreamSettings, AdminError> {
    if let Some(upstream) = given {
        return Ok(upstream);
    }
    match &imported.default_upstream {
        Some(url) => Ok(UpstreamSettings { url: url.clone(), ..UpstreamSettings::default() }),
        None => Err(AdminError::validation(vec![FieldError::new(
            "/upstream",
            "required: the document's servers give no absolute http(s) URL to forward to",
        )])),
    }
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
    api.import_report = imported.report;
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewApi>,
) -> Result<(StatusCode, Tagged<Json<Api>>), AdminError> {
    let imported = import_document(&body.openapi)?;
    let upstream = upstream_or_servers(body.upstream, &imported)?;
    if body.name.is_none() && imported.title.trim().is_empty() {
        // The name would come from the title: name the field the owner wrote, not `/name`.
        let message = "must not be empty: the API is named after it when the request gives no `name`";
        return Err(AdminError::invalid(
            ProblemKind::InvalidOpenApi,
            vec![FieldError::new("/openapi/info/title", message)],
        ));
    }
    let now = s.now();
    let mut api = Api {
        id: fresh_id(IdKind::Api)?,
        name: body.name.unwrap_or_else(|| imported.title.clone()),
        version: String::new(),
        base_path: body.base_path,
        hosts: validate::normal_hosts(&body.hosts),
        upstream,
        auth: AuthSettings::default(),
        cache: body.cache,
        lifecycle: Lifecycle::Draft,
        operations: Vec::new(),
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: now,
        updated_at: now,
    };
    apply_document(&mut api, imported, body.auth);
    api.client_networks = body.client_networks;
    api.versioning = body.versioning;
    api.validation = body.validation;
    check_placement(&api)?;
    let first = revisions::record::first(&api, &actor.name, now);
    let writes = vec![Write::insert(&api)?, Write::insert(&first)?];
    let changes = vec![Change::of(&api, ChangeOp::Created), Change::of(&first, ChangeOp::Created)];
    s.commit(&actor, "api.create", writes, changes).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&api)?, Json(api))))
}

async fn list<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>) -> Result<Json<Items<Api>>, AdminError> {
    Ok(Json(Items { items: s.repo.list::<Api>(None).await? }))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<Api>>, AdminError> {
    let (api, etag) = s.load_tagged::<Api>("API", &id).await?;
    Ok(Tagged(etag, Json(api)))
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
    /// Replaces the list; `[]` opens the API to every network again.
    #[schema(value_type = Option<Vec<String>>)]
    client_networks: Option<Vec<gatehouse_core::model::IpNet>>,
    /// Replaces how this API is versioned (docs/versions.md).
    versioning: Option<Versioning>,
    /// With `openapi`: what changed, for the changelog.
    #[schema(max_length = 2000)]
    note: Option<String>,
    /// Replaces the validation settings whole; `{}` turns every check off.
    validation: Option<ValidationSettings>,
}

/// A new `openapi` is a re-import: a new revision, published at once, refused with 409 when it
/// breaks callers of a live API unless `?force=true` (see `revisions`).
async fn patch<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    QueryParams(q): QueryParams<revisions::ForceQuery>,
    JsonBody(patch): JsonBody<ApiPatch>,
) -> Result<Tagged<Json<Api>>, AdminError> {
    let imported = patch.openapi.as_ref().map(import_document).transpose()?;
    let reimport = match &imported {
        Some(imported) => Some(revisions::reimport::check(&s, &id, imported, patch.note.clone(), q.force).await?),
        None => None,
    };
    let now = s.now();
    let patched = s
        .modify(&actor, "api.update", ("API", &id), &if_match, |api: &mut Api| {
            let mut extra = Vec::new();
            match (&imported, &reimport) {
                (Some(imported), Some(reimport)) => {
                    extra = reimport.writes(api, &actor.name, now)?;
                    apply_document(api, imported.clone(), patch.auth.clone());
                }
                _ => api.auth = patch.auth.clone().unwrap_or_else(|| api.auth.clone()),
            }
            edit_fields(api, &patch);
            if let Some(validation) = &patch.validation {
                api.validation.clone_from(validation);
            }
            api.updated_at = now;
            check_placement(api)?;
            Ok(extra)
        })
        .await?;
    Ok(patched.map(Json))
}

/// Copies the fields a patch gives (other than the document and auth) onto `api`.
fn edit_fields(api: &mut Api, patch: &ApiPatch) {
    if let Some(name) = &patch.name {
        api.name.clone_from(name);
    }
    if let Some(base_path) = &patch.base_path {
        api.base_path.clone_from(base_path);
    }
    if let Some(hosts) = &patch.hosts {
        api.hosts = validate::normal_hosts(hosts);
    }
    if let Some(upstream) = &patch.upstream {
        api.upstream.clone_from(upstream);
    }
    if let Some(cache) = &patch.cache {
        api.cache.clone_from(cache);
    }
    if let Some(networks) = &patch.client_networks {
        api.client_networks.clone_from(networks);
    }
    if let Some(versioning) = &patch.versioning {
        api.versioning = Some(versioning.clone());
    }
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LifecycleAction {
    Publish,
    Deprecate,
    Retire,
}

/// The body of a lifecycle call, read flat rather than as the core's internally tagged
/// [`Transition`]: serde reads a tagged enum through a buffer that loses the field path, and a
/// refused `sunset_at` must be named in the 422.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "deprecate", "sunset_at": "2030-06-30T00:00:00Z", "successor": "https://api.example.com/v2"}))]
pub(crate) struct LifecycleRequest {
    action: LifecycleAction,
    /// Deprecate only: when the API stops answering (the `Sunset` header).
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    sunset_at: Option<UnixMillis>,
    /// Deprecate or retire: the URL of the version that replaces this one.
    #[serde(default)]
    successor: Option<String>,
}

impl LifecycleRequest {
    fn transition(self) -> Result<Transition, AdminError> {
        let refuse = |field: &str, action: &str| {
            let message = format!("{field} does not apply to {action}");
            AdminError::validation(vec![FieldError::new(format!("/{field}"), message)])
        };
        match self.action {
            LifecycleAction::Publish if self.sunset_at.is_some() => Err(refuse("sunset_at", "publish")),
            LifecycleAction::Publish if self.successor.is_some() => Err(refuse("successor", "publish")),
            LifecycleAction::Publish => Ok(Transition::Publish),
            LifecycleAction::Deprecate => {
                Ok(Transition::Deprecate { sunset_at: self.sunset_at, successor: self.successor })
            }
            LifecycleAction::Retire if self.sunset_at.is_some() => Err(refuse("sunset_at", "retire")),
            LifecycleAction::Retire => Ok(Transition::Retire { successor: self.successor }),
        }
    }
}

async fn lifecycle<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(request): JsonBody<LifecycleRequest>,
) -> Result<Tagged<Json<Api>>, AdminError> {
    let moved = move_api(&s, &actor, &id, &if_match, request.transition()?).await?;
    Ok(moved.map(Json))
}

/// Moves an API along its lifecycle: the one way, for the admin API and the portal's admin
/// pages.
pub(crate) async fn move_api<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    transition: Transition,
) -> Result<Tagged<Api>, AdminError> {
    let now = s.now();
    let mut was_published = false;
    let moved = s
        .modify(actor, "api.lifecycle", ("API", id), if_match, |api: &mut Api| {
            was_published = matches!(api.lifecycle, Lifecycle::Published { .. });
            api.lifecycle = api
                .lifecycle
                .apply(transition.clone(), now)
                .map_err(|e| AdminError::problem(ProblemKind::InvalidTransition, e.to_string()))?;
            api.updated_at = now;
            Ok(vec![])
        })
        .await?;
    if was_published && matches!(moved.1.lifecycle, Lifecycle::Deprecated { .. }) {
        let sent = crate::notices::deprecated(s, &moved.1).await;
        tracing::info!(api = %moved.1.id, sent, "deprecation notices sent");
    }
    Ok(moved)
}

/// Only drafts can be deleted: a published API has callers, who deserve a deprecation and a
/// `410 Gone` with a successor rather than a sudden 404.
async fn delete<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<StatusCode, AdminError> {
    s.conditional(&actor, "api.delete", ("API", &id), &if_match, |api: Api, expected| {
        if api.lifecycle != Lifecycle::Draft {
            let state = api.lifecycle.name();
            let detail = format!("the API is {state}; only drafts can be deleted (retire it instead)");
            return Err(AdminError::conflict(detail));
        }
        let write = Write::DeleteIf { kind: EntityKind::Api, id: id.clone(), expected };
        Ok((vec![write], vec![Change::of(&api, ChangeOp::Deleted)], StatusCode::NO_CONTENT))
    })
    .await
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
