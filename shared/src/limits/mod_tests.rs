use super::*;

const T0: UnixMillis = 1_800_000_000_000;

pub(super) fn rate(name: &str, limit: u32, period_secs: u32, burst: u32) -> LimitCheck {
    let kind = LimitKind::Rate { limit, period_secs, burst, on_failure: FailureMode::Open };
    LimitCheck {
        counter: format!("key:k:{name}"),
        policy: LimitPolicy { name: name.into(), scope: LimitScope::Key, kind },
        anchor: None,
    }
}

fn quota(name: &str, limit: u64, window: QuotaWindow) -> LimitCheck {
    let kind = LimitKind::Quota { limit, window, durable: Durability::Flushed };
    LimitCheck {
        counter: format!("app:a:{name}"),
        policy: LimitPolicy { name: name.into(), scope: LimitScope::App, kind },
        anchor: None,
    }
}

/// Applies writes like a limiter would.
fn call(checks: &[LimitCheck], states: &mut Vec<Option<CounterState>>, now: UnixMillis) -> LimitDecision {
    let eval = evaluate(checks, states, now, 1);
    if let Some(writes) = eval.writes {
        *states = writes.into_iter().map(Some).collect();
    }
    eval.decision
}

#[test]
fn refused_request_consumes_nothing() {
    let checks = [rate("burst", 1, 1, 1), quota("daily", 10, QuotaWindow::Day)];
    let mut states = vec![None, None];
    assert!(call(&checks, &mut states, T0).allowed());
    let before = states.clone();
    for _ in 0..50 {
        let refused = call(&checks, &mut states, T0 + 10);
        assert!(!refused.allowed());
        assert_eq!(refused.results[1].remaining, 9, "refused calls must not burn quota");
    }
    assert_eq!(states, before);
    assert!(call(&checks, &mut states, T0 + 1_000).allowed());
    assert_eq!(states[1], Some(CounterState::Quota { window_start: T0 - T0 % 86_400_000, used: 2 }));
}

#[test]
fn decision_lists_every_policy_even_when_refused() {
    let checks = [quota("daily", 0, QuotaWindow::Day), rate("burst", 5, 1, 5)];
    let eval = evaluate(&checks, &[], T0, 1);
    assert_eq!(eval.writes, None);
    let names: Vec<&str> = eval.decision.results.iter().map(|r| &*r.name).collect();
    assert_eq!(names, ["daily", "burst"]);
    assert_eq!(eval.decision.results[1].remaining, 5);
}

#[test]
fn quota_refusal_is_reported_over_rate_refusal() {
    let checks = [rate("burst", 1, 60, 1), quota("daily", 1, QuotaWindow::Day)];
    let mut states = vec![None, None];
    assert!(call(&checks, &mut states, T0).allowed());
    let refused = call(&checks, &mut states, T0 + 1);
    assert_eq!(refused.refusal(), Some(Outcome::QuotaExceeded));
    assert_eq!(refused.first_refusal().map(|r| &*r.name), Some("daily"));
    let day_end = (T0 / 86_400_000 + 1) * 86_400_000;
    assert_eq!(refused.retry_after_secs(), ((day_end - T0 - 1 + 999) / 1000) as u64);
}

#[test]
fn rate_only_refusal_is_rate_limited_with_retry_after() {
    let checks = [rate("burst", 2, 1, 1)];
    let mut states = vec![None];
    assert_eq!(call(&checks, &mut states, T0).refusal(), None);
    let refused = call(&checks, &mut states, T0);
    assert_eq!(refused.refusal(), Some(Outcome::RateLimited));
    assert_eq!(refused.retry_after_secs(), 1);
    assert_eq!(LimitDecision::default().retry_after_secs(), 0);
    assert!(LimitDecision::default().allowed());
}

#[test]
fn counter_keys_are_scoped_and_named() {
    let key = |scope, group| {
        let who = Counted { key_id: "key_1", app_id: "app_1", owner: Owner::Developer("dev_1"), group };
        counter_key(scope, &who, "daily")
    };
    assert_eq!(key(LimitScope::Key, None).as_deref(), Some("key:key_1:daily"));
    assert_eq!(key(LimitScope::App, None).as_deref(), Some("app:app_1:daily"));
    assert_eq!(key(LimitScope::Developer, None).as_deref(), Some("dev:dev_1:daily"));
    assert_eq!(key(LimitScope::Group, Some("gold")).as_deref(), Some("grp:gold:daily"));
    assert_eq!(key(LimitScope::Group, None), None);
    let org = Counted { key_id: "key_1", app_id: "app_1", owner: Owner::Organisation("org_1"), group: None };
    assert_eq!(counter_key(LimitScope::Developer, &org, "daily").as_deref(), Some("org:org_1:daily"));
}

#[test]
fn only_all_open_burst_limits_fail_open() {
    let mut closed = rate("b", 1, 1, 1);
    closed.policy.kind = LimitKind::Rate { limit: 1, period_secs: 1, burst: 1, on_failure: FailureMode::Closed };
    assert!(fails_open(&[rate("a", 1, 1, 1)]));
    assert!(!fails_open(&[rate("a", 1, 1, 1), closed]));
    assert!(!fails_open(&[rate("a", 1, 1, 1), quota("q", 1, QuotaWindow::Day)]));
}

#[test]
fn counters_expire_when_they_hold_nothing() {
    let q = quota("hourly", 5, QuotaWindow::Hour);
    let start = T0 - T0 % 3_600_000;
    assert_eq!(CounterState::Quota { window_start: start, used: 5 }.expires_at(&q), start + 3_600_000);
    let r = rate("burst", 3, 1, 1);
    assert_eq!(CounterState::Rate { tat: T0, tat_frac: 0 }.expires_at(&r), T0);
    assert_eq!(CounterState::Rate { tat: T0, tat_frac: 2 }.expires_at(&r), T0 + 1);
}

#[test]
fn stored_state_keeps_its_wire_shape() {
    let rate = CounterState::Rate { tat: 5, tat_frac: 0 };
    assert_eq!(serde_json::to_string(&rate).expect("json"), r#"{"t":"rate","tat":5}"#);
    let old: CounterState = serde_json::from_str(r#"{"t":"rate","tat":5}"#).expect("old form");
    assert_eq!(old, rate);
    let q = CounterState::Quota { window_start: 1, used: 2 };
    assert_eq!(serde_json::to_string(&q).expect("json"), r#"{"t":"quota","window_start":1,"used":2}"#);
}

#[test]
fn a_counter_named_twice_is_consumed_twice_not_lost() {
    let checks = [quota("daily", 3, QuotaWindow::Day), quota("daily", 3, QuotaWindow::Day)];
    let eval = evaluate(&checks, &[None, None], T0, 1);
    let used = |s: &CounterState| match s {
        CounterState::Quota { used, .. } => *used,
        CounterState::Rate { .. } => u64::MAX,
    };
    let writes = eval.writes.expect("admitted");
    assert_eq!(writes.iter().map(used).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn quota_durability_defaults_to_flushed_and_is_left_out_of_the_stored_form() {
    let exact: LimitPolicy = serde_json::from_str(
        r#"{"name":"daily","scope":"app","type":"quota","limit":5,"window":"day","durable":"exact"}"#,
    )
    .expect("exact quota");
    assert_eq!(exact.kind, LimitKind::Quota { limit: 5, window: QuotaWindow::Day, durable: Durability::Exact });
    let check = LimitCheck { counter: "app:a:daily".into(), policy: exact, anchor: None };
    assert!(check.is_exact());
    let flushed: LimitPolicy =
        serde_json::from_str(r#"{"name":"daily","scope":"app","type":"quota","limit":5,"window":"day"}"#)
            .expect("quota");
    assert_eq!(flushed.kind, LimitKind::Quota { limit: 5, window: QuotaWindow::Day, durable: Durability::Flushed });
    let stored = serde_json::to_string(&flushed).expect("serialise");
    assert!(!stored.contains("durable"), "{stored}");
    assert!(!LimitCheck { counter: "app:a:daily".into(), policy: flushed, anchor: None }.is_exact());
    let typo = r#"{"name":"d","scope":"app","type":"quota","limit":5,"window":"day","durable":"exactly"}"#;
    assert!(serde_json::from_str::<LimitPolicy>(typo).is_err());
}
