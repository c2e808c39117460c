//! Usage reports from the stored per-minute rollups: as JSON, and as CSV with exactly the
//! report's rows (for spreadsheets and the portal's downloads).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::store::{Repo, UsageQuery, UsageRow};
use gatehouse_core::time::rfc3339;
use serde::Serialize;

use super::{route, Route};
use crate::error::{AdminError, FieldError};
use crate::extract::QueryParams;
use crate::publisher::Publisher;
use crate::state::AdminState;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/usage", Access::Read, report::<R, P>),
        route(Method::GET, "/v1/usage/export.csv", Access::Read, export::<R, P>),
    ]
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
    let items = rows(&s, &query).await?;
    Ok(Json(Report { query, items }))
}

/// The report's rows, once the range is checked.
async fn rows<R: Repo, P: Publisher>(s: &AdminState<R, P>, query: &UsageQuery) -> Result<Vec<UsageRow>, AdminError> {
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(AdminError::validation(vec![FieldError::new("/to", "must not be before from")]));
        }
    }
    Ok(s.repo.query_usage(query).await?)
}

/// `GET /v1/usage/export.csv`: the same report, one CSV line per row.
async fn export<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    QueryParams(query): QueryParams<UsageQuery>,
) -> Result<Response, AdminError> {
    let rows = rows(&s, &query).await?;
    let body = csv_of(&query, &rows).map_err(|e| AdminError::Internal(e.to_string()))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"usage.csv\""));
    Ok(response)
}

/// A report as CSV: the period, the breakdown's value (a column named after `by`), then every
/// figure of the row; one column per limit outcome that occurs in the rows, so the file holds
/// exactly the report's numbers. Written by the `csv` crate, which quotes what needs it.
pub(crate) fn csv_of(query: &UsageQuery, rows: &[UsageRow]) -> Result<String, csv::Error> {
    let outcomes: BTreeSet<&str> = rows.iter().flat_map(|r| r.outcomes.keys().map(String::as_str)).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["period".to_owned()];
    header.extend(query.by.map(|by| by.as_str().to_owned()));
    header
        .extend(["requests", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx"].map(str::to_owned));
    header.extend(outcomes.iter().map(|o| format!("outcome_{o}")));
    header.extend(["p50_ms", "p95_ms", "p99_ms", "bytes_in", "bytes_out", "cache_hits"].map(str::to_owned));
    writer.write_record(&header)?;
    let ms = |us: Option<u64>| us.map_or_else(String::new, |us| format!("{:.3}", us as f64 / 1_000.0));
    for row in rows {
        let mut line = vec![row.bucket.map_or_else(|| "total".to_owned(), rfc3339)];
        if query.by.is_some() {
            line.push(row.group.clone().unwrap_or_default());
        }
        line.push(row.requests.to_string());
        line.extend(row.status_classes.iter().map(u64::to_string));
        line.extend(outcomes.iter().map(|o| row.outcomes.get(*o).copied().unwrap_or(0).to_string()));
        line.extend([ms(row.p50_us), ms(row.p95_us), ms(row.p99_us)]);
        line.extend([row.bytes_in, row.bytes_out, row.cache_hits].map(|n| n.to_string()));
        writer.write_record(&line)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
