//! Key issuance, listing, rotation and status changes.

mod common;

use common::{assert_problem, text, Harness, START};
use gatehouse_core::keys::{check_key, hash_secret, parse, KeyCheck};
use gatehouse_core::model::Key;
use gatehouse_core::store::Repo;
use serde_json::json;

#[tokio::test]
async fn key_secret_is_shown_once_and_never_listed() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let created = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    assert_eq!(created.status, 201);
    let secret = text(&created.body["secret"]);
    assert!(parse(&secret).is_ok(), "a well-formed gh_live_ key");
    assert!(secret.starts_with("gh_live_"));
    let id = text(&created.body["key"]["id"]);
    let stored: Key = h.repo.get(&id).await.expect("stored");
    assert_eq!(stored.hash, hash_secret(&secret), "only the hash is stored");
    assert_eq!(created.body["key"]["last4"], secret[secret.len() - 4..]);
    for path in [format!("/v1/apps/{app}/keys"), format!("/v1/keys/{id}")] {
        let listed = h.call("GET", &path, None).await;
        assert_eq!(listed.status, 200);
        let raw = listed.body.to_string();
        assert!(!raw.contains(&secret), "{path} shows the secret");
        assert!(!raw.contains(stored.hash.as_hex()), "{path} shows the hash");
        assert!(!raw.contains("\"secret\""), "{path} has a secret field");
    }
}

#[tokio::test]
async fn rotated_key_keeps_working_until_grace_ends() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let old = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    let old_id = text(&old.body["key"]["id"]);
    let rotated = h.call("POST", &format!("/v1/keys/{old_id}/rotate"), Some(json!({"grace_secs": 60}))).await;
    assert_eq!(rotated.status, 201, "{:?}", rotated.body);
    let new_id = text(&rotated.body["key"]["id"]);
    assert_ne!(text(&rotated.body["secret"]), text(&old.body["secret"]));
    let old_key: Key = h.repo.get(&old_id).await.expect("old");
    let new_key: Key = h.repo.get(&new_id).await.expect("new");
    assert_eq!(old_key.grace_until, Some(START + 60_000));
    assert_eq!(old_key.replaced_by.as_deref(), Some(new_id.as_str()));
    assert_eq!(check_key(&old_key, START + 59_999), KeyCheck::Active);
    assert_eq!(check_key(&old_key, START + 60_000), KeyCheck::Expired);
    assert_eq!(check_key(&new_key, START + 60_000), KeyCheck::Active);
    h.advance(60_000);
    let listed = h.call("GET", &format!("/v1/keys/{old_id}"), None).await;
    assert_eq!(listed.body["usable"], false);
    let again = h.call("POST", &format!("/v1/keys/{old_id}/rotate"), None).await;
    assert_problem(&again, 409, "conflict");
}

#[tokio::test]
async fn rotation_without_grace_uses_the_default() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let old = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    let old_id = text(&old.body["key"]["id"]);
    assert_eq!(h.call("POST", &format!("/v1/keys/{old_id}/rotate"), None).await.status, 201);
    let old_key: Key = h.repo.get(&old_id).await.expect("old");
    assert_eq!(old_key.grace_until, Some(START + 24 * 3_600_000));
}

#[tokio::test]
async fn revoked_key_cannot_be_enabled_again() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let key = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    let id = text(&key.body["key"]["id"]);
    let disabled = h.call("POST", &format!("/v1/keys/{id}/disable"), None).await;
    assert_eq!((disabled.body["status"].as_str(), disabled.body["usable"].as_bool()), (Some("disabled"), Some(false)));
    assert_eq!(h.call("POST", &format!("/v1/keys/{id}/enable"), None).await.body["status"], "active");
    assert_eq!(h.call("POST", &format!("/v1/keys/{id}/revoke"), None).await.body["status"], "revoked");
    assert_problem(&h.call("POST", &format!("/v1/keys/{id}/enable"), None).await, 409, "conflict");
    assert_problem(&h.call("POST", &format!("/v1/keys/{id}/rotate"), None).await, 409, "conflict");
}

#[tokio::test]
async fn key_expiry_must_be_in_the_future() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let past = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci", "expires_at": START}))).await;
    assert_problem(&past, 422, "validation-failed");
    assert_eq!(past.body["errors"][0]["pointer"], "/expires_at");
}

#[tokio::test]
async fn plan_change_keeps_the_same_key() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let key = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    let product = h.call("POST", "/v1/products", Some(json!({"name": "Pets"}))).await;
    let pid = &product.body["id"];
    let free = h.call("POST", "/v1/plans", Some(json!({"product_id": pid, "name": "free"}))).await;
    let gold =
        h.call("POST", "/v1/plans", Some(json!({"product_id": pid, "name": "gold", "requires_approval": true}))).await;
    let sub = h
        .call(
            "POST",
            &format!("/v1/apps/{app}/subscriptions"),
            Some(json!({"product_id": pid, "plan_id": free.body["id"]})),
        )
        .await;
    assert_eq!((sub.status.as_u16(), sub.body["status"].as_str()), (201, Some("active")));
    let sid = text(&sub.body["id"]);
    let changed = h.call("PATCH", &format!("/v1/subscriptions/{sid}"), Some(json!({"plan_id": gold.body["id"]}))).await;
    assert_eq!(
        (changed.body["plan_id"].clone(), changed.body["status"].as_str()),
        (gold.body["id"].clone(), Some("pending"))
    );
    assert_eq!(h.call("POST", &format!("/v1/subscriptions/{sid}/approve"), None).await.body["status"], "active");
    let keys = h.call("GET", &format!("/v1/apps/{app}/keys"), None).await;
    let items = keys.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], key.body["key"]["id"]);
    assert_eq!(items[0]["usable"], true);
}

/// A rollup of `requests` calls by `key` in the minute starting at `minute` (what edge usage
/// ingest stores; no key record is touched).
fn usage(minute: i64, key: &str, app: &str, requests: u64) -> gatehouse_core::usage::Rollup {
    let k = gatehouse_core::usage::RollupKey {
        minute,
        api_id: "api_1".into(),
        operation_id: "op".into(),
        key_id: key.into(),
        app_id: app.into(),
        developer_id: "dev_1".into(),
    };
    gatehouse_core::usage::Rollup {
        key: k,
        values: gatehouse_core::usage::RollupValues { requests, ..Default::default() },
    }
}

#[tokio::test]
async fn a_rotated_keys_last_use_comes_from_stored_usage_so_its_owner_knows_when_to_let_it_go() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let old =
        text(&h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await.body["key"]["id"]);
    let new = h.call("POST", &format!("/v1/keys/{old}/rotate"), Some(json!({"grace_secs": 3600}))).await;
    let new = text(&new.body["key"]["id"]);
    let minute = START - START % 60_000;
    h.repo.add_rollups(&[usage(minute - 120_000, &old, &app, 3), usage(minute, &old, &app, 1)]).await.unwrap();
    let listed = h.call("GET", &format!("/v1/apps/{app}/keys"), None).await;
    let last = |id: &str| {
        listed.body["items"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap()["last_used_at"].clone()
    };
    assert_eq!(last(&old), json!(gatehouse_core::time::rfc3339(minute)));
    assert_eq!(last(&new), json!(null), "never used");
    let one = h.call("GET", &format!("/v1/keys/{old}"), None).await;
    assert_eq!(one.body["last_used_at"], json!(gatehouse_core::time::rfc3339(minute)));
}
