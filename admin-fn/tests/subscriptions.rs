//! Subscriptions that need approval: pending says why, an owner approves or rejects with a
//! reason the developer sees, and every decision is audited.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_problem, text, Harness, START};
use gatehouse_core::store::Repo;
use serde_json::json;

/// An app subscribed to a plan that needs approval; returns the subscription id and the plans.
async fn pending(h: &Harness) -> (String, String, String) {
    let app = h.app("a@x.io").await;
    let product = h.call("POST", "/v1/products", Some(json!({"name": "Pets"}))).await;
    let pid = &product.body["id"];
    let gold =
        h.call("POST", "/v1/plans", Some(json!({"product_id": pid, "name": "gold", "requires_approval": true}))).await;
    let free = h.call("POST", "/v1/plans", Some(json!({"product_id": pid, "name": "free"}))).await;
    let sub = h
        .call(
            "POST",
            &format!("/v1/apps/{app}/subscriptions"),
            Some(json!({"product_id": pid, "plan_id": gold.body["id"]})),
        )
        .await;
    assert_eq!(sub.status, 201, "{:?}", sub.body);
    (text(&sub.body["id"]), text(&gold.body["id"]), text(&free.body["id"]))
}

#[tokio::test]
async fn a_pending_subscription_says_it_waits_for_approval() {
    let h = Harness::new();
    let (sid, _, _) = pending(&h).await;
    let got = h.call("GET", &format!("/v1/subscriptions/{sid}"), None).await;
    assert_eq!(got.body["status"], "pending");
    assert!(got.body["status_reason"].as_str().unwrap().contains("needs an owner's approval"), "{:?}", got.body);
    assert!(got.body.get("rejection").is_none());
}

#[tokio::test]
async fn a_rejection_keeps_its_reason_and_time_and_is_audited() {
    let h = Harness::new();
    let (sid, _, _) = pending(&h).await;
    h.advance(5_000);
    let reason = "Partners only: apply for the partner programme first.";
    let rejected = h.call("POST", &format!("/v1/subscriptions/{sid}/reject"), Some(json!({"reason": reason}))).await;
    assert_eq!(rejected.status, 200, "{:?}", rejected.body);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["rejection"]["reason"], reason);
    assert_eq!(rejected.body["rejection"]["at"], "2023-11-14T22:13:25Z");
    assert_eq!(rejected.body["status_reason"], reason);
    let listed =
        h.call("GET", &format!("/v1/apps/{}/subscriptions", rejected.body["app_id"].as_str().unwrap()), None).await;
    assert_eq!(listed.body["items"][0]["rejection"]["reason"], reason);
    let audit = h.repo.recent_audit(1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].targets.clone(), audit[0].at),
        ("subscription.reject", vec![sid.clone()], START + 5_000)
    );
    // Rejecting twice is a conflict, not a second rejection.
    let again = h.call("POST", &format!("/v1/subscriptions/{sid}/reject"), Some(json!({"reason": "x"}))).await;
    assert_problem(&again, 409, "conflict");
}

#[tokio::test]
async fn a_rejection_needs_a_reason_of_bounded_length() {
    let h = Harness::new();
    let (sid, _, _) = pending(&h).await;
    let path = format!("/v1/subscriptions/{sid}/reject");
    for body in [json!({"reason": "   "}), json!({"reason": "x".repeat(501)})] {
        let reply = h.call("POST", &path, Some(body)).await;
        assert_problem(&reply, 422, "validation-failed");
        assert_eq!(reply.body["errors"][0]["pointer"], "/reason");
    }
    assert_problem(&h.call("POST", &path, None).await, 400, "invalid-json");
    assert_problem(
        &h.call("POST", "/v1/subscriptions/sub_nope/reject", Some(json!({"reason": "no"}))).await,
        404,
        "not-found",
    );
    // Nothing was written by the refusals.
    assert_eq!(h.call("GET", &format!("/v1/subscriptions/{sid}"), None).await.body["status"], "pending");
    assert!(h.call("POST", &path, Some(json!({"reason": "x".repeat(500)}))).await.status.is_success());
}

#[tokio::test]
async fn after_a_rejection_a_plan_change_asks_again_and_approval_reverses_it() {
    let h = Harness::new();
    let (sid, gold, free) = pending(&h).await;
    let path = format!("/v1/subscriptions/{sid}");
    h.call("POST", &format!("{path}/reject"), Some(json!({"reason": "not yet"}))).await;
    let asked = h.call("PATCH", &path, Some(json!({"plan_id": gold}))).await;
    assert_eq!((asked.body["status"].as_str(), asked.body.get("rejection")), (Some("pending"), None));
    h.call("POST", &format!("{path}/reject"), Some(json!({"reason": "still no"}))).await;
    let approved = h.call("POST", &format!("{path}/approve"), None).await;
    assert_eq!(
        (approved.body["status"].as_str(), approved.body["status_reason"].clone()),
        (Some("active"), json!(null))
    );
    assert!(approved.body.get("rejection").is_none());
    let moved = h.call("PATCH", &path, Some(json!({"plan_id": free}))).await;
    assert_eq!(moved.body["status"], "active");
}
