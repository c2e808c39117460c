//! A developer's own data: download everything the platform holds about them as one JSON
//! document, or close the account (every key revoked at once, personal fields erased, usage
//! kept under anonymous ids). Both through the admin API's own functions.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use gatehouse_core::model::Developer;
use gatehouse_core::store::Repo;
use serde::Deserialize;

use super::apps::{developer, failed, posting};
use super::catalog::date;
use super::session;
use super::{html_error, render, Chrome};
use crate::publisher::Publisher;
use crate::routes::account;
use crate::state::AdminState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    developer: Developer,
    terms_accepted: Option<String>,
}

/// `GET /account`.
pub(crate) async fn page<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>, headers: HeaderMap) -> Response {
    let (current, developer) = match developer(&s, &headers, "/account").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let terms_accepted = developer.terms_accepted_at.map(date);
    render(&AccountPage { chrome: Chrome::of(&s.portal, Some(&current)), developer, terms_accepted })
}

/// `GET /account/export.json`: the admin API's export of this developer, as a download.
pub(crate) async fn export<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>, headers: HeaderMap) -> Response {
    let (_, developer) = match developer(&s, &headers, "/account").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match account::developer_export(&s, &developer.id).await {
        Ok(export) => {
            let mut response = axum::Json(export).into_response();
            let disposition = HeaderValue::from_static("attachment; filename=\"my-gatehouse-data.json\"");
            response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition);
            response
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CloseForm {
    #[serde(default)]
    csrf: String,
    /// The account's email, typed again: closing cannot be undone.
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "closed.html")]
struct ClosedPage {
    chrome: Chrome,
}

/// `POST /account/close`.
pub(crate) async fn close<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<CloseForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, "/account", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !form.confirm.trim().eq_ignore_ascii_case(&developer.email) {
        let detail = "Type your email address exactly as shown to confirm. Nothing was changed.";
        return html_error(StatusCode::UNPROCESSABLE_ENTITY, "Not closed", detail);
    }
    if let Err(e) = account::close_account(&s, &current.actor(), &developer.id).await {
        return failed(e);
    }
    let mut response = render(&ClosedPage { chrome: Chrome::new(&s.portal) });
    if let Ok(cookie) = session::close(&s, &current).await {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
