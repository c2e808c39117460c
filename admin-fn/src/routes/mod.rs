//! The route table. Each route is one (method, path, access, handler) entry, so the list of
//! routes the router serves, the role each one needs and the list the OpenAPI document and
//! its tests describe are the same data: a route cannot be declared without its [`Access`].

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use gatehouse_core::model::Access;
use gatehouse_core::store::Repo;

use crate::publisher::Publisher;
use crate::state::AdminState;

pub(crate) mod access_requests;
pub(crate) mod account;
pub(crate) mod admin_tokens;
pub(crate) mod alerts;
pub(crate) mod apis;
pub(crate) mod audit;
pub(crate) mod callers;
pub(crate) mod catalog;
pub(crate) mod client_certificates;
pub(crate) mod config;
pub(crate) mod config_doc;
mod config_shape;
pub(crate) mod developers;
pub(crate) mod ingest;
pub(crate) mod keys;
pub(crate) mod lint;
pub(crate) mod meta;
pub(crate) mod oauth_clients;
pub(crate) mod organisations;
mod registrations;
pub(crate) mod revisions;
pub(crate) mod sensitivity;
pub(crate) mod subscriptions;
pub(crate) mod usage;
pub(crate) mod validate;

/// One route: method, path template, what it needs, and handler.
pub(crate) struct Route<R, P> {
    pub method: Method,
    pub path: &'static str,
    /// Checked before the handler runs (`auth::require_role`), and shown in the OpenAPI
    /// document (`x-gatehouse-roles`).
    pub access: Access,
    pub handler: MethodRouter<AdminState<R, P>>,
}

/// Builds a route whose method filter and documented method cannot disagree.
pub(crate) fn route<R, P, H, T>(method: Method, path: &'static str, access: Access, handler: H) -> Route<R, P>
where
    R: Repo,
    P: Publisher,
    H: Handler<T, AdminState<R, P>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    Route { method, path, access, handler: on(filter, handler) }
}

/// Routes that need an admin token.
pub(crate) fn admin<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    let mut all = apis::routes();
    all.extend(lint::routes());
    all.extend(callers::routes());
    all.extend(revisions::routes());
    all.extend(sensitivity::routes());
    all.extend(catalog::routes());
    all.extend(developers::routes());
    all.extend(account::routes());
    all.extend(organisations::routes());
    all.extend(subscriptions::routes());
    all.extend(keys::routes());
    all.extend(oauth_clients::routes());
    all.extend(client_certificates::routes());
    all.extend(access_requests::routes());
    all.extend(usage::routes());
    all.extend(config::routes());
    all.extend(admin_tokens::routes());
    all.extend(audit::routes());
    all.extend(alerts::routes());
    all
}

/// Routes open to anyone: health and this API's own description; usage ingest, which is
/// authenticated by its body's signature instead of the admin token.
pub(crate) fn public<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    let mut all = meta::routes();
    all.extend(ingest::routes());
    all
}
