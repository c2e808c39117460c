//! `POST /v1/apis/lint`: the same findings as `gatehouse lint`, from JSON or YAML, with nothing
//! stored; only text that is not a document is refused.

mod common;

use common::{assert_problem, Harness};
use serde_json::json;

const YAML: &str = "openapi: 3.1.0
info: { title: Pets, version: '1' }
paths:
  /pets:
    get:
      operationId: list_pets
      responses: { '200': { description: ok } }
  /pets/{id}:
    get:
      operationId: getPet
      summary: One pet
      security: []
      responses: { '200': { description: ok }, '404': { description: none } }
";

#[tokio::test]
async fn a_yaml_document_is_linted_with_rule_ids_severities_and_pointers_and_nothing_is_stored() {
    let h = Harness::new();
    let reply = h.call("POST", "/v1/apis/lint", Some(json!({ "openapi": YAML }))).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let found: Vec<(String, String, String)> = reply.body["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (common::text(&f["rule"]), common::text(&f["severity"]), common::text(&f["pointer"])))
        .collect();
    let row = |rule: &str, severity: &str, pointer: &str| (rule.to_owned(), severity.to_owned(), pointer.to_owned());
    assert_eq!(
        found,
        vec![
            row("operation-security", "error", "/paths/~1pets/get"),
            row("operation-summary", "warning", "/paths/~1pets/get"),
            row("operation-error-response", "warning", "/paths/~1pets/get/responses"),
            row("operation-public", "warning", "/paths/~1pets~1{id}/get/security"),
            // A tie between styles goes to the one seen first: list_pets.
            row("naming-operation-id", "warning", "/paths/~1pets~1{id}/get/operationId"),
        ]
    );
    assert_eq!(
        (&reply.body["errors"], &reply.body["warnings"], &reply.body["infos"]),
        (&json!(1), &json!(4), &json!(0))
    );
    assert_eq!(h.call("GET", "/v1/apis", None).await.body["items"], json!([]));
    assert!(h.publisher.changes().is_empty());
}

#[tokio::test]
async fn an_inline_swagger_2_document_is_converted_before_it_is_linted() {
    let h = Harness::new();
    let doc = json!({ "swagger": "2.0", "info": { "title": "P", "version": "1" },
        "security": [{ "key": [] }], "securityDefinitions": { "key": { "type": "apiKey", "in": "header", "name": "k" } },
        "paths": { "/pets": { "get": { "operationId": "listPets", "summary": "Pets",
            "responses": { "200": { "description": "ok" }, "default": { "description": "failed" } } } } } });
    let reply = h.call("POST", "/v1/apis/lint", Some(json!({ "openapi": doc }))).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["converted_from_swagger2"], true);
    assert_eq!(reply.body["findings"], json!([]));
}

#[tokio::test]
async fn text_that_is_not_a_document_gets_422_naming_the_parse_error() {
    let h = Harness::new();
    let reply = h.call("POST", "/v1/apis/lint", Some(json!({ "openapi": "{ not json" }))).await;
    assert_problem(&reply, 422, "invalid-openapi");
    let message = common::text(&reply.body["errors"][0]["message"]);
    assert!(message.starts_with("invalid JSON"), "{message}");
    let unknown = h.call("POST", "/v1/apis/lint", Some(json!({ "openapi": YAML, "extra": 1 }))).await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
}

#[tokio::test]
async fn the_served_document_describes_the_lint_operation() {
    let h = Harness::new();
    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let op = &doc["paths"]["/v1/apis/lint"]["post"];
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LintReport"
    );
    assert!(doc["components"]["schemas"]["Finding"]["properties"]["severity"].is_object());
}

/// Gatehouse holds its own admin API to its rules: no error; every operation has an id, a
/// summary and consistently named ids and paths; the only public operations are the three
/// meant to be (health, this document, signed usage ingest).
#[tokio::test]
async fn the_admin_apis_own_document_passes_the_rules_it_is_meant_to() {
    let h = Harness::new();
    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let reply = h.call("POST", "/v1/apis/lint", Some(json!({ "openapi": doc }))).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["errors"], 0, "{:#?}", reply.body);
    let findings = reply.body["findings"].as_array().expect("findings");
    let of = |rule: &str| -> Vec<String> {
        findings.iter().filter(|f| f["rule"] == rule).map(|f| common::text(&f["pointer"])).collect()
    };
    for rule in ["operation-id", "operation-summary", "naming-operation-id", "naming-path-segment"] {
        assert_eq!(of(rule), Vec::<String>::new(), "{rule}");
    }
    let public = [
        "/paths/~1v1~1health/get/security",
        "/paths/~1v1~1openapi.json/get/security",
        "/paths/~1v1~1usage~1batches/post/security",
    ];
    assert_eq!(of("operation-public"), public);
}
