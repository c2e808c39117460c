//! Unauthenticated endpoints: liveness and this API's own OpenAPI document.

use axum::http::{header, Method};
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::store::Repo;
use serde::Serialize;

use super::{route, Route};
use crate::publisher::Publisher;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/health", Access::Public, health),
        route(Method::GET, "/v1/openapi.json", Access::Public, openapi),
    ]
}

/// The liveness answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`: the process answers.
    #[schema(value_type = String, pattern = "^ok$")]
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// An OpenAPI 3.1 document (this one), described only as an object: its own schema is the
/// OpenAPI specification's.
pub(crate) struct OpenApiDocument;

impl utoipa::PartialSchema for OpenApiDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let object = utoipa::openapi::schema::ObjectBuilder::new();
        object.schema_type(utoipa::openapi::schema::Type::Object).required("openapi").required("paths").into()
    }
}

impl utoipa::ToSchema for OpenApiDocument {}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document())
}
