//! Contract scenarios for the answers derived from usage and audit (`store::derived`): the
//! same on every store, whether it overrides the port's provided methods or not.

use std::collections::{BTreeMap, BTreeSet};

use super::{app, key, rollup};
use crate::model::{Product, ProductItem, Subscription, SubscriptionStatus};
use crate::store::{AuditEntry, Repo};
use crate::usage::Rollup;

/// `rollup(…)` of another key, app and API.
fn rollup_of(minute: i64, requests: u64, key: &str, app: &str, api: &str) -> Rollup {
    let mut r = rollup(minute, requests, "valid", 900);
    (r.key.key_id, r.key.app_id, r.key.api_id) = (key.into(), app.into(), api.into());
    r.key.developer_id = format!("dev_{app}");
    r
}

/// Two apps subscribed to a product holding `api_1`, each with a key (what the stores that
/// answer from the catalogue and per-key usage need; the others ignore it).
async fn subscribed_apps(repo: &impl Repo) {
    let item = ProductItem { api_id: "api_1".into(), operations: None };
    let product = Product {
        id: "prd_1".into(),
        name: "p".into(),
        description: String::new(),
        items: vec![item],
        audience: Default::default(),
        created_at: 1,
    };
    repo.insert(&product).await.expect("product");
    for (app_id, key_id) in [("app_a", "key_a"), ("app_b", "key_b")] {
        repo.insert(&app(app_id, &format!("dev_{app_id}"))).await.expect("app");
        repo.insert(&key(key_id, app_id, key_id)).await.expect("key");
        let sub = Subscription {
            id: format!("sub_{app_id}"),
            app_id: app_id.into(),
            product_id: "prd_1".into(),
            plan_id: "pln_1".into(),
            status: SubscriptionStatus::Active,
            rejection: None,
            created_at: 1,
        };
        repo.insert(&sub).await.expect("subscription");
    }
}

pub async fn usage_says_when_each_key_was_last_seen_and_who_called_an_api(repo: impl Repo) {
    use crate::time::{DAY, MINUTE};
    subscribed_apps(&repo).await;
    repo.add_rollups(&[
        rollup_of(MINUTE, 2, "key_a", "app_a", "api_1"),
        rollup_of(5 * MINUTE, 1, "key_a", "app_a", "api_2"),
        rollup_of(DAY + 7 * MINUTE, 4, "key_b", "app_b", "api_1"),
    ])
    .await
    .expect("rollups");
    let ids = ["key_a", "key_b", "key_never"].map(String::from);
    let seen = repo.keys_last_seen(&ids).await.expect("last seen");
    assert_eq!(seen, BTreeMap::from([("key_a".into(), 5 * MINUTE), ("key_b".into(), DAY + 7 * MINUTE)]));
    let calls = |from, to| repo.app_calls("api_1", from, to);
    let both: Vec<(String, u64)> =
        calls(0, 2 * DAY).await.expect("calls").into_iter().map(|c| (c.app_id, c.requests)).collect();
    assert_eq!(both, [("app_b".into(), 4), ("app_a".into(), 2)], "most calls first");
    let first_day = calls(0, DAY).await.expect("calls");
    assert_eq!(first_day.len(), 1);
    assert_eq!((first_day[0].developer_id.as_str(), first_day[0].requests), ("dev_app_a", 2));
}

pub async fn audit_about_finds_every_entry_targeting_the_ids_oldest_first(repo: impl Repo) {
    for (at, action, target) in [(1, "app.create", "app_1"), (2, "api.create", "api_1"), (3, "key.create", "key_1")] {
        let entry = AuditEntry::new(at, "admin:ab", action, vec![target.into()]);
        repo.append_audit(&entry).await.expect("audit");
    }
    let ids = BTreeSet::from(["app_1".to_string(), "key_1".to_string()]);
    let about = repo.audit_about(&ids).await.expect("audit about");
    assert_eq!(about.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["app.create", "key.create"]);
}
