//! Burst rate limits as GCRA (the generic cell rate algorithm): one timestamp per counter,
//! the theoretical arrival time (TAT) of the next request if traffic were perfectly even.
//!
//! Arithmetic is exact: time is counted in ticks of `1/limit` ms, in which the emission
//! interval `T = period / limit` is the whole number `period_ms`. Rounding `T` to whole
//! milliseconds would either over-admit (rounded down) or, by drift, refuse a client that
//! sends exactly at its limit (rounded up); exact ticks do neither.
//!
//! Request times are whole milliseconds, so a client pacing itself perfectly in real time
//! can look up to 1 ms early. GCRA's tolerance is widened by that 1 ms so such a client is
//! never refused. The guarantee, checked by property tests: in any interval of `d` ms at most
//! `burst + limit·(d + 1)/period_ms` requests pass, and every request of a client whose real
//! send times are at least `T` apart passes.
use std::sync::Arc;

use super::{CounterState, LimitResult};
use crate::time::{UnixMillis, SECOND};

/// A `Rate` policy's numbers, as the limiter reads them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rate {
    pub limit: u32,
    pub period_secs: u32,
    pub burst: u32,
}

/// Evaluates one rate policy at `now` for a request of `cost` units. Returns the result and
/// the state to store if the whole call is admitted (the old state when this policy refuses).
///
/// Admits when `max(tat, now) + cost·T − now ≤ burst·T + 1 ms`: `burst` requests fit at once,
/// then one every `T`. A zero `limit` refuses every request of non-zero cost (the policy is a
/// block); a zero `period_secs` or `burst` is treated as 1 so nothing divides by zero.
pub(super) fn step(
    name: &Arc<str>,
    rate: Rate,
    state: Option<&CounterState>,
    now: UnixMillis,
    cost: u64,
) -> (LimitResult, CounterState) {
    let limit = i128::from(rate.limit.max(1));
    let interval = i128::from(rate.period_secs.max(1)) * i128::from(SECOND);
    // What clients are told they may send at once (`q`), and what the bucket holds.
    let burst = rate.burst.max(1);
    let capacity = i128::from(burst) * interval + limit;
    let now_ticks = i128::from(now) * limit;
    let tat = match state {
        Some(CounterState::Rate { tat, tat_frac }) => i128::from(*tat) * limit + i128::from(*tat_frac).min(limit - 1),
        _ => now_ticks,
    };
    let base = tat.max(now_ticks);
    let wanted = base + i128::from(cost) * interval;
    let allowed = (rate.limit > 0 || cost == 0) && wanted - now_ticks <= capacity;
    let kept = if allowed { wanted } else { base };
    let used = kept - now_ticks;
    // Refused: wait until the request fits (or, if it never can, until the bucket is empty).
    let wait =
        if allowed { used } else { base + i128::from(cost).min(capacity / interval) * interval - capacity - now_ticks };
    let blocked = rate.limit == 0;
    let result = LimitResult {
        name: Arc::clone(name),
        is_quota: false,
        allowed,
        limit: u64::from(burst),
        // At most `q`: above about 1,000 requests a second, the 1 ms of tolerance is worth whole
        // requests, which pass but are not advertised (a client told `r > q` could not trust
        // either number).
        remaining: if blocked { 0 } else { saturate((capacity - used).max(0) / interval).min(u64::from(burst)) },
        window_secs: refill_secs(rate),
        reset_secs: if blocked { u64::from(rate.period_secs) } else { ceil_div(wait, limit * 1_000) },
    };
    (result, encode(kept, limit))
}

/// Clients see a rate policy as `q = burst` requests per `w` = the seconds a whole burst takes
/// to refill (`burst · period / limit`, rounded up). So `remaining` never exceeds `q`, and a
/// client that keeps to `q` per `w` stays within the policy's long-run rate.
fn refill_secs(rate: Rate) -> u64 {
    if rate.limit == 0 {
        return u64::from(rate.period_secs.max(1));
    }
    let burst_time = u64::from(rate.burst.max(1)) * u64::from(rate.period_secs.max(1));
    burst_time.div_ceil(u64::from(rate.limit)).max(1)
}

fn encode(ticks: i128, limit: i128) -> CounterState {
    let tat = i64::try_from(ticks.div_euclid(limit)).unwrap_or(i64::MAX);
    let tat_frac = u32::try_from(ticks.rem_euclid(limit)).unwrap_or(0);
    CounterState::Rate { tat, tat_frac }
}

fn ceil_div(n: i128, d: i128) -> u64 {
    saturate((n.max(0) + d - 1) / d)
}

fn saturate(n: i128) -> u64 {
    u64::try_from(n.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = 1_800_000_000_000;

    fn run(rate: Rate, state: &mut Option<CounterState>, now: UnixMillis) -> LimitResult {
        let (result, next) = step(&"burst".into(), rate, state.as_ref(), now, 1);
        if result.allowed {
            *state = Some(next);
        }
        result
    }

    #[test]
    fn burst_of_n_passes_then_the_next_is_refused() {
        let rate = Rate { limit: 10, period_secs: 1, burst: 5 };
        let mut state = None;
        for expected_remaining in (0..5).rev() {
            let r = run(rate, &mut state, T0);
            assert!(r.allowed);
            assert_eq!(r.remaining, expected_remaining);
        }
        let refused = run(rate, &mut state, T0);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset_secs), (0, 1));
    }

    #[test]
    fn one_more_passes_one_interval_later_to_the_millisecond() {
        // T = 100 ms; the 1 ms clock tolerance lets it in at 99 ms, not a millisecond sooner.
        let rate = Rate { limit: 10, period_secs: 1, burst: 2 };
        let mut state = None;
        assert!(run(rate, &mut state, T0).allowed && run(rate, &mut state, T0).allowed);
        assert!(!run(rate, &mut state, T0 + 98).allowed);
        assert!(run(rate, &mut state, T0 + 99).allowed);
        assert!(!run(rate, &mut state, T0 + 100).allowed);
        assert!(run(rate, &mut state, T0 + 199).allowed);
    }

    #[test]
    fn fractional_interval_does_not_drift() {
        // 3 per second: T = 333⅓ ms. A client at ceil(k·T) is always on time.
        let rate = Rate { limit: 3, period_secs: 1, burst: 1 };
        let mut state = None;
        for k in 0..3_000i64 {
            let at = T0 + (k * 1_000 + 2) / 3;
            assert!(run(rate, &mut state, at).allowed, "request {k} at +{}ms refused", at - T0);
        }
        assert!(!run(rate, &mut state, T0 + 1_000_000 - 1).allowed);
    }

    #[test]
    fn reset_counts_up_to_a_full_bucket_when_allowed() {
        let rate = Rate { limit: 1, period_secs: 60, burst: 3 };
        let mut state = None;
        let r = run(rate, &mut state, T0);
        assert_eq!((r.remaining, r.reset_secs, r.window_secs, r.limit), (2, 60, 180, 3));
    }

    #[test]
    fn advertised_quota_is_the_burst_over_its_refill_time() {
        let rate = Rate { limit: 10, period_secs: 1, burst: 20 };
        let r = run(rate, &mut None, T0);
        assert_eq!((r.limit, r.window_secs, r.remaining), (20, 2, 19));
        let uneven = Rate { limit: 3, period_secs: 1, burst: 5 };
        assert_eq!(run(uneven, &mut None, T0).window_secs, 2, "rounded up: never advertises more than the rate");
    }

    #[test]
    fn remaining_never_exceeds_the_advertised_quota_at_high_rates() {
        // 1 ms of tolerance is 1,000 requests here; a fresh bucket once reported 1,000,999.
        let rate = Rate { limit: 1_000_000, period_secs: 1, burst: 1_000_000 };
        let r = run(rate, &mut None, T0);
        assert_eq!((r.limit, r.remaining), (1_000_000, 1_000_000));
        let fast = Rate { limit: 5_000, period_secs: 1, burst: 3 };
        let mut state = None;
        let remaining: Vec<u64> = (0..4).map(|_| run(fast, &mut state, T0).remaining).collect();
        assert_eq!(remaining, [3, 3, 3, 3], "5 per ms of tolerance keep the advertised 3 full");
    }

    #[test]
    fn zero_limit_blocks_and_zero_cost_only_peeks() {
        let block = Rate { limit: 0, period_secs: 60, burst: 5 };
        assert!(!step(&"b".into(), block, None, T0, 1).0.allowed);
        let rate = Rate { limit: 1, period_secs: 1, burst: 1 };
        let (peek, next) = step(&"b".into(), rate, None, T0, 0);
        assert!(peek.allowed);
        assert_eq!(peek.remaining, 1);
        assert_eq!(next, CounterState::Rate { tat: T0, tat_frac: 0 });
    }
}
