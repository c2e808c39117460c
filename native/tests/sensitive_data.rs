//! Sensitive data (`x-gatehouse-sensitivity`) over real HTTP: the admin API lists the
//! annotations, the gateway withholds what a caller's app holds no grant for, refuses what it
//! cannot filter, and the cache never mixes a filtered and an unfiltered answer.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::crm::{
    admin_actor, ann, app_with_classes, app_with_classes_and_id, audit_about, upstream, upstream_calls, CUSTOMERS,
};
use support::{assert_problem, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_a_grant_gets_the_filtered_body_and_gains_the_field_with_the_grant() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let body = json!({"openapi": CUSTOMERS, "base_path": "/crm", "upstream": {"url": up.uri()},
                      "cache": {"enabled": true, "public": true}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;

    // The admin API lists every annotation with its pointer.
    let listed = h.admin_ok("GET", &format!("/v1/apis/{api_id}/sensitivity"), Value::Null).await;
    let pointers: Vec<&str> =
        listed["fields"].as_array().unwrap().iter().map(|f| f["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"/components/schemas/Customer/properties/email"), "{listed}");
    assert!(pointers.contains(&"/paths/~1customers~1{id}~1salary/get"), "{listed}");

    let (_, holder) = app_with_classes(&h, &api_id, "holder@example.com", json!(["pii", "financial"])).await;
    let (plain_plan, plain) = app_with_classes(&h, &api_id, "plain@example.com", json!([])).await;

    // The holder's call fills the shared cache with the whole answer.
    let full = h.call("GET", "/crm/customers/1", Some(&holder)).await;
    assert_eq!(full.status, 200, "{}", String::from_utf8_lossy(&full.body));
    assert_eq!(full.json(), ann());
    assert_eq!(full.header("gatehouse-withheld"), None);
    assert_eq!(upstream_calls(&up).await, 1);

    // The same cached entry reaches the plain app filtered, saying what was withheld.
    let filtered = h.call("GET", "/crm/customers/1", Some(&plain)).await;
    assert_eq!(filtered.status, 200);
    assert!(filtered.header("cache-status").unwrap().contains("hit"), "{:?}", filtered.header("cache-status"));
    assert_eq!(
        filtered.json(),
        json!({"id": "1", "name": "Ann", "card": "************1111", "referrals": [{"id": "2", "name": "Bob"}]})
    );
    assert_eq!(filtered.header("gatehouse-withheld"), Some("pii, financial"));
    assert_eq!(filtered.header("etag"), Some("W/\"v1-withheld-pii-financial\""));
    assert_eq!(filtered.header("content-length").map(str::to_owned), Some(filtered.body.len().to_string()));
    assert_eq!(upstream_calls(&up).await, 1);

    // ...and the holder still gets the whole answer from the cache afterwards.
    assert_eq!(h.call("GET", "/crm/customers/1", Some(&holder)).await.json(), ann());

    // Granting pii through the plan shows the email at once, from the same cached entry.
    h.admin_ok("PATCH", &format!("/v1/plans/{plain_plan}"), json!({"classes": ["pii"]})).await;
    let granted = h.call("GET", "/crm/customers/1", Some(&plain)).await;
    assert_eq!(granted.json()["email"], "ann@example.com");
    assert_eq!(granted.json()["card"], "************1111");
    assert_eq!(granted.header("gatehouse-withheld"), Some("financial"));
    assert_eq!(upstream_calls(&up).await, 1);

    // Taking it away hides it again.
    h.admin_ok("PATCH", &format!("/v1/plans/{plain_plan}"), json!({"classes": []})).await;
    let again = h.call("GET", "/crm/customers/1", Some(&plain)).await;
    assert_eq!(again.json().get("email"), None);

    // A public operation has no identity, which holds no class.
    let public = h.call("GET", "/crm/directory", None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.json()[0].get("email"), None);
    assert_eq!(public.json()[0]["referrals"][0].get("email"), None);
    assert_eq!(public.header("gatehouse-withheld"), Some("pii, financial"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_requests_and_unfilterable_answers_are_refused_without_a_grant() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let body = json!({"openapi": CUSTOMERS, "base_path": "/crm", "upstream": {"url": up.uri()}});
    let api_id = h.admin_ok("POST", "/v1/apis", body).await["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, holder) = app_with_classes(&h, &api_id, "holder@example.com", json!(["pii", "financial"])).await;
    let (_, plain) = app_with_classes(&h, &api_id, "plain@example.com", json!([])).await;

    // A sensitive parameter: 403 naming the class and where to ask for it; nothing upstream.
    let refused = h.call("GET", "/crm/customers/1?ssn=123-45-6789", Some(&plain)).await;
    let problem = assert_problem(&refused, 403, "sensitive-data");
    assert_eq!(problem["class"], "pii");
    let link = problem["request_access"].as_str().unwrap();
    assert!(link.ends_with(&format!("/apis/{api_id}/access?class=pii")), "{link}");
    assert_eq!(upstream_calls(&up).await, 0);
    assert_eq!(h.call("GET", "/crm/customers/1?ssn=123-45-6789", Some(&holder)).await.status, 200);

    // A sensitive operation.
    let problem = assert_problem(&h.call("GET", "/crm/customers/1/salary", Some(&plain)).await, 403, "sensitive-data");
    assert_eq!(problem["class"], "financial");
    assert_eq!(h.call("GET", "/crm/customers/1/salary", Some(&holder)).await.json(), json!({"salary": 1}));

    // A body with fields to withhold that is not JSON, or is broken JSON, never passes.
    let csv = h.call("GET", "/crm/customers/1/export", Some(&plain)).await;
    assert_problem(&csv, 502, "upstream-invalid-response");
    assert!(!String::from_utf8_lossy(&csv.body).contains("ann@example.com"));
    assert_eq!(h.call("GET", "/crm/customers/1/export", Some(&holder)).await.status, 200);
    let broken = h.call("GET", "/crm/customers/3", Some(&plain)).await;
    assert_problem(&broken, 502, "upstream-invalid-response");
    assert!(!String::from_utf8_lossy(&broken.body).contains("cy@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_access_request_shows_the_field_and_its_revocation_hides_it_again() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let body = json!({"openapi": CUSTOMERS, "base_path": "/crm", "upstream": {"url": up.uri()}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, key, app_id) = app_with_classes_and_id(&h, &api_id, "asker@example.com", json!([])).await;
    let email = |reply: &support::Reply| reply.json().get("email").cloned();

    assert_eq!(email(&h.call("GET", "/crm/customers/1", Some(&key)).await), None, "no grant yet");
    let asked =
        json!({"api_id": api_id, "class": "pii", "reason": "Support answers tickets by email.", "wanted_days": 7});
    let request = h.admin_ok("POST", &format!("/v1/apps/{app_id}/access-requests"), asked).await;
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(email(&h.call("GET", "/crm/customers/1", Some(&key)).await), None, "a pending request grants nothing");

    let approved = h.admin_ok("POST", &format!("/v1/access-requests/{id}/approve"), json!({"days": 1})).await;
    assert_eq!(approved["status"], "approved");
    let shown = h.call("GET", "/crm/customers/1", Some(&key)).await;
    assert_eq!(email(&shown), Some(json!("ann@example.com")), "the identity was recompiled at once");
    assert_eq!(shown.header("gatehouse-withheld"), Some("financial"));

    h.admin_ok("POST", &format!("/v1/access-requests/{id}/revoke"), json!({"reason": "ticket closed"})).await;
    let hidden = h.call("GET", "/crm/customers/1", Some(&key)).await;
    assert_eq!(email(&hidden), None, "a revoked grant stops at once");
    assert_eq!(hidden.header("gatehouse-withheld"), Some("pii, financial"));

    // The trail reads back who did each step, from where, to which request, and why.
    let admin = admin_actor(&h).await;
    let step = |action: &str, reason: Value| {
        (format!("access_request.{action}"), admin.clone(), "owner".into(), "127.0.0.1".into(), json!([id]), reason)
    };
    assert_eq!(
        audit_about(&h, &id).await,
        [
            step("revoke", json!("ticket closed")),
            step("approve", Value::Null),
            step("create", json!("Support answers tickets by email.")),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_access_to_a_sensitive_class_is_in_the_audit_trail_once_per_app_class_and_hour() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let body = json!({"openapi": CUSTOMERS, "base_path": "/crm", "upstream": {"url": up.uri()}});
    let api = h.admin_ok("POST", "/v1/apis", body).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, holder, holder_app) = app_with_classes_and_id(&h, &api_id, "holder@example.com", json!(["pii"])).await;
    let (_, plain, plain_app) = app_with_classes_and_id(&h, &api_id, "plain@example.com", json!([])).await;

    for _ in 0..3 {
        assert_eq!(h.call("GET", "/crm/customers/1", Some(&holder)).await.status, 200);
    }
    // The pii parameter is sent, with the grant: an access too, as is the body's email.
    assert_eq!(h.call("GET", "/crm/customers/1?ssn=123", Some(&holder)).await.status, 200);
    // Withheld data and refusals are no access.
    assert_eq!(h.call("GET", "/crm/customers/1", Some(&plain)).await.status, 200);
    assert_eq!(h.call("GET", "/crm/customers/1/salary", Some(&holder)).await.status, 403);

    // Entries are written when their hour is over, or when the gateway stops.
    let h = h.restart().await;
    let trail = h.admin_ok("GET", "/v1/audit?action=data.class_access", Value::Null).await;
    let entries = trail["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "one entry per app, API, class and hour: {trail}");
    let entry = &entries[0];
    assert_eq!(entry["actor"], "gateway");
    assert_eq!(entry["targets"], json!([holder_app, api_id]));
    assert_eq!(entry["details"], json!({"class": "pii", "count": "4"}));
    let about_plain = h.admin_ok("GET", &format!("/v1/audit?target={plain_app}&action=data."), Value::Null).await;
    assert_eq!(about_plain["items"], json!([]), "the plain app reached nothing");
}
