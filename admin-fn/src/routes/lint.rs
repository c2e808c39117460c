//! `POST /v1/apis/lint`: lint a document without importing it, the same pure check that
//! `gatehouse lint FILE` runs offline (docs/lint.md).

use axum::http::Method;
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::openapi::{lint, LintReport};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::Repo;
use serde::Deserialize;

use super::apis::OpenApiSource;
use super::{route, Route};
use crate::error::{AdminError, FieldError};
use crate::extract::JsonBody;
use crate::publisher::Publisher;

/// Open to every staff role: it reads nothing stored and changes nothing.
pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::POST, "/v1/apis/lint", Access::Read, post)]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"openapi": "openapi: 3.1.0\ninfo: {title: Pets, version: '1'}\npaths:\n  /pets:\n    get:\n      responses: {'200': {description: OK}}\n"}))]
pub(crate) struct LintRequest {
    openapi: OpenApiSource,
}

/// 200 with the report whatever it finds (findings are the answer, not a failure); 422 only
/// when the text is not a document at all.
async fn post(JsonBody(body): JsonBody<LintRequest>) -> Result<Json<LintReport>, AdminError> {
    let text = match body.openapi {
        OpenApiSource::Text(text) => text,
        OpenApiSource::Document(value) => value.to_string(),
    };
    lint(&text).map(Json).map_err(|problem| {
        AdminError::invalid(ProblemKind::InvalidOpenApi, vec![FieldError::new(problem.pointer, problem.message)])
    })
}
