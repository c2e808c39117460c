//! All the policies of one call, evaluated together.
use super::gcra::{self, Rate};
use super::{quota, CounterState, FailureMode, LimitCheck, LimitDecision, LimitKind, LimitResult};
use crate::time::UnixMillis;

/// What a limiter does with one call's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: LimitDecision,
    /// The new state of each check's counter, in the order of the checks, when the call is
    /// admitted. `None` when refused: there is nothing to write.
    pub writes: Option<Vec<CounterState>>,
}

/// Evaluates every check against its counter's current state (`states[i]` for `checks[i]`;
/// missing or `None` means a fresh counter) at `now`, for a call that costs `cost` units.
///
/// All-or-nothing: the call is admitted only when every check has room, and then every
/// counter is consumed. When any check refuses, no counter is consumed (a refused request
/// must not burn quota, or a client retrying a 429 would lock itself out), and the results
/// of the checks that had room report their counters as they stand. The decision lists one
/// result per check either way, so headers can describe every policy.
///
/// Two checks on the same counter (which the naming rules should prevent) are chained: the
/// second sees the first's new state, so the counter is consumed twice, never lost.
///
/// The caller must apply `writes` atomically with the read of `states` (one lock, one
/// Durable Object turn), in order (a repeated counter's last write is its final state);
/// otherwise two concurrent calls can both be admitted on the last unit.
pub fn evaluate(checks: &[LimitCheck], states: &[Option<CounterState>], now: UnixMillis, cost: u64) -> Evaluation {
    let stored = |i: usize| states.get(i).copied().flatten();
    let mut pending: Vec<(&str, CounterState)> = Vec::new();
    let mut steps = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
        let earlier = pending.iter().rev().find(|(counter, _)| *counter == check.counter).map(|(_, s)| *s);
        let (result, next) = step(check, earlier.or(stored(i)).as_ref(), now, cost);
        pending.push((&check.counter, next));
        steps.push(result);
    }
    if steps.iter().all(|result| result.allowed) {
        let writes = pending.into_iter().map(|(_, state)| state).collect();
        return Evaluation { decision: LimitDecision { results: steps }, writes: Some(writes) };
    }
    let results = steps
        .into_iter()
        .enumerate()
        .map(|(i, result)| if result.allowed { step(&checks[i], stored(i).as_ref(), now, 0).0 } else { result })
        .collect();
    Evaluation { decision: LimitDecision { results }, writes: None }
}

fn step(check: &LimitCheck, state: Option<&CounterState>, now: UnixMillis, cost: u64) -> (LimitResult, CounterState) {
    let name = &check.policy.name;
    match check.policy.kind {
        LimitKind::Rate { limit, period_secs, burst, .. } => {
            gcra::step(name, Rate { limit, period_secs, burst }, state, now, cost)
        }
        LimitKind::Quota { limit, window } => quota::step(name, limit, window, check.anchor, state, now, cost),
    }
}

/// Whether a call may go ahead without its limits when the counter store is unreachable:
/// only when every check is a burst limit whose policy says to fail open. Quotas always
/// fail closed (they are what a customer pays for); so does a mix.
pub fn fails_open(checks: &[LimitCheck]) -> bool {
    checks.iter().all(|c| matches!(c.policy.kind, LimitKind::Rate { on_failure: FailureMode::Open, .. }))
}
