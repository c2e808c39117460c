//! The admin Lambda as API Gateway (HTTP API, v2) reaches it: its router over fresh DynamoDB
//! tables, and one event through lambda_http's adapter, as the Lambda runtime would hand it
//! over: the tests' way into the deployed handler without a deployment.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use gatehouse_admin::OutboxMailer;
use gatehouse_aws::config::names;
use gatehouse_aws::{lambda, Config};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::Adapter;
use serde_json::{json, Value};

/// The owner's admin token the router is configured with.
pub const ADMIN_TOKEN: &str = "fixture-admin-token";
/// The portal's public URL the router is configured with (its mail's links start with it).
pub const PORTAL_URL: &str = "https://developer.example.com";

/// The admin Lambda's router (portal included) over fresh tables, its mail written to
/// `outbox`, with the environment's `extra` settings on top of the defaults.
pub async fn router(outbox: &Path, extra: &[(&'static str, String)]) -> axum::Router {
    let (client, tables) = (super::client(), super::tables());
    gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
    let mut env = HashMap::from([
        (names::CATALOG_TABLE, tables.catalog),
        (names::USAGE_TABLE, tables.usage),
        (names::ADMIN_TOKENS, ADMIN_TOKEN.to_owned()),
        (names::PORTAL_URL, PORTAL_URL.to_owned()),
        (names::GATEWAY_URL, "https://api.example.com".to_owned()),
    ]);
    env.extend(extra.iter().cloned());
    let config = Config::from_lookup(|n| env.get(n).cloned()).expect("config");
    let mailer = OutboxMailer::new(outbox.to_path_buf(), "Portal <portal@example.com>").expect("outbox");
    lambda::app_with_mailer(config, client, Some(Arc::new(mailer))).expect("app")
}

/// What a browser (or the admin CLI) got back through API Gateway.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// `name=value` of each cookie set.
    pub cookies: Vec<String>,
    pub location: Option<String>,
}

/// `target` is the path with an optional `?query`; `cookies` as a browser sends them.
pub async fn invoke(
    router: &axum::Router,
    method: &str,
    target: &str,
    headers: Value,
    cookies: &[String],
    body: Option<String>,
) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "cookies": cookies, "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "r3pmxmplak", "domainName": "developer.example.com",
            "domainPrefix": "developer", "requestId": "id", "routeKey": "$default", "stage": "$default",
            "time": "06/Dec/2026:08:30:00 +0000", "timeEpoch": 1_796_545_800_000_i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"}
        },
        "body": body, "isBase64Encoded": false
    });
    let request: LambdaRequest = serde_json::from_value(event).expect("an API Gateway v2 event");
    let response =
        Adapter::from(router.clone()).oneshot(LambdaEvent::new(request, Context::default())).await.expect("handled");
    let response = serde_json::to_value(&response).expect("response JSON");
    Answer {
        status: response["statusCode"].as_u64().expect("status") as u16,
        body: response["body"].as_str().unwrap_or_default().to_owned(),
        cookies: response["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str())
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
            .collect(),
        location: response["headers"]["location"].as_str().map(str::to_owned),
    }
}
