//! Alert rules through the admin API and the portal, in-process: a developer sets rules on
//! their own calls only and never sees anyone else's; a provider sets them on an API; the
//! types refuse bad thresholds with a 422 naming the field; the signing secret is in the
//! creation's answer only. And the outbox: a delivery whose receiver is down stays in the
//! store and is delivered by a later runner (a restarted process), never lost.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use common::portal::sign_up;
use common::{hidden, text, Harness, Jar, Reply, START};
use gatehouse_admin::{AlertRunner, AlertSettings};
use gatehouse_core::alerts::{AlertDelivery, DeliveryStatus};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::{json, Value};

async fn as_developer(h: &Harness, jar: &Jar, method: &str, path: &str, body: Option<Value>) -> Reply {
    let mut builder = Request::builder().method(method).uri(path).header("cookie", jar.header());
    let body = match body {
        Some(b) => {
            builder = builder.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    h.send(builder.body(body).expect("request")).await
}

async fn developer_id(h: &Harness, email: &str) -> String {
    let list = h.call("GET", "/v1/developers", None).await;
    let found = list.body["items"].as_array().expect("items").iter().find(|d| d["email"] == email).expect("developer");
    text(&found["id"])
}

fn quota_rule(channels: Value) -> Value {
    json!({"name": "quota at 80 %", "condition": {"type": "quota", "percent": 80}, "channels": channels})
}

#[tokio::test]
async fn a_developer_sets_rules_on_their_own_calls_only_and_never_sees_anyone_elses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (ada, bob) =
        (sign_up(&h, dir.path(), "ada@example.com").await, sign_up(&h, dir.path(), "bob@example.com").await);
    let bob_id = developer_id(&h, "bob@example.com").await;
    let bob_app =
        text(&h.call("POST", "/v1/apps", Some(json!({"developer_id": bob_id, "name": "b"}))).await.body["id"]);

    let hook = json!([{"type": "webhook", "url": "https://example.com/h"}]);
    let made = as_developer(&h, &ada, "POST", "/v1/alert-rules", Some(quota_rule(hook.clone()))).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let secret = text(&made.body["webhook_secret"]);
    assert_eq!(made.body["rule"]["subject"]["developer_id"], developer_id(&h, "ada@example.com").await);
    let id = text(&made.body["rule"]["id"]);

    let theirs = json!({"kind": "developer", "developer_id": bob_id});
    let mut body = quota_rule(hook.clone());
    body["subject"] = theirs;
    common::assert_problem(
        &as_developer(&h, &ada, "POST", "/v1/alert-rules", Some(body)).await,
        422,
        "validation-failed",
    );
    let mut body = quota_rule(hook.clone());
    body["subject"] =
        json!({"kind": "developer", "developer_id": developer_id(&h, "ada@example.com").await, "app_id": bob_app});
    common::assert_problem(
        &as_developer(&h, &ada, "POST", "/v1/alert-rules", Some(body)).await,
        422,
        "validation-failed",
    );

    let listed = as_developer(&h, &bob, "GET", "/v1/alert-rules", None).await;
    assert_eq!(listed.body["items"], json!([]), "bob sees none of ada's rules");
    common::assert_problem(
        &as_developer(&h, &bob, "GET", &format!("/v1/alert-rules/{id}"), None).await,
        404,
        "not-found",
    );
    common::assert_problem(
        &as_developer(&h, &bob, "DELETE", &format!("/v1/alert-rules/{id}"), None).await,
        404,
        "not-found",
    );
    let own = as_developer(&h, &ada, "GET", "/v1/alert-rules", None).await;
    assert_eq!(own.body["items"].as_array().expect("items").len(), 1);
    assert!(!own.body.to_string().contains(&secret), "the secret is only in the creation's answer");
    assert!(!h.call("GET", "/v1/audit", None).await.body.to_string().contains(&secret), "nor in the audit trail");
    assert_eq!(as_developer(&h, &ada, "DELETE", &format!("/v1/alert-rules/{id}"), None).await.status, 204);
    assert_eq!(as_developer(&h, &ada, "GET", "/v1/alert-rules", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn a_provider_sets_rules_on_an_api_and_bad_thresholds_are_refused_naming_the_field() {
    let h = Harness::new();
    let api_id = text(&h.pets_api().await.body["id"]);
    let admin = h.token_for("ada", "api-admin").await;
    let email = json!([{"type": "email", "to": "ops@example.com"}]);
    let rule = |condition: Value| json!({"name": "r", "subject": {"kind": "api", "api_id": api_id}, "condition": condition, "channels": email});
    let made = h
        .call_as(&admin, "POST", "/v1/alert-rules", Some(rule(json!({"type": "latency", "p95_ms": 800, "minutes": 5}))))
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["rule"]["created_by"], "ada");

    for (condition, field) in [
        (json!({"type": "quota", "percent": 80}), "/condition"),
        (json!({"type": "error_rate", "percent": 0, "minutes": 5}), "/condition"),
        (json!({"type": "error_rate", "percent": 10, "minutes": 1441}), "/condition"),
        (json!({"type": "latency", "p95_ms": 0, "minutes": 5}), "/condition"),
    ] {
        let refused = h.call_as(&admin, "POST", "/v1/alert-rules", Some(rule(condition.clone()))).await;
        common::assert_problem(&refused, 422, "validation-failed");
        assert!(refused.body.to_string().contains(field), "{condition}: {:?}", refused.body);
    }
    let mut no_channel = rule(json!({"type": "latency", "p95_ms": 800, "minutes": 5}));
    no_channel["channels"] = json!([{"type": "webhook", "url": "ftp://x"}]);
    let refused = h.call_as(&admin, "POST", "/v1/alert-rules", Some(no_channel)).await;
    common::assert_problem(&refused, 422, "validation-failed");
    assert!(refused.body.to_string().contains("/channels"), "{:?}", refused.body);
    let mut unknown = rule(json!({"type": "latency", "p95_ms": 800, "minutes": 5}));
    unknown["subject"]["api_id"] = json!("api_missing");
    common::assert_problem(
        &h.call_as(&admin, "POST", "/v1/alert-rules", Some(unknown)).await,
        422,
        "validation-failed",
    );
    let mut nobody = rule(json!({"type": "latency", "p95_ms": 800, "minutes": 5}));
    nobody["subject"] = json!({"kind": "developer", "developer_id": "dev_missing"});
    let refused = h.call_as(&admin, "POST", "/v1/alert-rules", Some(nobody)).await;
    common::assert_problem(&refused, 422, "validation-failed");
    assert!(refused.body.to_string().contains("/subject/developer_id"), "{:?}", refused.body);
}

#[tokio::test]
async fn the_portal_adds_a_rule_shows_its_secret_once_and_deletes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let jar = sign_up(&h, dir.path(), "ada@example.com").await;
    let usage = h.browse("GET", "/usage", &jar.header(), &[]).await;
    assert!(usage.html.contains("href=\"/usage/alerts\""), "the usage page links to the alert settings");
    let page = h.browse("GET", "/usage/alerts", &jar.header(), &[]).await;
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.html, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Slow calls"),
        ("kind", "latency"),
        ("p95_ms", "750"),
        ("minutes", "10"),
        ("webhook", "https://example.com/hook"),
        ("email", "ada@example.com"),
    ];
    let made = h.browse("POST", "/usage/alerts", &jar.header(), &form).await;
    assert_eq!(made.status, 200, "{}", made.html);
    let rules = h.call("GET", "/v1/alert-rules", None).await.body["items"].clone();
    assert_eq!(rules[0]["condition"], json!({"type": "latency", "p95_ms": 750, "minutes": 10}));
    assert!(made.html.contains("whsec_"), "the secret is shown once");
    let again = h.browse("GET", "/usage/alerts", &jar.header(), &[]).await;
    assert!(again.html.contains("Slow calls") && !again.html.contains("whsec_"), "and never again");

    let bad = [("csrf", csrf.as_str()), ("name", "x"), ("kind", "quota"), ("percent", "180"), ("email", "a@b.io")];
    assert_eq!(h.browse("POST", "/usage/alerts", &jar.header(), &bad).await.status, 422);
    let forged = [("csrf", "forged"), ("name", "x"), ("kind", "quota"), ("percent", "80"), ("email", "a@b.io")];
    assert_eq!(h.browse("POST", "/usage/alerts", &jar.header(), &forged).await.status, 403);

    let id = text(&rules[0]["id"]);
    let deleted = h.browse("POST", &format!("/usage/alerts/{id}/delete"), &jar.header(), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(h.call("GET", "/v1/alert-rules", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn a_delivery_whose_receiver_is_down_stays_in_the_outbox_and_a_later_runner_delivers_it() {
    let h = Harness::new();
    let api_id = text(&h.pets_api().await.body["id"]);
    // The receiver's port refuses connections (bound, then closed) until it comes back below.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let rule = json!({"name": "errors", "subject": {"kind": "api", "api_id": api_id},
        "condition": {"type": "error_rate", "percent": 50, "minutes": 60},
        "channels": [{"type": "webhook", "url": format!("http://{closed}/hook")}]});
    let made = h.call("POST", "/v1/alert-rules", Some(rule)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);

    let key = |minute| RollupKey {
        minute,
        api_id: api_id.clone(),
        operation_id: "op".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    let values = RollupValues { requests: 4, status_classes: [0, 0, 1, 0, 3], ..RollupValues::default() };
    h.repo.add_rollups(&[Rollup { key: key(START - START % 60_000), values }]).await.expect("usage");

    let settings = AlertSettings { retry_base: 1_000, private_webhooks: true, ..AlertSettings::default() };
    let first = AlertRunner::new(Arc::clone(&h.repo), None, settings.clone());
    let report = first.run_once(START + 1_000).await.expect("run");
    assert_eq!((report.fired, report.delivered, report.failed), (1, 0, 1));
    drop(first);

    let log: Vec<AlertDelivery> = h.repo.list(None).await.expect("log");
    assert_eq!(
        (log.len(), log[0].status, log[0].attempts[0].detail.as_str()),
        (1, DeliveryStatus::Pending, "could not connect")
    );
    // The receiver comes back on its port.
    let listener = std::net::TcpListener::bind(closed).expect("the port is free again");
    let receiver = wiremock::MockServer::builder().listener(listener).start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;

    let restarted = AlertRunner::new(Arc::clone(&h.repo), None, settings);
    let early = restarted.run_once(START + 1_500).await.expect("run");
    assert_eq!((early.fired, early.delivered), (0, 0), "not due before its backoff, and no second firing");
    let report = restarted.run_once(START + 2_500).await.expect("run");
    assert_eq!((report.fired, report.delivered), (0, 1));
    let log: Vec<AlertDelivery> = h.repo.list(None).await.expect("log");
    assert_eq!((log[0].status, log[0].attempts.len()), (DeliveryStatus::Delivered, 2));
    assert_eq!(receiver.received_requests().await.expect("requests").len(), 1);
    let api_log = h.call("GET", "/v1/alert-deliveries", None).await;
    assert_eq!(api_log.body["items"][0]["status"], "delivered");
}

#[tokio::test]
async fn a_webhook_to_the_control_planes_own_network_is_refused_unless_private_receivers_are_allowed() {
    let h = Harness::new();
    let api_id = text(&h.pets_api().await.body["id"]);
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let port = receiver.address().port();
    // By address and by a name that resolves to loopback: neither may be reached.
    let urls = [format!("http://127.0.0.1:{port}/hook"), format!("http://localhost:{port}/hook")];
    let channels: Vec<Value> = urls.iter().map(|url| json!({"type": "webhook", "url": url})).collect();
    let rule = json!({"name": "errors", "subject": {"kind": "api", "api_id": api_id},
        "condition": {"type": "error_rate", "percent": 50, "minutes": 60}, "channels": channels});
    assert_eq!(h.call("POST", "/v1/alert-rules", Some(rule)).await.status, 201);
    let key = RollupKey {
        minute: START - START % 60_000,
        api_id: api_id.clone(),
        operation_id: "op".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    let values = RollupValues { requests: 4, status_classes: [0, 0, 1, 0, 3], ..RollupValues::default() };
    h.repo.add_rollups(&[Rollup { key, values }]).await.expect("usage");

    let guarded = AlertRunner::new(Arc::clone(&h.repo), None, AlertSettings::default());
    let report = guarded.run_once(START + 1_000).await.expect("run");
    assert_eq!((report.fired, report.delivered, report.failed), (1, 0, 2));
    assert_eq!(receiver.received_requests().await.expect("requests").len(), 0, "nothing reached it");
    let log: Vec<AlertDelivery> = h.repo.list(None).await.expect("log");
    let mut details: Vec<String> = log.iter().map(|d| d.attempts[0].detail.clone()).collect();
    details.sort();
    assert!(details[0].contains("127.0.0.1 is not a public address"), "{details:?}");
    assert!(details[1].contains("no public address"), "{details:?}");

    // Where private receivers are allowed (gatehouse dev), the retry reaches it.
    let settings = AlertSettings { retry_base: 1_000, private_webhooks: true, ..AlertSettings::default() };
    let open = AlertRunner::new(Arc::clone(&h.repo), None, settings);
    assert_eq!(open.run_once(START + 60_000).await.expect("run").delivered, 2);
}

#[tokio::test]
async fn the_portal_shows_the_delivery_log_and_a_deleted_rules_webhook_is_given_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let jar = sign_up(&h, dir.path(), "ada@example.com").await;
    let ada = developer_id(&h, "ada@example.com").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let rule = json!({"name": "my errors", "condition": {"type": "error_rate", "percent": 50, "minutes": 60, "errors": "any"},
        "channels": [{"type": "email", "to": "ada@example.com"}, {"type": "webhook", "url": format!("http://{closed}/h")}]});
    let made = as_developer(&h, &jar, "POST", "/v1/alert-rules", Some(rule)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let key = RollupKey {
        minute: START - START % 60_000,
        api_id: "api_1".into(),
        operation_id: "op".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: ada.clone(),
    };
    let values = RollupValues { requests: 2, status_classes: [0, 0, 0, 2, 0], ..RollupValues::default() };
    h.repo.add_rollups(&[Rollup { key, values }]).await.expect("usage");

    let mail_dir = tempfile::tempdir().expect("mail dir");
    let mailer =
        gatehouse_admin::OutboxMailer::new(mail_dir.path().to_path_buf(), "Alerts <a@example.com>").expect("mailer");
    let settings = AlertSettings { retry_base: 1_000, private_webhooks: true, ..AlertSettings::default() };
    let runner = AlertRunner::new(Arc::clone(&h.repo), Some(Arc::new(mailer)), settings);
    let report = runner.run_once(START + 1_000).await.expect("run");
    assert_eq!((report.fired, report.delivered, report.failed), (1, 1, 1));
    let mails: Vec<String> = std::fs::read_dir(mail_dir.path())
        .expect("mail")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("eml"))
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Alert: my errors"), "{}", mails[0]);

    let page = h.browse("GET", "/usage/alerts", &jar.header(), &[]).await;
    assert!(page.html.contains("2 of 2 calls in the last 60 minutes were errors"), "{}", page.html);
    assert!(
        page.html.contains("delivered")
            && page.html.contains("pending (will retry)")
            && page.html.contains("could not connect")
    );

    let id = text(&made.body["rule"]["id"]);
    assert_eq!(as_developer(&h, &jar, "DELETE", &format!("/v1/alert-rules/{id}"), None).await.status, 204);
    let report = runner.run_once(START + 2_500).await.expect("run");
    assert_eq!((report.fired, report.failed), (0, 1));
    let log = as_developer(&h, &jar, "GET", "/v1/alert-deliveries", None).await;
    let webhook = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["channel"]["type"] == "webhook")
        .expect("webhook")
        .clone();
    assert_eq!(webhook["status"], "gave_up", "{webhook}");
    assert_eq!(webhook["attempts"][1]["detail"], "the rule was deleted, and its signing secret with it");
    assert!(h
        .repo
        .list_records(gatehouse_core::store::EntityKind::AlertOutbox, None)
        .await
        .expect("outbox")
        .is_empty());
    let other = sign_up(&h, dir.path(), "bob@example.com").await;
    assert_eq!(
        as_developer(&h, &other, "GET", "/v1/alert-deliveries", None).await.body["items"],
        json!([]),
        "not bob's log"
    );
}
