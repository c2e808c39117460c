//! The audit trail as pages: the admin area's `/admin/audit` (every entry, for every admin
//! role) and a developer's `/account/activity` (the entries about their own account, apps,
//! keys and subscriptions). Both read through `GET /v1/audit`'s own function with the signed-in
//! principal, so a page can never show more than the API would.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_core::store::{AuditEntry, Repo};
use gatehouse_core::time::{parse_rfc3339, rfc3339};
use serde::Deserialize;

use super::apps::{developer, failed};
use super::session::{self, Current};
use super::{html_error, render, Chrome};
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::routes::audit::{read, AuditQuery};
use crate::state::AdminState;

/// One entry as a row.
pub(crate) struct Line {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub targets: String,
    pub from: String,
    pub why: String,
}

impl Line {
    fn of(e: &AuditEntry) -> Line {
        let details: Vec<String> = e.details.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let why = [e.reason.clone().unwrap_or_default(), details.join(", ")].join(" ");
        Line {
            at: rfc3339(e.at),
            actor: e.actor.clone(),
            role: e.role.map_or("", |r| r.as_str()).to_owned(),
            action: e.action.clone(),
            targets: e.targets.join(", "),
            from: e.from.clone().unwrap_or_default(),
            why: why.trim().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    /// This page's path, for the filter form and the "older" link.
    base: &'static str,
    admin: bool,
    filters: Filters,
    lines: Vec<Line>,
    /// The query string of the next (older) page.
    older: Option<String>,
}

/// The filters as typed in the form (dates as `YYYY-MM-DD`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

impl Filters {
    /// The query, or which date is not one.
    fn query(&self) -> Result<AuditQuery, &'static str> {
        let day = |d: &str, what: &'static str| match d.trim() {
            "" => Ok(None),
            d => parse_rfc3339(&format!("{d}T00:00:00Z")).map(Some).ok_or(what),
        };
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(AuditQuery {
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            from: day(&self.from, "From")?,
            // The "to" day is included: the query's end is the next midnight.
            to: day(&self.to, "To")?.map(|t| t + gatehouse_core::time::DAY),
            cursor: text(&self.cursor),
            limit: None,
        })
    }

    fn older(&self, next: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("actor", &self.actor), ("action", &self.action), ("target", &self.target)] {
            q.append_pair(k, v);
        }
        q.append_pair("from", &self.from).append_pair("to", &self.to).append_pair("cursor", next).finish()
    }
}

async fn show<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    base: &'static str,
    filters: Filters,
) -> Response {
    let query = match filters.query() {
        Ok(query) => query,
        Err(what) => {
            let detail = format!("{what} is not a date.");
            return html_error(StatusCode::UNPROCESSABLE_ENTITY, "Check the dates", &detail);
        }
    };
    match read(s, &current.actor(), &query).await {
        Ok(page) => {
            let older = page.next.as_deref().map(|n| filters.older(n));
            let lines = page.items.iter().map(Line::of).collect();
            let admin = current.is_admin();
            render(&AuditPage { chrome: Chrome::of(&s.portal, Some(current)), base, admin, filters, lines, older })
        }
        Err(AdminError::Problem(p)) if p.status == 422 => {
            html_error(StatusCode::UNPROCESSABLE_ENTITY, "Check the filters", "Start again from the first page.")
        }
        Err(e) => failed(e),
    }
}

/// `GET /admin/audit`.
pub(crate) async fn admin_page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Response {
    match session::current(&s, &headers).await {
        Ok(Some(current)) if current.is_admin() => show(&s, &current, "/admin/audit", filters).await,
        Ok(Some(_)) => html_error(StatusCode::FORBIDDEN, "Admins only", "Your own activity is under Account."),
        Ok(None) => Redirect::to("/admin/signin").into_response(),
        Err(e) => failed(e),
    }
}

/// `GET /account/activity`.
pub(crate) async fn developer_page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Response {
    match developer(&s, &headers, "/account/activity").await {
        Ok((current, _)) => show(&s, &current, "/account/activity", filters).await,
        Err(response) => response,
    }
}
