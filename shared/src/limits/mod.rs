//! Burst rate limits (GCRA) and calendar quotas, as pure state machines, plus the IETF
//! `RateLimit-Policy`/`RateLimit` headers. A Durable Object, a `HashMap` and a unit test all
//! host the same code.
//! STUB SIGNATURES — to be implemented (helper: core-policies).

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A limit attached to a key, an app, a developer or a group (tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitPolicy {
    /// Short name, unique among the policies that apply to one call (`burst`, `daily`);
    /// used in headers and counter keys.
    pub name: String,
    pub scope: LimitScope,
    #[serde(flatten)]
    pub kind: LimitKind,
}

/// Whose counter a policy consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    Key,
    App,
    Developer,
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LimitKind {
    /// `limit` requests per `period_secs`, allowing bursts of `burst`.
    Rate {
        limit: u32,
        period_secs: u32,
        burst: u32,
        #[serde(default)]
        on_failure: FailureMode,
    },
    /// `limit` requests per calendar window (UTC).
    Quota { limit: u64, window: QuotaWindow },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaWindow {
    Minute,
    Hour,
    Day,
    Month,
}

/// What a burst limit does when its counter store is unreachable. Quotas always fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    #[default]
    Open,
    Closed,
}

/// One policy to enforce for one call, with the counter it consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCheck {
    /// e.g. `app:app_123:daily`.
    pub counter: String,
    pub policy: LimitPolicy,
    /// Start of the subscription: monthly quotas reset on this day-of-month.
    pub anchor: Option<UnixMillis>,
}

/// The state a limiter persists per counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum CounterState {
    Rate { tat: UnixMillis },
    Quota { window_start: UnixMillis, used: u64 },
}

/// The answer for one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitResult {
    pub name: String,
    pub is_quota: bool,
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Window length in seconds, for `RateLimit-Policy`'s `w`.
    pub window_secs: u64,
    /// Seconds until the counter resets (quota) or until a request fits again (rate).
    pub reset_secs: u64,
}

/// The answer for all policies of one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LimitDecision {
    pub results: Vec<LimitResult>,
}
