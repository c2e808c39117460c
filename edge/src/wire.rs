//! Messages between the Worker and its Durable Objects. The core's limiter types are not
//! serialisable (they never leave a process natively), so the wire forms live here and
//! convert losslessly both ways.

use gatehouse_core::limits::{LimitCheck, LimitDecision, LimitPolicy, LimitResult};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

/// One `acquire` call, Worker → limiter object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquireRequest {
    pub now: UnixMillis,
    pub checks: Vec<WireCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCheck {
    pub counter: String,
    pub policy: LimitPolicy,
    pub anchor: Option<UnixMillis>,
}

impl From<&LimitCheck> for WireCheck {
    fn from(c: &LimitCheck) -> Self {
        WireCheck { counter: c.counter.clone(), policy: c.policy.clone(), anchor: c.anchor }
    }
}

impl From<WireCheck> for LimitCheck {
    fn from(c: WireCheck) -> Self {
        LimitCheck { counter: c.counter, policy: c.policy, anchor: c.anchor }
    }
}

/// The limiter object's answer: one result per check, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquireResponse {
    pub results: Vec<WireResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireResult {
    pub name: String,
    pub is_quota: bool,
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    pub window_secs: u64,
    pub reset_secs: u64,
}

impl From<&LimitDecision> for AcquireResponse {
    fn from(d: &LimitDecision) -> Self {
        let results = d
            .results
            .iter()
            .map(|r| WireResult {
                name: r.name.clone(),
                is_quota: r.is_quota,
                allowed: r.allowed,
                limit: r.limit,
                remaining: r.remaining,
                window_secs: r.window_secs,
                reset_secs: r.reset_secs,
            })
            .collect();
        AcquireResponse { results }
    }
}

impl From<AcquireResponse> for LimitDecision {
    fn from(a: AcquireResponse) -> Self {
        let results = a
            .results
            .into_iter()
            .map(|r| LimitResult {
                name: r.name,
                is_quota: r.is_quota,
                allowed: r.allowed,
                limit: r.limit,
                remaining: r.remaining,
                window_secs: r.window_secs,
                reset_secs: r.reset_secs,
            })
            .collect();
        LimitDecision { results }
    }
}

/// What a limiter object holds, for the test-only inspection route (`GATEHOUSE_TEST_HOOKS`):
/// its stored counters, how many it has in memory, and when its alarm is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimiterContents {
    pub counters: Vec<StoredCounter>,
    pub in_memory: usize,
    pub alarm_at: Option<UnixMillis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCounter {
    pub counter: String,
    pub expires_at: UnixMillis,
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::limits::{evaluate, LimitKind, LimitScope, QuotaWindow};

    #[test]
    fn a_decision_survives_the_trip_through_the_durable_object() {
        let kind = LimitKind::Quota { limit: 2, window: QuotaWindow::Day };
        let check = LimitCheck {
            counter: "app:a:daily".into(),
            policy: LimitPolicy { name: "daily".into(), scope: LimitScope::App, kind },
            anchor: Some(5),
        };
        let request = AcquireRequest { now: 1_000, checks: vec![WireCheck::from(&check)] };
        let back: AcquireRequest = serde_json::from_str(&serde_json::to_string(&request).expect("json")).expect("json");
        assert_eq!(LimitCheck::from(back.checks[0].clone()), check);

        let decision = evaluate(&[check], &[None], 1_000, 1).decision;
        let wire = serde_json::to_string(&AcquireResponse::from(&decision)).expect("json");
        let back: AcquireResponse = serde_json::from_str(&wire).expect("json");
        assert_eq!(LimitDecision::from(back), decision);
    }
}
