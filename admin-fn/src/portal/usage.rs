//! A developer's own usage: requests, errors, latency and cache hits over the last hour, day
//! or 30 days, for all their apps or one app, key, API or operation; each quota's use against
//! its limit with a forecast; and the same rows as CSV.
//!
//! Every query is pinned to the session's developer (`developer_id`), so a key or app id
//! typed into the URL that is not theirs matches nothing: another developer's usage is never
//! read, let alone shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use gatehouse_core::alerts::{AlertRule, QuotaUse};
use gatehouse_core::limits::{forecast, Forecast, QuotaWindow};
use gatehouse_core::model::{ApiCard, App, Developer, Key};
use gatehouse_core::store::{GroupBy, Repo, UsageQuery, UsageRow};
use gatehouse_core::time::{rfc3339, UnixMillis, DAY, HOUR};
use serde::Deserialize;

use super::apps::{developer, failed};
use super::plain_words::thousands;
use super::session::Current;
use super::{render, visibility, Chrome};
use crate::alerts::quotas::developer_quotas;
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::AdminState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsageParams {
    #[serde(default)]
    range: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    api: String,
    #[serde(default)]
    operation: String,
}

/// The time ranges offered, with the bucket that suits each.
fn range(name: &str) -> (&'static str, UnixMillis, GroupBy) {
    match name {
        "day" => ("day", DAY, GroupBy::Hour),
        "30d" => ("30d", 30 * DAY, GroupBy::Day),
        _ => ("hour", HOUR, GroupBy::Minute),
    }
}

impl UsageParams {
    fn query(&self, developer_id: &str, now: UnixMillis) -> UsageQuery {
        let (_, length, group_by) = range(&self.range);
        let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        UsageQuery {
            from: Some(now - length),
            to: None,
            api_id: some(&self.api),
            operation_id: some(&self.operation),
            key_id: some(&self.key),
            app_id: some(&self.app),
            developer_id: Some(developer_id.to_owned()),
            group_by,
            by: None,
        }
    }
}

/// One row of the table (and of the CSV).
pub(crate) struct SeriesRow {
    pub at_ms: Option<UnixMillis>,
    pub at: String,
    pub requests: u64,
    pub ok: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub p95_ms: String,
    pub cache_hits: u64,
}

fn series_row(row: &UsageRow) -> SeriesRow {
    SeriesRow {
        at_ms: row.bucket,
        at: row.bucket.map(rfc3339).unwrap_or_default(),
        requests: row.requests,
        ok: row.status_classes[1] + row.status_classes[2],
        client_errors: row.status_classes[3],
        server_errors: row.status_classes[4],
        p95_ms: row.p95_us.map_or_else(String::new, |us| format!("{:.1}", us as f64 / 1000.0)),
        cache_hits: row.cache_hits,
    }
}

/// A quota's use in its current window.
pub(crate) struct QuotaLine {
    pub plan: String,
    pub whose: String,
    pub used: String,
    pub limit: String,
    pub percent: u64,
    pub outlook: String,
}

pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    chrome: Chrome,
    range: &'static str,
    apps: Vec<Choice>,
    keys: Vec<Choice>,
    apis: Vec<Choice>,
    operation: String,
    total: SeriesRow,
    rows: Vec<SeriesRow>,
    /// `[[unix seconds…], [requests…], [errors…]]` for the chart script.
    chart: String,
    quotas: Vec<QuotaLine>,
    csv_link: String,
    /// How many alert rules the developer has (the settings are on their own page).
    alert_rules: usize,
}

fn choices(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Choice> {
    items.into_iter().map(|(value, label)| Choice { selected: value == selected, value, label }).collect()
}

/// `GET /usage`.
pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(params): Query<UsageParams>,
) -> Response {
    let (current, developer) = match developer(&s, &headers, "/usage").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match usage_page(&s, &current, &developer, params).await {
        Ok(page) => render(&page),
        Err(e) => failed(e),
    }
}

async fn usage_page<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    params: UsageParams,
) -> Result<UsagePage, AdminError> {
    let now = s.now();
    let query = params.query(&developer.id, now);
    let rows: Vec<SeriesRow> = s.repo.query_usage(&query).await?.iter().map(series_row).collect();
    let total_query = UsageQuery { group_by: GroupBy::Total, ..query };
    let total = s.repo.query_usage(&total_query).await?.first().map(series_row).unwrap_or_else(|| series_row(&empty()));
    let apps = s.repo.list::<App>(Some(&developer.id)).await?;
    let mut keys = Vec::new();
    for app in &apps {
        for key in s.repo.list::<Key>(Some(&app.id)).await? {
            keys.push((key.id.clone(), format!("{} ({}…{}, {})", key.name, key.display_prefix, key.last4, app.name)));
        }
    }
    let cards = s.repo.list::<ApiCard>(None).await?;
    let visible = visibility::of(s, Some(current)).await?;
    let listed = |c: &&ApiCard| c.lifecycle.name() != "draft" && visible.api(&c.id);
    let apis = cards.iter().filter(listed).map(|c| (c.id.clone(), c.name.clone()));
    let chart = serde_json::to_string(&[
        rows.iter().map(|r| r.at_ms.unwrap_or_default() / 1000).collect::<Vec<_>>(),
        rows.iter().map(|r| r.requests as i64).collect(),
        rows.iter().map(|r| (r.client_errors + r.server_errors) as i64).collect(),
    ])
    .unwrap_or_default();
    let csv_link = format!(
        "/usage.csv?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("range", range(&params.range).0)
            .append_pair("app", &params.app)
            .append_pair("key", &params.key)
            .append_pair("api", &params.api)
            .append_pair("operation", &params.operation)
            .finish()
    );
    Ok(UsagePage {
        chrome: Chrome::of(&s.portal, Some(current)),
        range: range(&params.range).0,
        apps: choices(apps.iter().map(|a| (a.id.clone(), a.name.clone())), &params.app),
        keys: choices(keys, &params.key),
        apis: choices(apis, &params.api),
        operation: params.operation,
        total,
        rows,
        chart,
        quotas: quotas(s, developer, &apps, now).await?,
        csv_link,
        alert_rules: s.repo.list::<AlertRule>(Some(&developer.id)).await?.len(),
    })
}

fn empty() -> UsageRow {
    gatehouse_core::store::summarise(&UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() }, [])
        .pop()
        .unwrap_or_else(|| unreachable!("a total over nothing is one zero row"))
}

/// Each quota of each active subscription, measured over its current window.
async fn quotas<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    developer: &Developer,
    apps: &[App],
    now: UnixMillis,
) -> Result<Vec<QuotaLine>, AdminError> {
    let measured = developer_quotas(&*s.repo, &developer.id, apps, now).await?;
    Ok(measured
        .into_iter()
        .map(|m| {
            let QuotaUse { whose, limit, used, window: bounds, .. } = m.usage;
            QuotaLine {
                plan: m.plan,
                whose,
                used: thousands(used),
                limit: format!("{} a {}", thousands(limit), window_word(m.window)),
                percent: (used.saturating_mul(100) / limit.max(1)).min(100),
                outlook: outlook(forecast(limit, used, bounds, now), bounds.1),
            }
        })
        .collect())
}

fn window_word(window: QuotaWindow) -> &'static str {
    match window {
        QuotaWindow::Minute => "minute",
        QuotaWindow::Hour => "hour",
        QuotaWindow::Day => "day",
        QuotaWindow::Month => "month",
    }
}

fn outlook(forecast: Forecast, resets: UnixMillis) -> String {
    let at = |t: UnixMillis| rfc3339(t).replace('T', " ").chars().take(16).collect::<String>() + " UTC";
    match forecast {
        Forecast::Exhausted => format!("Used up; it resets at {}.", at(resets)),
        Forecast::RunsOutAt(t) => format!("At this rate it runs out at {}, before it resets at {}.", at(t), at(resets)),
        Forecast::Lasts => format!("At this rate it lasts until it resets at {}.", at(resets)),
    }
}

/// `GET /usage.csv`: the page's table, as a file.
pub(crate) async fn csv<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(params): Query<UsageParams>,
) -> Response {
    let (_, developer) = match developer(&s, &headers, "/usage").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let rows = match s.repo.query_usage(&params.query(&developer.id, s.now())).await {
        Ok(rows) => rows,
        Err(e) => return failed(e.into()),
    };
    match write_csv(rows.iter().map(series_row)) {
        Ok(body) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"usage.csv\""));
            response
        }
        Err(e) => failed(AdminError::Internal(e.to_string())),
    }
}

fn write_csv(rows: impl Iterator<Item = SeriesRow>) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["time", "requests", "ok", "client_errors", "server_errors", "p95_ms", "cache_hits"])?;
    for r in rows {
        let numbers = [r.requests, r.ok, r.client_errors, r.server_errors].map(|n| n.to_string());
        writer.write_record([
            r.at.as_str(),
            &numbers[0],
            &numbers[1],
            &numbers[2],
            &numbers[3],
            &r.p95_ms,
            &r.cache_hits.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
