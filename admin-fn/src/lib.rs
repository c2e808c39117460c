//! Gatehouse control plane: the admin API v1 as one axum `Router`, served by `lambda_http`
//! on AWS, by the native binary locally and by tests in-process.
//!
//! It reaches the world only through two ports, [`gatehouse_core::store::Repo`] (the store
//! of record) and [`Publisher`] (the edge read model and caches). It must never log a key,
//! secret or admin token, never answer a bad request with a 500, and never let a plain-text
//! framework rejection reach a client: every refusal is an RFC 9457 problem.

mod auth;
mod error;
mod extract;
mod objects_only;
mod openapi;
pub mod portal;
mod preconditions;
mod publisher;
mod routes;
mod state;
mod strict_json;
mod views;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::Response;
use axum::Router;
use gatehouse_core::problem::{Problem, ProblemKind, CONTENT_TYPE};
use gatehouse_core::store::Repo;

pub use auth::Actor;
pub use error::{AdminError, FieldError};
pub use publisher::{Change, ChangeOp, PublishError, Publisher, RecordingPublisher};
pub use state::{AdminSettings, AdminState, Clock};
pub use views::KeyView;

/// The admin API's own OpenAPI 3.1 document, served at `GET /v1/openapi.json`: built from the
/// Rust types on first use (see `openapi`).
pub fn openapi_document() -> &'static str {
    openapi::document()
}

/// The admin API router, ready to serve.
pub fn router<R: Repo, P: Publisher>(state: AdminState<R, P>) -> Router {
    let guard = from_fn_with_state(state.clone(), auth::require_admin::<R, P>);
    let admin = routes::admin::<R, P>().into_iter().fold(Router::new(), |r, route| r.route(route.path, route.handler));
    let public =
        routes::public::<R, P>().into_iter().fold(Router::new(), |r, route| r.route(route.path, route.handler));
    public
        .merge(admin.route_layer(guard))
        .fallback(|| async { AdminError::problem(ProblemKind::NotFound, "no such admin endpoint") })
        .layer(map_response(problem_for_bare_errors))
        .with_state(state)
}

/// Every (method, path) the router serves, for documentation checks.
pub fn route_list() -> Vec<(Method, &'static str)> {
    type R = gatehouse_core::store::MemoryRepo;
    let all = routes::public::<R, RecordingPublisher>().into_iter().chain(routes::admin::<R, RecordingPublisher>());
    all.map(|route| (route.method, route.path)).collect()
}

/// Safety net: an error the framework produced itself (405, an unexpected rejection) has no
/// problem body; give it one, keeping headers such as `Allow`.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let is_problem =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == CONTENT_TYPE.as_bytes());
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let kind = match status {
        StatusCode::NOT_FOUND => ProblemKind::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ProblemKind::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemKind::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemKind::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ProblemKind::ValidationFailed,
        StatusCode::UNAUTHORIZED => ProblemKind::Unauthorized,
        s if s.is_client_error() => ProblemKind::BadRequest,
        _ => ProblemKind::Internal,
    };
    let (mut parts, _) = response.into_parts();
    let mut problem = Problem::new(kind);
    problem.status = status.as_u16();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(problem.to_json()))
}
