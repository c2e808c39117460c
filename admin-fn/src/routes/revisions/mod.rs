//! Revisions of an API: every document imported for it, numbered, each with its diff from
//! the revision live before it. A revision can be proposed (imported and diffed, not served)
//! and published later; a re-import (`PATCH /v1/apis/{id}` with `openapi`, `PUT /v1/config`)
//! proposes and publishes in one step. Publishing a revision that breaks callers of a live
//! API is refused with 409 unless forced ([`breaking::guard`]).

pub(crate) mod breaking;
pub(crate) mod record;
pub(crate) mod reimport;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::model::{Access, Api, Revision};
use gatehouse_core::openapi::diff::{diff, ApiDiff};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::{Repo, Write};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

use super::apis::{apply_document, import_document, OpenApiSource};
use super::{route, Route};
use crate::auth::Actor;
use crate::error::AdminError;
use crate::extract::{Id, JsonBody, QueryParams};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::AdminState;
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/apis/{id}/revisions", Access::Read, list::<R, P>),
        route(Method::POST, "/v1/apis/{id}/revisions", Access::Catalog, propose::<R, P>),
        route(Method::GET, "/v1/apis/{id}/revisions/{number}", Access::Read, get::<R, P>),
        route(Method::POST, "/v1/apis/{id}/revisions/{number}/publish", Access::Catalog, publish::<R, P>),
    ]
}

/// `?force=true`: publish even when the revision breaks callers of a live API.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForceQuery {
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRevision {
    openapi: OpenApiSource,
    /// What changed, in the owner's words (shown in the portal's changelog).
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// A revision without its document: a changelog entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RevisionSummary {
    id: String,
    number: u32,
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// Whether the API serves this revision's document now.
    live: bool,
    forced: bool,
    breaking: usize,
    non_breaking: usize,
    diff: ApiDiff,
    created_by: String,
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: UnixMillis,
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    published_at: Option<UnixMillis>,
}

impl RevisionSummary {
    pub(crate) fn of(r: &Revision, live: bool) -> RevisionSummary {
        let breaking = r.diff.breaking().count();
        RevisionSummary {
            id: r.id.clone(),
            number: r.number,
            version: r.version.clone(),
            note: r.note.clone(),
            live,
            forced: r.forced,
            breaking,
            non_breaking: r.diff.changes.len() - breaking,
            diff: r.diff.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            published_at: r.published_at,
        }
    }
}

/// One revision with its document, and how it differs from what the API serves now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RevisionView {
    revision: Revision,
    /// From the API's live document to this revision's (empty for the live one).
    against_live: ApiDiff,
}

/// `/v1/apis/{id}/revisions/{number}`.
pub(crate) struct RevisionPath {
    api_id: String,
    number: u32,
}

impl<S: Send + Sync> FromRequestParts<S> for RevisionPath {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        let Path((api_id, number)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| AdminError::problem(ProblemKind::BadRequest, e.body_text()))?;
        match number.parse() {
            Ok(number) => Ok(RevisionPath { api_id, number }),
            Err(_) => Err(AdminError::not_found("revision", &number)),
        }
    }
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<RevisionSummary>>, AdminError> {
    s.load::<Api>("API", &id).await?;
    let revisions = record::all(&s, &id).await?;
    let live = record::live(&revisions).map(|r| r.number);
    let items = revisions.iter().rev().map(|r| RevisionSummary::of(r, Some(r.number) == live)).collect();
    Ok(Json(Items { items }))
}

async fn propose<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    JsonBody(body): JsonBody<NewRevision>,
) -> Result<(StatusCode, Json<RevisionView>), AdminError> {
    let imported = import_document(&body.openapi)?;
    let api = s.load::<Api>("API", &id).await?;
    let existing = record::all(&s, &id).await?;
    let changes = diff(&api.openapi, &imported.document);
    let next = record::Next {
        openapi: imported.document,
        version: imported.version,
        note: body.note,
        diff: changes.clone(),
        published: false,
        forced: false,
    };
    let revisions = record::next(&api, &existing, next, &actor.name, s.now());
    let writes = revisions.iter().map(Write::insert).collect::<Result<Vec<_>, _>>()?;
    let notices = revisions.iter().map(|r| Change::of(r, ChangeOp::Created)).collect();
    s.commit(&actor, "api.revision.propose", writes, notices).await?;
    let revision = revisions.into_iter().last().ok_or_else(|| AdminError::Internal("no revision made".into()))?;
    Ok((StatusCode::CREATED, Json(RevisionView { revision, against_live: changes })))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    at: RevisionPath,
) -> Result<Json<RevisionView>, AdminError> {
    let api = s.load::<Api>("API", &at.api_id).await?;
    let revision = s.load::<Revision>("revision", &Revision::id_for(&at.api_id, at.number)).await?;
    let against_live = diff(&api.openapi, &revision.openapi);
    Ok(Json(RevisionView { revision, against_live }))
}

/// Makes a proposed (or earlier) revision's document the API's: refused with 409 when it
/// breaks callers of a live API, unless `?force=true`.
async fn publish<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    at: RevisionPath,
    if_match: IfMatch,
    QueryParams(q): QueryParams<ForceQuery>,
) -> Result<Tagged<Json<Api>>, AdminError> {
    let api = s.load::<Api>("API", &at.api_id).await?;
    let mut revision = s.load::<Revision>("revision", &Revision::id_for(&at.api_id, at.number)).await?;
    let changes = diff(&api.openapi, &revision.openapi);
    breaking::guard(&s, &api, revision.number, &changes, q.force).await?;
    let imported = import_document(&OpenApiSource::Document(revision.openapi.clone()))?;
    let now = s.now();
    revision.published_at = Some(now);
    revision.forced = q.force && changes.is_breaking();
    revision.diff = changes;
    let checked = api.openapi;
    let published = s
        .modify(&actor, "api.revision.publish", ("API", &at.api_id), &if_match, |api: &mut Api| {
            unchanged_since_check(api, &checked)?;
            apply_document(api, imported.clone(), None);
            api.updated_at = now;
            Ok(vec![(Write::update(&revision)?, Change::of(&revision, ChangeOp::Updated))])
        })
        .await?;
    Ok(published.map(Json))
}

/// The API's document is still the one the breaking check read; else the check is stale.
pub(crate) fn unchanged_since_check(api: &Api, checked: &serde_json::Value) -> Result<(), AdminError> {
    match api.openapi == *checked {
        true => Ok(()),
        false => Err(AdminError::conflict("the API's document changed while the revision was checked; retry")),
    }
}
