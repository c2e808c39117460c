//! Gatehouse control plane: the admin API v1 as one axum `Router`, served by `lambda_http`
//! on AWS, by the native binary locally and by tests in-process.
//!
//! It reaches the world only through two ports, [`gatehouse_core::store::Repo`] (the store
//! of record) and [`Publisher`] (the edge read model and caches). It must never log a key,
//! secret or admin token, never answer a bad request with a 500, and never let a plain-text
//! framework rejection reach a client: every refusal is an RFC 9457 problem.

mod alerts;
mod auth;
mod error;
mod extract;
pub mod jwt_keys;
mod mail;
mod notices;
mod objects_only;
mod openapi;
mod organisations;
pub mod portal;
mod preconditions;
mod publisher;
mod routes;
pub mod staff;
mod state;
mod strict_json;
mod views;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::Response;
use axum::Router;
use gatehouse_core::problem::{Problem, ProblemKind, CONTENT_TYPE};
use gatehouse_core::store::Repo;

pub use alerts::{AlertRunner, AlertSettings, RunReport};
pub use auth::Actor;
pub use error::{AdminError, FieldError};
pub use mail::{Mail, MailError, Mailer, OutboxMailer, SmtpMailer};
pub use portal::{parse_domains, PortalSettings};
pub use publisher::{Change, ChangeOp, PublishError, Publisher, RecordingPublisher};
pub use state::{ensure_catalog_cards, AdminSettings, AdminState, Clock, MAX_BODY_BYTES};
pub use views::KeyView;

/// The client's address, as the runtime that received the request knows it (the TCP peer
/// natively, the source IP of the Lambda event on AWS); put in the request's extensions.
/// Used to throttle sign-in per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The admin API's own OpenAPI 3.1 document, served at `GET /v1/openapi.json`: built from the
/// Rust types on first use (see `openapi`).
pub fn openapi_document() -> &'static str {
    openapi::document()
}

/// The admin API router, ready to serve.
pub fn router<R: Repo, P: Publisher>(state: AdminState<R, P>) -> Router {
    router_with(state, Vec::new())
}

/// The admin API router with a runtime's own `extra` routes behind the same sign-in and a
/// read role (the native binary's `/metrics`), so they need no second way of signing in.
pub fn router_with<R: Repo, P: Publisher>(
    state: AdminState<R, P>,
    extra: Vec<(&'static str, axum::routing::MethodRouter)>,
) -> Router {
    let guard = from_fn_with_state(state.clone(), auth::authenticate::<R, P>);
    // Each route checks its own role, inside the guard that names the caller.
    let admin = routes::admin::<R, P>().into_iter().fold(Router::new(), |r, route| {
        r.route(route.path, route.handler.route_layer(from_fn_with_state(route.access, auth::require_role)))
    });
    let admin = extra.into_iter().fold(admin, |r, (path, service)| {
        r.route_service(
            path,
            service.route_layer(from_fn_with_state(gatehouse_core::model::Access::Read, auth::require_role)),
        )
    });
    let public =
        routes::public::<R, P>().into_iter().fold(Router::new(), |r, route| r.route(route.path, route.handler));
    let portal = portal::router(&state);
    public
        .merge(admin.route_layer(guard))
        .merge(portal)
        .fallback(not_found::<R, P>)
        .layer(map_response(problem_for_bare_errors))
        .layer(axum::middleware::from_fn(auth::with_client))
        .with_state(state)
}

/// A page for browsers outside the admin API, problem+json for everyone else.
async fn not_found<R: Repo, P: Publisher>(
    axum::extract::State(state): axum::extract::State<AdminState<R, P>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::response::IntoResponse;
    match portal::wants_page(uri.path(), headers.get(header::ACCEPT)) {
        true => portal::not_found_page(&state),
        false => AdminError::problem(ProblemKind::NotFound, "no such admin endpoint").into_response(),
    }
}

/// Every (method, path) the router serves, for documentation checks.
pub fn route_list() -> Vec<(Method, &'static str)> {
    route_access().into_iter().map(|(method, path, _)| (method, path)).collect()
}

/// Every (method, path) the router serves with what it needs (the role table).
pub fn route_access() -> Vec<(Method, &'static str, gatehouse_core::model::Access)> {
    type R = gatehouse_core::store::MemoryRepo;
    let all = routes::public::<R, RecordingPublisher>().into_iter().chain(routes::admin::<R, RecordingPublisher>());
    all.map(|route| (route.method, route.path, route.access)).collect()
}

/// Safety net: an error the framework produced itself (405, an unexpected rejection) has no
/// problem body; give it one, keeping headers such as `Allow`.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    // A problem already, or a portal page (which explains itself in HTML).
    let explained = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == CONTENT_TYPE.as_bytes() || v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || explained {
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
