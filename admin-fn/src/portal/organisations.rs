//! An organisation's page for its members (its apps, members and pending invitations; an
//! org-admin also invites, removes members and creates apps), and accepting an invitation.
//!
//! To anyone who is not a member, an organisation does not exist here: its page answers 404,
//! exactly like an id that was never issued.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::model::{App, Developer, Invitation, OrgRole, Organisation, Subject};
use gatehouse_core::store::Repo;
use serde::Deserialize;

use super::apps::{admins_only, failed, not_found, posting, AppLine};
use super::session::{self, anonymous_form_token, anonymous_form_token_matches, Current};
use super::signin::{with_cookie, TokenQuery};
use super::{html_error, render, Chrome};
use crate::auth::Actor;
use crate::organisations;
use crate::publisher::Publisher;
use crate::state::AdminState;

pub(crate) struct MemberLine {
    pub developer_id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub is_you: bool,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    org: Organisation,
    role: OrgRole,
    apps: Vec<AppLine>,
    members: Vec<MemberLine>,
    invitations: Vec<Invitation>,
    /// Set right after an invitation was sent, to say so.
    invited: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct AcceptPage {
    chrome: Chrome,
    form_token: String,
    token: String,
}

/// The organisation and the developer's role in it, or 404 when they are not a member.
fn membership<'a>(current: &'a Current, id: &str) -> Option<(&'a Organisation, OrgRole)> {
    current.memberships.iter().find(|(m, _)| m.organisation_id == id).map(|(m, org)| (org, m.role))
}

/// A form posted from organisation `id`'s page: signed in with a good form token, a member
/// (a stranger gets the 404 a never-issued id gets), and `allowed` for the member's role.
async fn posting_member<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    allowed: impl FnOnce(OrgRole, &Developer) -> bool,
) -> Result<(Current, Developer), Response> {
    let (current, developer) = posting(s, headers, &format!("/organisations/{id}"), csrf).await?;
    match membership(&current, id) {
        None => Err(not_found()),
        Some((_, role)) if !allowed(role, &developer) => Err(admins_only()),
        Some(_) => Ok((current, developer)),
    }
}

async fn page_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    id: &str,
    invited: Option<String>,
) -> Response {
    let Some((org, role)) = membership(current, id) else { return not_found() };
    let apps = match s.repo.list::<App>(Some(id)).await {
        Ok(apps) => apps,
        Err(e) => return failed(e.into()),
    };
    let apps = match super::apps::app_lines(s, apps).await {
        Ok(lines) => lines,
        Err(e) => return failed(e),
    };
    let members = match organisations::members(s, id).await {
        Ok(found) => found,
        Err(e) => return failed(e.into()),
    };
    let members = members
        .into_iter()
        .map(|(m, d)| MemberLine {
            is_you: d.id == developer.id,
            developer_id: d.id,
            name: d.name,
            email: d.email,
            role: m.role.as_str(),
        })
        .collect();
    let invitations = match role.manages() {
        true => match organisations::pending(s, id).await {
            Ok(found) => found,
            Err(e) => return failed(e.into()),
        },
        false => Vec::new(),
    };
    let chrome = Chrome::of(&s.portal, Some(current));
    render(&OrganisationPage { chrome, org: org.clone(), role, apps, members, invitations, invited })
}

/// `GET /organisations/{id}`.
pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match super::apps::developer(&s, &headers, &format!("/organisations/{id}")).await {
        Ok((current, developer)) => page_for(&s, &current, &developer, &id, None).await,
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /organisations/{id}/invitations` (org-admins).
pub(crate) async fn invite<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> Response {
    let (current, developer) = match posting_member(&s, &headers, &id, &form.csrf, |role, _| role.manages()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let role = if form.role == "org-admin" { OrgRole::OrgAdmin } else { OrgRole::Member };
    match organisations::invite(&s, &current.actor(), &id, &form.email, role).await {
        Ok(sent) => page_for(&s, &current, &developer, &id, Some(sent.email)).await,
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /organisations/{id}/apps` (org-admins).
pub(crate) async fn create_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AppForm>,
) -> Response {
    let (current, developer) = match posting_member(&s, &headers, &id, &form.csrf, |role, _| role.manages()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let name = Some(form.name.trim().to_owned());
    match organisations::create_app(&s, &current.actor(), &id, &developer.id, name).await {
        Ok(app) => Redirect::to(&format!("/apps/{}", app.id)).into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /organisations/{id}/members/{developer_id}/remove` (org-admins; anyone may leave).
pub(crate) async fn remove_member<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path((id, member)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let leaves_or_manages = |role: OrgRole, you: &Developer| role.manages() || member == you.id;
    let (current, developer) = match posting_member(&s, &headers, &id, &form.csrf, leaves_or_manages).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match organisations::remove_member(&s, &current.actor(), &id, &member).await {
        Ok(()) if member == developer.id => Redirect::to("/dashboard").into_response(),
        Ok(()) => Redirect::to(&format!("/organisations/{id}")).into_response(),
        Err(e) => failed(e),
    }
}

/// `GET /invitations/accept?token=…`: a page with one button (mail scanners fetch links; a
/// GET that accepted would spend the invitation before its addressee saw it).
pub(crate) async fn accept_form<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Response {
    let (form_token, cookie) = match anonymous_form_token(&headers) {
        Ok(token) => token,
        Err(e) => return super::signin::failed(e),
    };
    with_cookie(render(&AcceptPage { chrome: Chrome::new(&s.portal), form_token, token: query.token }), cookie)
}

#[derive(Debug, Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /invitations/accept`: spends the invitation, makes the addressee a member (signing
/// them up if needed) and signs them in, on the organisation's page.
pub(crate) async fn accept<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
    Form(form): Form<AcceptForm>,
) -> Response {
    if !anonymous_form_token_matches(&headers, &form.csrf) {
        return html_error(StatusCode::FORBIDDEN, "Form expired", "Open the link from your email again.");
    }
    let (developer, org) = match organisations::accept(&s, &form.token).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            let detail = "This invitation has expired or was already used. Ask the organisation for a new one.";
            return html_error(StatusCode::GONE, "Invitation expired", detail);
        }
        Err(e) => return super::signin::failed(e),
    };
    let subject = Subject::Developer { developer_id: developer.id.clone() };
    let actor = Actor::developer(&developer.id).at(client.map(|c| c.0 .0));
    let to = format!("/organisations/{}", org.id);
    session::signed_in(&s, subject, &actor, vec![developer.id], &to).await.unwrap_or_else(super::signin::failed)
}
