//! An approved access request's grant ends by itself at its expiry, through the running
//! native gateway and nothing else: no admin call, no republication, no job. The gateway
//! compares the grant's expiry with its own clock on every call, including calls answered
//! from the shared cache, which holds the upstream's whole answer and filters it per caller.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gatehouse_core::time::rfc3339;
use serde_json::{json, Value};
use support::crm::CUSTOMERS;
use support::crm::{
    admin_actor, ann, app_with_classes, app_with_classes_and_id, audit_about, upstream, upstream_calls,
};
use support::{Harness, Reply};

/// How long the grant lasts: long enough for two calls on a loaded 2-core machine.
const GRANT: Duration = Duration::from_secs(4);

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn email(reply: &Reply) -> Option<Value> {
    reply.json().get("email").cloned()
}

fn cache_hit(reply: &Reply) -> bool {
    reply.header("cache-status").is_some_and(|s| s.contains("hit"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_grant_expires_by_itself_and_the_cached_answer_is_filtered_again() {
    let up = upstream().await;
    let h = Harness::start(false).await;
    let body = json!({"openapi": CUSTOMERS, "base_path": "/crm", "upstream": {"url": up.uri()},
                      "cache": {"enabled": true, "public": true}});
    let api_id = h.admin_ok("POST", "/v1/apis", body).await["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let (_, holder) = app_with_classes(&h, &api_id, "holder@example.com", json!(["pii", "financial"])).await;
    let (_, key, app_id) = app_with_classes_and_id(&h, &api_id, "asker@example.com", json!([])).await;

    // Without a grant: filtered. The upstream's whole answer is now in the shared cache...
    let before = h.call("GET", "/crm/customers/1", Some(&key)).await;
    assert_eq!(before.status, 200, "{}", String::from_utf8_lossy(&before.body));
    assert_eq!(email(&before), None);
    assert_eq!(before.header("gatehouse-withheld"), Some("pii, financial"));
    // ...and the same entry reaches a holder whole.
    let whole = h.call("GET", "/crm/customers/1", Some(&holder)).await;
    assert!(cache_hit(&whole), "{:?}", whole.header("cache-status"));
    assert_eq!((whole.json(), whole.header("gatehouse-withheld")), (ann(), None));
    assert_eq!(upstream_calls(&up).await, 1);

    // The developer asks for pii and for financial; financial is denied, pii approved for a
    // few seconds.
    let ask = |class: &str, reason: &str| json!({"api_id": api_id, "class": class, "reason": reason, "wanted_days": 1});
    let requests = format!("/v1/apps/{app_id}/access-requests");
    let pii = h.admin_ok("POST", &requests, ask("pii", "Support answers one ticket by email.")).await;
    let pii = pii["id"].as_str().unwrap().to_owned();
    let financial =
        h.admin_ok("POST", &requests, ask("financial", "Refunds.")).await["id"].as_str().unwrap().to_owned();
    let denied = json!({"reason": "Refunds go through the billing API."});
    h.admin_ok("POST", &format!("/v1/access-requests/{financial}/deny"), denied).await;
    let expires_at = now_millis() + GRANT.as_millis() as i64;
    let approval = json!({"expires_at": rfc3339(expires_at)});
    let approved = h.admin_ok("POST", &format!("/v1/access-requests/{pii}/approve"), approval).await;
    assert_eq!(approved["expires_at"], rfc3339(expires_at));
    let trail_at_approval = h.admin_ok("GET", "/v1/audit?limit=500", Value::Null).await["items"].clone();

    // Granted: the same cached entry now reaches the asker with the email, card still masked.
    let shown = h.call("GET", "/crm/customers/1", Some(&key)).await;
    assert!(now_millis() < expires_at, "the machine took the whole grant to make one call");
    assert!(cache_hit(&shown), "{:?}", shown.header("cache-status"));
    assert_eq!(email(&shown), Some(json!("ann@example.com")));
    assert_eq!(shown.json()["card"], "************1111");
    assert_eq!(shown.header("gatehouse-withheld"), Some("financial"));

    // Past the expiry, with nothing done in between, the former holder gets the filtered body
    // from the same cache entry, and the plan's holder still the whole one.
    let wait = expires_at - now_millis() + 300;
    tokio::time::sleep(Duration::from_millis(wait.max(0) as u64)).await;
    let expired = h.call("GET", "/crm/customers/1", Some(&key)).await;
    assert!(cache_hit(&expired), "{:?}", expired.header("cache-status"));
    assert_eq!(email(&expired), None, "the grant ended at its expiry");
    assert_eq!(expired.header("gatehouse-withheld"), Some("pii, financial"));
    assert_eq!(expired.json()["referrals"], json!([{"id": "2", "name": "Bob"}]));
    assert_eq!(h.call("GET", "/crm/customers/1", Some(&holder)).await.json(), ann());
    assert_eq!(upstream_calls(&up).await, 1, "every answer came from the one cached entry");
    let status = h.admin_ok("GET", &format!("/v1/access-requests/{pii}"), Value::Null).await;
    assert_eq!(status["status"], "expired");
    let trail = h.admin_ok("GET", "/v1/audit?limit=500", Value::Null).await["items"].clone();
    assert_eq!(trail, trail_at_approval, "nothing ran and nothing changed at the expiry");

    // Each step is in the trail: who, from where, which request, why.
    let admin = admin_actor(&h).await;
    let step = |action: &str, id: &str, reason: Value| {
        (format!("access_request.{action}"), admin.clone(), "owner".into(), "127.0.0.1".into(), json!([id]), reason)
    };
    assert_eq!(
        audit_about(&h, &pii).await,
        [step("approve", &pii, Value::Null), step("create", &pii, json!("Support answers one ticket by email."))]
    );
    assert_eq!(
        audit_about(&h, &financial).await,
        [
            step("deny", &financial, json!("Refunds go through the billing API.")),
            step("create", &financial, json!("Refunds.")),
        ]
    );

    // An expired grant can be asked for again, and the new request starts pending.
    let again = h.admin_ok("POST", &requests, ask("pii", "A second ticket.")).await;
    assert_eq!(again["status"], "pending");
    assert_eq!(email(&h.call("GET", "/crm/customers/1", Some(&key)).await), None);
}
