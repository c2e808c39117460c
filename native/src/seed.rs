//! Seeding the demo on first run: an API over the demo upstream, a product, a plan with a
//! burst limit and a daily quota, a developer, an app, a subscription and a key. It goes
//! through the admin API router itself, so the demo is built by the same validated path as
//! anything a user creates.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::cli::CliError;
use crate::secrets::{write_private, DEMO_KEY_FILE};

/// Seeds the demo when the store has no API yet; returns the demo key (new, or from the data
/// dir on later runs).
pub async fn demo(
    admin: &Router,
    token: &str,
    data_dir: &Path,
    upstream: SocketAddr,
) -> Result<Option<String>, CliError> {
    let call = Caller { admin, token };
    let existing = call.json("GET", "/v1/apis", Value::Null).await?;
    let key_file = data_dir.join(DEMO_KEY_FILE);
    if existing["items"].as_array().is_some_and(|a| !a.is_empty()) {
        return Ok(std::fs::read_to_string(key_file).ok().map(|k| k.trim().to_string()));
    }
    let api = call
        .json(
            "POST",
            "/v1/apis",
            json!({
                "openapi": crate::demo::OPENAPI, "base_path": "/demo",
                "upstream": { "url": format!("http://{upstream}") }, "cache": { "enabled": true }
            }),
        )
        .await?;
    let api_id = &api["id"];
    call.json("POST", &format!("/v1/apis/{}/lifecycle", text(api_id)), json!({ "action": "publish" })).await?;
    let product = call.json("POST", "/v1/products", json!({ "name": "Demo", "items": [{ "api_id": api_id }] })).await?;
    let limits = json!([
        { "name": "burst", "scope": "app", "type": "rate", "limit": 10, "period_secs": 1, "burst": 20 },
        { "name": "daily", "scope": "app", "type": "quota", "limit": 10000, "window": "day" }
    ]);
    let plan = call
        .json("POST", "/v1/plans", json!({ "name": "Demo free", "product_id": product["id"], "limits": limits }))
        .await?;
    let dev =
        call.json("POST", "/v1/developers", json!({ "email": "demo@example.com", "name": "Demo Developer" })).await?;
    let app = call.json("POST", "/v1/apps", json!({ "developer_id": dev["id"], "name": "Demo app" })).await?;
    let app_id = text(&app["id"]);
    call.json(
        "POST",
        &format!("/v1/apps/{app_id}/subscriptions"),
        json!({ "product_id": product["id"], "plan_id": plan["id"] }),
    )
    .await?;
    let key = call.json("POST", &format!("/v1/apps/{app_id}/keys"), json!({ "name": "demo" })).await?;
    let secret = text(&key["secret"]);
    write_private(&key_file, &secret)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", key_file.display())))?;
    tracing::info!(api = %text(api_id), app = %app_id, "seeded the demo API; its key is in the data dir");
    Ok(Some(secret))
}

struct Caller<'a> {
    admin: &'a Router,
    token: &'a str,
}

impl Caller<'_> {
    async fn json(&self, method: &str, path: &str, body: Value) -> Result<Value, CliError> {
        let body = if body.is_null() { Bytes::new() } else { Bytes::from(body.to_string()) };
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .map_err(|e| CliError::Usage(format!("seed request: {e}")))?;
        let response = self.admin.clone().oneshot(request).await.map_err(|e| CliError::Usage(format!("seed: {e}")))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| CliError::Usage(format!("seed: {e}")))?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(CliError::Usage(format!("seeding the demo failed at {method} {path}: {value}")));
        }
        Ok(value)
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}
