//! A developer's own apps and keys: "Get a key" on an API's page, the dashboard, an app's
//! page, and rotating and revoking keys. Every action goes through the admin API's own
//! functions (the same checks, the same audit entries), acting as `developer:<id>`.
//!
//! An organisation's apps are its members' to use (see a member's keys, make keys) and its
//! org-admins' to manage (subscribe, rotate and revoke any key). Any other app or key does
//! not exist here: it answers 404, exactly like an id that was never issued.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::audience::Visibility;
use gatehouse_core::keys::{check_key, KeyCheck};
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::ApiCard;
use gatehouse_core::model::{App, Developer, Key, KeyStatus, Plan, Product, Subscription, SubscriptionStatus};
use gatehouse_core::store::{GroupBy, Repo, StoreError, UsageQuery};
use gatehouse_core::time::DAY;
use serde::Deserialize;

use super::catalog::{self, date};
use super::plain_words::thousands;
use super::session::{self, CsrfForm, Current};
use super::{expired_form, html_error, render, visibility, Chrome};
use crate::error::AdminError;
use crate::preconditions::IfMatch;
use crate::publisher::Publisher;
use crate::routes::{developers, keys, subscriptions};
use crate::state::AdminState;
use crate::views::SubscriptionView;

/// The signed-in developer, or the response to send instead (sign in first; or 403 for an
/// admin session, which has no apps).
pub(crate) async fn developer<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
    back_to: &str,
) -> Result<(Current, Developer), Response> {
    match session::current(s, headers).await {
        Ok(Some(current)) => match current.developer.clone() {
            Some(developer) => Ok((current, developer)),
            None => {
                Err(html_error(StatusCode::FORBIDDEN, "Developers only", "Sign in as a developer to use this page."))
            }
        },
        Ok(None) => {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("next", back_to).finish();
            Err(Redirect::to(&format!("/signin?{query}")).into_response())
        }
        Err(e) => Err(failed(e)),
    }
}

/// [`developer`], for a form's POST: also refuses a form without the session's token (403).
pub(crate) async fn posting<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
    back_to: &str,
    csrf: &str,
) -> Result<(Current, Developer), Response> {
    let (current, developer) = developer(s, headers, back_to).await?;
    match current.form_token_matches(csrf) {
        true => Ok((current, developer)),
        false => Err(expired_form()),
    }
}

pub(crate) fn failed(e: AdminError) -> Response {
    match e {
        AdminError::Problem(problem) => {
            let detail = problem.detail.clone().unwrap_or_else(|| problem.title.clone());
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            html_error(status, &problem.title, &detail)
        }
        AdminError::Store(StoreError::NotFound) => not_found(),
        AdminError::Store(StoreError::Conflict(what)) => {
            html_error(StatusCode::CONFLICT, "Already there", &format!("That would duplicate a {what}."))
        }
        other => {
            tracing::error!(error = %other, "a portal action failed");
            html_error(StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable", "Please try again in a moment.")
        }
    }
}

pub(crate) fn not_found() -> Response {
    html_error(StatusCode::NOT_FOUND, "Not found", "There is nothing at this address.")
}

pub(crate) fn admins_only() -> Response {
    html_error(StatusCode::FORBIDDEN, "Organisation admins only", "Ask an admin of the organisation to do this.")
}

/// A key as the pages list it.
pub(crate) struct KeyLine {
    pub id: String,
    pub name: String,
    pub shown: String,
    pub status: &'static str,
    pub created: String,
    pub last_used: String,
    pub grace_until: Option<String>,
    pub rotatable: bool,
    pub revocable: bool,
}

impl KeyLine {
    pub(crate) fn of(key: &Key, now: i64) -> KeyLine {
        let check = check_key(key, now);
        let status = match (key.status, check) {
            (KeyStatus::Revoked, _) => "revoked",
            (KeyStatus::Disabled, _) => "disabled",
            (_, KeyCheck::Active) if key.grace_until.is_some() => "rotating",
            (_, KeyCheck::Active) => "active",
            _ => "expired",
        };
        KeyLine {
            id: key.id.clone(),
            name: key.name.clone(),
            shown: match (&key.oauth_client, &key.client_certificate) {
                (Some(client), _) => format!("OAuth client {} of {}", client.client_id, client.issuer),
                (_, Some(certificate)) => format!("client certificate {}", certificate.subject),
                _ => format!("{}…{}", key.display_prefix, key.last4),
            },
            status,
            created: date(key.created_at),
            last_used: key.last_used_at.map_or_else(|| "never".to_owned(), gatehouse_core::time::rfc3339),
            grace_until: key.grace_until.map(gatehouse_core::time::rfc3339),
            // A registration is replaced by registering the new client id or subject, never
            // rotated.
            rotatable: check == KeyCheck::Active
                && key.replaced_by.is_none()
                && key.oauth_client.is_none()
                && key.client_certificate.is_none(),
            revocable: key.status != KeyStatus::Revoked,
        }
    }
}

/// A subscription as the pages list it, with why it is not active, in the admin API's words.
pub(crate) struct SubscriptionLine {
    pub product: String,
    pub plan: String,
    pub status: &'static str,
    pub explanation: String,
}

fn subscription_line(sub: &Subscription, products: &[Product], plans: &[Plan]) -> SubscriptionLine {
    fn name<'a>(id: &str, mut names: impl Iterator<Item = (&'a str, &'a str)>) -> String {
        names.find(|(i, _)| *i == id).map_or_else(|| id.to_owned(), |(_, n)| n.to_owned())
    }
    let status = match sub.status {
        SubscriptionStatus::Active => "active",
        SubscriptionStatus::Pending => "pending",
        SubscriptionStatus::Suspended => "suspended",
        SubscriptionStatus::Rejected => "rejected",
    };
    let view = SubscriptionView::new(sub.clone());
    SubscriptionLine {
        product: name(&sub.product_id, products.iter().map(|p| (p.id.as_str(), p.name.as_str()))),
        plan: name(&sub.plan_id, plans.iter().map(|p| (p.id.as_str(), p.name.as_str()))),
        status,
        explanation: view.status_reason.unwrap_or_default(),
    }
}

pub(crate) struct AppLine {
    pub app: App,
    pub subscriptions: Vec<SubscriptionLine>,
    pub keys: Vec<KeyLine>,
}

pub(crate) async fn app_lines<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    apps: Vec<App>,
) -> Result<Vec<AppLine>, AdminError> {
    let (products, plans) = (s.repo.list::<Product>(None).await?, s.repo.list::<Plan>(None).await?);
    let mut lines = Vec::with_capacity(apps.len());
    for app in apps {
        let subs = s.repo.list::<Subscription>(Some(&app.id)).await?;
        let keys = s.repo.list::<Key>(Some(&app.id)).await?;
        lines.push(AppLine {
            subscriptions: subs.iter().map(|sub| subscription_line(sub, &products, &plans)).collect(),
            keys: keys.iter().rev().map(|k| KeyLine::of(k, s.now())).collect(),
            app,
        });
    }
    Ok(lines)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    developer: Developer,
    apps: Vec<AppLine>,
    retiring: Vec<Retiring>,
    /// The developer's requests for sensitive data, newest first.
    access: Vec<super::access::AccessLine>,
    /// The organisations they belong to: (id, name, role).
    organisations: Vec<(String, String, &'static str)>,
}

/// A deprecated API that one of the developer's apps called in the last 30 days.
pub(crate) struct Retiring {
    pub api_id: String,
    pub api: String,
    pub app: String,
    pub this_week: String,
    pub sunset: Option<String>,
    pub successor: Option<String>,
}

/// The deprecated APIs the developer's apps still call, with this week's count per app.
async fn retiring<R: Repo, P: Publisher>(s: &AdminState<R, P>, apps: &[App]) -> Result<Vec<Retiring>, AdminError> {
    let now = s.now();
    let calls = |app: &App, api: &str, days: i64| UsageQuery {
        from: Some(now - days * DAY),
        app_id: Some(app.id.clone()),
        developer_id: Some(app.developer_id.clone()),
        api_id: Some(api.to_owned()),
        group_by: GroupBy::Total,
        ..UsageQuery::default()
    };
    let mut found = Vec::new();
    for card in s.repo.list::<ApiCard>(None).await? {
        let Lifecycle::Deprecated { sunset_at, successor, .. } = &card.lifecycle else { continue };
        for app in apps {
            let month = s.repo.query_usage(&calls(app, &card.id, 30)).await?.first().map_or(0, |r| r.requests);
            if month == 0 {
                continue;
            }
            let week = s.repo.query_usage(&calls(app, &card.id, 7)).await?.first().map_or(0, |r| r.requests);
            found.push(Retiring {
                api_id: card.id.clone(),
                api: card.name.clone(),
                app: app.name.clone(),
                this_week: thousands(week),
                sunset: sunset_at.map(date),
                successor: successor.clone(),
            });
        }
    }
    Ok(found)
}

/// `GET /dashboard`.
pub(crate) async fn dashboard<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
) -> Response {
    let (current, developer) = match self::developer(&s, &headers, "/dashboard").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let apps = match s.repo.list::<App>(Some(&developer.id)).await {
        Ok(apps) => apps,
        Err(e) => return failed(e.into()),
    };
    let retiring = match retiring(&s, &apps).await {
        Ok(retiring) => retiring,
        Err(e) => return failed(e),
    };
    let access = match super::access::developer_lines(&s, &developer).await {
        Ok(access) => access,
        Err(e) => return failed(e),
    };
    match app_lines(&s, apps).await {
        Ok(apps) => {
            let chrome = Chrome::of(&s.portal, Some(&current));
            let organisations =
                current.memberships.iter().map(|(m, o)| (o.id.clone(), o.name.clone(), m.role.as_str())).collect();
            render(&DashboardPage { chrome, developer, apps, retiring, access, organisations })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewAppForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /apps`.
pub(crate) async fn create_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<NewAppForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, "/dashboard", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match developers::insert_app(&s, &current.actor(), developer.id, None, Some(form.name.trim().to_owned())).await {
        Ok(app) => Redirect::to(&format!("/apps/{}", app.id)).into_response(),
        Err(e) => failed(e),
    }
}

/// What the signed-in developer may do with an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppRight {
    /// See it and make keys for it: a member of the organisation that owns it.
    Use,
    /// Everything: their own app, or an org-admin of its organisation.
    Manage,
}

/// The developer's right over `app`; `None`: it does not exist for them.
pub(crate) fn right_over(current: &Current, developer: &Developer, app: &App) -> Option<AppRight> {
    match &app.organisation_id {
        None => (app.developer_id == developer.id).then_some(AppRight::Manage),
        Some(org) => {
            current.memberships.iter().find(|(m, _)| m.organisation_id == *org).map(|(m, _)| match m.role.manages() {
                true => AppRight::Manage,
                false => AppRight::Use,
            })
        }
    }
}

/// The app, if the developer has at least `needed` over it: 404 when they have no right at
/// all, 403 when a member tries what only an org-admin may do.
async fn app_with<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    id: &str,
    needed: AppRight,
) -> Result<App, Response> {
    let app = match s.repo.get::<App>(id).await {
        Ok(app) => app,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(failed(e.into())),
    };
    match right_over(current, developer, &app) {
        None => Err(not_found()),
        Some(AppRight::Use) if needed == AppRight::Manage => Err(admins_only()),
        Some(_) => Ok(app),
    }
}

/// The key and its app, if the developer has `needed` over the app.
async fn key_with<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    id: &str,
    needed: AppRight,
) -> Result<(Key, App), Response> {
    let key = match s.repo.get::<Key>(id).await {
        Ok(key) => key,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(failed(e.into())),
    };
    app_with(s, current, developer, &key.app_id, needed).await.map(|app| (key, app))
}

/// The apps the developer may use: their own, then their organisations'.
async fn usable_apps<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
) -> Result<Vec<App>, AdminError> {
    let mut apps = s.repo.list::<App>(Some(&developer.id)).await?;
    for (m, _) in &current.memberships {
        apps.extend(s.repo.list::<App>(Some(&m.organisation_id)).await?);
    }
    Ok(apps)
}

/// The organisations' apps the developer manages, as (id, "app (organisation)"), for the
/// "Get a key" form's choice of app.
pub(crate) async fn managed_org_apps<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
) -> Result<Vec<(String, String)>, AdminError> {
    let mut found = Vec::new();
    for (m, org) in current.memberships.iter().filter(|(m, _)| m.role.manages()) {
        for app in s.repo.list::<App>(Some(&m.organisation_id)).await? {
            found.push((app.id, format!("{} ({})", app.name, org.name)));
        }
    }
    Ok(found)
}

/// A secret shown once, right after it was made.
pub(crate) struct NewSecret {
    pub secret: String,
    pub key_name: String,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppPage {
    chrome: Chrome,
    line: AppLine,
    new_secret: Option<NewSecret>,
}

async fn app_page<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    app: App,
    new_secret: Option<NewSecret>,
) -> Response {
    match app_lines(s, vec![app]).await {
        Ok(mut lines) => match lines.pop() {
            Some(line) => render(&AppPage { chrome: Chrome::of(&s.portal, Some(current)), line, new_secret }),
            None => not_found(),
        },
        Err(e) => failed(e),
    }
}

/// `GET /apps/{id}`.
pub(crate) async fn show_app<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (current, developer) = match self::developer(&s, &headers, &format!("/apps/{id}")).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match app_with(&s, &current, &developer, &id, AppRight::Use).await {
        Ok(app) => app_page(&s, &current, app, None).await,
        Err(response) => response,
    }
}

/// `POST /apps/{id}/keys`.
pub(crate) async fn create_key<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<NewAppForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, &format!("/apps/{id}"), &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let app = match app_with(&s, &current, &developer, &id, AppRight::Use).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    let name = if form.name.trim().is_empty() { "Key".to_owned() } else { form.name.trim().to_owned() };
    match keys::create_key(&s, &current.actor(), &app.id, keys::NewKey::named(&name)).await {
        Ok((key, secret)) => {
            let new_secret = NewSecret { secret, key_name: key.name, note: None };
            app_page(&s, &current, app, Some(new_secret)).await
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RotateForm {
    /// Hours the old key keeps working.
    #[serde(default)]
    grace_hours: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /keys/{id}/rotate`.
pub(crate) async fn rotate_key<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RotateForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, "/dashboard", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (key, app) = match key_with(&s, &current, &developer, &id, AppRight::Manage).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(hours) = form.grace_hours.trim().parse::<u64>() else {
        return html_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Check the grace period",
            "Give the grace period in whole hours.",
        );
    };
    let grace_secs = hours.saturating_mul(3600);
    match keys::rotate_key(&s, &current.actor(), &key.id, &IfMatch::default(), grace_secs).await {
        Ok((new, secret)) => {
            let note = Some(format!("The old key keeps working for {hours} hours, then stops."));
            app_page(&s, &current, app, Some(NewSecret { secret, key_name: new.name, note })).await
        }
        Err(e) => failed(e),
    }
}

/// `POST /keys/{id}/revoke`.
pub(crate) async fn revoke_key<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, "/dashboard", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (key, _) = match key_with(&s, &current, &developer, &id, AppRight::Manage).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match keys::set_status(&s, &current.actor(), &key.id, &IfMatch::default(), KeyStatus::Revoked).await {
        Ok(_) => Redirect::to(&format!("/apps/{}", key.app_id)).into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct GetKeyForm {
    #[serde(default)]
    plan_id: String,
    /// An organisation's app the developer manages; empty: their own first app.
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /apis/{id}/keys`: "Get a key" — the developer's app (made if they have none),
/// subscribed to the plan, and a new key for it, in one step; answers the API's page with
/// the secret shown once and the try-it console filled in.
pub(crate) async fn get_key<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(api_id): Path<String>,
    Form(form): Form<GetKeyForm>,
) -> Response {
    let back = format!("/apis/{api_id}");
    let (current, developer) = match posting(&s, &headers, &back, &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match get_key_for(&s, &current, &developer, &api_id, &form).await {
        Ok(issued) => catalog::api_page_for(&s, &api_id, Some(&current), Some(issued)).await,
        Err(e) => failed(e),
    }
}

async fn get_key_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    api_id: &str,
    form: &GetKeyForm,
) -> Result<NewSecret, AdminError> {
    let (actor, plan_id) = (current.actor(), form.plan_id.as_str());
    let plan = s.repo.get::<Plan>(plan_id).await?;
    let product = s.repo.get::<Product>(&plan.product_id).await?;
    // A plan of a product outside the developer's audience does not exist for them.
    let visible = visibility::of(s, Some(current)).await?;
    if !product.items.iter().any(|i| i.api_id == api_id) || !visible.product(&product.id) {
        return Err(AdminError::not_found("plan", plan_id));
    }
    let chosen = match form.app_id.is_empty() {
        true => None,
        false => match s.repo.get::<App>(&form.app_id).await {
            Ok(app) if right_over(current, developer, &app) == Some(AppRight::Manage) => Some(app),
            Ok(_) | Err(StoreError::NotFound) => return Err(AdminError::not_found("app", &form.app_id)),
            Err(e) => return Err(e.into()),
        },
    };
    let app = match chosen {
        Some(app) => app,
        None => match s.repo.list::<App>(Some(&developer.id)).await?.into_iter().next() {
            Some(app) => app,
            None => developers::insert_app(s, &actor, developer.id.clone(), None, Some("My app".to_owned())).await?,
        },
    };
    let existing =
        s.repo.list::<Subscription>(Some(&app.id)).await?.into_iter().find(|sub| sub.product_id == product.id);
    let subscription = match existing {
        Some(sub) => sub,
        None => subscriptions::subscribe(s, &actor, app.id.clone(), product.id.clone(), &plan.id).await?,
    };
    let (key, secret) =
        keys::create_key(s, &actor, &app.id, keys::NewKey::named(&format!("{} key", product.name))).await?;
    let note = match subscription.status {
        SubscriptionStatus::Pending => Some(format!(
            "Your subscription to {} needs the provider's approval. This key works for it once approved.",
            product.name
        )),
        _ if subscription.plan_id != plan.id => {
            Some(format!("Your app already subscribes to {} on another plan; it keeps that plan.", product.name))
        }
        _ => None,
    };
    Ok(NewSecret { secret, key_name: format!("{} (app {})", key.name, app.name), note })
}

/// How long a console key works: a sitting's worth of trying things out.
const CONSOLE_KEY_LIFETIME: i64 = 3600 * 1000;

/// `POST /apis/{id}/console-key`: a key that works for an hour, on the developer's app that
/// already subscribes to this API, to fill in the try-it console on a later visit (a key's
/// secret is shown only once, so the portal cannot fill in an older one).
pub(crate) async fn console_key<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(api_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, &format!("/apis/{api_id}"), &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match console_key_for(&s, &current, &developer, &api_id).await {
        Ok(Some(issued)) => catalog::api_page_for(&s, &api_id, Some(&current), Some(issued)).await,
        Ok(None) => html_error(
            StatusCode::CONFLICT,
            "No subscription yet",
            "None of your apps subscribes to this API yet. Choose a plan and press Get a key first.",
        ),
        Err(e) => failed(e),
    }
}

async fn console_key_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    api_id: &str,
) -> Result<Option<NewSecret>, AdminError> {
    let products = s.repo.list::<Product>(None).await?;
    let visible = Visibility::of(visibility::visitor(Some(current)), &products);
    let bundles = |product_id: &str| {
        visible.product(product_id)
            && products.iter().any(|p| p.id == product_id && p.items.iter().any(|i| i.api_id == api_id))
    };
    for app in usable_apps(s, current, developer).await? {
        let subs = s.repo.list::<Subscription>(Some(&app.id)).await?;
        if !subs.iter().any(|sub| sub.status == SubscriptionStatus::Active && bundles(&sub.product_id)) {
            continue;
        }
        let until = s.now() + CONSOLE_KEY_LIFETIME;
        let name = format!("Console key (until {} UTC)", &gatehouse_core::time::rfc3339(until)[11..16]);
        let (key, secret) =
            keys::create_key(s, &current.actor(), &app.id, keys::NewKey::expiring(&name, until)).await?;
        let note = Some("It works for one hour, for trying this API from this page.".to_owned());
        return Ok(Some(NewSecret { secret, key_name: format!("{} (app {})", key.name, app.name), note }));
    }
    Ok(None)
}
