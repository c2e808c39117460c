//! The provider's analytics in the admin area: charts of requests, error rate, latency
//! percentiles, cache hits and bytes over an hour, a day, 7 or 30 days (each at a resolution
//! that suits it), and views — breakdowns by API, operation, plan, developer, app and key;
//! status classes and limit outcomes; top consumers, top errors, slowest operations; new and
//! active developers per week; plan adoption; deprecated APIs and who still calls them.
//!
//! Every view is one [`View`]: headers and rows of text, rendered as a table and, unchanged,
//! as its CSV download, so a download holds exactly the rows on the page.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{Api, App, Developer, Key, Organisation, Plan, Product, Subscription, SubscriptionStatus};
use gatehouse_core::store::{Dimension, Entity, GroupBy, Repo, UsageQuery, UsageRow};
use gatehouse_core::time::{rfc3339, UnixMillis, DAY, HOUR};
use serde::Deserialize;

use super::admin::admin;
use super::apps::failed;
use super::{render, Chrome};
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::routes::callers::api_callers;
use crate::state::AdminState;

const WEEK: i64 = 7 * DAY;
/// Weeks the business view covers, whatever the range.
const WEEKS: i64 = 8;
/// Rows a breakdown shows (the largest first); the CSV holds the same.
const TOP: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    range: String,
    #[serde(default)]
    api: String,
    /// For the CSV download: which view.
    #[serde(default)]
    view: String,
}

/// The ranges offered, with the bucket that suits each.
fn range(name: &str) -> (&'static str, UnixMillis, GroupBy) {
    match name {
        "hour" => ("hour", HOUR, GroupBy::Minute),
        "7d" => ("7d", 7 * DAY, GroupBy::Hour),
        "30d" => ("30d", 30 * DAY, GroupBy::Day),
        _ => ("day", DAY, GroupBy::Hour),
    }
}

/// One table of the page, and its CSV.
pub(crate) struct View {
    pub id: &'static str,
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One chart: its title, the series' labels, and `[[unix seconds…], [values…]…]` as JSON.
pub(crate) struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub labels: String,
    pub series: String,
}

pub(crate) struct ApiChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    chrome: Chrome,
    range: &'static str,
    api: String,
    apis: Vec<ApiChoice>,
    charts: Vec<Chart>,
    views: Vec<View>,
}

/// `GET /admin/analytics`.
pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let current = match admin(&s, &headers).await {
        Ok(current) => current,
        Err(response) => return response,
    };
    let found = async {
        let catalog = Catalog::load(&s).await?;
        let series = series(&s, &params).await?;
        let views = views(&s, &params, &catalog, &series).await?;
        Ok::<_, AdminError>((catalog, series, views))
    };
    match found.await {
        Ok((catalog, series, views)) => {
            let apis = catalog
                .apis
                .values()
                .map(|api| ApiChoice { id: api.id.clone(), name: api.name.clone(), selected: api.id == params.api })
                .collect();
            let chrome = Chrome::of(&s.portal, Some(&current));
            let (range, api) = (range(&params.range).0, params.api);
            render(&AnalyticsPage { chrome, range, api, apis, charts: charts(&series), views })
        }
        Err(e) => failed(e),
    }
}

/// `GET /admin/analytics.csv?view=…`: one view's rows, exactly as the page shows them.
pub(crate) async fn csv<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    if let Err(response) = admin(&s, &headers).await {
        return response;
    }
    let found = async {
        let catalog = Catalog::load(&s).await?;
        let series = series(&s, &params).await?;
        let views = views(&s, &params, &catalog, &series).await?;
        Ok::<_, AdminError>(views)
    };
    let views = match found.await {
        Ok(views) => views,
        Err(e) => return failed(e),
    };
    let Some(view) = views.into_iter().find(|v| v.id == params.view) else {
        return failed(AdminError::not_found("analytics view", &params.view));
    };
    match write_csv(&view) {
        Ok(body) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            let disposition = format!("attachment; filename=\"{}.csv\"", view.id);
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => failed(AdminError::Internal(e.to_string())),
    }
}

fn write_csv(view: &View) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&view.headers)?;
    for row in &view.rows {
        writer.write_record(row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Names for ids, read once per page.
struct Catalog {
    apis: BTreeMap<String, Api>,
    apps: HashMap<String, App>,
    developers: HashMap<String, Developer>,
    organisations: HashMap<String, Organisation>,
    keys: HashMap<String, Key>,
    plans: HashMap<String, Plan>,
    products: HashMap<String, Product>,
    subscriptions: Vec<Subscription>,
}

impl Catalog {
    async fn load<R: Repo, P: Publisher>(s: &AdminState<R, P>) -> Result<Catalog, AdminError> {
        let apis: Vec<Api> = s.repo.list(None).await?;
        Ok(Catalog {
            apis: apis.into_iter().filter(|a| a.lifecycle != Lifecycle::Draft).map(|a| (a.id.clone(), a)).collect(),
            apps: by_id(s.repo.list(None).await?),
            developers: by_id(s.repo.list(None).await?),
            organisations: by_id(s.repo.list(None).await?),
            keys: by_id(s.repo.list(None).await?),
            plans: by_id(s.repo.list(None).await?),
            products: by_id(s.repo.list(None).await?),
            subscriptions: s.repo.list(None).await?,
        })
    }

    /// A breakdown value as people read it.
    fn name(&self, by: Dimension, value: &str) -> String {
        let named = match by {
            Dimension::Api => self.apis.get(value).map(|a| a.name.clone()),
            Dimension::Operation => value.split_once(' ').map(|(api, op)| match self.apis.get(api) {
                Some(api) => format!("{} {op}", api.name),
                None => value.to_owned(),
            }),
            Dimension::App => self.apps.get(value).map(|a| a.name.clone()),
            Dimension::Developer => self.developers.get(value).map(|d| d.email.clone()),
            Dimension::Key => self.keys.get(value).map(|k| format!("{} ({}…{})", k.name, k.display_prefix, k.last4)),
        };
        match (value, named) {
            ("", _) => "(no credential)".to_owned(),
            (_, Some(name)) => name,
            (value, None) => value.to_owned(),
        }
    }

    /// The plan an app calls an API under: its active subscription to a product holding it.
    fn plan_of(&self, app_id: &str, api_id: &str) -> Option<&Plan> {
        self.subscriptions
            .iter()
            .filter(|s| s.app_id == app_id && s.status == SubscriptionStatus::Active)
            .find(|s| self.products.get(&s.product_id).is_some_and(|p| p.items.iter().any(|i| i.api_id == api_id)))
            .and_then(|s| self.plans.get(&s.plan_id))
    }
}

fn by_id<E: Entity>(items: Vec<E>) -> HashMap<String, E> {
    items.into_iter().map(|item| (item.id().to_owned(), item)).collect()
}

/// The page's filters as a usage query over its range.
fn query(now: UnixMillis, params: &Params) -> UsageQuery {
    let (_, length, group_by) = range(&params.range);
    let api_id = (!params.api.is_empty()).then(|| params.api.clone());
    UsageQuery { from: Some(now - length), to: Some(now + 1), api_id, group_by, ..UsageQuery::default() }
}

async fn series<R: Repo, P: Publisher>(s: &AdminState<R, P>, params: &Params) -> Result<Vec<UsageRow>, AdminError> {
    Ok(s.repo.query_usage(&query(s.now(), params)).await?)
}

fn errors(row: &UsageRow) -> u64 {
    row.status_classes[3] + row.status_classes[4]
}

fn ms(us: Option<u64>) -> String {
    us.map_or_else(String::new, |us| format!("{:.1}", us as f64 / 1_000.0))
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1_000.0 / whole as f64).round() / 10.0
    }
}

fn charts(rows: &[UsageRow]) -> Vec<Chart> {
    let times: Vec<i64> = rows.iter().map(|r| r.bucket.unwrap_or_default() / 1_000).collect();
    let chart = |id, title, labels: &[&str], columns: Vec<Vec<f64>>| {
        let mut series = vec![times.iter().map(|t| *t as f64).collect::<Vec<f64>>()];
        series.extend(columns);
        Chart {
            id,
            title,
            labels: serde_json::to_string(labels).unwrap_or_default(),
            series: serde_json::to_string(&series).unwrap_or_default(),
        }
    };
    let column = |f: &dyn Fn(&UsageRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let latency = |us: Option<u64>| us.map_or(0.0, |us| us as f64 / 1_000.0);
    vec![
        chart(
            "requests",
            "Requests and errors",
            &["requests", "errors"],
            vec![column(&|r| r.requests as f64), column(&|r| errors(r) as f64)],
        ),
        chart("error-rate", "Error rate (%)", &["4xx and 5xx"], vec![column(&|r| percent(errors(r), r.requests))]),
        chart(
            "latency",
            "Latency (ms)",
            &["p50", "p95", "p99"],
            vec![column(&|r| latency(r.p50_us)), column(&|r| latency(r.p95_us)), column(&|r| latency(r.p99_us))],
        ),
        chart("cache", "Cache hits (%)", &["hit ratio"], vec![column(&|r| percent(r.cache_hits, r.requests))]),
        chart("bytes", "Bytes", &["in", "out"], vec![column(&|r| r.bytes_in as f64), column(&|r| r.bytes_out as f64)]),
    ]
}

const FIGURES: [&str; 6] = ["requests", "errors", "error_rate_pct", "p95_ms", "cache_hits", "bytes_out"];

fn figures(row: &UsageRow) -> Vec<String> {
    vec![
        row.requests.to_string(),
        errors(row).to_string(),
        format!("{:.1}", percent(errors(row), row.requests)),
        ms(row.p95_us),
        row.cache_hits.to_string(),
        row.bytes_out.to_string(),
    ]
}

/// Every view of the page, in page order; `series` is the range's report over time, read once
/// for the charts and the "Over time" view alike.
async fn views<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    params: &Params,
    catalog: &Catalog,
    series: &[UsageRow],
) -> Result<Vec<View>, AdminError> {
    let now = s.now();
    let base = query(now, params);
    let mut views = vec![View {
        id: "series",
        title: "Over time",
        headers: [&["from_utc"][..], &FIGURES].concat(),
        rows: series.iter().map(|r| [vec![r.bucket.map(rfc3339).unwrap_or_default()], figures(r)].concat()).collect(),
    }];
    let total = UsageQuery { group_by: GroupBy::Total, ..base.clone() };
    let by = |dimension| UsageQuery { by: Some(dimension), ..total.clone() };
    let mut breakdowns: HashMap<Dimension, Vec<UsageRow>> = HashMap::new();
    for dimension in Dimension::ALL {
        let mut rows = s.repo.query_usage(&by(dimension)).await?;
        rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.group.cmp(&b.group)));
        breakdowns.insert(dimension, rows);
    }
    let breakdown = |id, title, dimension: Dimension, column| View {
        id,
        title,
        headers: [&[column][..], &FIGURES].concat(),
        rows: breakdowns[&dimension]
            .iter()
            .take(TOP)
            .map(|r| [vec![catalog.name(dimension, r.group.as_deref().unwrap_or_default())], figures(r)].concat())
            .collect(),
    };
    views.push(breakdown("apis", "By API", Dimension::Api, "api"));
    views.push(breakdown("operations", "By operation", Dimension::Operation, "operation"));
    views.push(breakdown("apps", "Top consumers (apps)", Dimension::App, "app"));
    views.push(breakdown("developers", "By developer", Dimension::Developer, "developer"));
    views.push(breakdown("keys", "By key", Dimension::Key, "key"));
    views.push(organisations_view(&breakdowns[&Dimension::App], catalog));
    views.push(plans_view(s, &base, catalog).await?);
    views.push(outcomes_view(s.repo.query_usage(&total).await?.first()));
    let operations = &breakdowns[&Dimension::Operation];
    let mut failing: Vec<&UsageRow> = operations.iter().filter(|r| errors(r) > 0).collect();
    failing.sort_by_key(|r| std::cmp::Reverse(errors(r)));
    views.push(View {
        id: "errors",
        title: "Top errors (operations)",
        headers: vec!["operation", "errors", "status_4xx", "status_5xx", "requests", "error_rate_pct"],
        rows: failing
            .iter()
            .take(TOP)
            .map(|r| {
                vec![
                    catalog.name(Dimension::Operation, r.group.as_deref().unwrap_or_default()),
                    errors(r).to_string(),
                    r.status_classes[3].to_string(),
                    r.status_classes[4].to_string(),
                    r.requests.to_string(),
                    format!("{:.1}", percent(errors(r), r.requests)),
                ]
            })
            .collect(),
    });
    let mut slow: Vec<&UsageRow> = operations.iter().filter(|r| r.p95_us.is_some()).collect();
    slow.sort_by_key(|r| std::cmp::Reverse(r.p95_us));
    views.push(View {
        id: "slowest",
        title: "Slowest operations",
        headers: vec!["operation", "p50_ms", "p95_ms", "p99_ms", "requests"],
        rows: slow
            .iter()
            .take(TOP)
            .map(|r| {
                let name = catalog.name(Dimension::Operation, r.group.as_deref().unwrap_or_default());
                vec![name, ms(r.p50_us), ms(r.p95_us), ms(r.p99_us), r.requests.to_string()]
            })
            .collect(),
    });
    views.push(developer_weeks(s, now, catalog).await?);
    views.push(adoption(catalog));
    views.push(deprecated(s, catalog).await?);
    Ok(views)
}

/// Requests per organisation: each app's calls counted for the organisation that owns it
/// (personal apps together), so a partner's whole use is one row.
fn organisations_view(by_app: &[UsageRow], catalog: &Catalog) -> View {
    let mut per_org: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in by_app {
        let app = catalog.apps.get(row.group.as_deref().unwrap_or_default());
        let org = match app.and_then(|a| a.organisation_id.as_ref()) {
            Some(id) => catalog.organisations.get(id).map_or_else(|| id.clone(), |o| o.name.clone()),
            None => "(personal apps)".to_owned(),
        };
        let entry = per_org.entry(org).or_default();
        entry.0 += row.requests;
        entry.1 += errors(row);
    }
    let mut rows: Vec<Vec<String>> = per_org
        .into_iter()
        .map(|(org, (requests, errors))| vec![org, requests.to_string(), errors.to_string()])
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row[1].parse::<u64>().unwrap_or(0)));
    View { id: "organisations", title: "By organisation", headers: vec!["organisation", "requests", "errors"], rows }
}

/// Requests per plan and product: each app's calls to each API, under the plan its
/// subscription to that API's product has now.
async fn plans_view<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    base: &UsageQuery,
    catalog: &Catalog,
) -> Result<View, AdminError> {
    let mut per_plan: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for api_id in catalog.apis.keys().filter(|id| base.api_id.as_ref().is_none_or(|only| only == *id)) {
        let q = UsageQuery {
            api_id: Some(api_id.clone()),
            group_by: GroupBy::Total,
            by: Some(Dimension::App),
            ..base.clone()
        };
        for row in s.repo.query_usage(&q).await? {
            let app = row.group.as_deref().unwrap_or_default();
            let (product, plan) = match catalog.plan_of(app, api_id) {
                Some(plan) => {
                    let product = catalog.products.get(&plan.product_id).map_or("", |p| p.name.as_str());
                    (product.to_owned(), plan.name.clone())
                }
                None => ("(none)".to_owned(), "(no active plan)".to_owned()),
            };
            let entry = per_plan.entry((product, plan)).or_default();
            entry.0 += row.requests;
            entry.1 += errors(&row);
        }
    }
    let mut rows: Vec<Vec<String>> = per_plan
        .into_iter()
        .map(|((product, plan), (requests, errors))| vec![product, plan, requests.to_string(), errors.to_string()])
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row[2].parse::<u64>().unwrap_or(0)));
    Ok(View { id: "plans", title: "By product and plan", headers: vec!["product", "plan", "requests", "errors"], rows })
}

/// Status classes and limit outcomes over the range.
fn outcomes_view(total: Option<&UsageRow>) -> View {
    let mut rows = Vec::new();
    if let Some(total) = total {
        for (i, count) in total.status_classes.iter().enumerate() {
            rows.push(vec![format!("status {}xx", i + 1), count.to_string()]);
        }
        for (outcome, count) in &total.outcomes {
            rows.push(vec![format!("outcome {outcome}"), count.to_string()]);
        }
    }
    View { id: "outcomes", title: "Status classes and limit outcomes", headers: vec!["what", "requests"], rows }
}

/// New developers (sign-ups) and active ones (any call) per week, the last [`WEEKS`] weeks.
async fn developer_weeks<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    now: UnixMillis,
    catalog: &Catalog,
) -> Result<View, AdminError> {
    let this_week = now - now.rem_euclid(WEEK);
    let from = this_week - (WEEKS - 1) * WEEK;
    let q = UsageQuery {
        from: Some(from),
        to: Some(now + 1),
        group_by: GroupBy::Day,
        by: Some(Dimension::Developer),
        ..UsageQuery::default()
    };
    let mut active: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for row in s.repo.query_usage(&q).await? {
        let (Some(day), Some(developer)) = (row.bucket, row.group) else { continue };
        if !developer.is_empty() && row.requests > 0 {
            active.entry(day - day.rem_euclid(WEEK)).or_default().insert(developer);
        }
    }
    let rows = (0..WEEKS)
        .map(|i| from + i * WEEK)
        .map(|week| {
            let new = catalog.developers.values().filter(|d| (week..week + WEEK).contains(&d.created_at)).count();
            let active = active.get(&week).map_or(0, BTreeSet::len);
            vec![rfc3339(week)[..10].to_owned(), new.to_string(), active.to_string()]
        })
        .collect();
    Ok(View {
        id: "developer-weeks",
        title: "New and active developers per week",
        headers: vec!["week_from", "new_developers", "active_developers"],
        rows,
    })
}

/// Each plan's adoption: its active subscriptions, and the apps waiting for approval.
fn adoption(catalog: &Catalog) -> View {
    let mut counts: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for plan in catalog.plans.values() {
        let product = catalog.products.get(&plan.product_id).map_or(String::new(), |p| p.name.clone());
        let count =
            |status| catalog.subscriptions.iter().filter(|s| s.plan_id == plan.id && s.status == status).count();
        counts.insert(
            (product, plan.name.clone()),
            (count(SubscriptionStatus::Active), count(SubscriptionStatus::Pending)),
        );
    }
    View {
        id: "adoption",
        title: "Plan adoption",
        headers: vec!["product", "plan", "active_subscriptions", "pending"],
        rows: counts
            .into_iter()
            .map(|((product, plan), (active, pending))| vec![product, plan, active.to_string(), pending.to_string()])
            .collect(),
    }
}

/// The deprecated APIs and the developers whose apps still called them in the last 30 days:
/// who to chase before the sunset.
async fn deprecated<R: Repo, P: Publisher>(s: &AdminState<R, P>, catalog: &Catalog) -> Result<View, AdminError> {
    let mut rows = Vec::new();
    for api in catalog.apis.values() {
        let Lifecycle::Deprecated { sunset_at, .. } = &api.lifecycle else { continue };
        let sunset = sunset_at.map_or_else(|| "not set".to_owned(), |t| rfc3339(t)[..10].to_owned());
        for caller in api_callers(s, &api.id, 30).await?.items {
            for app in caller.apps {
                let requests = app.requests.to_string();
                rows.push(vec![api.name.clone(), sunset.clone(), caller.email.clone(), app.name, requests]);
            }
        }
    }
    Ok(View {
        id: "deprecated",
        title: "Deprecated APIs still called (last 30 days)",
        headers: vec!["api", "sunset", "developer", "app", "requests"],
        rows,
    })
}
