//! The audience enumeration on AWS: every portal page and admin route, as five kinds of
//! visitor, through API Gateway (HTTP API, v2) events, lambda_http and the admin router over
//! DynamoDB on moto (the walk itself: `admin-fn/tests/common/audience_walk.rs`).

#[path = "../../admin-fn/tests/common/audience_walk.rs"]
mod audience_walk;
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use audience_walk::{walk, Page, Site};
use gatehouse_admin::OutboxMailer;
use gatehouse_aws::config::names;
use gatehouse_aws::{lambda, Config};
use serde_json::{json, Value};

const ADMIN: &str = "fixture-admin-token";
const PORTAL: &str = "https://developer.example.com";

struct OnLambda {
    router: axum::Router,
    outbox: PathBuf,
}

impl OnLambda {
    async fn start(outbox: &Path) -> OnLambda {
        let (client, tables) = (support::client(), support::tables());
        gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
        let env = HashMap::from([
            (names::CATALOG_TABLE, tables.catalog),
            (names::USAGE_TABLE, tables.usage),
            (names::ADMIN_TOKENS, ADMIN.to_owned()),
            (names::PORTAL_URL, PORTAL.to_owned()),
            (names::GATEWAY_URL, "https://api.example.com".to_owned()),
        ]);
        let config = Config::from_lookup(|n| env.get(n).cloned()).expect("config");
        let mailer = OutboxMailer::new(outbox.to_path_buf(), "Portal <portal@example.com>").expect("outbox");
        let router = lambda::app_with_mailer(config, client, Some(Arc::new(mailer))).expect("app");
        OnLambda { router, outbox: outbox.to_path_buf() }
    }

    async fn invoke(
        &self,
        method: &str,
        path: &str,
        headers: Value,
        cookies: Vec<String>,
        body: Option<String>,
    ) -> Value {
        support::api_gateway::invoke(&self.router, method, path, headers, &cookies, body).await
    }
}

fn base_headers() -> Value {
    json!({"host": "developer.example.com", "x-forwarded-proto": "https"})
}

impl Site for OnLambda {
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut headers = base_headers();
        headers["authorization"] = json!(format!("Bearer {ADMIN}"));
        if body.is_some() {
            headers["content-type"] = json!("application/json");
        }
        let response = self.invoke(method, path, headers, vec![], body.map(|b| b.to_string())).await;
        let text = response["body"].as_str().unwrap_or_default();
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(text).expect("JSON") };
        (response["statusCode"].as_u64().expect("status") as u16, value)
    }

    async fn browse(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Page {
        let mut headers = base_headers();
        headers["accept"] = json!("text/html");
        let body = (method == "POST").then(|| {
            headers["content-type"] = json!("application/x-www-form-urlencoded");
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            encoded.extend_pairs(form.iter().copied());
            encoded.finish()
        });
        let cookies = cookies.split("; ").filter(|c| !c.is_empty()).map(str::to_owned).collect();
        let response = self.invoke(method, path, headers, cookies, body).await;
        Page {
            status: response["statusCode"].as_u64().expect("status") as u16,
            body: response["body"].as_str().unwrap_or_default().to_owned(),
            location: response["headers"]["location"].as_str().map(str::to_owned),
            cookies: response["cookies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .map(|c| c.split(';').next().unwrap_or_default().to_owned())
                .collect(),
        }
    }

    fn outbox(&self) -> &Path {
        &self.outbox
    }

    fn public_url(&self) -> &str {
        PORTAL
    }

    fn owner_token(&self) -> &str {
        ADMIN
    }
}

#[tokio::test]
async fn nothing_of_an_api_outside_a_visitors_audience_leaks_through_the_lambda_on_dynamodb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let site = OnLambda::start(dir.path()).await;
    let checked = walk(&site).await;
    println!("audiences on Lambda and DynamoDB: {checked} (visitor, page or route) pairs checked");
}
