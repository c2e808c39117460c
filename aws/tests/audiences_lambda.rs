//! The audience enumeration on AWS: every portal page and admin route, as five kinds of
//! visitor, through API Gateway (HTTP API, v2) events, lambda_http and the admin router over
//! DynamoDB on moto (the walk itself: `admin-fn/tests/common/audience_walk.rs`).

#[path = "../../admin-fn/tests/common/audience_walk.rs"]
mod audience_walk;
mod support;

use std::path::{Path, PathBuf};

use audience_walk::{walk, Page, Site};
use serde_json::{json, Value};
use support::api_gateway::{self, ADMIN_TOKEN, PORTAL_URL};

struct OnLambda {
    router: axum::Router,
    outbox: PathBuf,
}

impl OnLambda {
    async fn start(outbox: &Path) -> OnLambda {
        let router = api_gateway::router(outbox, &[]).await;
        OnLambda { router, outbox: outbox.to_path_buf() }
    }
}

fn base_headers() -> Value {
    json!({"host": "developer.example.com", "x-forwarded-proto": "https"})
}

impl Site for OnLambda {
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut headers = base_headers();
        headers["authorization"] = json!(format!("Bearer {ADMIN_TOKEN}"));
        if body.is_some() {
            headers["content-type"] = json!("application/json");
        }
        let answer = api_gateway::invoke(&self.router, method, path, headers, &[], body.map(|b| b.to_string())).await;
        let value =
            if answer.body.is_empty() { Value::Null } else { serde_json::from_str(&answer.body).expect("JSON") };
        (answer.status, value)
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
        let cookies: Vec<String> = cookies.split("; ").filter(|c| !c.is_empty()).map(str::to_owned).collect();
        let answer = api_gateway::invoke(&self.router, method, path, headers, &cookies, body).await;
        Page { status: answer.status, body: answer.body, location: answer.location, cookies: answer.cookies }
    }

    fn outbox(&self) -> &Path {
        &self.outbox
    }

    fn public_url(&self) -> &str {
        PORTAL_URL
    }

    fn owner_token(&self) -> &str {
        ADMIN_TOKEN
    }
}

#[tokio::test]
async fn nothing_of_an_api_outside_a_visitors_audience_leaks_through_the_lambda_on_dynamodb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let site = OnLambda::start(dir.path()).await;
    let checked = walk(&site).await;
    println!("audiences on Lambda and DynamoDB: {checked} (visitor, page or route) pairs checked");
}
