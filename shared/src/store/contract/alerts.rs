//! Contract scenario for alert records: what the runner relies on from every store.

use crate::alerts::{
    firing_writes, AlertDelivery, AlertOutbox, AlertRule, Channel, Condition, Firing, Observed, Percent, Subject, Watch,
};
use crate::store::{EntityKind, Repo, StoreError, Write};

fn rule() -> AlertRule {
    let subject = Subject::Developer { developer_id: "dev_1".into(), app_id: None, key_id: None };
    let percent = Percent::try_from(80).expect("percent");
    AlertRule {
        id: "alr_1".into(),
        name: "r".into(),
        watch: Watch::new(subject, Condition::Quota { percent }).expect("watch"),
        channels: vec![
            Channel::Email { to: "a@example.com".into() },
            Channel::Webhook { url: "https://x.io/h".into() },
        ],
        webhook_secret: "whsec_1".into(),
        created_at: 1,
        created_by: "developer:dev_1".into(),
    }
}

fn firing(dedup_key: &str) -> Firing {
    Firing {
        rule_id: "alr_1".into(),
        dedup_key: dedup_key.into(),
        window: (0, 86_400_000),
        fired_at: 5,
        observed: Observed::Quota { policy: "daily".into(), whose: "key k".into(), used: 8, limit: 10 },
        summary: "s".into(),
    }
}

/// A firing is recorded once per de-duplication key, all or nothing: a second firing with
/// the same key is a `Conflict` and leaves none of its deliveries or outbox entries behind;
/// the delivery log lists by owner; an outbox entry moves and goes away with its delivery.
pub async fn alert_firings_are_recorded_once_all_or_nothing(repo: impl Repo) {
    let rule = rule();
    repo.insert(&rule).await.expect("rule");
    assert_eq!(repo.list::<AlertRule>(Some("dev_1")).await.expect("rules").len(), 1);
    let ids = ["dlv_1".to_owned(), "dlv_2".to_owned()];
    repo.transact(firing_writes(&rule, &firing("alr_1:k:0"), "evt_1", &ids, 5).expect("writes")).await.expect("fired");
    let again = ["dlv_3".to_owned(), "dlv_4".to_owned()];
    let twice = repo.transact(firing_writes(&rule, &firing("alr_1:k:0"), "evt_2", &again, 6).expect("writes")).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let log = repo.list::<AlertDelivery>(Some("dev_1")).await.expect("log");
    assert_eq!(log.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["dlv_1", "dlv_2"], "nothing of the second");
    assert_eq!(repo.list_records(EntityKind::AlertOutbox, None).await.expect("outbox").len(), 2);

    let mut delivery = log[0].clone();
    delivery.record(true, "HTTP 200".into(), 7, 1_000);
    let done = vec![
        Write::update(&delivery).expect("delivery"),
        Write::Remove { kind: EntityKind::AlertOutbox, id: "dlv_1".into() },
    ];
    repo.transact(done).await.expect("delivered");
    repo.update(&AlertOutbox { id: "dlv_2".into(), due_at: 9 }).await.expect("retry later");
    let outbox: Vec<AlertOutbox> = repo.list(None).await.expect("outbox");
    assert_eq!(outbox, [AlertOutbox { id: "dlv_2".into(), due_at: 9 }]);
    assert_eq!(repo.get::<AlertDelivery>("dlv_1").await.expect("delivery").attempts.len(), 1);
    assert!(repo.snapshot().await.expect("snapshot").unreadable.is_empty());
}
