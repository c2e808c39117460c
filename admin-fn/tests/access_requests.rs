//! Access requests through the admin API: a developer asks for a class on an API for an app,
//! an approver approves it with an expiry or denies it with a reason, an approval can be
//! revoked; each step is audited, published (so the app's identity is recompiled) and mailed
//! to the developer.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_problem, text, Harness, START};
use gatehouse_core::store::{EntityKind, Repo};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

/// An app and an API; answers their ids.
async fn app_and_api(h: &Harness) -> (String, String) {
    let app = h.app("ada@example.com").await;
    let api = h.pets_api().await;
    (app, text(&api.body["id"]))
}

async fn ask(h: &Harness, app: &str, api: &str, class: &str) -> common::Reply {
    let body =
        json!({"api_id": api, "class": class, "reason": "Support agents answer tickets by email.", "wanted_days": 30});
    h.call("POST", &format!("/v1/apps/{app}/access-requests"), Some(body)).await
}

fn mails(outbox: &std::path::Path) -> Vec<String> {
    let mut texts: Vec<String> = std::fs::read_dir(outbox)
        .map(|entries| entries.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect())
        .unwrap_or_default();
    texts.sort();
    texts
}

#[tokio::test]
async fn a_request_is_approved_for_its_wish_expires_by_itself_and_each_step_is_audited_and_mailed() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let (app, api) = app_and_api(&h).await;
    let asked = ask(&h, &app, &api, "pii").await;
    assert_eq!(asked.status, 201, "{:?}", asked.body);
    assert_eq!((&asked.body["status"], &asked.body["wanted_days"]), (&json!("pending"), &json!(30)));
    let id = text(&asked.body["id"]);
    let pending = h.call("GET", "/v1/access-requests?status=pending", None).await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1);

    h.advance(1_000);
    let approved = h.call("POST", &format!("/v1/access-requests/{id}/approve"), None).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert!(approved.body["decided_by"].as_str().unwrap().starts_with("admin:"), "{:?}", approved.body);
    let expires = START + 1_000 + 30 * DAY;
    assert_eq!(approved.body["expires_at"], gatehouse_core::time::rfc3339(expires));
    let changes: Vec<(EntityKind, String)> = h.publisher.changes().into_iter().map(|c| (c.kind, c.id)).collect();
    assert!(changes.contains(&(EntityKind::AccessRequest, id.clone())), "published: {changes:?}");

    let again = h.call("POST", &format!("/v1/access-requests/{id}/approve"), None).await;
    assert_problem(&again, 409, "conflict");
    let twice = ask(&h, &app, &api, "pii").await;
    assert_problem(&twice, 409, "conflict");

    h.advance(30 * DAY);
    let lapsed = h.call("GET", &format!("/v1/access-requests/{id}"), None).await;
    assert_eq!(lapsed.body["status"], "expired", "nothing ran: the expiry is read against the clock");
    assert_eq!(ask(&h, &app, &api, "pii").await.status, 201, "an expired grant can be asked for again");

    let actions: Vec<String> = h.repo.recent_audit(3).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["access_request.create", "access_request.approve", "access_request.create"], "newest first");
    let mail = mails(dir.path()).join("\n");
    assert!(mail.contains("Access to pii data approved"), "{mail}");
}

#[tokio::test]
async fn a_denial_needs_a_reason_and_an_approval_for_chosen_days_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let (app, api) = app_and_api(&h).await;
    let denied_id = text(&ask(&h, &app, &api, "financial").await.body["id"]);
    let blank = h.call("POST", &format!("/v1/access-requests/{denied_id}/deny"), Some(json!({"reason": "  "}))).await;
    assert_problem(&blank, 422, "validation-failed");
    let reason = "Use the anonymised export instead.";
    let denied =
        h.call("POST", &format!("/v1/access-requests/{denied_id}/deny"), Some(json!({"reason": reason}))).await;
    assert_eq!((&denied.body["status"], &denied.body["decision_reason"]), (&json!("denied"), &json!(reason)));
    let revoke_denied = h.call("POST", &format!("/v1/access-requests/{denied_id}/revoke"), None).await;
    assert_problem(&revoke_denied, 409, "conflict");

    let id = text(&ask(&h, &app, &api, "pii").await.body["id"]);
    let too_long = h.call("POST", &format!("/v1/access-requests/{id}/approve"), Some(json!({"days": 366}))).await;
    assert_problem(&too_long, 422, "validation-failed");
    let approved = h.call("POST", &format!("/v1/access-requests/{id}/approve"), Some(json!({"days": 7}))).await;
    assert_eq!(approved.body["expires_at"], gatehouse_core::time::rfc3339(START + 7 * DAY));
    let revoked =
        h.call("POST", &format!("/v1/access-requests/{id}/revoke"), Some(json!({"reason": "contract ended"}))).await;
    assert_eq!(
        (&revoked.body["status"], &revoked.body["decision_reason"]),
        (&json!("revoked"), &json!("contract ended"))
    );
    assert_eq!(revoked.body["expires_at"], json!(null), "a revoked request grants nothing");
    let listed = h.call("GET", &format!("/v1/access-requests?app_id={app}&status=revoked"), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let mail = mails(dir.path()).join("\n");
    assert!(mail.contains("Access to financial data denied") && mail.contains(reason), "{mail}");
    assert!(mail.contains("Access to pii data revoked"), "{mail}");
}

#[tokio::test]
async fn a_request_names_a_real_api_a_class_name_a_reason_and_a_sane_duration() {
    let h = Harness::new();
    let (app, api) = app_and_api(&h).await;
    let bad = json!({"api_id": "api_nope", "class": "PII data", "reason": "", "wanted_days": 0});
    let refused = h.call("POST", &format!("/v1/apps/{app}/access-requests"), Some(bad)).await;
    assert_problem(&refused, 422, "validation-failed");
    let pointers: Vec<&str> =
        refused.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/class", "/api_id", "/reason", "/wanted_days"]);
    let unknown_app = ask(&h, "app_nope", &api, "pii").await;
    assert_problem(&unknown_app, 404, "not-found");
    let status = h.call("GET", "/v1/access-requests?status=granted", None).await;
    assert_problem(&status, 422, "validation-failed");
}

#[tokio::test]
async fn an_approval_can_end_at_an_exact_time_within_a_year_but_not_in_the_past_or_with_days_too() {
    let h = Harness::new();
    let (app, api) = app_and_api(&h).await;
    let id = text(&ask(&h, &app, &api, "pii").await.body["id"]);
    let approve = async |body| h.call("POST", &format!("/v1/access-requests/{id}/approve"), Some(body)).await;
    let at = gatehouse_core::time::rfc3339;
    let refusals = [
        json!({"expires_at": at(START)}),
        json!({"expires_at": at(START + 365 * DAY + 1)}),
        json!({"expires_at": at(START + DAY), "days": 1}),
    ];
    for body in refusals {
        let refused = approve(body.clone()).await;
        assert_problem(&refused, 422, "validation-failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/expires_at", "{body}: {:?}", refused.body);
    }
    assert_eq!(h.call("GET", &format!("/v1/access-requests/{id}"), None).await.body["status"], "pending");

    let approved = approve(json!({"expires_at": at(START + 90 * 60_000)})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["expires_at"], at(START + 90 * 60_000), "to the second, not whole days");
    h.advance(90 * 60_000);
    let lapsed = h.call("GET", &format!("/v1/access-requests/{id}"), None).await;
    assert_eq!(lapsed.body["status"], "expired");
}

#[tokio::test]
async fn each_step_is_an_audit_entry_naming_who_the_request_and_why_and_the_developer_reads_them() {
    let h = Harness::new();
    let (app, api) = app_and_api(&h).await;
    let approver = h.token_for("pat", "approver").await;
    let asked = async |class: &str| {
        let body = json!({"api_id": api, "class": class, "reason": "Tickets need it.", "wanted_days": 30});
        h.call_as(&approver, "POST", &format!("/v1/apps/{app}/access-requests"), Some(body)).await
    };
    let granted = text(&asked("pii").await.body["id"]);
    let refused = text(&asked("financial").await.body["id"]);
    let decide = async |id: &str, what: &str, body: Value| {
        h.call_as(&approver, "POST", &format!("/v1/access-requests/{id}/{what}"), Some(body)).await
    };
    assert_eq!(decide(&granted, "approve", json!({"days": 7})).await.status, 200);
    assert_eq!(decide(&refused, "deny", json!({"reason": "Use the export."})).await.status, 200);
    assert_eq!(decide(&granted, "revoke", json!({"reason": "Ticket closed."})).await.status, 200);

    let trail = h.call("GET", "/v1/audit?action=access_request.", None).await;
    let entries: Vec<(String, String, Value, Value)> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["action"]), text(&e["actor"]), e["targets"].clone(), e["reason"].clone()))
        .collect();
    let entry = |action: &str, target: &str, reason: Value| {
        (format!("access_request.{action}"), "pat".to_owned(), json!([target]), reason)
    };
    assert_eq!(
        entries,
        [
            entry("revoke", &granted, json!("Ticket closed.")),
            entry("deny", &refused, json!("Use the export.")),
            entry("approve", &granted, Value::Null),
            entry("create", &refused, json!("Tickets need it.")),
            entry("create", &granted, json!("Tickets need it.")),
        ],
        "newest first"
    );

    // The developer's export holds the entries about their app's requests.
    let developer = h.call("GET", &format!("/v1/apps/{app}"), None).await.body["developer_id"].clone();
    let export = h.call("GET", &format!("/v1/developers/{}/export", text(&developer)), None).await;
    let exported: Vec<String> = export.body["audit"].as_array().unwrap().iter().map(|e| text(&e["action"])).collect();
    for action in ["create", "approve", "deny", "revoke"] {
        assert!(exported.contains(&format!("access_request.{action}")), "{action}: {exported:?}");
    }
}
