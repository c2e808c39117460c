//! Admin authentication: `Authorization: Bearer <token>`, checked against SHA-256 hashes of
//! the accepted tokens (so a leaked config or memory dump holds no usable token). Every
//! accepted hash is compared, in constant time, so timing does not reveal which one matched.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::keys::hash_secret;

use crate::error::AdminError;
use crate::state::AdminState;

/// Who is calling, for the audit trail: `admin:` and the first 8 hex digits of the token's
/// hash (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or(AdminError::Unauthorized("an admin bearer token is required"))
    }
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers().get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Middleware on every admin route except health and the OpenAPI document.
pub async fn require_admin<R, P>(State(state): State<AdminState<R, P>>, mut request: Request, next: Next) -> Response {
    let Some(token) = bearer(&request) else {
        return AdminError::Unauthorized("an admin bearer token is required").into_response();
    };
    let Some(actor) = admin_actor(&state, token) else {
        return AdminError::Unauthorized("the admin token is not valid").into_response();
    };
    request.extensions_mut().insert(actor);
    next.run(request).await
}

/// The actor an admin token stands for, if it is one of the accepted tokens: the API's bearer
/// check and the portal's admin sign-in alike.
pub(crate) fn admin_actor<R, P>(state: &AdminState<R, P>, token: &str) -> Option<Actor> {
    let presented = hash_secret(token.trim());
    let matched = state.admin_tokens.iter().fold(false, |found, accepted| found | (*accepted == presented));
    matched.then(|| Actor(format!("admin:{}", presented.as_hex().get(..8).unwrap_or_default())))
}
