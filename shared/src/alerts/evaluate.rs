//! Whether a rule fires, from what the store measured, and the window a firing is
//! de-duplicated in: one threshold fires at most once per window, however often it is
//! evaluated and however long the condition lasts.
//!
//! Windows: a quota threshold's window is the quota's own (its day or month), so "80 % of
//! today's quota" is told once a day; an error-rate or latency threshold of `M` minutes looks
//! at the last `M` minutes (the current, unfinished minute included, so an incident is seen
//! without waiting for the minute to end) and fires at most once per `M`-minute period of the
//! clock (periods start at multiples of `M` minutes since the Unix epoch).

use serde::{Deserialize, Serialize};

use std::num::NonZeroU32;

use super::rule::{AlertRule, Condition, ErrorClass, Minutes, Percent, Subject};
use crate::store::{GroupBy, UsageQuery, UsageRow};
use crate::time::{UnixMillis, MINUTE};

/// One quota's use in its current window, as the store measured it (successful calls only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUse {
    /// The plan's policy name (`daily`).
    pub policy: String,
    /// Whose counter, in words ("key ci (gh_live…a1b2)").
    pub whose: String,
    /// The id of the key, app or developer whose counter it is.
    pub counter: String,
    pub limit: u64,
    pub used: u64,
    /// The quota window `[start, end)`.
    pub window: (UnixMillis, UnixMillis),
}

/// What a firing measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Observed {
    Quota { policy: String, whose: String, used: u64, limit: u64 },
    ErrorRate { errors: u64, requests: u64 },
    Latency { p95_ms: u64, requests: u64 },
}

/// A threshold crossed: what is delivered, and the key that makes it happen once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    pub rule_id: String,
    /// `<rule>:<what>:<window start>`: equal for every evaluation inside one window, so a
    /// store that refuses a second record with this id de-duplicates the firing.
    pub dedup_key: String,
    /// The de-duplication window `[from, to)`.
    pub window: (UnixMillis, UnixMillis),
    pub fired_at: UnixMillis,
    pub observed: Observed,
    /// One sentence for people: what crossed which threshold.
    pub summary: String,
}

/// The usage query an error-rate or latency rule needs at `now` (a quota rule's use is
/// measured per quota by the caller, see [`QuotaUse`]).
pub fn usage_query(rule: &AlertRule, now: UnixMillis) -> Option<UsageQuery> {
    let minutes = match rule.watch.condition() {
        Condition::Quota { .. } => return None,
        Condition::ErrorRate { minutes, .. } | Condition::Latency { minutes, .. } => *minutes,
    };
    let from = now - now.rem_euclid(MINUTE) - (minutes.millis() - MINUTE);
    let mut query = UsageQuery { from: Some(from), group_by: GroupBy::Total, ..UsageQuery::default() };
    match rule.watch.subject() {
        Subject::Developer { developer_id, app_id, key_id } => {
            query.developer_id = Some(developer_id.clone());
            query.app_id = app_id.clone();
            query.key_id = key_id.clone();
        }
        Subject::Api { api_id } => query.api_id = Some(api_id.clone()),
    }
    Some(query)
}

/// The firings of `rule` at `now`, given the total of [`usage_query`] (`usage`) or the quotas
/// of the rule's developer (`quotas`); whichever the condition does not use is ignored.
pub fn evaluate(rule: &AlertRule, usage: Option<&UsageRow>, quotas: &[QuotaUse], now: UnixMillis) -> Vec<Firing> {
    match *rule.watch.condition() {
        Condition::Quota { percent } => quota_firings(rule, percent, quotas, now),
        Condition::ErrorRate { percent, minutes, errors } => {
            usage.and_then(|row| error_rate_firing(rule, (percent, minutes, errors), row, now)).into_iter().collect()
        }
        Condition::Latency { p95_ms, minutes } => {
            usage.and_then(|row| latency_firing(rule, (p95_ms, minutes), row, now)).into_iter().collect()
        }
    }
}

/// One firing per quota at or over `percent` of its limit, de-duplicated per quota window.
fn quota_firings(rule: &AlertRule, percent: Percent, quotas: &[QuotaUse], now: UnixMillis) -> Vec<Firing> {
    let over = |q: &&QuotaUse| q.used.saturating_mul(100) >= u64::from(percent.get()).saturating_mul(q.limit);
    let firing = |q: &QuotaUse| Firing {
        rule_id: rule.id.clone(),
        dedup_key: format!("{}:quota:{}:{}:{}", rule.id, q.policy, q.counter, q.window.0),
        window: q.window,
        fired_at: now,
        observed: Observed::Quota { policy: q.policy.clone(), whose: q.whose.clone(), used: q.used, limit: q.limit },
        summary: format!(
            "Quota {} of {} is at {} % ({} of {}); the threshold is {} %.",
            q.policy,
            q.whose,
            q.used.saturating_mul(100) / q.limit.max(1),
            q.used,
            q.limit,
            percent.get()
        ),
    };
    quotas.iter().filter(over).map(firing).collect()
}

fn error_rate_firing(
    rule: &AlertRule,
    (percent, minutes, errors): (Percent, Minutes, ErrorClass),
    row: &UsageRow,
    now: UnixMillis,
) -> Option<Firing> {
    let failed = match errors {
        ErrorClass::Server => row.status_classes[4],
        ErrorClass::Any => row.status_classes[3] + row.status_classes[4],
    };
    if row.requests == 0 || failed.saturating_mul(100) <= u64::from(percent.get()).saturating_mul(row.requests) {
        return None;
    }
    let summary = format!(
        "{failed} of {} calls in the last {} minutes were errors ({:.1} %), over the threshold of {} %.",
        row.requests,
        minutes.get(),
        failed as f64 * 100.0 / row.requests as f64,
        percent.get()
    );
    let observed = Observed::ErrorRate { errors: failed, requests: row.requests };
    Some(periodic(rule, "error_rate", minutes.millis(), now, observed, summary))
}

fn latency_firing(
    rule: &AlertRule,
    (p95_ms, minutes): (NonZeroU32, Minutes),
    row: &UsageRow,
    now: UnixMillis,
) -> Option<Firing> {
    let p95_us = row.p95_us.filter(|us| *us > u64::from(p95_ms.get()) * 1_000)?;
    let summary = format!(
        "p95 latency of the last {} minutes is {:.1} ms ({} calls, upper bound of its histogram bucket), over the threshold of {} ms.",
        minutes.get(),
        p95_us as f64 / 1_000.0,
        row.requests,
        p95_ms
    );
    let observed = Observed::Latency { p95_ms: p95_us.div_ceil(1_000), requests: row.requests };
    Some(periodic(rule, "latency", minutes.millis(), now, observed, summary))
}

/// A firing de-duplicated per `length`-long period of the clock.
fn periodic(
    rule: &AlertRule,
    what: &str,
    length: UnixMillis,
    now: UnixMillis,
    observed: Observed,
    summary: String,
) -> Firing {
    let start = now - now.rem_euclid(length);
    Firing {
        rule_id: rule.id.clone(),
        dedup_key: format!("{}:{what}:{start}", rule.id),
        window: (start, start + length),
        fired_at: now,
        observed,
        summary,
    }
}
