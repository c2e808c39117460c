//! The guard on publishing: a revision whose diff breaks callers is refused over a live API
//! (published or deprecated) unless forced, and the refusal names the apps that called the
//! affected operations in the last 30 days, with their counts, from the stored usage.

use std::collections::BTreeMap;

use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{Api, App};
use gatehouse_core::openapi::diff::ApiDiff;
use gatehouse_core::problem::{Problem, ProblemKind};
use gatehouse_core::store::{Dimension, GroupBy, Repo, StoreError, UsageQuery};
use gatehouse_core::time::DAY;
use serde::{Deserialize, Serialize};

use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::routes::callers::DEFAULT_DAYS;
use crate::state::AdminState;

/// Whether the gateway serves the API to callers: only then can a revision break them.
pub(crate) fn is_live(lifecycle: &Lifecycle) -> bool {
    matches!(lifecycle, Lifecycle::Published { .. } | Lifecycle::Deprecated { .. })
}

/// An operation that a breaking change touches, and who called it lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct AffectedOperation {
    pub method: String,
    pub path: String,
    /// The operation's id in the live API (what usage is recorded under).
    pub operation_id: String,
    /// Calls in the window by all apps.
    pub requests: u64,
    /// Most calls first.
    pub apps: Vec<AffectedApp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct AffectedApp {
    pub app_id: String,
    /// Empty when the app was deleted since.
    pub app_name: String,
    pub developer_id: String,
    pub requests: u64,
}

/// `Ok` when `diff` may replace `api`'s document; else the 409 that lists the breaking
/// changes and their callers.
pub(crate) async fn guard<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    api: &Api,
    revision: u32,
    diff: &ApiDiff,
    force: bool,
) -> Result<(), AdminError> {
    if force || !is_live(&api.lifecycle) || !diff.is_breaking() {
        return Ok(());
    }
    let affected = affected(s, api, diff).await?;
    let breaking: Vec<_> = diff.breaking().cloned().collect();
    let apps: std::collections::BTreeSet<&str> =
        affected.iter().flat_map(|o| o.apps.iter().map(|a| a.app_id.as_str())).collect();
    let calls: u64 = affected.iter().map(|o| o.requests).sum();
    let detail = format!(
        "revision {revision} of {} has {} breaking change(s) to {} live operation(s), called {calls} time(s) by {} \
         app(s) in the last {DEFAULT_DAYS} days; publish with force=true to go ahead anyway",
        api.name,
        breaking.len(),
        diff.breaking_operations().len(),
        apps.len(),
    );
    let problem = Problem::new(ProblemKind::BreakingChange)
        .detail(detail)
        .with("revision", revision)
        .with("days", DEFAULT_DAYS)
        .with("breaking_changes", serde_json::to_value(breaking).unwrap_or_default())
        .with("affected_operations", serde_json::to_value(affected).unwrap_or_default());
    Err(AdminError::Problem(Box::new(problem)))
}

/// The live operations that breaking changes touch, with the apps that called each in the
/// last 30 days (one usage query per operation, grouped by app).
pub(crate) async fn affected<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    api: &Api,
    diff: &ApiDiff,
) -> Result<Vec<AffectedOperation>, AdminError> {
    let to = s.now() + 1; // just past now, so the minute under way counts
    let from = to - i64::from(DEFAULT_DAYS) * DAY;
    let mut names: BTreeMap<String, Option<App>> = BTreeMap::new();
    let mut out = Vec::new();
    for (method, path) in diff.breaking_operations() {
        let Some(operation) = api.operations.iter().find(|o| o.method == method && o.path == path) else {
            continue; // not routed in the live API (the importer left it out): no one called it
        };
        let query = UsageQuery {
            from: Some(from),
            to: Some(to),
            api_id: Some(api.id.clone()),
            operation_id: Some(operation.id.clone()),
            group_by: GroupBy::Total,
            by: Some(Dimension::App),
            ..UsageQuery::default()
        };
        let mut apps = Vec::new();
        for row in s.repo.query_usage(&query).await? {
            let app_id = row.group.unwrap_or_default();
            if app_id.is_empty() || row.requests == 0 {
                continue; // keyless calls belong to no app
            }
            if !names.contains_key(&app_id) {
                let app = found(s.repo.get::<App>(&app_id).await)?;
                names.insert(app_id.clone(), app);
            }
            let app = names.get(&app_id).and_then(Option::as_ref);
            let (app_name, developer_id) = app.map(|a| (a.name.clone(), a.developer_id.clone())).unwrap_or_default();
            apps.push(AffectedApp { app_id, app_name, developer_id, requests: row.requests });
        }
        apps.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.app_id.cmp(&b.app_id)));
        let requests = apps.iter().map(|a| a.requests).sum();
        out.push(AffectedOperation { method, path, operation_id: operation.id.clone(), requests, apps });
    }
    Ok(out)
}

/// A record deleted since its usage was recorded is no error here.
fn found<T>(got: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match got {
        Err(StoreError::NotFound) => Ok(None),
        other => other.map(Some),
    }
}
