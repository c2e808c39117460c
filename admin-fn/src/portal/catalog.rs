//! The catalog (`/`), an API's page (`/apis/{id}`) and its OpenAPI document: what anyone may
//! read, signed in or not. Drafts do not exist here; retired APIs leave the catalog but keep
//! their page, which says so and names the successor.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::audience::Visibility;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{Api, ApiCard, Plan, Product};
use gatehouse_core::store::{Repo, StoreError};
use gatehouse_core::time::rfc3339;
use serde::Deserialize;

use super::apps::{self, NewSecret};
use super::reference::Reference;
use super::session::{self, Current, Visitor};
use super::{html_error, plain_words, render, visibility, Chrome};
use crate::publisher::Publisher;
use crate::state::AdminState;

/// Cards a catalog page shows at most; the rest are a page link away.
pub(crate) const PAGE_SIZE: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CatalogQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    page: Option<usize>,
}

/// A plan as a card lists it.
pub(crate) struct PlanLine {
    pub id: String,
    pub name: String,
    pub limits: Vec<String>,
    pub requires_approval: bool,
}

/// A product and its plans, as a card or an API page lists them.
pub(crate) struct ProductLine {
    pub name: String,
    pub description: String,
    pub plans: Vec<PlanLine>,
}

pub(crate) struct CardView {
    pub card: ApiCard,
    pub badge: &'static str,
    pub products: Vec<ProductLine>,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    query: String,
    tag: String,
    cards: Vec<CardView>,
    total: usize,
    page: usize,
    pages: usize,
    tags: Vec<String>,
}

impl CatalogPage {
    fn page_link(&self, page: usize) -> String {
        let mut query = form_query(&[("q", &self.query), ("tag", &self.tag)]);
        if page > 1 {
            query.push(if query.is_empty() { '?' } else { '&' });
            query.push_str(&format!("page={page}"));
        }
        format!("/{query}")
    }
}

fn form_query(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.append_pair(k, v);
    }
    match out.finish() {
        q if q.is_empty() => q,
        q => format!("?{q}"),
    }
}

/// The lifecycle as a badge's word; `None` for what the portal never shows.
pub(crate) fn badge(lifecycle: &Lifecycle) -> Option<&'static str> {
    match lifecycle {
        Lifecycle::Draft => None,
        Lifecycle::Published { .. } => Some("published"),
        Lifecycle::Deprecated { .. } => Some("deprecated"),
        Lifecycle::Retired { .. } => Some("retired"),
    }
}

/// Every product that bundles `api_id` and that the visitor may see, with its plans in words.
pub(crate) fn products_of(
    api_id: &str,
    products: &[Product],
    plans: &[Plan],
    visible: &Visibility,
) -> Vec<ProductLine> {
    let mut by_product: HashMap<&str, Vec<&Plan>> = HashMap::new();
    for plan in plans {
        by_product.entry(plan.product_id.as_str()).or_default().push(plan);
    }
    products
        .iter()
        .filter(|p| visible.product(&p.id) && p.items.iter().any(|i| i.api_id == api_id))
        .map(|p| ProductLine {
            name: p.name.clone(),
            description: p.description.clone(),
            plans: by_product
                .get(p.id.as_str())
                .into_iter()
                .flatten()
                .map(|plan| PlanLine {
                    id: plan.id.clone(),
                    name: plan.name.clone(),
                    limits: plain_words::limits(&plan.limits),
                    requires_approval: plan.requires_approval,
                })
                .collect(),
        })
        .collect()
}

/// `GET /`: published and deprecated APIs, searched and paged on the server.
pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
    Query(query): Query<CatalogQuery>,
) -> Response {
    match catalog(&s, query, current.as_ref()).await {
        Ok(mut page) => {
            page.chrome = Chrome::of(&s.portal, current.as_ref());
            render(&page)
        }
        Err(e) => unavailable(e),
    }
}

async fn catalog<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    query: CatalogQuery,
    current: Option<&Current>,
) -> Result<CatalogPage, StoreError> {
    let (products, plans) = (s.repo.list::<Product>(None).await?, s.repo.list::<Plan>(None).await?);
    let visible = Visibility::of(visibility::visitor(current), &products);
    let listed = |c: &ApiCard| {
        matches!(c.lifecycle, Lifecycle::Published { .. } | Lifecycle::Deprecated { .. }) && visible.api(&c.id)
    };
    // Tags, search and counts all come from the visible cards only: an invisible API's tag
    // would tell that it exists.
    let mut cards: Vec<ApiCard> = s.repo.list::<ApiCard>(None).await?.into_iter().filter(listed).collect();
    let mut tags: Vec<String> = cards.iter().flat_map(|c| c.tags.iter().cloned()).collect();
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    cards.retain(|c| c.matches(&query.q) && (query.tag.is_empty() || c.has_tag(&query.tag)));
    cards.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.version.cmp(&b.version)));
    let total = cards.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let cards = cards
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|card| CardView {
            badge: badge(&card.lifecycle).unwrap_or("published"),
            products: products_of(&card.id, &products, &plans, &visible),
            card,
        })
        .collect();
    Ok(CatalogPage { chrome: Chrome::new(&s.portal), query: query.q, tag: query.tag, cards, total, page, pages, tags })
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    chrome: Chrome,
    api: Api,
    badge: &'static str,
    description: String,
    products: Vec<ProductLine>,
    /// Where callers send requests: the gateway's URL and the API's base path.
    base_url: Option<String>,
    sunset: Option<String>,
    successor: Option<String>,
    /// Plans offer "Get a key" to a signed-in developer; others get the sign-in form on the
    /// page itself (one click fewer on the way to a first call than a link to `/signin`).
    signed_in_developer: bool,
    /// The anonymous form token of that sign-in form; empty when someone is signed in.
    signin_form_token: String,
    new_secret: Option<NewSecret>,
    /// Organisations' apps the developer manages, (id, label): "Get a key" may be for one of
    /// them instead of their own app.
    org_apps: Vec<(String, String)>,
    /// What the document marks as sensitive (`templates/sensitive.html`).
    sensitive: Vec<super::sensitive::SensitiveLine>,
    /// The static reference with its try-it forms (`templates/reference.html`); none for a
    /// retired API, which no longer answers calls.
    reference: Option<Reference>,
}

/// `GET /apis/{id}`.
pub(crate) async fn api_page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if current.is_some() {
        return api_page_for(&s, &id, current.as_ref(), None).await;
    }
    // Signed out: the page carries the sign-in form, with its double-submit token.
    let (token, cookie) = match session::anonymous_form_token(&headers) {
        Ok(found) => found,
        Err(e) => return apps::failed(e),
    };
    let mut response = api_page_with(&s, &id, None, None, token).await;
    if let Some(cookie) = cookie.filter(|_| response.status().is_success()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// An API's page for whoever is signed in, with a secret just issued shown once.
pub(crate) async fn api_page_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    id: &str,
    current: Option<&Current>,
    new_secret: Option<NewSecret>,
) -> Response {
    api_page_with(s, id, current, new_secret, String::new()).await
}

async fn api_page_with<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    id: &str,
    current: Option<&Current>,
    new_secret: Option<NewSecret>,
    signin_form_token: String,
) -> Response {
    let (products, plans) = match (s.repo.list::<Product>(None).await, s.repo.list::<Plan>(None).await) {
        (Ok(products), Ok(plans)) => (products, plans),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let visible = Visibility::of(visibility::visitor(current), &products);
    let api = match visibility::api_in(s, &visible, id).await {
        Ok(Some(api)) => api,
        Ok(None) => return no_such_api(),
        Err(e) => return unavailable(e),
    };
    let (sunset, successor) = match &api.lifecycle {
        Lifecycle::Deprecated { sunset_at, successor, .. } => (sunset_at.map(date), successor.clone()),
        Lifecycle::Retired { successor, .. } => (None, successor.clone()),
        _ => (None, None),
    };
    let retired = matches!(api.lifecycle, Lifecycle::Retired { .. });
    let org_apps = match current {
        Some(c) if c.developer.is_some() => match super::apps::managed_org_apps(s, c).await {
            Ok(apps) => apps,
            Err(e) => return super::apps::failed(e),
        },
        _ => Vec::new(),
    };
    let reference = (!retired).then(|| Reference::build(&api.openapi, s.portal.gateway_url.as_deref(), &api.base_path));
    let page = ApiPage {
        reference,
        sensitive: super::sensitive::lines(&api),
        chrome: Chrome::of(&s.portal, current),
        badge: badge(&api.lifecycle).unwrap_or("published"),
        description: ApiCard::of(&api).description,
        products: products_of(&api.id, &products, &plans, &visible),
        base_url: s.portal.gateway_url.as_ref().map(|g| format!("{}{}", g.trim_end_matches('/'), api.base_path)),
        sunset,
        successor,
        signed_in_developer: current.is_some_and(|c| c.developer.is_some()),
        signin_form_token,
        new_secret,
        org_apps,
        api,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "interactive.html")]
struct InteractivePage {
    chrome: Chrome,
    api: Api,
    gateway: String,
}

/// `GET /apis/{id}/interactive`: Scalar's reference with its try-it client, from the vendored
/// standalone bundle (see `assets`).
pub(crate) async fn interactive<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
    Path(id): Path<String>,
) -> Response {
    let api = match visibility::api(&s, current.as_ref(), &id).await {
        Ok(Some(api)) => api,
        Ok(None) => return no_such_api(),
        Err(e) => return unavailable(e),
    };
    let gateway = s.portal.gateway_url.as_ref().map(|g| format!("{}{}", g.trim_end_matches('/'), api.base_path));
    let page =
        InteractivePage { chrome: Chrome::of(&s.portal, current.as_ref()), gateway: gateway.unwrap_or_default(), api };
    let mut response = render(&page);
    let policy = super::headers::interactive_policy(s.portal.gateway_origin().as_deref());
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `GET /apis/{id}/openapi.json`: the description as imported, for tools and the renderer.
pub(crate) async fn api_document<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
    Path(id): Path<String>,
) -> Response {
    match visibility::api(&s, current.as_ref(), &id).await {
        Ok(Some(api)) => {
            let mut response = api.openapi.to_string().into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Ok(None) => no_such_api(),
        Err(e) => unavailable(e),
    }
}

/// The day of a time, `YYYY-MM-DD` (ISO 8601 reads the same in every locale).
pub(crate) fn date(at: i64) -> String {
    rfc3339(at).chars().take(10).collect()
}

/// The answer for an API that is missing, a draft, or outside the visitor's audience: one
/// page for all three, so none can be told apart.
pub(crate) fn no_such_api() -> Response {
    html_error(StatusCode::NOT_FOUND, "API not found", "There is no API at this address.")
}

pub(crate) fn unavailable(e: StoreError) -> Response {
    tracing::error!(error = %e, "a portal page could not read the store");
    html_error(StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable", "Please try again in a moment.")
}
