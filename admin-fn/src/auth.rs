//! Who is calling the admin API, and whether their role lets them.
//!
//! A bearer token is hashed (SHA-256) and looked up: first among the configured owner tokens
//! (the dev token, `gatehouse admin bootstrap`'s on stores from before named principals, the
//! Lambda's `GATEHOUSE_ADMIN_TOKENS`), compared in constant time, then among the store's
//! [`AdminToken`]s, found by their hash alone. Without a bearer token, a portal session
//! cookie of a developer makes the caller that developer (role `developer`), who reaches only
//! what the role table lets them. Every route then checks the [`Access`] declared beside it
//! ([`require_role`]), before its body is read.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{Access, AdminToken, Role};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::{admin_token_unique, AuditEntry, Repo};

use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::AdminState;
use crate::ClientAddr;

/// Who acts, for role checks and the audit trail: a named principal with its role, where
/// the request came from, and (set per action) why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// An admin token's name, `admin:1a2b3c4d` for a configured token (the first hex digits
    /// of its hash, never the token), or `developer:dev_…`.
    pub name: String,
    pub role: Role,
    /// The client's address, when the runtime knows it.
    pub from: Option<IpAddr>,
    /// Why, for actions that take a reason (see [`Actor::because`]).
    pub reason: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>, role: Role) -> Actor {
        Actor { name: name.into(), role, from: None, reason: None }
    }

    /// The developer signed in to the portal.
    pub fn developer(developer_id: &str) -> Actor {
        Actor::new(format!("developer:{developer_id}"), Role::Developer)
    }

    /// The same principal, acting for `reason` (blank: none).
    pub fn because(&self, reason: &str) -> Actor {
        let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
        Actor { reason, ..self.clone() }
    }

    /// The same principal, seen at `from`.
    pub fn at(self, from: Option<IpAddr>) -> Actor {
        Actor { from, ..self }
    }

    /// The developer this principal is, if it is one.
    pub fn developer_id(&self) -> Option<&str> {
        (self.role == Role::Developer).then(|| self.name.strip_prefix("developer:")).flatten()
    }

    /// The audit entry saying this principal did `action` to `targets` at `at`.
    pub fn entry(&self, at: i64, action: &str, targets: Vec<String>) -> AuditEntry {
        let mut entry = AuditEntry::new(at, &self.name, action, targets);
        entry.role = Some(self.role);
        entry.from = self.from.or_else(client).map(|ip| ip.to_string());
        entry.reason = self.reason.clone();
        entry
    }

    /// Refuses with 403 unless the role may use what needs `access`.
    pub fn may(&self, access: Access) -> Result<(), AdminError> {
        if access.allows(self.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = access.roles().into_iter().map(Role::as_str).collect();
        let detail =
            format!("the role {} may not do this; it needs one of: {}", self.role.as_str(), allowed.join(", "));
        let problem = gatehouse_core::problem::Problem::new(ProblemKind::Forbidden)
            .detail(detail)
            .with("role", self.role.as_str())
            .with("allowed_roles", serde_json::json!(allowed));
        Err(problem.into())
    }
}

tokio::task_local! {
    /// The client address of the request being served: portal pages act deep inside
    /// functions that never see the request, and their audit entries still say where from.
    static CLIENT: Option<IpAddr>;
}

/// Middleware on the whole router: the request's [`ClientAddr`] for [`client`].
pub async fn with_client(request: Request, next: Next) -> Response {
    let from = request.extensions().get::<ClientAddr>().map(|c| c.0);
    CLIENT.scope(from, next.run(request)).await
}

/// The address of the client whose request is being served, if the runtime gave one.
fn client() -> Option<IpAddr> {
    CLIENT.try_with(|c| *c).ok().flatten()
}

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

/// Middleware on every admin route except health, the OpenAPI document and ingest: names the
/// caller (401 when it cannot), then lets the route's own [`require_role`] decide.
pub async fn authenticate<R: Repo, P: Publisher>(
    State(state): State<AdminState<R, P>>,
    mut request: Request,
    next: Next,
) -> Response {
    let from = request.extensions().get::<ClientAddr>().map(|c| c.0);
    let found = match bearer(&request) {
        Some(token) => admin_principal(&state, token).await,
        None => match crate::portal::session::current(&state, request.headers()).await {
            Ok(Some(current)) if !current.is_admin() => Ok(Some(current.actor())),
            Ok(_) => return AdminError::Unauthorized("an admin bearer token is required").into_response(),
            Err(e) => Err(e),
        },
    };
    match found {
        Ok(Some(actor)) => {
            request.extensions_mut().insert(actor.at(from));
            next.run(request).await
        }
        Ok(None) => AdminError::Unauthorized("the admin token is not valid").into_response(),
        Err(e) => e.into_response(),
    }
}

/// Per-route middleware: 403 problem+json unless the caller's role may use `access`.
pub async fn require_role(State(access): State<Access>, request: Request, next: Next) -> Response {
    let Some(actor) = request.extensions().get::<Actor>() else {
        return AdminError::Unauthorized("an admin bearer token is required").into_response();
    };
    match actor.may(access) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// The principal an admin token stands for, if it is a live one: the API's bearer check and
/// the portal's admin sign-in alike.
pub(crate) async fn admin_principal<R: Repo, P>(
    state: &AdminState<R, P>,
    token: &str,
) -> Result<Option<Actor>, AdminError> {
    let presented = hash_secret(token.trim());
    let configured = state.admin_tokens.iter().fold(false, |found, accepted| found | (*accepted == presented));
    if configured {
        let name = format!("admin:{}", presented.as_hex().get(..8).unwrap_or_default());
        return Ok(Some(Actor::new(name, Role::Owner)));
    }
    let stored = state.repo.find::<AdminToken>(&admin_token_unique(presented.as_hex())).await?;
    Ok(stored.filter(|t| t.live() && t.role.takes_tokens()).map(|t| Actor::new(t.name, t.role)))
}
