//! Each quota of a developer's active subscriptions, measured over its current window: what
//! the portal's usage page shows and what quota alert rules are evaluated against, read the
//! same way for both so the page and the alert never disagree.

use gatehouse_core::alerts::QuotaUse;
use gatehouse_core::limits::{window_bounds, LimitKind, LimitScope, QuotaWindow};
use gatehouse_core::model::{App, Key, KeyStatus, Plan, Subscription, SubscriptionStatus};
use gatehouse_core::store::{GroupBy, Repo, StoreError, UsageQuery};
use gatehouse_core::time::UnixMillis;

/// One quota's use, with the plan it comes from and the app whose subscription it is.
pub(crate) struct MeasuredQuota {
    pub plan: String,
    pub window: QuotaWindow,
    pub app_id: String,
    pub usage: QuotaUse,
}

/// The quotas of `developer_id`'s apps (`apps`), each measured in its current window at
/// `now`. A group's (tier's) quota is left out: its count includes other developers' calls;
/// so is an organisation app's `developer` quota, which counts for the whole organisation.
pub(crate) async fn developer_quotas<R: Repo>(
    repo: &R,
    developer_id: &str,
    apps: &[App],
    now: UnixMillis,
) -> Result<Vec<MeasuredQuota>, StoreError> {
    let mut found = Vec::new();
    for app in apps {
        let keys: Vec<Key> =
            repo.list::<Key>(Some(&app.id)).await?.into_iter().filter(|k| k.status == KeyStatus::Active).collect();
        for sub in repo.list::<Subscription>(Some(&app.id)).await? {
            if sub.status != SubscriptionStatus::Active {
                continue;
            }
            let plan = repo.get::<Plan>(&sub.plan_id).await?;
            for policy in &plan.limits {
                let LimitKind::Quota { limit, window, .. } = policy.kind else { continue };
                let bounds = window_bounds(window, Some(sub.created_at), now);
                let base = UsageQuery {
                    from: Some(bounds.0),
                    developer_id: Some(developer_id.to_owned()),
                    group_by: GroupBy::Total,
                    ..UsageQuery::default()
                };
                let counters: Vec<(String, String, UsageQuery)> = match policy.scope {
                    LimitScope::Key => keys
                        .iter()
                        .map(|k| {
                            let who = format!("key {} ({}…{})", k.name, k.display_prefix, k.last4);
                            (k.id.clone(), who, UsageQuery { key_id: Some(k.id.clone()), ..base.clone() })
                        })
                        .collect(),
                    LimitScope::App => {
                        let query = UsageQuery { app_id: Some(app.id.clone()), ..base.clone() };
                        vec![(app.id.clone(), format!("app {}", app.name), query)]
                    }
                    LimitScope::Developer if app.organisation_id.is_some() => Vec::new(),
                    LimitScope::Developer => {
                        vec![(developer_id.to_owned(), "you, across all apps".to_owned(), base.clone())]
                    }
                    LimitScope::Group => Vec::new(),
                };
                for (counter, whose, query) in counters {
                    let used =
                        repo.query_usage(&query).await?.first().map_or(0, |r| *r.outcomes.get("valid").unwrap_or(&0));
                    let usage =
                        QuotaUse { policy: policy.name.to_string(), whose, counter, limit, used, window: bounds };
                    found.push(MeasuredQuota { plan: plan.name.clone(), window, app_id: app.id.clone(), usage });
                }
            }
        }
    }
    Ok(found)
}
