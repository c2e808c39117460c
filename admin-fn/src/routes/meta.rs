//! Unauthenticated endpoints: liveness and this API's own OpenAPI document.

use axum::http::{header, Method};
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_core::store::Repo;

use super::{route, Route};
use crate::publisher::Publisher;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::GET, "/v1/health", health), route(Method::GET, "/v1/openapi.json", openapi)]
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI_DOCUMENT)
}
