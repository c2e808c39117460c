//! Who still calls an API: the developers whose apps called it in the last N days, with each
//! app's call count, from stored usage rollups. The portal's retirement banners ("your app X
//! called this API 1,234 times this week") and the deprecation email read this list.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::model::{Api, App, Developer};
use gatehouse_core::store::{AppCalls, Repo, StoreError};
use gatehouse_core::time::{UnixMillis, DAY};
use serde::{Deserialize, Serialize};

use super::{route, Route};
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, QueryParams};
use crate::publisher::Publisher;
use crate::state::AdminState;

/// The window when none is given, and the longest one (usage is kept at least this long).
pub(crate) const DEFAULT_DAYS: u32 = 30;
pub(crate) const MAX_DAYS: u32 = 400;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::GET, "/v1/apis/{id}/callers", Access::Read, list::<R, P>)]
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallersQuery {
    /// The last this many days up to now (1 to 400, default 30).
    #[schema(minimum = 1, maximum = 400)]
    days: Option<u32>,
}

/// Developers whose apps called the API in `[from, to)`, most calls first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Callers {
    pub api_id: String,
    pub days: u32,
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: UnixMillis,
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: UnixMillis,
    pub items: Vec<Caller>,
}

/// One developer and their apps that called the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Caller {
    pub developer_id: String,
    pub email: String,
    pub name: String,
    /// Calls by all their apps in the window.
    pub requests: u64,
    pub apps: Vec<CallerApp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallerApp {
    pub id: String,
    pub name: String,
    pub requests: u64,
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
    QueryParams(q): QueryParams<CallersQuery>,
) -> Result<Json<Callers>, AdminError> {
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AdminError::validation(vec![FieldError::new("/days", format!("must be 1 to {MAX_DAYS}"))]));
    }
    s.load::<Api>("api", &id).await?;
    Ok(Json(api_callers(&s, &id, days).await?))
}

/// The callers of `api_id` over the last `days` days up to now. Closed accounts are left
/// out: their keys are revoked, and they are not to be written to.
pub(crate) async fn api_callers<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    api_id: &str,
    days: u32,
) -> Result<Callers, AdminError> {
    // `to` is just past now, so the minute under way (its rollup starts before now) counts.
    let to = s.now() + 1;
    let from = to - i64::from(days) * DAY;
    let mut by_developer: BTreeMap<String, Vec<AppCalls>> = BTreeMap::new();
    for calls in s.repo.app_calls(api_id, from, to).await? {
        by_developer.entry(calls.developer_id.clone()).or_default().push(calls);
    }
    let mut items = Vec::new();
    for (developer_id, calls) in by_developer {
        let Some(developer) = found(s.repo.get::<Developer>(&developer_id).await)? else { continue };
        if developer.closed_at.is_some() {
            continue;
        }
        let mut apps = Vec::new();
        for c in calls {
            let name = found(s.repo.get::<App>(&c.app_id).await)?.map_or_else(String::new, |a| a.name);
            apps.push(CallerApp { id: c.app_id, name, requests: c.requests });
        }
        let requests = apps.iter().map(|a| a.requests).sum();
        items.push(Caller { developer_id, email: developer.email, name: developer.name, requests, apps });
    }
    items.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.developer_id.cmp(&b.developer_id)));
    Ok(Callers { api_id: api_id.to_owned(), days, from, to, items })
}

/// A record that was deleted since its usage was recorded is no error here.
fn found<T>(got: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match got {
        Err(StoreError::NotFound) => Ok(None),
        other => other.map(Some),
    }
}
