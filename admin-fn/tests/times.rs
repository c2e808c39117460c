//! Times and durations are checked at the boundary: one far-future value must never reach the
//! store, where it once made records unreadable (issue 16).

mod common;

use common::{assert_problem, text, Harness};
use gatehouse_core::model::Key;
use gatehouse_core::store::Repo;
use serde_json::{json, Value};

/// Every form of "too far" that was once accepted and saved.
fn far_times() -> Vec<Value> {
    vec![
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e300),
        json!("10000-01-01T00:00:00Z"),
        json!("+275760-09-13T00:00:00Z"),
        json!("9223372036854775807"),
        json!(-1),
        json!("1969-12-31T23:59:59Z"),
    ]
}

fn assert_refused_at(reply: &common::Reply, pointer: &str) {
    assert_problem(reply, 422, "validation-failed");
    let errors = reply.body["errors"].as_array().expect("errors");
    assert!(errors.iter().any(|e| e["pointer"] == pointer), "names {pointer}: {errors:?}");
}

#[tokio::test]
async fn a_key_expiry_outside_the_time_range_is_refused_before_anything_is_written() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let changes_before = h.publisher.changes().len();
    for far in far_times() {
        let reply =
            h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "k", "expires_at": far}))).await;
        assert_refused_at(&reply, "/expires_at");
        assert!(reply.body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(h.repo.list::<Key>(Some(&app)).await.expect("list").is_empty(), "no key was saved");
    assert_eq!(h.publisher.changes().len(), changes_before, "nothing was published");
    let last = h
        .call(
            "POST",
            &format!("/v1/apps/{app}/keys"),
            Some(json!({"name": "k", "expires_at": "9999-12-31T23:59:59.999Z"})),
        )
        .await;
    assert_eq!(last.status, 201, "the last instant of the range is fine: {:?}", last.body);
    assert_eq!(last.body["key"]["expires_at"], "9999-12-31T23:59:59.999Z");
}

#[tokio::test]
async fn a_rotation_grace_past_its_maximum_is_refused_and_the_key_is_unchanged() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let created = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "k"}))).await;
    let id = text(&created.body["key"]["id"]);
    let before: Key = h.repo.get(&id).await.expect("stored");
    for grace in [json!(u64::MAX), json!(i64::MAX), json!(365 * 24 * 3600 + 1)] {
        let reply = h.call("POST", &format!("/v1/keys/{id}/rotate"), Some(json!({ "grace_secs": grace }))).await;
        assert_refused_at(&reply, "/grace_secs");
    }
    assert_eq!(h.repo.get::<Key>(&id).await.expect("stored"), before, "the key is as it was");
    assert_eq!(h.repo.list::<Key>(Some(&app)).await.expect("list").len(), 1, "no new key");
    let year = h.call("POST", &format!("/v1/keys/{id}/rotate"), Some(json!({"grace_secs": 365 * 24 * 3600}))).await;
    assert_eq!(year.status, 201, "{:?}", year.body);
}

#[tokio::test]
async fn a_sunset_outside_the_time_range_is_refused_and_the_lifecycle_is_unchanged() {
    let h = Harness::new();
    let api = h.pets_api().await;
    let id = text(&api.body["id"]);
    let published = h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    for far in far_times() {
        let body = json!({"action": "deprecate", "sunset_at": far});
        let reply = h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(body)).await;
        assert_refused_at(&reply, "/sunset_at");
    }
    let now = h.call("GET", &format!("/v1/apis/{id}"), None).await;
    assert_eq!(now.body["lifecycle"]["state"], "published");
}
