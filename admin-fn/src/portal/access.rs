//! Access to sensitive data in the portal: a developer asks for a class on an API for one of
//! their apps (the page a 403 for withheld data links to), sees their requests on the
//! dashboard, and an approver decides in the admin area. Every action goes through the admin
//! API's own functions (`routes::access_requests`): the same checks, audit entries and mail.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::model::{Access, ApiCard, App, Developer};
use gatehouse_core::store::Repo;
use serde::Deserialize;

use super::admin::{admin, admin_posting};
use super::apps::{developer, failed, posting};
use super::catalog::{self, date};
use super::{render, visibility, Chrome};
use crate::error::AdminError;
use crate::preconditions::IfMatch;
use crate::publisher::Publisher;
use crate::routes::access_requests::{self, AccessFilter, Decision, NewAccessRequest, MAX_DAYS};
use crate::state::AdminState;
use crate::views::AccessRequestView;

/// A request as the pages list it, with names instead of ids.
pub(crate) struct AccessLine {
    pub id: String,
    pub api: String,
    pub app: String,
    pub developer: String,
    pub class: String,
    pub reason: String,
    pub wanted_days: u32,
    pub status: String,
    pub asked: String,
    pub until: Option<String>,
    pub decision_reason: Option<String>,
}

/// Names for the ids in `requests`: API names from their catalog cards, app names, and
/// developer emails when `with_developers` (the admin area; a developer knows who they are).
pub(crate) async fn lines<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    requests: Vec<AccessRequestView>,
    with_developers: bool,
) -> Result<Vec<AccessLine>, AdminError> {
    let apis: HashMap<String, String> =
        s.repo.list::<ApiCard>(None).await?.into_iter().map(|card| (card.id, card.name)).collect();
    let apps: HashMap<String, String> =
        s.repo.list::<App>(None).await?.into_iter().map(|app| (app.id, app.name)).collect();
    let developers: HashMap<String, String> = if with_developers {
        s.repo.list::<Developer>(None).await?.into_iter().map(|d| (d.id, d.email)).collect()
    } else {
        HashMap::new()
    };
    let name = |names: &HashMap<String, String>, id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    Ok(requests
        .into_iter()
        .map(|r| AccessLine {
            api: name(&apis, &r.api_id),
            app: name(&apps, &r.app_id),
            developer: name(&developers, &r.developer_id),
            until: r.expires_at.map(date),
            asked: date(r.created_at),
            id: r.id,
            class: r.class,
            reason: r.reason,
            wanted_days: r.wanted_days,
            status: r.status,
            decision_reason: r.decision_reason,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ClassQuery {
    #[serde(default)]
    class: String,
}

#[derive(Template)]
#[template(path = "access_request.html")]
struct RequestPage {
    chrome: Chrome,
    api_id: String,
    api: String,
    class: String,
    apps: Vec<App>,
    max_days: u32,
}

/// `GET /apis/{id}/access?class=…`: the form a refusal for withheld data links to.
pub(crate) async fn request_form<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(api_id): Path<String>,
    Query(query): Query<ClassQuery>,
) -> Response {
    let back = format!("/apis/{api_id}/access?class={}", urlencoding_class(&query.class));
    let (current, developer) = match developer(&s, &headers, &back).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let api = match visibility::api(&s, Some(&current), &api_id).await {
        Ok(Some(api)) => api,
        Ok(None) => return catalog::no_such_api(),
        Err(e) => return failed(e.into()),
    };
    let apps = match s.repo.list::<App>(Some(&developer.id)).await {
        Ok(apps) => apps,
        Err(e) => return failed(e.into()),
    };
    let chrome = Chrome::of(&s.portal, Some(&current));
    render(&RequestPage { chrome, api_id, api: api.name, class: query.class, apps, max_days: MAX_DAYS })
}

/// A class name as a query value: class names are `[a-z0-9-]`, anything else is dropped.
fn urlencoding_class(class: &str) -> String {
    class.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    days: String,
}

/// `POST /apis/{id}/access`: files the request for one of the developer's own apps.
pub(crate) async fn request<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(api_id): Path<String>,
    Form(form): Form<RequestForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, &format!("/apis/{api_id}/access"), &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match visibility::api(&s, Some(&current), &api_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return catalog::no_such_api(),
        Err(e) => return failed(e.into()),
    }
    // Another developer's app does not exist here, like anywhere in the portal.
    match s.repo.get::<App>(&form.app_id).await {
        Ok(app) if app.developer_id == developer.id => {}
        _ => return failed(AdminError::not_found("app", &form.app_id)),
    }
    let body = NewAccessRequest {
        api_id,
        class: form.class.trim().to_owned(),
        reason: form.reason,
        wanted_days: form.days.trim().parse().unwrap_or(0),
    };
    match access_requests::request_access(&s, &current.actor(), &form.app_id, body).await {
        Ok(_) => Redirect::to("/dashboard#access").into_response(),
        Err(e) => failed(e),
    }
}

/// The developer's own requests, newest first, for the dashboard.
pub(crate) async fn developer_lines<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    developer: &Developer,
) -> Result<Vec<AccessLine>, AdminError> {
    let filter = AccessFilter { developer_id: Some(developer.id.clone()), ..AccessFilter::default() };
    let mut requests = access_requests::listed(s, &filter).await?;
    requests.reverse();
    lines(s, requests, false).await
}

#[derive(Template)]
#[template(path = "access_admin.html")]
struct AdminPage {
    chrome: Chrome,
    pending: Vec<AccessLine>,
    granted: Vec<AccessLine>,
    max_days: u32,
}

/// `GET /admin/access`: pending requests to decide, and live grants to revoke.
pub(crate) async fn admin_page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
) -> Response {
    let current = match admin(&s, &headers).await {
        Ok(current) => current,
        Err(response) => return response,
    };
    let of = |status: &str| AccessFilter { status: Some(status.to_owned()), ..AccessFilter::default() };
    let found = async {
        let pending = lines(&s, access_requests::listed(&s, &of("pending")).await?, true).await?;
        let granted = lines(&s, access_requests::listed(&s, &of("approved")).await?, true).await?;
        Ok::<_, AdminError>((pending, granted))
    };
    match found.await {
        Ok((pending, granted)) => {
            let chrome = Chrome::of(&s.portal, Some(&current));
            render(&AdminPage { chrome, pending, granted, max_days: MAX_DAYS })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `approve`, `deny` or `revoke`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/access/{id}`.
pub(crate) async fn admin_decide<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let actor = match admin_posting(&s, &headers, &form.csrf, Access::Approvals).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let decision = match form.decision.as_str() {
        // Blank keeps the developer's wish; anything else must be a number of days.
        "approve" => match form.days.trim() {
            "" => Decision::Approve { days: None, expires_at: None },
            days => Decision::Approve { days: Some(days.parse().unwrap_or(0)), expires_at: None },
        },
        "deny" => Decision::Deny { reason: form.reason },
        "revoke" => Decision::Revoke { reason: form.reason },
        other => {
            let detail = format!("{other:?} is not a decision: approve, deny or revoke");
            return failed(AdminError::problem(gatehouse_core::problem::ProblemKind::BadRequest, detail));
        }
    };
    match access_requests::decide(&s, &actor, &id, &IfMatch::default(), decision).await {
        Ok(_) => Redirect::to("/admin/access").into_response(),
        Err(e) => failed(e),
    }
}
