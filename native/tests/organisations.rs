//! Organisations at the gateway: an organisation's app keeps working through every change of
//! its membership (a member removed, re-added, re-roled, their account closed: keys belong to
//! apps, not people), and `developer` limits count per organisation across its apps while a
//! personal app keeps its own counter. The real binary's gateway, a real upstream.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::Harness;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn doc(title: &str, path: &str) -> String {
    json!({"openapi": "3.1.0", "info": {"title": title, "version": "1"},
           "paths": {path: {"get": {"operationId": "list", "responses": {"200": {"description": "ok"}}}}}})
    .to_string()
}

/// A published API at `base` in a product with one plan of `limits`; (product id, plan id).
async fn offered(h: &Harness, upstream: &str, base: &str, limits: Value) -> (String, String) {
    let body = json!({"openapi": doc(base, "/items"), "base_path": base, "upstream": {"url": upstream}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let product = h.admin_ok("POST", "/v1/products", json!({"name": base, "items": [{"api_id": api_id}]})).await;
    let plan =
        h.admin_ok("POST", "/v1/plans", json!({"name": "p", "product_id": product["id"], "limits": limits})).await;
    (product["id"].as_str().unwrap().to_owned(), plan["id"].as_str().unwrap().to_owned())
}

/// Subscribes `app` to the offer and gives it a key; the secret.
async fn keyed(h: &Harness, app: &str, (product, plan): &(String, String)) -> String {
    h.admin_ok("POST", &format!("/v1/apps/{app}/subscriptions"), json!({"product_id": product, "plan_id": plan})).await;
    let created = h.admin_ok("POST", &format!("/v1/apps/{app}/keys"), json!({"name": "k"})).await;
    created["secret"].as_str().unwrap().to_owned()
}

async fn developer(h: &Harness, email: &str) -> String {
    let dev = h.admin_ok("POST", "/v1/developers", json!({"email": email, "name": email})).await;
    dev["id"].as_str().unwrap().to_owned()
}

async fn statuses(h: &Harness, path: &str, key: &str, n: usize) -> Vec<u16> {
    let mut seen = Vec::with_capacity(n);
    for _ in 0..n {
        seen.push(h.call("GET", path, Some(key)).await.status);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisations_keys_outlive_every_membership_change_and_share_its_limits() {
    let up = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!([]))).mount(&up).await;
    let h = Harness::start(false).await;
    let open = offered(&h, &up.uri(), "/open", json!([])).await;
    let shared = json!([{"name": "org-daily", "scope": "developer", "type": "quota", "limit": 6, "window": "day"}]);
    let metered = offered(&h, &up.uri(), "/metered", shared).await;

    let org = h.admin_ok("POST", "/v1/organisations", json!({"name": "Acme"})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (lead, dev) = (developer(&h, "lead@acme.example").await, developer(&h, "dev@acme.example").await);
    for (who, role) in [(&lead, "org-admin"), (&dev, "member")] {
        h.admin_ok("PUT", &format!("/v1/organisations/{org_id}/members/{who}"), json!({"role": role})).await;
    }
    let made = |maker: &str, name: &str| json!({"developer_id": maker, "name": name});
    let erp = h.admin_ok("POST", &format!("/v1/organisations/{org_id}/apps"), made(&dev, "erp")).await;
    let crm = h.admin_ok("POST", &format!("/v1/organisations/{org_id}/apps"), made(&lead, "crm")).await;
    let (erp, crm) = (erp["id"].as_str().unwrap().to_owned(), crm["id"].as_str().unwrap().to_owned());

    // The member who made the app goes through every change while its key is in use.
    let key = keyed(&h, &erp, &open).await;
    let member = format!("/v1/organisations/{org_id}/members/{dev}");
    let mut seen = statuses(&h, "/open/items", &key, 5).await;
    assert_eq!(h.admin("DELETE", &member, None).await.status, 204);
    seen.extend(statuses(&h, "/open/items", &key, 5).await);
    h.admin_ok("PUT", &member, json!({"role": "org-admin"})).await;
    seen.extend(statuses(&h, "/open/items", &key, 5).await);
    h.admin_ok("POST", &format!("/v1/developers/{dev}/close"), json!({})).await;
    seen.extend(statuses(&h, "/open/items", &key, 5).await);
    assert_eq!(seen, vec![200; 20], "removed, re-added, re-roled, account closed: the key keeps working");
    let members = h.admin_ok("GET", &format!("/v1/organisations/{org_id}/members"), json!(null)).await;
    let ids: Vec<&str> =
        members["items"].as_array().unwrap().iter().map(|m| m["developer_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![lead.as_str()], "closing the account took the person out");

    // `developer` limits count for the organisation across its apps; a personal app of one
    // of its members keeps its own counter.
    let (erp_key, crm_key) = (keyed(&h, &erp, &metered).await, keyed(&h, &crm, &metered).await);
    let personal = h.admin_ok("POST", "/v1/apps", json!({"developer_id": lead, "name": "side project"})).await;
    let personal_key = keyed(&h, personal["id"].as_str().unwrap(), &metered).await;
    let mut org_calls = statuses(&h, "/metered/items", &erp_key, 3).await;
    org_calls.extend(statuses(&h, "/metered/items", &crm_key, 3).await);
    assert_eq!(org_calls, vec![200; 6]);
    assert_eq!(statuses(&h, "/metered/items", &crm_key, 1).await, vec![429], "the 7th call of the organisation");
    assert_eq!(statuses(&h, "/metered/items", &erp_key, 1).await, vec![429], "whichever app makes it");
    assert_eq!(statuses(&h, "/metered/items", &personal_key, 6).await, vec![200; 6], "a personal app counts alone");
    let quota = h.call("GET", "/metered/items", Some(&erp_key)).await;
    assert_eq!(quota.header("ratelimit-policy").map(|p| p.contains("org-daily")), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisations_tier_holds_its_apps_group_limits_and_a_tier_change_applies() {
    let up = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!([]))).mount(&up).await;
    let h = Harness::start(false).await;
    let tiered = json!([{"name": "tier-daily", "scope": "group", "type": "quota", "limit": 2, "window": "day"}]);
    let offer = offered(&h, &up.uri(), "/tiered", tiered).await;
    let maker = developer(&h, "ops@bolt.example").await;
    let org = h.admin_ok("POST", "/v1/organisations", json!({"name": "Bolt"})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    h.admin_ok("PUT", &format!("/v1/organisations/{org_id}/members/{maker}"), json!({"role": "member"})).await;
    let app = h
        .admin_ok("POST", &format!("/v1/organisations/{org_id}/apps"), json!({"developer_id": maker, "name": "bolt"}))
        .await;
    let key = keyed(&h, app["id"].as_str().unwrap(), &offer).await;

    // No tier: a group limit does not apply to the organisation's app.
    assert_eq!(statuses(&h, "/tiered/items", &key, 3).await, vec![200; 3]);
    // In the gold tier, it counts with every other app of the tier.
    h.admin_ok("PATCH", &format!("/v1/organisations/{org_id}"), json!({"tier": "gold"})).await;
    assert_eq!(statuses(&h, "/tiered/items", &key, 3).await, vec![200, 200, 429]);
}
