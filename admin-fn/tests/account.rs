//! A developer's own data: the export holds everything about them and nothing secret; closing
//! revokes every key (published), erases personal fields everywhere and keeps usage by id.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{assert_problem, text, Harness};
use gatehouse_admin::{Change, ChangeOp};
use gatehouse_core::model::Key;
use gatehouse_core::store::{EntityKind, GroupBy, Repo, UsageQuery};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::{json, Value};

const EMAIL: &str = "Grace.Hopper@Example.com";
const NAME: &str = "Grace Brewster Hopper";
const ORG: &str = "Remington Rand";

struct Onboarded {
    developer: String,
    apps: Vec<String>,
    keys: Vec<String>,
    secrets: Vec<String>,
}

/// A developer with `apps` apps of `keys_each` keys, a subscription on the first, and usage.
async fn onboard(h: &Harness, email: &str, apps: usize, keys_each: usize) -> Onboarded {
    let dev = h.call("POST", "/v1/developers", Some(json!({"email": email, "name": NAME, "organisation": ORG}))).await;
    let developer = text(&dev.body["id"]);
    let product =
        text(&h.call("POST", "/v1/products", Some(json!({"name": format!("p {developer}")}))).await.body["id"]);
    let plan = h.call("POST", "/v1/plans", Some(json!({"product_id": product, "name": "free"}))).await;
    let mut out = Onboarded { developer: developer.clone(), apps: vec![], keys: vec![], secrets: vec![] };
    for i in 0..apps {
        let app = h
            .call(
                "POST",
                &format!("/v1/developers/{developer}/apps"),
                Some(json!({"name": format!("{NAME}'s app {i}")})),
            )
            .await;
        let app = text(&app.body["id"]);
        if i == 0 {
            let sub = json!({"product_id": product, "plan_id": plan.body["id"]});
            assert_eq!(h.call("POST", &format!("/v1/apps/{app}/subscriptions"), Some(sub)).await.status, 201);
        }
        for k in 0..keys_each {
            let key = h
                .call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": format!("{NAME} laptop {k}")})))
                .await;
            out.keys.push(text(&key.body["key"]["id"]));
            out.secrets.push(text(&key.body["secret"]));
        }
        out.apps.push(app);
    }
    let rollups: Vec<Rollup> =
        out.keys.iter().zip(out.apps.iter().cycle()).map(|(key, app)| usage(key, app, &developer)).collect();
    h.repo.add_rollups(&rollups).await.unwrap();
    out
}

fn usage(key: &str, app: &str, developer: &str) -> Rollup {
    let k = RollupKey {
        minute: common::START - common::START % 60_000,
        api_id: "api_1".into(),
        operation_id: "op".into(),
        key_id: key.into(),
        app_id: app.into(),
        developer_id: developer.into(),
    };
    Rollup { key: k, values: RollupValues { requests: 3, ..RollupValues::default() } }
}

/// Everything the memory store holds, as one JSON text: records, audit, usage.
async fn whole_store(h: &Harness) -> String {
    let snap = h.repo.snapshot().await.unwrap();
    let audit = h.repo.recent_audit(usize::MAX).await.unwrap();
    let usage = h.repo.query_usage(&UsageQuery { group_by: GroupBy::Minute, ..UsageQuery::default() }).await.unwrap();
    let mut records = Vec::new();
    for kind in EntityKind::ALL {
        records.extend(h.repo.list_records(kind, None).await.unwrap().into_iter().map(|r| r.body));
    }
    json!({"records": records, "audit": audit, "usage": usage, "developers": snap.developers}).to_string()
}

#[tokio::test]
async fn the_export_holds_everything_about_the_developer_and_no_secret_or_hash() {
    let h = Harness::new();
    let grace = onboard(&h, EMAIL, 2, 2).await;
    let other = onboard(&h, "other@example.com", 1, 1).await;
    let reply = h.call("GET", &format!("/v1/developers/{}/export", grace.developer), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let e = &reply.body;
    assert_eq!((e["developer"]["email"].as_str(), e["developer"]["organisation"].as_str()), (Some(EMAIL), Some(ORG)));
    let ids = |v: &Value| v.as_array().unwrap().iter().map(|x| text(&x["id"])).collect::<BTreeSet<_>>();
    assert_eq!(ids(&e["apps"]), grace.apps.iter().cloned().collect());
    assert_eq!(ids(&e["keys"]), grace.keys.iter().cloned().collect());
    assert_eq!(e["subscriptions"].as_array().unwrap().len(), 1);
    assert!(e["keys"].as_array().unwrap().iter().all(|k| k["last_used_at"].is_string()));
    let usage: u64 = e["usage"].as_array().unwrap().iter().map(|u| u["days"][0]["requests"].as_u64().unwrap()).sum();
    assert_eq!(usage, 12, "four keys, three calls each");
    let targeted: BTreeSet<String> =
        e["audit"].as_array().unwrap().iter().flat_map(|a| a["targets"].as_array().unwrap().iter().map(text)).collect();
    assert!(targeted.contains(&grace.developer) && grace.keys.iter().all(|k| targeted.contains(k)));
    assert!(!targeted.contains(&other.developer) && !targeted.contains(&other.keys[0]), "only their own entries");
    let raw = e.to_string();
    for (secret, id) in grace.secrets.iter().zip(&grace.keys) {
        let stored: Key = h.repo.get(id).await.unwrap();
        assert!(!raw.contains(secret.as_str()) && !raw.contains(stored.hash.as_hex()), "a secret or hash leaked");
    }
    assert_problem(&h.call("GET", "/v1/developers/dev_nope/export", None).await, 404, "not-found");
}

#[tokio::test]
async fn closing_revokes_every_key_erases_personal_fields_everywhere_and_keeps_usage() {
    let h = Harness::new();
    // 3 apps of 20 keys: more records than one write holds, so closing takes several.
    let grace = onboard(&h, EMAIL, 3, 20).await;
    let usage_before = h
        .repo
        .query_usage(&UsageQuery {
            developer_id: Some(grace.developer.clone()),
            group_by: GroupBy::Total,
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let published_before = h.publisher.changes().len();
    let closed = h.call("POST", &format!("/v1/developers/{}/close", grace.developer), None).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    assert_eq!(closed.body["name"], "Closed account");
    assert!(closed.body["closed_at"].is_string() && closed.body["organisation"].is_null());

    // Every key revoked, each published through the ordinary path.
    for id in &grace.keys {
        assert_eq!(h.repo.get::<Key>(id).await.unwrap().status, gatehouse_core::model::KeyStatus::Revoked);
    }
    let published: Vec<Change> = h.publisher.changes()[published_before..].to_vec();
    for id in &grace.keys {
        assert!(
            published.contains(&Change { kind: EntityKind::Key, id: id.clone(), op: ChangeOp::Updated }),
            "{id} not published"
        );
    }

    // No email, name or organisation left anywhere in the store; usage kept under the ids.
    let store = whole_store(&h).await.to_lowercase();
    for personal in [EMAIL, NAME, ORG, "hopper", "brewster", "remington"] {
        let at =
            store.find(&personal.to_lowercase()).map(|i| &store[i.saturating_sub(200)..(i + 100).min(store.len())]);
        assert!(at.is_none(), "{personal} is still in the store: {at:?}");
    }
    let usage_after = h
        .repo
        .query_usage(&UsageQuery {
            developer_id: Some(grace.developer.clone()),
            group_by: GroupBy::Total,
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((usage_after, usage_before[0].requests), (usage_before.clone(), 180));
    let audit = h.repo.recent_audit(usize::MAX).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "developer.close" && a.targets == [grace.developer.clone()]));

    // The email is free again; the closed account takes no new app, key or personal data.
    let again = h.call("POST", "/v1/developers", Some(json!({"email": EMAIL.to_lowercase(), "name": "Grace"}))).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    let dev = &grace.developer;
    assert_problem(
        &h.call("POST", &format!("/v1/developers/{dev}/apps"), Some(json!({"name": "x"}))).await,
        409,
        "conflict",
    );
    assert_problem(&h.call("POST", "/v1/apps", Some(json!({"developer_id": dev, "name": "x"}))).await, 409, "conflict");
    assert_problem(
        &h.call("POST", &format!("/v1/apps/{}/keys", grace.apps[0]), Some(json!({"name": "x"}))).await,
        409,
        "conflict",
    );
    assert_problem(
        &h.call("PATCH", &format!("/v1/developers/{dev}"), Some(json!({"name": NAME}))).await,
        409,
        "conflict",
    );

    // Closing again changes nothing and still answers the tombstone.
    let writes = h.publisher.changes().len();
    let twice = h.call("POST", &format!("/v1/developers/{dev}/close"), None).await;
    assert_eq!((twice.status.as_u16(), twice.body["closed_at"].clone()), (200, closed.body["closed_at"].clone()));
    assert_eq!(h.publisher.changes().len(), writes);
}

#[tokio::test]
async fn an_unreadable_key_record_does_not_stop_closing_the_account() {
    use gatehouse_core::store::{Record, Write};
    let h = Harness::new();
    let grace = onboard(&h, EMAIL, 1, 2).await;
    let bad = Record {
        kind: EntityKind::Key,
        id: "key_bad".into(),
        parent: Some(grace.apps[0].clone()),
        uniques: vec![],
        body: "{\"id\": 1".into(),
        expires_at: None,
    };
    h.repo.transact(vec![Write::Insert(bad)]).await.unwrap();
    let closed = h.call("POST", &format!("/v1/developers/{}/close", grace.developer), None).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    for id in &grace.keys {
        assert_eq!(h.repo.get::<Key>(id).await.unwrap().status, gatehouse_core::model::KeyStatus::Revoked);
    }
}
