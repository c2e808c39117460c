//! Measures what each rule needs and records its new firings.

use gatehouse_core::alerts::{evaluate, firing_writes, usage_query, AlertRule, Condition, QuotaUse, Subject};
use gatehouse_core::ids::IdKind;
use gatehouse_core::model::App;
use gatehouse_core::store::{Repo, StoreError};
use gatehouse_core::time::UnixMillis;

use super::quotas::developer_quotas;
use crate::state::fresh_id;

/// Evaluates every rule; answers (rules, new firings).
pub(super) async fn evaluate_all<R: Repo>(repo: &R, now: UnixMillis) -> Result<(usize, usize), StoreError> {
    let rules = repo.list::<AlertRule>(None).await?;
    let mut fired = 0;
    for rule in &rules {
        fired += evaluate_rule(repo, rule, now).await?;
    }
    Ok((rules.len(), fired))
}

async fn evaluate_rule<R: Repo>(repo: &R, rule: &AlertRule, now: UnixMillis) -> Result<usize, StoreError> {
    let usage = match usage_query(rule, now) {
        Some(query) => repo.query_usage(&query).await?.into_iter().next(),
        None => None,
    };
    let quotas = match (rule.watch.condition(), rule.watch.subject()) {
        (Condition::Quota { .. }, Subject::Developer { developer_id, app_id, key_id }) => {
            let apps = repo.list::<App>(Some(developer_id)).await?;
            let measured = developer_quotas(repo, developer_id, &apps, now).await?;
            measured
                .into_iter()
                .filter(|m| app_id.as_ref().is_none_or(|a| *a == m.app_id))
                .filter(|m| key_id.as_ref().is_none_or(|k| *k == m.usage.counter))
                .map(|m| m.usage)
                .collect()
        }
        _ => Vec::<QuotaUse>::new(),
    };
    let mut fired = 0;
    for firing in evaluate(rule, usage.as_ref(), &quotas, now) {
        let ids = || -> Result<(String, Vec<String>), StoreError> {
            let id = |kind| fresh_id(kind).map_err(|e| StoreError::Unavailable(e.to_string()));
            Ok((
                id(IdKind::AlertEvent)?,
                rule.channels.iter().map(|_| id(IdKind::AlertDelivery)).collect::<Result<_, _>>()?,
            ))
        };
        let (event_id, delivery_ids) = ids()?;
        match repo.transact(firing_writes(rule, &firing, &event_id, &delivery_ids, now)?).await {
            Ok(()) => {
                tracing::info!(rule = %rule.id, event = %event_id, "alert fired");
                fired += 1;
            }
            // Already fired in this window (this run's or another evaluator's firing).
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(fired)
}
