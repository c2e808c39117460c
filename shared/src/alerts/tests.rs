use std::collections::BTreeMap;
use std::num::NonZeroU32;

use super::*;
use crate::store::{GroupBy, UsageRow, Write};
use crate::time::{DAY, MINUTE};

const NOW: i64 = 1_800_000_123_456;

fn developer() -> Subject {
    Subject::Developer { developer_id: "dev_1".into(), app_id: None, key_id: None }
}

fn rule(subject: Subject, condition: Condition) -> AlertRule {
    AlertRule {
        id: "alr_1".into(),
        name: "my rule".into(),
        watch: Watch::new(subject, condition).expect("valid"),
        channels: vec![
            Channel::Email { to: "a@example.com".into() },
            Channel::Webhook { url: "http://127.0.0.1:9/h".into() },
        ],
        webhook_secret: "whsec_x".into(),
        created_at: 0,
        created_by: "developer:dev_1".into(),
    }
}

fn pct(n: u8) -> Percent {
    Percent::try_from(n).expect("percent")
}

fn mins(n: u16) -> Minutes {
    Minutes::try_from(n).expect("minutes")
}

fn row(requests: u64, client: u64, server: u64, p95_us: Option<u64>) -> UsageRow {
    UsageRow {
        bucket: None,
        group: None,
        requests,
        status_classes: [0, requests - client - server, 0, client, server],
        outcomes: BTreeMap::new(),
        p50_us: p95_us,
        p95_us,
        p99_us: p95_us,
        bytes_in: 0,
        bytes_out: 0,
        cache_hits: 0,
        end_users: BTreeMap::new(),
    }
}

#[test]
fn out_of_range_thresholds_and_a_quota_rule_on_a_whole_api_cannot_be_built_or_read() {
    assert_eq!(Percent::try_from(0), Err(RuleError::Percent));
    assert_eq!(Percent::try_from(101), Err(RuleError::Percent));
    assert_eq!(Minutes::try_from(0), Err(RuleError::Minutes));
    assert_eq!(Minutes::try_from(1_441), Err(RuleError::Minutes));
    let api = Subject::Api { api_id: "api_1".into() };
    assert_eq!(Watch::new(api.clone(), Condition::Quota { percent: pct(80) }), Err(RuleError::QuotaOnApi));
    let stored = r#"{"subject":{"kind":"api","api_id":"api_1"},"condition":{"type":"quota","percent":80}}"#;
    assert!(serde_json::from_str::<Watch>(stored).is_err(), "a stored bad pair is refused too");
    let zero = r#"{"subject":{"kind":"api","api_id":"a"},"condition":{"type":"latency","p95_ms":0,"minutes":5}}"#;
    assert!(serde_json::from_str::<Watch>(zero).is_err());
    let fine = r#"{"subject":{"kind":"api","api_id":"a"},"condition":{"type":"error_rate","percent":5,"minutes":10}}"#;
    let watch: Watch = serde_json::from_str(fine).expect("valid");
    assert_eq!(
        watch.condition(),
        &Condition::ErrorRate { percent: pct(5), minutes: mins(10), errors: ErrorClass::Server }
    );
}

#[test]
fn channels_are_checked_for_shape_count_and_repeats() {
    let email = |to: &str| Channel::Email { to: to.into() };
    let hook = |url: &str| Channel::Webhook { url: url.into() };
    assert_eq!(check_channels(&[email("a@b.io"), hook("https://x.io/h")]), Ok(()));
    assert_eq!(check_channels(&[]), Err(RuleError::Channels));
    assert_eq!(check_channels(&[email("a@b.io"), email("a@b.io")]), Err(RuleError::Channels));
    assert_eq!(check_channels(&vec![hook("http://h.io/"); 6]), Err(RuleError::Channels));
    for bad in ["nobody", "@b.io", "a@b", "a b@c.io", "a@b.io,c@d.io"] {
        assert_eq!(check_channels(&[email(bad)]), Err(RuleError::Email(bad.into())), "{bad}");
    }
    for bad in ["ftp://x.io", "https://", "x.io/h", "http://u@x.io/", "http://x.io/a b"] {
        assert_eq!(check_channels(&[hook(bad)]), Err(RuleError::Url(bad.into())), "{bad}");
    }
}

#[test]
fn a_quota_threshold_fires_per_quota_once_its_use_reaches_the_percentage() {
    let r = rule(developer(), Condition::Quota { percent: pct(80) });
    let quota = |counter: &str, used| QuotaUse {
        policy: "daily".into(),
        whose: format!("key {counter}"),
        counter: counter.into(),
        limit: 1_000,
        used,
        window: (NOW - NOW % DAY, NOW - NOW % DAY + DAY),
    };
    let firings = evaluate(&r, None, &[quota("key_a", 799), quota("key_b", 800), quota("key_c", 1_200)], NOW);
    assert_eq!(firings.len(), 2, "799 of 1,000 is under 80 %");
    assert_eq!(firings[0].dedup_key, format!("alr_1:quota:daily:key_b:{}", NOW - NOW % DAY));
    assert_eq!(firings[0].window, (NOW - NOW % DAY, NOW - NOW % DAY + DAY), "once per quota window");
    assert_eq!(
        firings[1].observed,
        Observed::Quota { policy: "daily".into(), whose: "key key_c".into(), used: 1_200, limit: 1_000 }
    );
    assert!(firings[1].summary.contains("120 %"), "{}", firings[1].summary);
}

#[test]
fn an_error_rate_fires_only_above_its_percentage_and_counts_the_chosen_classes() {
    let server =
        rule(developer(), Condition::ErrorRate { percent: pct(10), minutes: mins(5), errors: ErrorClass::Server });
    assert!(evaluate(&server, Some(&row(100, 50, 10, None)), &[], NOW).is_empty(), "10 % is not over 10 %");
    let fired = evaluate(&server, Some(&row(100, 0, 11, None)), &[], NOW);
    assert_eq!(fired[0].observed, Observed::ErrorRate { errors: 11, requests: 100 });
    assert!(evaluate(&server, Some(&row(0, 0, 0, None)), &[], NOW).is_empty(), "no calls, no rate");
    let any = rule(developer(), Condition::ErrorRate { percent: pct(10), minutes: mins(5), errors: ErrorClass::Any });
    assert_eq!(evaluate(&any, Some(&row(100, 6, 5, None)), &[], NOW).len(), 1, "4xx count too");
}

#[test]
fn a_sustained_breach_fires_once_per_window_and_again_in_the_next() {
    let r = rule(developer(), Condition::ErrorRate { percent: pct(10), minutes: mins(15), errors: ErrorClass::Server });
    let bad = row(10, 0, 5, None);
    let start = NOW - NOW % (15 * MINUTE);
    let keys: Vec<String> = [start, start + 7 * MINUTE, start + 15 * MINUTE - 1, start + 15 * MINUTE]
        .iter()
        .map(|&at| evaluate(&r, Some(&bad), &[], at)[0].dedup_key.clone())
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[1], keys[2], "the same key until the window ends: the store refuses a second event");
    assert_ne!(keys[2], keys[3], "a new window fires again");
}

#[test]
fn latency_fires_when_p95_is_above_the_threshold() {
    let r = rule(developer(), Condition::Latency { p95_ms: NonZeroU32::new(250).expect("nonzero"), minutes: mins(5) });
    assert!(evaluate(&r, Some(&row(10, 0, 0, Some(250_000))), &[], NOW).is_empty());
    assert!(evaluate(&r, Some(&row(10, 0, 0, None)), &[], NOW).is_empty());
    let fired = evaluate(&r, Some(&row(10, 0, 0, Some(500_000))), &[], NOW);
    assert_eq!(fired[0].observed, Observed::Latency { p95_ms: 500, requests: 10 });
}

#[test]
fn the_usage_query_covers_the_last_minutes_with_the_current_one_and_only_the_subject() {
    let r = rule(
        Subject::Developer { developer_id: "dev_1".into(), app_id: Some("app_1".into()), key_id: None },
        Condition::ErrorRate { percent: pct(1), minutes: mins(5), errors: ErrorClass::Server },
    );
    let q = usage_query(&r, NOW).expect("a usage rule");
    assert_eq!(q.from, Some(NOW - NOW % MINUTE - 4 * MINUTE));
    assert_eq!((q.to, q.group_by), (None, GroupBy::Total));
    assert_eq!((q.developer_id.as_deref(), q.app_id.as_deref(), q.key_id), (Some("dev_1"), Some("app_1"), None));
    let api =
        rule(Subject::Api { api_id: "api_1".into() }, Condition::Latency { p95_ms: NonZeroU32::MIN, minutes: mins(1) });
    assert_eq!(usage_query(&api, NOW).expect("usage").api_id.as_deref(), Some("api_1"));
    assert_eq!(usage_query(&rule(developer(), Condition::Quota { percent: pct(80) }), NOW), None);
}

#[test]
fn a_firing_is_one_event_and_a_delivery_and_outbox_entry_per_channel() {
    let r = rule(developer(), Condition::Quota { percent: pct(100) });
    let firing = Firing {
        rule_id: r.id.clone(),
        dedup_key: "alr_1:quota:daily:key_a:0".into(),
        window: (0, DAY),
        fired_at: NOW,
        observed: Observed::Quota { policy: "daily".into(), whose: "key a".into(), used: 5, limit: 5 },
        summary: "s".into(),
    };
    let writes = firing_writes(&r, &firing, "evt_1", &["dlv_1".into(), "dlv_2".into()], NOW).expect("writes");
    let kinds: Vec<(&str, &str)> = writes
        .iter()
        .map(|w| match w {
            Write::Insert(rec) => (rec.kind.as_str(), rec.id.as_str()),
            other => panic!("only inserts: {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("alert_event", "alr_1:quota:daily:key_a:0"),
            ("alert_delivery", "dlv_1"),
            ("alert_outbox", "dlv_1"),
            ("alert_delivery", "dlv_2"),
            ("alert_outbox", "dlv_2")
        ]
    );
    let body: serde_json::Value =
        serde_json::from_slice(&webhook_body(&AlertMessage::of(&r, &firing, "evt_1"))).expect("json");
    assert_eq!((body["id"].as_str(), body["type"].as_str()), (Some("evt_1"), Some("alert.fired")));
    assert!(!body.to_string().contains("whsec_x"), "the signing secret is never in a body");
}

#[test]
fn failed_deliveries_back_off_doubling_up_to_an_hour_then_give_up() {
    let base = 30_000;
    assert_eq!(retry_at(1, NOW, base), Some(NOW + 30_000));
    assert_eq!(retry_at(2, NOW, base), Some(NOW + 60_000));
    assert_eq!(retry_at(3, NOW, base), Some(NOW + 120_000));
    assert_eq!(retry_at(9, NOW, base), Some(NOW + MAX_BACKOFF));
    assert_eq!(retry_at(MAX_ATTEMPTS, NOW, base), None);
    let r = rule(developer(), Condition::Quota { percent: pct(100) });
    let firing = Firing {
        rule_id: r.id.clone(),
        dedup_key: "k".into(),
        window: (0, DAY),
        fired_at: NOW,
        observed: Observed::ErrorRate { errors: 1, requests: 1 },
        summary: "s".into(),
    };
    let mut d = AlertDelivery {
        id: "dlv_1".into(),
        owner: "dev_1".into(),
        channel: r.channels[1].clone(),
        status: DeliveryStatus::Pending,
        attempts: Vec::new(),
        next_attempt_at: Some(NOW),
        created_at: NOW,
        message: AlertMessage::of(&r, &firing, "evt_1"),
    };
    assert_eq!(d.record(false, "HTTP 503".into(), NOW, base), Some(NOW + base));
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.record(true, "HTTP 200".into(), NOW + base, base), None);
    assert_eq!((d.status, d.attempts.len()), (DeliveryStatus::Delivered, 2));
    for _ in 0..MAX_ATTEMPTS {
        d.record(false, "HTTP 500".into(), NOW, base);
    }
    assert_eq!(d.status, DeliveryStatus::GaveUp);
}
