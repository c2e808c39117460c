//! A developer's own data over real HTTP on the native binary's store (SQLite): who calls an
//! API, when each key was last used, the export, and closing the account, which the gateway
//! honours on the very next request and which leaves no personal field in any table.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{assert_problem, Harness};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "Ada.Lovelace@Example.org";
const NAME: &str = "Augusta Ada King";
const ORG: &str = "Analytical Engines Ltd";
const DOC: &str = r#"
openapi: 3.0.3
info: { title: Engines, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /compute:
    get: { operationId: compute, responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

/// A published API and a product/plan holding it; returns (api id, product id, plan id).
async fn catalogue(h: &Harness, upstream: &str) -> (String, String, String) {
    let api = h
        .admin_ok("POST", "/v1/apis", json!({"openapi": DOC, "base_path": "/engines", "upstream": {"url": upstream}}))
        .await;
    let api = api["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api}/lifecycle"), json!({"action": "publish"})).await;
    let product = h.admin_ok("POST", "/v1/products", json!({"name": "Engines", "items": [{"api_id": api}]})).await;
    let plan = h.admin_ok("POST", "/v1/plans", json!({"product_id": product["id"], "name": "free"})).await;
    (api, product["id"].as_str().unwrap().into(), plan["id"].as_str().unwrap().into())
}

/// Every text value in every table of the SQLite store, lower-cased.
fn every_text_in(db: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut all = String::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let Ok(rusqlite::types::ValueRef::Text(t)) = row.get_ref(i) {
                    all.push_str(&String::from_utf8_lossy(t).to_lowercase());
                    all.push('\n');
                }
            }
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developers_data_is_exported_and_closing_revokes_every_key_and_erases_them() {
    let up = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&up).await;
    let h = Harness::start(false).await;
    let (api, product, plan) = catalogue(&h, &up.uri()).await;
    let dev = h.admin_ok("POST", "/v1/developers", json!({"email": EMAIL, "name": NAME, "organisation": ORG})).await;
    let dev = dev["id"].as_str().unwrap().to_string();
    let mut keys = Vec::new();
    for app_name in [format!("{NAME}'s notebook"), format!("{NAME}'s loom")] {
        let app = h.admin_ok("POST", &format!("/v1/developers/{dev}/apps"), json!({"name": app_name})).await;
        let app = app["id"].as_str().unwrap().to_string();
        h.admin_ok("POST", &format!("/v1/apps/{app}/subscriptions"), json!({"product_id": product, "plan_id": plan}))
            .await;
        let key = h.admin_ok("POST", &format!("/v1/apps/{app}/keys"), json!({"name": format!("{NAME} key")})).await;
        keys.push((app, key["key"]["id"].as_str().unwrap().to_string(), key["secret"].as_str().unwrap().to_string()));
    }
    for (i, (_, _, secret)) in keys.iter().enumerate() {
        for _ in 0..=i {
            assert_eq!(h.call("GET", "/engines/compute", Some(secret)).await.status, 200);
        }
    }
    h.app.flush_usage().await;

    // Who calls the API, from the stored rollups: this developer, both apps, 1 + 2 calls.
    let callers = h.admin_ok("GET", &format!("/v1/apis/{api}/callers?days=1"), Value::Null).await;
    assert_eq!(
        (callers["items"][0]["email"].as_str(), callers["items"][0]["requests"].as_u64()),
        (Some(EMAIL), Some(3))
    );
    assert_eq!(callers["items"][0]["apps"].as_array().unwrap().len(), 2);
    let listed = h.admin_ok("GET", &format!("/v1/apps/{}/keys", keys[0].0), Value::Null).await;
    assert!(listed["items"][0]["last_used_at"].is_string(), "{listed}");

    // The export: profile, apps, subscriptions, keys (no secret), usage and audit entries.
    let export = h.admin_ok("GET", &format!("/v1/developers/{dev}/export"), Value::Null).await;
    assert_eq!(export["developer"]["email"], EMAIL);
    assert_eq!((export["apps"].as_array().unwrap().len(), export["subscriptions"].as_array().unwrap().len()), (2, 2));
    let calls: u64 = export["usage"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["days"].as_array().unwrap().iter())
        .map(|d| d["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 3);
    assert!(export["audit"].as_array().unwrap().iter().any(|a| a["action"] == "key.create"));
    assert!(keys.iter().all(|(_, _, secret)| !export.to_string().contains(secret.as_str())));

    // Close: every key refused on the very next request; the store holds nothing personal.
    let closed = h.admin_ok("POST", &format!("/v1/developers/{dev}/close"), Value::Null).await;
    assert!(closed["closed_at"].is_string());
    for (_, _, secret) in &keys {
        assert_problem(&h.call("GET", "/engines/compute", Some(secret)).await, 401, "revoked-key");
    }
    let store = every_text_in(&h.data_dir().join("gatehouse.db"));
    for personal in [EMAIL, NAME, ORG, "lovelace", "analytical"] {
        assert!(!store.contains(&personal.to_lowercase()), "{personal} is still in a table");
    }
    assert!(store.contains(&dev.to_lowercase()), "the tombstone and the usage keep the id");
    h.app.flush_usage().await;
    let usage = h.admin_ok("GET", &format!("/v1/usage?group_by=total&developer_id={dev}"), Value::Null).await;
    assert_eq!(usage["items"][0]["requests"], 3, "the aggregates are kept, by id");
    let refused = h.admin_ok("GET", &format!("/v1/usage?group_by=total&key_id={}", keys[0].1), Value::Null).await;
    assert_eq!(refused["items"][0]["outcomes"]["revoked"], 1, "{refused}");
    let callers = h.admin_ok("GET", &format!("/v1/apis/{api}/callers?days=1"), Value::Null).await;
    assert_eq!(callers["items"], json!([]), "a closed account is not written to");
    h.app.shutdown().await;
}
