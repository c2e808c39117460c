//! One bad value must never take the control plane down (issue 16): every far-future input
//! that was once saved is refused at the boundary, and a record that cannot be read (as an
//! older build could write) is left out, fail-closed, while writes, revocation and restarts
//! go on working.
#![allow(clippy::unwrap_used)]

mod support;

use gatehouse_core::store::{EntityKind, Record, Repo, Write};
use gatehouse_native::store::sqlite::SqliteRepo;
use serde_json::{json, Value};
use support::{assert_problem, onboard, Harness};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DOC: &str = r#"
openapi: 3.0.3
info: { title: Echo, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /hello:
    get: { operationId: hello, responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

/// Each input that once poisoned the store, as (method, path, body, field it names).
fn poisoning_inputs(app_id: &str, key_id: &str, api_id: &str) -> Vec<(String, Value, &'static str)> {
    let keys = format!("/v1/apps/{app_id}/keys");
    let rotate = format!("/v1/keys/{key_id}/rotate");
    let lifecycle = format!("/v1/apis/{api_id}/lifecycle");
    vec![
        (keys.clone(), json!({"name": "max", "expires_at": i64::MAX}), "/expires_at"),
        (keys.clone(), json!({"name": "y10k", "expires_at": "10000-01-01T00:00:00Z"}), "/expires_at"),
        (keys, json!({"name": "y10k-ms", "expires_at": 253_402_300_800_000_i64}), "/expires_at"),
        (rotate.clone(), json!({"grace_secs": u64::MAX}), "/grace_secs"),
        (rotate, json!({"grace_secs": 9_000_000_000_000_u64}), "/grace_secs"),
        (lifecycle.clone(), json!({"action": "deprecate", "sunset_at": "99999-12-31T00:00:00Z"}), "/sunset_at"),
        (lifecycle, json!({"action": "deprecate", "sunset_at": i64::MAX}), "/sunset_at"),
    ]
}

/// A key record as a build without the time checks could write it: a five-digit year.
fn unreadable_key(app_id: &str) -> Record {
    let body = json!({
        "id": "key_poisoned", "app_id": app_id, "name": "old build", "hash": "ab".repeat(32),
        "display_prefix": "gh_live_", "last4": "abcd", "status": "active",
        "created_at": "2026-01-01T00:00:00Z", "expires_at": "+10000-01-01T00:00:00Z",
    });
    Record {
        kind: EntityKind::Key,
        id: "key_poisoned".into(),
        parent: Some(app_id.into()),
        uniques: vec![],
        body: body.to_string(),
        expires_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoning_inputs_are_refused_and_an_unreadable_record_never_blocks_revocation_or_restart() {
    let upstream = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_string("hi")).mount(&upstream).await;
    let h = Harness::start(false).await;
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": DOC, "base_path": "/echo", "upstream": {"url": upstream.uri()}}),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (app_id, key_id, secret) = onboard(&h, &api_id, "ada@example.com", json!([])).await;
    assert_eq!(h.call("GET", "/echo/hello", Some(&secret)).await.status, 200);

    for (path, body, field) in poisoning_inputs(&app_id, &key_id, &api_id) {
        let reply = h.admin("POST", &path, Some(body.clone())).await;
        let problem = assert_problem(&reply, 422, "validation-failed");
        assert_eq!(problem["errors"][0]["pointer"], field, "{path} {body}");
    }
    let keys = h.admin_ok("GET", &format!("/v1/apps/{app_id}/keys"), Value::Null).await;
    assert_eq!(keys["items"].as_array().unwrap().len(), 1, "no poisoned key was saved");

    // An unreadable record already in the store, as an older build could have left it.
    let store = SqliteRepo::open(h.data_dir().join("gatehouse.db")).unwrap();
    store.transact(vec![Write::Insert(unreadable_key(&app_id))]).await.unwrap();
    h.admin_ok("POST", "/v1/developers", json!({"email": "later@example.com", "name": "Later"})).await;
    h.admin_ok("POST", &format!("/v1/keys/{key_id}/revoke"), Value::Null).await;
    assert_problem(&h.call("GET", "/echo/hello", Some(&secret)).await, 401, "revoked-key");

    let h = h.restart().await;
    assert_problem(&h.call("GET", "/echo/hello", Some(&secret)).await, 401, "revoked-key");
    h.admin_ok("POST", "/v1/developers", json!({"email": "after@example.com", "name": "After"})).await;
    let fresh = h.admin_ok("POST", &format!("/v1/apps/{app_id}/keys"), json!({"name": "fresh"})).await;
    let fresh_secret = fresh["secret"].as_str().unwrap();
    assert_eq!(h.call("GET", "/echo/hello", Some(fresh_secret)).await.status, 200, "the gateway still serves");

    let report = gatehouse_native::doctor::check(h.data_dir()).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].starts_with("unreadable key key_poisoned: "), "{}", report.problems[0]);
    assert!(!report.problems[0].contains(&"ab".repeat(32)), "no key hash in the report");
}
