//! Messages between the Worker and its Durable Objects. The limiter speaks the core's own
//! (serialisable) limit types, so nothing is translated on the way.

use gatehouse_core::limits::LimitCheck;
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

/// One `acquire` call, Worker → limiter object; the object answers a `LimitDecision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquireRequest {
    pub now: UnixMillis,
    pub checks: Vec<LimitCheck>,
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
    use gatehouse_core::limits::{evaluate, LimitDecision, LimitKind, LimitPolicy, LimitScope, QuotaWindow};

    #[test]
    fn a_decision_survives_the_trip_through_the_durable_object() {
        let kind = LimitKind::Quota { limit: 2, window: QuotaWindow::Day, durable: Default::default() };
        let check = LimitCheck {
            counter: "app:a:daily".into(),
            policy: LimitPolicy { name: "daily".into(), scope: LimitScope::App, kind },
            anchor: Some(5),
        };
        let request = AcquireRequest { now: 1_000, checks: vec![check.clone()] };
        let back: AcquireRequest = serde_json::from_str(&serde_json::to_string(&request).expect("json")).expect("json");
        assert_eq!(back.checks[0], check);

        let decision = evaluate(&[check], &[None], 1_000, 1).decision;
        let wire = serde_json::to_string(&decision).expect("json");
        assert_eq!(serde_json::from_str::<LimitDecision>(&wire).expect("json"), decision);
    }
}
