//! The developer portal: server-rendered pages at the root of the control-plane address, beside
//! the admin API under `/v1`. Pages call the same store and the same admin logic as the API,
//! never the API over HTTP, so every rule and audit entry applies to both alike.
//!
//! Reading works without JavaScript; the few scripts (try-it, charts, copy buttons) are
//! embedded files under a strict Content-Security-Policy (see `headers`).

mod access;
mod account;
mod admin;
mod alerts;
mod analytics;
mod apps;
mod assets;
mod audit;
mod catalog;
mod changelog;
mod chrome;
mod domains;
pub(crate) mod headers;
mod organisations;
mod plain_words;
pub mod reference;
mod sensitive;
pub(crate) mod session;
pub(crate) mod signin;
mod staff;
mod terms;
mod throttle;
mod usage;
mod visibility;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::map_response_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_core::store::Repo;

pub(crate) use chrome::Chrome;
pub use chrome::PortalSettings;
pub use domains::parse_domains;

use crate::publisher::Publisher;
use crate::state::AdminState;

/// The portal's routes, with their page headers.
pub(crate) fn router<R: Repo, P: Publisher>(state: &AdminState<R, P>) -> Router<AdminState<R, P>> {
    let csp = headers::page_policy(&state.portal);
    Router::new()
        .route("/", get(catalog::page::<R, P>))
        .route("/apis/{id}", get(catalog::api_page::<R, P>))
        .route("/apis/{id}/openapi.json", get(catalog::api_document::<R, P>))
        .route("/apis/{id}/interactive", get(catalog::interactive::<R, P>))
        .route("/apis/{id}/changelog", get(changelog::page::<R, P>))
        .route("/assets/{*name}", get(assets::serve))
        .route("/terms", get(terms::page::<R, P>))
        .route("/usage", get(usage::page::<R, P>))
        .route("/usage/alerts", get(alerts::page::<R, P>).post(alerts::create::<R, P>))
        .route("/usage/alerts/{id}/delete", post(alerts::delete::<R, P>))
        .route("/account", get(account::page::<R, P>))
        .route("/account/export.json", get(account::export::<R, P>))
        .route("/account/close", post(account::close::<R, P>))
        .route("/admin", get(admin::page::<R, P>))
        .route("/admin/audit", get(audit::admin_page::<R, P>))
        .route("/account/activity", get(audit::developer_page::<R, P>))
        .route("/admin/signin", get(admin::signin_form::<R, P>).post(admin::signin::<R, P>))
        .route("/admin/signin/oidc", get(staff::start::<R, P>))
        .route("/admin/signin/oidc/callback", get(staff::callback::<R, P>))
        .route("/admin/subscriptions/{id}", post(admin::decide::<R, P>))
        .route("/admin/apis/{id}/lifecycle", post(admin::lifecycle::<R, P>))
        .route("/admin/oauth-clients", post(admin::register_client::<R, P>))
        .route("/admin/client-certificates", post(admin::register_certificate::<R, P>))
        .route("/admin/access", get(access::admin_page::<R, P>))
        .route("/admin/analytics", get(analytics::page::<R, P>))
        .route("/admin/analytics.csv", get(analytics::csv::<R, P>))
        .route("/admin/access/{id}", post(access::admin_decide::<R, P>))
        .route("/apis/{id}/access", get(access::request_form::<R, P>).post(access::request::<R, P>))
        .route("/usage.csv", get(usage::csv::<R, P>))
        .route("/signin", get(signin::form::<R, P>).post(signin::send_link::<R, P>))
        .route("/signin/verify", get(signin::confirm::<R, P>).post(signin::verify::<R, P>))
        .route("/signout", post(signin::sign_out::<R, P>))
        .route("/apis/{id}/keys", post(apps::get_key::<R, P>))
        .route("/apis/{id}/console-key", post(apps::console_key::<R, P>))
        .route("/dashboard", get(apps::dashboard::<R, P>))
        .route("/organisations/{id}", get(organisations::page::<R, P>))
        .route("/organisations/{id}/invitations", post(organisations::invite::<R, P>))
        .route("/organisations/{id}/apps", post(organisations::create_app::<R, P>))
        .route("/organisations/{id}/members/{developer_id}/remove", post(organisations::remove_member::<R, P>))
        .route("/invitations/accept", get(organisations::accept_form::<R, P>).post(organisations::accept::<R, P>))
        .route("/apps", post(apps::create_app::<R, P>))
        .route("/apps/{id}", get(apps::show_app::<R, P>))
        .route("/apps/{id}/keys", post(apps::create_key::<R, P>))
        .route("/keys/{id}/rotate", post(apps::rotate_key::<R, P>))
        .route("/keys/{id}/revoke", post(apps::revoke_key::<R, P>))
        .layer(map_response_with_state(csp, |csp: axum::extract::State<HeaderValue>, r: Response| async move {
            headers::secure(r, &csp)
        }))
}

/// Renders a page. A template that fails to render (a `Display` impl erroring) is a bug, so
/// it is logged and answered with a plain 500 page rather than a half-written one.
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a portal page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><h1>Something went wrong</h1>"),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    heading: &'a str,
    detail: &'a str,
}

/// A form without the session's token (or with another's): 403, nothing done.
pub(crate) fn expired_form() -> Response {
    html_error(StatusCode::FORBIDDEN, "Form expired", "Reload the page and try again.")
}

/// An error as a page, for browsers (the admin API answers problem+json instead).
pub(crate) fn html_error(status: StatusCode, heading: &str, detail: &str) -> Response {
    let mut response = render(&ErrorPage { chrome: Chrome::anonymous(), heading, detail });
    *response.status_mut() = status;
    response
}

/// Whether a request that no route matched came from a browser (wants a page) rather than an
/// API client (wants problem+json): anything outside `/v1/` that accepts HTML.
pub(crate) fn wants_page(path: &str, accept: Option<&HeaderValue>) -> bool {
    let html = accept.and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    html && !path.starts_with("/v1/") && path != "/v1"
}

/// The 404 page with the page headers (the fallback runs outside the portal router's layer).
pub(crate) fn not_found_page<R, P>(state: &AdminState<R, P>) -> Response {
    let csp = headers::page_policy(&state.portal);
    let mut page = html_error(StatusCode::NOT_FOUND, "Page not found", "There is no page at this address.");
    page.headers_mut().insert(header::VARY, HeaderValue::from_static("accept"));
    headers::secure(page, &csp)
}
