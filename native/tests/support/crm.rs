//! The CRM API of the sensitive-data tests (`sensitive_data.rs`, `sensitive_expiry.rs`): a
//! document marking personal and financial data with `x-gatehouse-sensitivity`, a wiremock
//! upstream answering it (cacheable for 60 s), and apps subscribed with or without classes.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::Harness;

pub const CUSTOMERS: &str = r##"
openapi: 3.1.0
info: { title: Customers, version: "1" }
security: [ { key: [] } ]
paths:
  /customers/{id}:
    get:
      operationId: getCustomer
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
        - { name: ssn, in: query, schema: { type: string }, x-gatehouse-sensitivity: pii }
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Customer" } } } }
  /customers/{id}/salary:
    get: { operationId: getSalary, x-gatehouse-sensitivity: financial, responses: { "200": { description: ok } } }
  /customers/{id}/export:
    get:
      operationId: exportCustomer
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Customer" } } } }
  /directory:
    get:
      operationId: directory
      security: []
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Customer" } } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
  schemas:
    Customer:
      type: object
      properties:
        id: { type: string }
        name: { type: string }
        email: { type: string, x-gatehouse-sensitivity: pii }
        card: { type: string, x-gatehouse-sensitivity: { class: financial, mask: last4 } }
        referrals: { type: array, items: { $ref: "#/components/schemas/Customer" } }
"##;

pub fn ann() -> Value {
    json!({"id": "1", "name": "Ann", "email": "ann@example.com", "card": "4111111111111111",
           "referrals": [{"id": "2", "name": "Bob", "email": "bob@example.com"}]})
}

pub async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    let ok = |body: Value| {
        ResponseTemplate::new(200)
            .insert_header("cache-control", "max-age=60")
            .insert_header("etag", "\"v1\"")
            .set_body_json(body)
    };
    Mock::given(method("GET")).and(path("/customers/1")).respond_with(ok(ann())).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/customers/1/salary"))
        .respond_with(ok(json!({"salary": 1})))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/directory")).respond_with(ok(json!([ann()]))).mount(&server).await;
    let csv = ResponseTemplate::new(200).set_body_raw("id,email\n1,ann@example.com\n", "text/csv");
    Mock::given(method("GET")).and(path("/customers/1/export")).respond_with(csv).mount(&server).await;
    let broken =
        ResponseTemplate::new(200).set_body_raw(r#"{"id": "3", "email": "cy@example.com""#, "application/json");
    Mock::given(method("GET")).and(path("/customers/3")).respond_with(broken).mount(&server).await;
    server
}

/// A developer, an app subscribed under a plan of its own with `classes`, and a key; returns
/// (plan id, key).
pub async fn app_with_classes(h: &Harness, api_id: &str, email: &str, classes: Value) -> (String, String) {
    let (plan, key, _) = app_with_classes_and_id(h, api_id, email, classes).await;
    (plan, key)
}

/// [`app_with_classes`], with the app's id too.
pub async fn app_with_classes_and_id(
    h: &Harness,
    api_id: &str,
    email: &str,
    classes: Value,
) -> (String, String, String) {
    let product =
        h.admin_ok("POST", "/v1/products", json!({"name": format!("p-{email}"), "items": [{"api_id": api_id}]})).await;
    let plan = h
        .admin_ok(
            "POST",
            "/v1/plans",
            json!({"name": format!("plan-{email}"), "product_id": product["id"], "classes": classes}),
        )
        .await;
    let dev = h.admin_ok("POST", "/v1/developers", json!({"email": email, "name": email})).await;
    let app = h.admin_ok("POST", "/v1/apps", json!({"developer_id": dev["id"], "name": "app"})).await;
    let app_id = app["id"].as_str().unwrap();
    let subscription = json!({"product_id": product["id"], "plan_id": plan["id"]});
    h.admin_ok("POST", &format!("/v1/apps/{app_id}/subscriptions"), subscription).await;
    let created = h.admin_ok("POST", &format!("/v1/apps/{app_id}/keys"), json!({"name": "k"})).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    (plan["id"].as_str().unwrap().to_owned(), secret, app_id.to_owned())
}

pub async fn upstream_calls(up: &MockServer) -> usize {
    up.received_requests().await.unwrap().len()
}

/// The audit entries naming `target`, newest first, as `(action, actor, role, from, targets,
/// reason)`: what an auditor reads back through `GET /v1/audit`.
pub async fn audit_about(h: &Harness, target: &str) -> Vec<(String, String, String, String, Value, Value)> {
    let page = h.admin_ok("GET", &format!("/v1/audit?target={target}"), Value::Null).await;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                text(&e["action"]),
                text(&e["actor"]),
                text(&e["role"]),
                text(&e["from"]),
                e["targets"].clone(),
                e["reason"].clone(),
            )
        })
        .collect()
}

/// The name the harness's admin token acts under: `admin:` and the first hex digits of its
/// hash, never the token.
pub async fn admin_actor(h: &Harness) -> String {
    let page = h.admin_ok("GET", "/v1/audit?action=api.create", Value::Null).await;
    page["items"][0]["actor"].as_str().unwrap().to_owned()
}
