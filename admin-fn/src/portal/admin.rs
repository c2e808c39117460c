//! The provider's pages: someone holding an admin token signs in with it, then approves or
//! rejects pending subscriptions (with a reason the developer reads), sees developers and
//! their apps, and moves APIs through their lifecycle. Every action is the admin API's own
//! function, acting as the same principal the API would record, and checks the same role the
//! matching admin route declares: a viewer sees the page but its forms are not offered, and
//! a form posted anyway is refused (403).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::lifecycle::Transition;
use gatehouse_core::model::Access;
use gatehouse_core::model::{App, Developer, Plan, Product, Subscription, SubscriptionStatus};
use gatehouse_core::store::Repo;
use gatehouse_core::time::{parse_rfc3339, DAY};
use serde::Deserialize;

use super::apps::failed;
use super::catalog::date;
use super::session::{self, anonymous_form_token, anonymous_form_token_matches, Current};
use super::{expired_form, html_error, render, Chrome};
use crate::auth::{admin_principal, Actor};
use crate::error::AdminError;
use crate::preconditions::IfMatch;
use crate::publisher::Publisher;
use crate::routes::{apis, client_certificates, oauth_clients, subscriptions};
use crate::state::AdminState;

#[derive(Template)]
#[template(path = "admin_signin.html")]
struct SignInPage {
    chrome: Chrome,
    form_token: String,
    error: bool,
    /// The identity provider's name, when staff may sign in with it.
    staff_provider: Option<String>,
}

impl SignInPage {
    fn of<R, P>(s: &AdminState<R, P>, form_token: String, error: bool) -> SignInPage {
        let staff_provider = s.staff.as_ref().map(|p| p.settings.provider_name.clone());
        SignInPage { chrome: Chrome::new(&s.portal), form_token, error, staff_provider }
    }
}

/// `GET /admin/signin`.
pub(crate) async fn signin_form<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
) -> Response {
    let (form_token, cookie) = match anonymous_form_token(&headers) {
        Ok(token) => token,
        Err(e) => return failed(e),
    };
    let mut response = render(&SignInPage::of(&s, form_token, false));
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/signin`: the token itself is never stored; the session names the actor.
pub(crate) async fn signin<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
    Form(form): Form<TokenForm>,
) -> Response {
    if !anonymous_form_token_matches(&headers, &form.csrf) {
        return expired_form();
    }
    let actor = match admin_principal(&s, &form.token).await {
        Ok(Some(actor)) => actor.at(client.map(|c| c.0 .0)),
        Ok(None) => {
            let page = SignInPage::of(&s, form.csrf, true);
            let mut response = render(&page);
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            return response;
        }
        Err(e) => return failed(e),
    };
    let subject = gatehouse_core::model::Subject::Admin { actor: actor.name.clone(), role: actor.role };
    session::signed_in(&s, subject, &actor, Vec::new(), "/admin").await.unwrap_or_else(failed)
}

/// The admin session, or where to send the browser instead.
pub(crate) async fn admin<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
) -> Result<Current, Response> {
    match session::current(s, headers).await {
        Ok(Some(current)) if current.is_admin() => Ok(current),
        Ok(Some(_)) => {
            Err(html_error(StatusCode::FORBIDDEN, "Admins only", "Sign in with an admin token to use this page."))
        }
        Ok(None) => Err(Redirect::to("/admin/signin").into_response()),
        Err(e) => Err(failed(e)),
    }
}

/// [`admin`], for a form's POST: also refuses a form without the session's token, and a
/// principal whose role may not do what the form does (403 both). Answers who acts.
pub(crate) async fn admin_posting<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
    csrf: &str,
    access: Access,
) -> Result<Actor, Response> {
    let current = admin(s, headers).await?;
    if !current.form_token_matches(csrf) {
        return Err(expired_form());
    }
    let actor = current.actor();
    match actor.may(access) {
        Ok(()) => Ok(actor),
        Err(_) => Err(html_error(
            StatusCode::FORBIDDEN,
            "Not for your role",
            &format!("Your role, {}, may not do this. Ask an owner.", actor.role.as_str()),
        )),
    }
}

/// What the signed-in principal's role lets the admin page offer.
pub(crate) struct Offers {
    pub who: String,
    pub role: &'static str,
    pub decide: bool,
    pub lifecycle: bool,
    pub credentials: bool,
}

impl Offers {
    fn of(actor: &Actor) -> Offers {
        Offers {
            who: actor.name.clone(),
            role: actor.role.as_str(),
            decide: Access::Approvals.allows(actor.role),
            lifecycle: Access::Catalog.allows(actor.role),
            credentials: Access::Owner.allows(actor.role),
        }
    }
}

pub(crate) struct PendingLine {
    pub id: String,
    pub developer: String,
    pub app: String,
    pub product: String,
    pub plan: String,
    pub since: String,
}

pub(crate) struct DeveloperLine {
    pub email: String,
    pub name: String,
    pub apps: String,
    pub joined: String,
    pub closed: bool,
}

pub(crate) struct ApiLine {
    pub id: String,
    pub name: String,
    pub version: String,
    pub state: &'static str,
}

/// An app as the OAuth client form offers it: its name and its developer's email.
pub(crate) struct AppChoice {
    pub id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    overview: Overview,
    offers: Offers,
}

/// What the admin page lists.
struct Overview {
    pending: Vec<PendingLine>,
    developers: Vec<DeveloperLine>,
    apis: Vec<ApiLine>,
    apps: Vec<AppChoice>,
}

/// `GET /admin`.
pub(crate) async fn page<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>, headers: HeaderMap) -> Response {
    let current = match admin(&s, &headers).await {
        Ok(current) => current,
        Err(response) => return response,
    };
    match overview(&s).await {
        Ok(overview) => {
            let offers = Offers::of(&current.actor());
            render(&AdminPage { chrome: Chrome::of(&s.portal, Some(&current)), overview, offers })
        }
        Err(e) => failed(e),
    }
}

async fn overview<R: Repo, P: Publisher>(s: &AdminState<R, P>) -> Result<Overview, AdminError> {
    let developers = s.repo.list::<Developer>(None).await?;
    let apps = s.repo.list::<App>(None).await?;
    let (products, plans) = (s.repo.list::<Product>(None).await?, s.repo.list::<Plan>(None).await?);
    let name_of = |id: &str, names: &[(String, String)]| {
        names.iter().find(|(i, _)| i == id).map_or_else(|| id.to_owned(), |(_, n)| n.clone())
    };
    let app_names: Vec<(String, String)> = apps.iter().map(|a| (a.id.clone(), a.name.clone())).collect();
    let owners: Vec<(String, String)> = apps
        .iter()
        .map(|a| {
            (
                a.id.clone(),
                developers.iter().find(|d| d.id == a.developer_id).map_or(String::new(), |d| d.email.clone()),
            )
        })
        .collect();
    let product_names: Vec<(String, String)> = products.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
    let plan_names: Vec<(String, String)> = plans.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
    let pending = s
        .repo
        .list::<Subscription>(None)
        .await?
        .into_iter()
        .filter(|sub| sub.status == SubscriptionStatus::Pending)
        .map(|sub| PendingLine {
            developer: name_of(&sub.app_id, &owners),
            app: name_of(&sub.app_id, &app_names),
            product: name_of(&sub.product_id, &product_names),
            plan: name_of(&sub.plan_id, &plan_names),
            since: date(sub.created_at),
            id: sub.id,
        })
        .collect();
    let developer_lines = developers
        .iter()
        .map(|d| DeveloperLine {
            email: d.email.clone(),
            name: d.name.clone(),
            apps: apps
                .iter()
                .filter(|a| a.developer_id == d.id)
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            joined: date(d.created_at),
            closed: d.closed_at.is_some(),
        })
        .collect();
    let api_lines = s
        .repo
        .list::<gatehouse_core::model::ApiCard>(None)
        .await?
        .into_iter()
        .map(|c| ApiLine { state: c.lifecycle.name(), id: c.id, name: c.name, version: c.version })
        .collect();
    let app_choices = apps
        .iter()
        .map(|a| AppChoice { id: a.id.clone(), label: format!("{} ({})", a.name, name_of(&a.id, &owners)) })
        .collect();
    Ok(Overview { pending, developers: developer_lines, apis: api_lines, apps: app_choices })
}

#[derive(Debug, Deserialize)]
pub(crate) struct OAuthClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
}

/// `POST /admin/oauth-clients`: registers an identity provider's client on an app, as
/// `POST /v1/apps/{id}/oauth-clients` does.
pub(crate) async fn register_client<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<OAuthClientForm>,
) -> Response {
    let actor = match admin_posting(&s, &headers, &form.csrf, Access::Owner).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let (issuer, client_id) = (form.issuer.trim(), form.client_id.trim());
    match oauth_clients::register_client(&s, &actor, &form.app_id, issuer, client_id, None).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CertificateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    subject: String,
}

/// `POST /admin/client-certificates`: registers a client certificate subject on an app, as
/// `POST /v1/apps/{id}/client-certificates` does.
pub(crate) async fn register_certificate<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<CertificateForm>,
) -> Response {
    let actor = match admin_posting(&s, &headers, &form.csrf, Access::Owner).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let subject = form.subject.trim();
    match client_certificates::register_certificate(&s, &actor, &form.app_id, subject, None).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `approve` or `reject`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/subscriptions/{id}`.
pub(crate) async fn decide<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let actor = match admin_posting(&s, &headers, &form.csrf, Access::Approvals).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let decided = match form.decision.as_str() {
        "approve" => subscriptions::approve_subscription(&s, &actor, &id, &IfMatch::default()).await,
        "reject" => subscriptions::reject_subscription(&s, &actor, &id, &IfMatch::default(), &form.reason).await,
        _ => return html_error(StatusCode::BAD_REQUEST, "Unknown decision", "Choose approve or reject."),
    };
    match decided {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LifecycleForm {
    #[serde(default)]
    csrf: String,
    /// `publish`, `deprecate` or `retire`.
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DD` (a date input's value), for a deprecation.
    #[serde(default)]
    sunset: String,
    #[serde(default)]
    successor: String,
}

/// `POST /admin/apis/{id}/lifecycle`.
pub(crate) async fn lifecycle<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<LifecycleForm>,
) -> Response {
    let actor = match admin_posting(&s, &headers, &form.csrf, Access::Catalog).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let successor = Some(form.successor.trim().to_owned()).filter(|s| !s.is_empty());
    let transition = match form.action.as_str() {
        "publish" => Transition::Publish,
        "deprecate" => {
            let sunset = match form.sunset.trim() {
                "" => None,
                day => match parse_rfc3339(&format!("{day}T00:00:00Z")) {
                    Some(at) if at > s.now() - DAY => Some(at),
                    _ => {
                        return html_error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "Check the sunset date",
                            "Give a date from today on.",
                        )
                    }
                },
            };
            Transition::Deprecate { sunset_at: sunset, successor }
        }
        "retire" => Transition::Retire { successor },
        _ => return html_error(StatusCode::BAD_REQUEST, "Unknown action", "Choose publish, deprecate or retire."),
    };
    match apis::move_api(&s, &actor, &id, &IfMatch::default(), transition).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => failed(e),
    }
}
