//! All the policies of one call, evaluated together.
use super::gcra::{self, Rate};
use super::{quota, CounterState, FailureMode, LimitCheck, LimitDecision, LimitKind, LimitResult};
use crate::time::UnixMillis;

/// New counter states, one per check: on the stack for the few checks of a usual call, as
/// this is built on every admitted call.
pub type Writes = smallvec::SmallVec<[CounterState; 4]>;

/// What a limiter does with one call's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: LimitDecision,
    /// The new state of each check's counter, in the order of the checks, when the call is
    /// admitted. `None` when refused: there is nothing to write.
    pub writes: Option<Writes>,
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
    // `writes[j]` is the new state of `checks[j]`'s counter: what a repeated counter chains on.
    let mut writes = Writes::with_capacity(checks.len());
    let mut steps = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
        let earlier = (0..i).rev().find(|&j| checks[j].counter == check.counter).map(|j| writes[j]);
        let (result, next) = step(check, earlier.or(stored(i)).as_ref(), now, cost);
        writes.push(next);
        steps.push(result);
    }
    if steps.iter().all(|result| result.allowed) {
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
        LimitKind::Quota { limit, window, .. } => quota::step(name, limit, window, check.anchor, state, now, cost),
    }
}

/// Whether a call may go ahead without its limits when the counter store is unreachable:
/// only when every check is a burst limit whose policy says to fail open. Quotas always
/// fail closed (they are what a customer pays for); so does a mix.
pub fn fails_open(checks: &[LimitCheck]) -> bool {
    checks.iter().all(|c| matches!(c.policy.kind, LimitKind::Rate { on_failure: FailureMode::Open, .. }))
}
