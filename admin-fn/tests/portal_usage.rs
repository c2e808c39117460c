//! A developer's usage page: their own calls only, over the chosen period, with each quota's
//! use and forecast, and the same rows as CSV.

mod common;

use common::portal::sign_up;
use common::{text, Harness, START};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::json;

fn rollup(minute: i64, api: &str, key: &str, app: &str, developer: &str, requests: u64, errors: u64) -> Rollup {
    let mut values = RollupValues { requests, ..RollupValues::default() };
    values.status_classes[1] = requests - errors;
    values.status_classes[4] = errors;
    values.outcomes.insert("valid".into(), requests);
    let key = RollupKey {
        minute: minute - minute.rem_euclid(60_000),
        api_id: api.into(),
        operation_id: "listPets".into(),
        key_id: key.into(),
        app_id: app.into(),
        developer_id: developer.into(),
    };
    Rollup { key, values }
}

/// Signs `email` up, gives them an app on a plan with a daily quota of 1,000 per key and a key;
/// answers (jar, developer id, app id, key id).
async fn developer_with_key(
    h: &Harness,
    outbox: &std::path::Path,
    email: &str,
    plan: &str,
) -> (common::Jar, String, String, String) {
    let jar = sign_up(h, outbox, email).await;
    let developer: gatehouse_core::model::Developer =
        h.repo.find(&gatehouse_core::store::email_unique(email)).await.expect("store").expect("signed up");
    let app = h.call("POST", "/v1/apps", Some(json!({"developer_id": developer.id, "name": "app"}))).await;
    let app_id = text(&app.body["id"]);
    let plan: gatehouse_core::model::Plan = h.repo.get(plan).await.expect("plan");
    let sub = json!({"product_id": plan.product_id, "plan_id": plan.id});
    assert_eq!(h.call("POST", &format!("/v1/apps/{app_id}/subscriptions"), Some(sub)).await.status, 201);
    let key = h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "prod"}))).await;
    (jar, developer.id, app_id, text(&key.body["key"]["id"]))
}

#[tokio::test]
async fn the_usage_page_shows_only_the_developers_own_calls_with_quota_forecasts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let product = h.call("POST", "/v1/products", Some(json!({"name": "Pets", "items": []}))).await;
    let limits = json!([{"name": "daily", "scope": "key", "type": "quota", "limit": 1000, "window": "day"}]);
    let plan = h
        .call("POST", "/v1/plans", Some(json!({"product_id": product.body["id"], "name": "Free", "limits": limits})))
        .await;
    let plan_id = text(&plan.body["id"]);
    let (ada, ada_id, ada_app, ada_key) = developer_with_key(&h, dir.path(), "ada@example.com", &plan_id).await;
    let (_, eve_id, eve_app, eve_key) = developer_with_key(&h, dir.path(), "eve@example.com", &plan_id).await;

    // The clock: 6 hours into a UTC day. Ada made 600 calls in it (7 failed), Eve 9,999.
    let day = START - START.rem_euclid(86_400_000);
    let now = day + 6 * 3_600_000;
    h.advance(now - START);
    let rows = [
        rollup(now - 30 * 60_000, "api_pets", &ada_key, &ada_app, &ada_id, 600, 7),
        rollup(now - 20 * 60_000, "api_pets", &eve_key, &eve_app, &eve_id, 9_999, 0),
    ];
    h.repo.add_rollups(&rows).await.expect("rollups");

    let page = h.browse("GET", "/usage?range=day", &ada.header(), &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<td>600</td><td>593</td><td>0</td><td>7</td>"), "Ada's totals: {}", page.html);
    assert!(!page.html.contains("9999") && !page.html.contains("9,999") && !page.html.contains(&eve_key));
    // 600 of 1,000 in 6 hours: 100 an hour, so the last 400 last 4 more hours.
    assert!(page.html.contains("600 (60%)"), "{}", page.html);
    let runs_out = gatehouse_core::time::rfc3339(now + 4 * 3_600_000).replace('T', " ");
    assert!(page.html.contains(&format!("runs out at {}", &runs_out[..16])), "forecast: {}", page.html);

    let typed = h.browse("GET", &format!("/usage?range=day&key={eve_key}"), &ada.header(), &[]).await;
    assert!(typed.html.contains("<td>0</td><td>0</td>"), "another's key id matches nothing: {}", typed.html);

    let csv = h.browse("GET", "/usage.csv?range=day", &ada.header(), &[]).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.html.lines().collect();
    assert_eq!(lines[0], "time,requests,ok,client_errors,server_errors,p95_ms,cache_hits");
    assert_eq!(lines.len(), 2, "{}", csv.html);
    assert!(lines[1].ends_with(",600,593,0,7,,0"), "{}", csv.html);

    let anonymous = h.browse("GET", "/usage", "", &[]).await;
    assert_eq!(anonymous.status, 303, "sign in first");
}
