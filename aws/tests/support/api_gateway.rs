//! One API Gateway (HTTP API, v2) event through lambda_http's adapter into a router, as the
//! Lambda runtime would hand it over: the tests' way into the deployed handler without a
//! deployment.

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::Adapter;
use serde_json::{json, Value};

/// `target` is the path with an optional `?query`; the answer is the v2 response as JSON
/// (`statusCode`, `headers`, `cookies`, `body`).
pub async fn invoke(
    router: &axum::Router,
    method: &str,
    target: &str,
    headers: Value,
    cookies: &[String],
    body: Option<String>,
) -> Value {
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
    serde_json::to_value(&response).expect("response JSON")
}
