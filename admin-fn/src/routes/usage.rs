//! Usage reports from the stored per-minute rollups.

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::store::{Repo, UsageQuery, UsageRow};
use serde::Serialize;

use super::{route, Route};
use crate::error::{AdminError, FieldError};
use crate::extract::QueryParams;
use crate::publisher::Publisher;
use crate::state::AdminState;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::GET, "/v1/usage", Access::Read, report::<R, P>)]
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Report {
    query: UsageQuery,
    items: Vec<UsageRow>,
}

async fn report<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    QueryParams(query): QueryParams<UsageQuery>,
) -> Result<Json<Report>, AdminError> {
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(AdminError::validation(vec![FieldError::new("/to", "must not be before from")]));
        }
    }
    let items = s.repo.query_usage(&query).await?;
    Ok(Json(Report { query, items }))
}
