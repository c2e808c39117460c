//! The developer portal on AWS: API Gateway (HTTP API, v2) events through lambda_http and the
//! admin router, over DynamoDB on moto. The catalog and an API's page render from DynamoDB,
//! and a developer signs up by the mailed link (sessions, links and throttles are DynamoDB
//! records), then gets a key.

mod support;
// The real OpenID provider the admin router's staff sign-in tests run (oidc-provider under node).
#[allow(dead_code)]
#[path = "../../admin-fn/tests/common/oidc.rs"]
mod oidc;

use gatehouse_aws::config::names;
use serde_json::{json, Value};

use support::api_gateway::{Answer, ADMIN_TOKEN as ADMIN};

async fn router(outbox: &std::path::Path) -> axum::Router {
    router_with(outbox, &[]).await
}

async fn router_with(outbox: &std::path::Path, extra: &[(&'static str, String)]) -> axum::Router {
    support::api_gateway::router(outbox, extra).await
}

/// One API Gateway v2 event: `target` is a path with its query; `cookies` as a browser sends.
async fn invoke(
    router: &axum::Router,
    method: &str,
    target: &str,
    cookies: &[String],
    body: Option<(&str, String)>,
) -> Answer {
    let mut headers = json!({"host": "developer.example.com", "accept": "text/html", "x-forwarded-proto": "https"});
    if let Some((content_type, _)) = &body {
        headers["content-type"] = json!(content_type);
    }
    if method == "POST" && target.starts_with("/v1/") {
        headers["authorization"] = json!(format!("Bearer {ADMIN}"));
    }
    support::api_gateway::invoke(router, method, target, headers, cookies, body.map(|(_, b)| b)).await
}

async fn admin_json(router: &axum::Router, path: &str, body: Value) -> Value {
    let answer = invoke(router, "POST", path, &[], Some(("application/json", body.to_string()))).await;
    assert!(answer.status < 300, "{path}: {} {}", answer.status, answer.body);
    serde_json::from_str(&answer.body).expect("JSON")
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[at..html[at..].find('"').map(|end| at + end).expect("quote")].to_owned()
}

fn form(pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
    let mut encoded = form_urlencoded::Serializer::new(String::new());
    encoded.extend_pairs(pairs.iter().copied());
    Some(("application/x-www-form-urlencoded", encoded.finish()))
}

fn link_in(outbox: &std::path::Path) -> String {
    let entry = std::fs::read_dir(outbox).expect("outbox").next().expect("a message").expect("entry");
    let text = std::fs::read_to_string(entry.path()).expect("mail");
    let text = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = text.find("https://developer.example.com/signin/verify?token=").expect("a link");
    let link: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.?=_-".contains(*c)).collect();
    link.trim_start_matches("https://developer.example.com").to_owned()
}

#[tokio::test]
async fn the_portal_renders_from_dynamodb_and_a_developer_signs_up_and_gets_a_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let router = router(dir.path()).await;
    let doc = json!({"openapi": "3.1.0", "info": {"title": "Weather", "version": "1", "description": "Forecasts by city."},
                     "paths": {"/today": {"get": {"responses": {"200": {"description": "ok"}}}}}});
    let api = admin_json(
        &router,
        "/v1/apis",
        json!({"openapi": doc, "base_path": "/weather", "upstream": {"url": "https://upstream.example.com"}}),
    )
    .await;
    let api_id = api["id"].as_str().expect("id").to_owned();
    admin_json(&router, &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let product = admin_json(&router, "/v1/products", json!({"name": "Weather", "items": [{"api_id": api_id}]})).await;
    let limits = json!([{"name": "daily", "scope": "key", "type": "quota", "limit": 5000, "window": "day"}]);
    let plan =
        admin_json(&router, "/v1/plans", json!({"product_id": product["id"], "name": "Free", "limits": limits})).await;

    let catalog = invoke(&router, "GET", "/", &[], None).await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
    assert!(
        catalog.body.contains("Weather") && catalog.body.contains("5,000 calls a day (per key)"),
        "{}",
        catalog.body
    );
    let page = invoke(&router, "GET", &format!("/apis/{api_id}"), &[], None).await;
    assert!(page.body.contains("https://api.example.com/weather"), "{}", page.body);

    let signin = invoke(&router, "GET", "/signin", &[], None).await;
    let mut cookies = signin.cookies.clone();
    let sent = invoke(
        &router,
        "POST",
        "/signin",
        &cookies,
        form(&[("email", "ada@example.com"), ("csrf", &hidden(&signin.body, "csrf")), ("next", "")]),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let verify = invoke(&router, "GET", &link_in(dir.path()), &cookies, None).await;
    let form_fields = [("token", hidden(&verify.body, "token")), ("csrf", hidden(&verify.body, "csrf"))];
    let pairs: Vec<(&str, &str)> = form_fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signed_in = invoke(&router, "POST", "/signin/verify", &cookies, form(&pairs)).await;
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/dashboard")), "{}", signed_in.body);
    cookies.extend(signed_in.cookies);
    let again = invoke(&router, "POST", "/signin/verify", &cookies, form(&pairs)).await;
    assert_eq!(again.status, 410, "the link is spent, in DynamoDB too");

    let page = invoke(&router, "GET", &format!("/apis/{api_id}"), &cookies, None).await;
    let plan_id = plan["id"].as_str().expect("plan id");
    let got = invoke(
        &router,
        "POST",
        &format!("/apis/{api_id}/keys"),
        &cookies,
        form(&[("plan_id", plan_id), ("csrf", &hidden(&page.body, "csrf"))]),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("data-secret>gh_"), "{}", got.body);
    let dashboard = invoke(&router, "GET", "/dashboard", &cookies, None).await;
    assert!(
        dashboard.body.contains("ada@example.com") && dashboard.body.contains("badge active"),
        "{}",
        dashboard.body
    );
}

#[tokio::test]
async fn staff_sign_in_with_the_identity_provider_through_lambda_events_over_dynamodb() {
    let (idp, dir) = (oidc::IdentityProvider::start(60), tempfile::tempdir().expect("temp dir"));
    let router = router_with(
        dir.path(),
        &[
            (names::PORTAL_URL, "http://portal.test".to_owned()),
            ("GATEHOUSE_OIDC_ISSUER", idp.issuer.clone()),
            ("GATEHOUSE_OIDC_CLIENT_ID", oidc::CLIENT_ID.to_owned()),
            ("GATEHOUSE_OIDC_CLIENT_SECRET", oidc::CLIENT_SECRET.to_owned()),
            ("GATEHOUSE_OIDC_SCOPES", "openid email groups".to_owned()),
            ("GATEHOUSE_OIDC_ROLES", "gatehouse-owners=owner, staff=viewer".to_owned()),
        ],
    )
    .await;
    let left = invoke(&router, "GET", "/admin/signin/oidc", &[], None).await;
    assert_eq!(left.status, 303, "{}", left.body);
    let back = idp.sign_in(left.location.as_deref().expect("to the provider"), "alice").await;
    let signed_in = invoke(&router, "GET", &back, &left.cookies, None).await;
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/admin")), "{}", signed_in.body);
    let admin = invoke(&router, "GET", "/admin", &signed_in.cookies, None).await;
    assert!(
        admin.body.contains("<strong>staff:alice@corp.test</strong>, role <span class=\"badge\">owner</span>"),
        "{}",
        admin.body
    );

    // The attempt was spent by a conditional write in DynamoDB: the same return opens nothing.
    let replayed = invoke(&router, "GET", &back, &left.cookies, None).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert!(replayed.body.contains("(Reason: replayed-state.)"), "{}", replayed.body);
}
