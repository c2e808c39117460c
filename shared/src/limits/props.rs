//! Property tests of the limiter invariants, over arbitrary request times.
use proptest::prelude::*;

use super::*;

const T0: UnixMillis = 1_800_000_000_000;

fn check(kind: LimitKind) -> LimitCheck {
    LimitCheck {
        counter: "key:k:p".into(),
        policy: LimitPolicy { name: "p".into(), scope: LimitScope::Key, kind },
        anchor: None,
    }
}

fn rate(limit: u32, period_secs: u32, burst: u32) -> LimitCheck {
    check(LimitKind::Rate { limit, period_secs, burst, on_failure: FailureMode::Open })
}

/// Sends one request of `cost` at each time, from `state`; returns which were admitted.
fn replay_from(check: &LimitCheck, state: &mut Option<CounterState>, times: &[UnixMillis], cost: u64) -> Vec<bool> {
    let checks = std::slice::from_ref(check);
    times
        .iter()
        .map(|&now| {
            let eval = evaluate(checks, &[*state], now, cost);
            if let Some(writes) = eval.writes {
                *state = writes.first().copied();
            }
            eval.decision.allowed()
        })
        .collect()
}

fn replay(check: &LimitCheck, times: &[UnixMillis], cost: u64) -> Vec<bool> {
    replay_from(check, &mut None, times, cost)
}

fn times_from_gaps(gaps: &[u32]) -> Vec<UnixMillis> {
    gaps.iter()
        .scan(T0, |t, &gap| {
            *t += i64::from(gap);
            Some(*t)
        })
        .collect()
}

proptest! {
    /// In any closed interval [a, b], at most burst + limit·(b − a + 1 ms)/period requests pass
    /// (the 1 ms is the clock's resolution; see `gcra.rs`).
    #[test]
    fn gcra_never_admits_more_than_burst_plus_rate(
        limit in 1u32..20, period in 1u32..10, burst in 1u32..20,
        gaps in prop::collection::vec(0u32..800, 1..150),
    ) {
        let times = times_from_gaps(&gaps);
        let admitted: Vec<UnixMillis> =
            times.iter().zip(replay(&rate(limit, period, burst), &times, 1)).filter(|(_, ok)| *ok).map(|(t, _)| *t).collect();
        let period_ms = i128::from(period) * 1_000;
        for i in 0..admitted.len() {
            for j in i..admitted.len() {
                let count = (j - i + 1) as i128;
                let elapsed = i128::from(admitted[j] - admitted[i]);
                prop_assert!(count * period_ms <= i128::from(burst) * period_ms + (elapsed + 1) * i128::from(limit),
                    "{count} admitted in {elapsed} ms");
            }
        }
    }

    /// Never send a 429 to a client that stays under its limit: a client whose real send
    /// times are at least period/limit apart, observed on a millisecond clock (rounded down, so
    /// up to 1 ms early), always passes, whatever the burst.
    #[test]
    fn gcra_never_refuses_a_client_under_its_limit(
        limit in 1u32..50, period in 1u32..120, burst in 1u32..10,
        slack in prop::collection::vec(prop_oneof![3 => Just(0u32), 1 => 0u32..100, 1 => 0u32..300_000], 1..200),
    ) {
        // Real times in ticks of 1/limit ms: the interval is exactly period_ms ticks.
        let (limit, period_ms) = (i64::from(limit), i64::from(period) * 1_000);
        let real = slack.iter().scan(0i64, |t, s| {
            *t += period_ms + i64::from(*s);
            Some(*t)
        });
        let observed: Vec<UnixMillis> = real.map(|ticks| T0 + ticks.div_euclid(limit)).collect();
        let admitted = replay(&rate(limit as u32, period, burst), &observed, 1);
        prop_assert!(admitted.iter().all(|ok| *ok));
    }

    /// `remaining` is a promise: that many more pass right now, and no more unless it is capped
    /// at the advertised quota (`burst`), which rates above one request per millisecond reach
    /// through GCRA's 1 ms of tolerance.
    #[test]
    fn gcra_remaining_is_exact(
        limit in prop_oneof![1u32..20, 1_000u32..20_000], period in 1u32..10, burst in 1u32..20,
        gaps in prop::collection::vec(0u32..800, 1..30),
    ) {
        let check = rate(limit, period, burst);
        let times = times_from_gaps(&gaps);
        let mut state = None;
        replay_from(&check, &mut state, &times, 1);
        let now = times[times.len() - 1];
        let peek = evaluate(std::slice::from_ref(&check), &[state], now, 0);
        let remaining = peek.decision.results[0].remaining;
        prop_assert!(remaining <= u64::from(burst));
        let admitted = replay_from(&check, &mut state, &vec![now; remaining as usize + 1], 1);
        prop_assert!(admitted[..remaining as usize].iter().all(|ok| *ok));
        prop_assert!(remaining == u64::from(burst) || !admitted[remaining as usize]);
    }

    /// However requests arrive, a quota never admits more than its limit in one window.
    #[test]
    fn quota_never_over_admits_within_a_window(
        limit in 0u64..30, cost in 1u64..4,
        gaps in prop::collection::vec(0u32..20_000, 1..200),
    ) {
        let check = check(LimitKind::Quota { limit, window: QuotaWindow::Minute, durable: Default::default() });
        let times = times_from_gaps(&gaps);
        let admitted = replay(&check, &times, cost);
        let mut used: std::collections::HashMap<i64, u64> = Default::default();
        for (t, _) in times.iter().zip(admitted).filter(|(_, ok)| *ok) {
            *used.entry(t / 60_000).or_default() += cost;
        }
        prop_assert!(used.values().all(|u| *u <= limit));
    }
}
