//! Alerts end to end through the native binary's own timer: real calls through the gateway
//! cross a quota threshold and an error-rate threshold; the alerts arrive on a real SMTP
//! server (aiosmtpd) and on real webhook receivers on 127.0.0.1 (wiremock), one of which fails
//! first and gets the retry. The receiver checks the signature with the secret the rule's
//! creation answered, a threshold does not fire twice in its window, and the delivery log
//! read back through the admin API says what happened.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use gatehouse_native::alerting::AlertTimers;
use serde_json::{json, Value};
use support::smtp::SmtpServer;
use support::{onboard, Harness};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const DOC: &str = r#"
openapi: 3.0.3
info: { title: Pets, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /ok:
    get: { operationId: ok, responses: { "200": { description: ok } } }
  /broken:
    get: { operationId: broken, responses: { "200": { description: ok } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"#;

/// How long a condition may take on a loaded machine before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < PATIENCE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn hooks(server: &MockServer, at: &str) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default().into_iter().filter(|r| r.url.path() == at).collect()
}

fn verified(request: &Request, secret: &str) -> Value {
    let signature = request.headers.get("gatehouse-signature").unwrap().to_str().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    gatehouse_core::signing::verify(secret.as_bytes(), signature, &request.body, now, 300)
        .expect("the receiver verifies the signature with the rule's secret");
    let wrong = gatehouse_core::signing::verify(b"whsec_someone_else", signature, &request.body, now, 300);
    assert!(wrong.is_err(), "another secret does not verify");
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_crossed_by_real_calls_are_mailed_and_posted_signed_once_per_window_with_retries_logged() {
    let smtp = SmtpServer::start();
    let upstream = MockServer::start().await;
    Mock::given(method("GET")).and(path("/ok")).respond_with(ResponseTemplate::new(200)).mount(&upstream).await;
    Mock::given(method("GET")).and(path("/broken")).respond_with(ResponseTemplate::new(500)).mount(&upstream).await;
    let receiver = MockServer::start().await;
    // The quota rule's receiver is down for its first delivery, then answers.
    Mock::given(method("POST"))
        .and(path("/hooks/quota"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).mount(&receiver).await;

    let h = Harness::start_with(|c| {
        c.smtp_url = Some(smtp.url());
        c.usage_flush = Duration::from_millis(100);
        c.alerts = AlertTimers {
            every: Duration::from_millis(200),
            retry_base: Duration::from_millis(500),
            private_webhooks: true,
        };
    })
    .await;
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": DOC, "base_path": "/pets", "upstream": {"url": upstream.uri()}}),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let daily = json!([{"name": "daily", "scope": "key", "type": "quota", "limit": 10, "window": "day"}]);
    let (app_id, _key_id, key) = onboard(&h, &api_id, "dev@example.com", daily).await;
    let developer_id = h.admin_ok("GET", &format!("/v1/apps/{app_id}"), Value::Null).await["developer_id"].clone();

    let quota_rule = h
        .admin_ok(
            "POST",
            "/v1/alert-rules",
            json!({"name": "daily quota at 80 %", "subject": {"kind": "developer", "developer_id": developer_id},
                   "condition": {"type": "quota", "percent": 80},
                   "channels": [{"type": "email", "to": "dev@example.com"},
                                {"type": "webhook", "url": format!("{}/hooks/quota", receiver.uri())}]}),
        )
        .await;
    let error_rule = h
        .admin_ok(
            "POST",
            "/v1/alert-rules",
            json!({"name": "pets failing", "subject": {"kind": "api", "api_id": api_id},
                   "condition": {"type": "error_rate", "percent": 10, "minutes": 1440},
                   "channels": [{"type": "webhook", "url": format!("{}/hooks/errors", receiver.uri())}]}),
        )
        .await;
    let quota_secret = quota_rule["webhook_secret"].as_str().unwrap().to_owned();
    let error_secret = error_rule["webhook_secret"].as_str().unwrap().to_owned();
    assert!(quota_secret.starts_with("whsec_"));
    let listed = h.admin_ok("GET", "/v1/alert-rules", Value::Null).await.to_string();
    assert!(!listed.contains(&quota_secret), "the secret is only in the creation's answer");

    // 7 of 10 calls: under 80 %, nothing fires.
    for _ in 0..7 {
        assert_eq!(h.call("GET", "/pets/ok", Some(&key)).await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(smtp.messages().is_empty() && hooks(&receiver, "/hooks/quota").await.is_empty(), "70 % fires nothing");

    // The 8th call crosses 80 %: a mail, and a webhook that fails once and is retried.
    assert_eq!(h.call("GET", "/pets/ok", Some(&key)).await.status, 200);
    let mail = eventually("the quota mail", async || smtp.messages().into_iter().next()).await;
    assert_eq!(mail["to"], json!(["dev@example.com"]));
    assert_eq!(mail["subject"], "Alert: daily quota at 80 %");
    assert!(mail["text"].as_str().unwrap().contains("Quota daily of key k"), "{mail}");
    let posts = eventually("the retried webhook", async || {
        let posts = hooks(&receiver, "/hooks/quota").await;
        (posts.len() >= 2).then_some(posts)
    })
    .await;
    let (first, second) = (verified(&posts[0], &quota_secret), verified(&posts[1], &quota_secret));
    assert_eq!(first, second, "a retry sends the same event");
    assert!(first["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(posts[1].headers.get("gatehouse-event-id").unwrap().to_str().unwrap(), first["id"].as_str().unwrap());
    assert_eq!((first["type"].as_str(), first["observed"]["used"].as_u64()), (Some("alert.fired"), Some(8)));

    // Errors: 2 of the API's calls fail (2 of 10, over 10 %); the quota passes 90 % and 100 %
    // in the same window, which its 80 % rule has fired in already.
    for _ in 0..2 {
        assert_eq!(h.call("GET", "/pets/broken", Some(&key)).await.status, 500);
    }
    let error_post = eventually("the error-rate webhook", async || hooks(&receiver, "/hooks/errors").await.pop()).await;
    let event = verified(&error_post, &error_secret);
    assert_eq!(event["observed"], json!({"type": "error_rate", "errors": 2, "requests": 10}));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(smtp.messages().len(), 1, "the quota threshold fired once in its window");
    assert_eq!(hooks(&receiver, "/hooks/quota").await.len(), 2, "one event: the failed delivery and its retry");
    assert_eq!(hooks(&receiver, "/hooks/errors").await.len(), 1, "the error rate fired once in its window");

    // The delivery log says what happened, newest first.
    let log = h.admin_ok("GET", "/v1/alert-deliveries", Value::Null).await["items"].as_array().unwrap().clone();
    assert_eq!(log.len(), 3, "{log:?}");
    let of = |rule: &Value, kind: &str| -> Value {
        log.iter()
            .find(|d| d["message"]["rule_id"] == rule["rule"]["id"] && d["channel"]["type"] == kind)
            .unwrap()
            .clone()
    };
    let webhook = of(&quota_rule, "webhook");
    assert_eq!(webhook["status"], "delivered");
    let attempts: Vec<(bool, &str)> = webhook["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["ok"].as_bool().unwrap(), a["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(attempts, [(false, "HTTP 503"), (true, "HTTP 204")]);
    let email = of(&quota_rule, "email");
    assert_eq!((email["status"].as_str(), email["attempts"].as_array().unwrap().len()), (Some("delivered"), 1));
    assert_eq!(of(&error_rule, "webhook")["status"], "delivered");
    let only_errors = h
        .admin_ok(
            "GET",
            &format!("/v1/alert-deliveries?rule_id={}", error_rule["rule"]["id"].as_str().unwrap()),
            Value::Null,
        )
        .await;
    assert_eq!(only_errors["items"].as_array().unwrap().len(), 1);
    h.app.shutdown().await;
}
