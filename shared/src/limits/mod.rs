//! Burst rate limits (GCRA) and calendar quotas, as pure state machines, plus the IETF
//! `RateLimit-Policy`/`RateLimit` headers. A Durable Object, a `HashMap` and a unit test all
//! host the same code: a limiter adapter only loads the counters, calls [`evaluate`] and
//! stores what it returns.

mod evaluate;
mod forecast;
mod gcra;
mod headers;
#[cfg(test)]
mod props;
mod quota;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use evaluate::{evaluate, fails_open, Evaluation, Writes};
pub use forecast::{forecast, Forecast};
pub use headers::append_headers;
pub use quota::window_bounds;

use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// A limit attached to a key, an app, a developer or a group (tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct LimitPolicy {
    /// Short name, unique among the policies that apply to one call (`burst`, `daily`);
    /// used in headers and counter keys. Shared, not copied: every call's checks and results
    /// carry it.
    #[cfg_attr(feature = "schema", schema(value_type = String))]
    pub name: Arc<str>,
    pub scope: LimitScope,
    #[serde(flatten)]
    pub kind: LimitKind,
}

/// Whose counter a policy consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    Key,
    App,
    Developer,
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LimitKind {
    /// `limit` requests per `period_secs`, allowing bursts of `burst`.
    Rate {
        #[cfg_attr(feature = "schema", schema(minimum = 1))]
        limit: u32,
        #[cfg_attr(feature = "schema", schema(minimum = 1))]
        period_secs: u32,
        burst: u32,
        #[serde(default)]
        on_failure: FailureMode,
    },
    /// `limit` requests per calendar window (UTC).
    Quota {
        #[cfg_attr(feature = "schema", schema(minimum = 1))]
        limit: u64,
        window: QuotaWindow,
        /// How the count survives a restart or a crash; left out of the stored form when
        /// it is the default, so existing configs and their exports do not change.
        #[serde(default, skip_serializing_if = "Durability::is_flushed")]
        durable: Durability,
    },
}

/// How a runtime that keeps counters in memory (the native gateway) makes a quota's count
/// survive a restart or a crash. At the edge every quota is already [`Durability::Exact`]:
/// its Durable Object persists the count before the answer leaves (output gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Written behind: the count is saved at most one flush interval after it changes (1 s
    /// by default), off the request path. A graceful stop saves everything; a crash can
    /// admit again what was admitted within that interval before it.
    #[default]
    Flushed,
    /// Written through: the count is saved before the call is admitted, so a crash never
    /// over-admits; costs one synchronous store write per admitted call.
    Exact,
}

impl Durability {
    pub fn is_flushed(&self) -> bool {
        *self == Durability::Flushed
    }
}

impl LimitCheck {
    /// Whether this check's counter must be saved before its call is admitted.
    pub fn is_exact(&self) -> bool {
        matches!(self.policy.kind, LimitKind::Quota { durable: Durability::Exact, .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaWindow {
    Minute,
    Hour,
    Day,
    Month,
}

/// What a burst limit does when its counter store is unreachable. Quotas always fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    #[default]
    Open,
    Closed,
}

/// One policy to enforce for one call, with the counter it consumes. Serialisable because a
/// remote limiter (the edge's Durable Object) receives checks and answers decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitCheck {
    /// e.g. `app:app_123:daily`; see [`counter_key`]. Distinct within one call.
    pub counter: String,
    pub policy: LimitPolicy,
    /// Start of the subscription: monthly quotas reset on this day-of-month.
    pub anchor: Option<UnixMillis>,
}

/// The state a limiter persists per counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum CounterState {
    /// GCRA's theoretical arrival time: `tat` ms plus `tat_frac / limit` ms. The fraction
    /// keeps the emission interval `period / limit` exact (see `gcra.rs`); it is absent from
    /// the stored form when zero, and a value left by an older `limit` is clamped.
    Rate {
        tat: UnixMillis,
        #[serde(default, skip_serializing_if = "is_zero")]
        tat_frac: u32,
    },
    /// Units used in the window that starts at `window_start`; a different start means the
    /// window has rolled over and the count is 0.
    Quota { window_start: UnixMillis, used: u64 },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl CounterState {
    /// From when this counter holds nothing a fresh one would not: a GCRA bucket has drained
    /// at its TAT, a quota count is moot once its window has ended. Limiters may drop the
    /// counter from then on, which keeps their memory bounded by the active callers.
    pub fn expires_at(&self, check: &LimitCheck) -> UnixMillis {
        match (*self, &check.policy.kind) {
            (CounterState::Rate { tat, tat_frac }, _) => tat.saturating_add(i64::from(tat_frac > 0)),
            (CounterState::Quota { window_start, .. }, LimitKind::Quota { window, .. }) => {
                window_bounds(*window, check.anchor, window_start).1
            }
            (CounterState::Quota { window_start, .. }, LimitKind::Rate { .. }) => window_start,
        }
    }
}

/// The answer for one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitResult {
    pub name: Arc<str>,
    pub is_quota: bool,
    pub allowed: bool,
    pub limit: u64,
    /// Requests (units) that would still pass right now.
    pub remaining: u64,
    /// Window length in seconds, for `RateLimit-Policy`'s `w`.
    pub window_secs: u64,
    /// Seconds (rounded up) until the counter resets (quota), until one more request fits
    /// (refused rate), or until the bucket is full again (allowed rate).
    pub reset_secs: u64,
}

/// The answer for all policies of one call: one result per check, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LimitDecision {
    pub results: Vec<LimitResult>,
}

impl LimitDecision {
    /// True when every policy had room (and so, for a limiter, every counter was consumed).
    pub fn allowed(&self) -> bool {
        self.results.iter().all(|r| r.allowed)
    }

    /// The refusal to report. A quota refusal wins over a rate refusal: it will not clear in
    /// seconds, and telling the client "rate limited" would invite pointless retries. Among
    /// refusals of one kind, the one that clears last.
    pub fn first_refusal(&self) -> Option<&LimitResult> {
        self.results.iter().filter(|r| !r.allowed).max_by_key(|r| (r.is_quota, r.reset_secs))
    }

    /// [`Outcome::QuotaExceeded`] or [`Outcome::RateLimited`] when refused (see
    /// [`Self::first_refusal`]); `None` when allowed.
    pub fn refusal(&self) -> Option<Outcome> {
        self.first_refusal().map(|r| if r.is_quota { Outcome::QuotaExceeded } else { Outcome::RateLimited })
    }

    /// `Retry-After` for a refused call: the longest wait among the refusals, since the call
    /// cannot pass before all of them clear; at least 1 second. 0 when the call was allowed.
    pub fn retry_after_secs(&self) -> u64 {
        self.results.iter().filter(|r| !r.allowed).map(|r| r.reset_secs.max(1)).max().unwrap_or(0)
    }
}

/// Who holds an app, for `developer`-scoped limits: the developer of a personal app, or the
/// organisation that owns the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Developer(&'a str),
    Organisation(&'a str),
}

/// The callers one call counts for.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    pub key_id: &'a str,
    pub app_id: &'a str,
    pub owner: Owner<'a>,
    /// The tier (`group`) the app counts in, if any.
    pub group: Option<&'a str>,
}

/// The counter a policy consumes for one caller: `key:<id>:<name>`, `app:<id>:<name>`,
/// `dev:<id>:<name>` (or `org:<id>:<name>` for an organisation's app) or
/// `grp:<group>:<name>`. The policy name is part of the key so two policies of one scope
/// never share a counter. `None` for a group policy when the app has no tier: such a policy
/// does not apply.
pub fn counter_key(scope: LimitScope, who: &Counted<'_>, policy_name: &str) -> Option<String> {
    let (kind, owner) = match (scope, who.owner) {
        (LimitScope::Key, _) => ("key", who.key_id),
        (LimitScope::App, _) => ("app", who.app_id),
        (LimitScope::Developer, Owner::Developer(id)) => ("dev", id),
        (LimitScope::Developer, Owner::Organisation(id)) => ("org", id),
        (LimitScope::Group, _) => ("grp", who.group?),
    };
    let mut key = String::with_capacity(kind.len() + owner.len() + policy_name.len() + 2);
    for part in [kind, ":", owner, ":", policy_name] {
        key.push_str(part);
    }
    Some(key)
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
