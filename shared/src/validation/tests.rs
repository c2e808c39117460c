use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use super::*;
use crate::model::Api;

/// An OpenAPI 3.0 document with every kind of parameter, a body reaching a component by
/// `$ref`, and a nullable field.
fn orders_doc() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Orders", "version": "1"},
        "paths": {
            "/orders/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
                "put": {
                    "operationId": "putOrder",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[a-f0-9]{8}$"}},
                        {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}}
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}}
                },
                "get": {"operationId": "getOrder", "responses": {"200": {"description": "ok"}}}
            },
            "/files/{name}.json": {
                "get": {"operationId": "getFile", "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 5}}], "responses": {"200": {"description": "ok"}}}
            }
        },
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}},
            "schemas": {
                "Order": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                        "note": {"type": "string", "nullable": true},
                        "gift": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Item"}]}
                    }
                },
                "Item": {"type": "object", "required": ["price"], "properties": {"price": {"type": "number", "minimum": 0}}}
            }
        }
    })
}

fn api(doc: Value, validation: Value) -> Api {
    let mut api: Api = serde_json::from_value(json!({
        "id": "api_orders", "name": "Orders", "version": "1", "base_path": "/shop",
        "upstream": {"url": "http://127.0.0.1:1"}, "lifecycle": {"state": "published", "published_at": "2026-01-01T00:00:00Z"},
        "operations": [
            {"id": "putOrder", "method": "PUT", "path": "/orders/{id}"},
            {"id": "getOrder", "method": "GET", "path": "/orders/{id}"},
            {"id": "getFile", "method": "GET", "path": "/files/{name}.json"}
        ],
        "openapi": doc, "validation": validation,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    }))
    .expect("an API record");
    prepare(&mut api).expect("the document reads as schemas");
    api
}

fn validator(api: &Api, id: &str) -> Arc<OperationValidator> {
    let operation = api.operations.iter().find(|op| op.id == id).expect("operation");
    Arc::clone(operation.validator.as_ref().expect("validation on for the operation"))
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

fn pointers(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.pointer.as_str()).collect()
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn a_request_that_matches_its_description_passes() {
    let api = api(orders_doc(), json!({"requests": true}));
    let v = validator(&api, "putOrder");
    let body = br#"{"items": [{"price": 2.5}], "note": null, "gift": null}"#;
    let sent = headers(&[JSON, ("x-trace", "0123abcd")]);
    let found =
        v.check_request("/orders/{id}", "/orders/7", Some("limit=10&tags=1&tags=2"), &sent, SentBody::Bytes(body));
    assert_eq!(found, vec![], "nullable (3.0) lets null through, numbers are read from text");
}

#[test]
fn every_error_is_listed_with_its_json_pointer() {
    let api = api(orders_doc(), json!({"requests": true}));
    let v = validator(&api, "putOrder");
    let body = br#"{"items": [{"price": -1}, {}], "gift": {"price": "x"}}"#;
    let sent = headers(&[JSON, ("x-trace", "not-hex!")]);
    let found =
        v.check_request("/orders/{id}", "/orders/0", Some("limit=500&tags=1&tags=x"), &sent, SentBody::Bytes(body));
    let mut got = pointers(&found);
    got.sort_unstable();
    assert_eq!(
        got,
        vec![
            "/body/gift",
            "/body/items/0/price",
            "/body/items/1",
            "/header/X-Trace",
            "/path/id",
            "/query/limit",
            "/query/tags/1"
        ]
    );
    assert!(
        found.iter().all(|v| !v.detail.contains("500") && !v.detail.contains("not-hex")),
        "no value is echoed: {found:?}"
    );
}

#[test]
fn missing_required_parameters_and_body_are_named() {
    let api = api(orders_doc(), json!({"requests": true}));
    let v = validator(&api, "putOrder");
    let found = v.check_request("/orders/{id}", "/orders/3", None, &HeaderMap::new(), SentBody::None);
    assert_eq!(pointers(&found), vec!["/header/X-Trace", "/body"]);
}

#[test]
fn a_body_that_is_not_json_or_of_an_undescribed_type_is_refused() {
    let api = api(orders_doc(), json!({"requests": true}));
    let v = validator(&api, "putOrder");
    let sent = headers(&[JSON, ("x-trace", "0123abcd")]);
    let found = v.check_request("/orders/{id}", "/orders/3", None, &sent, SentBody::Bytes(b"{\"items\": ["));
    assert_eq!(pointers(&found), vec!["/body"]);
    assert!(found[0].detail.contains("not valid JSON"), "{found:?}");
    let text = headers(&[("content-type", "text/plain"), ("x-trace", "0123abcd")]);
    assert!(!v.reads_body(&text), "a type the operation does not describe as JSON is not read");
    let found = v.check_request("/orders/{id}", "/orders/3", None, &text, SentBody::Unread);
    assert_eq!(pointers(&found), vec!["/header/Content-Type"]);
}

#[test]
fn a_variable_beside_literal_text_is_captured_and_checked() {
    let api = api(orders_doc(), json!({"requests": true}));
    let v = validator(&api, "getFile");
    let none = HeaderMap::new();
    assert_eq!(v.check_request("/files/{name}.json", "/files/abc.json", None, &none, SentBody::None), vec![]);
    let found = v.check_request("/files/{name}.json", "/files/abcdefgh.json", None, &none, SentBody::None);
    assert_eq!(pointers(&found), vec!["/path/name"]);
    assert_eq!(params::path_value("/files/{name}.json", "/files/a%20b.json", "name").as_deref(), Some("a b"));
}

#[test]
fn operations_follow_their_override_and_the_api_default_is_off() {
    let off = api(orders_doc(), json!({}));
    assert!(off.operations.iter().all(|op| op.validator.is_none()), "nothing is prepared when validation is off");
    let some = api(orders_doc(), json!({"requests": false, "operations": {"getFile": {"requests": true}}}));
    let checked: Vec<&str> =
        some.operations.iter().filter(|op| op.validator.is_some()).map(|op| op.id.as_str()).collect();
    assert_eq!(checked, vec!["getFile"]);
    let most = api(orders_doc(), json!({"requests": true, "operations": {"getFile": {"requests": false}}}));
    assert!(
        most.validation.for_operation("getFile") == Effective { requests: false, responses: ResponseValidation::Off }
    );
    assert!(most.validation.for_operation("putOrder").requests);
}

#[test]
fn unknown_override_ids_are_reported() {
    let api = api(orders_doc(), json!({"operations": {"putOrdr": {"requests": true}}}));
    assert_eq!(api.validation.unknown_operations(&api.operations), vec!["putOrdr"]);
}

#[test]
fn a_response_mismatch_is_reported_by_pointer_only() {
    let api = api(orders_doc(), json!({"responses": "log"}));
    let v = validator(&api, "putOrder");
    assert!(!v.checks.requests);
    let bad = br#"{"items": [{"price": "secret-value"}]}"#;
    assert_eq!(v.check_response(200, Some("application/json"), bad), vec!["/body/items/0/price"]);
    assert_eq!(v.check_response(200, Some("application/json"), br#"{"items": []}"#), Vec::<String>::new());
    assert_eq!(v.check_response(500, Some("application/json"), bad), Vec::<String>::new(), "undescribed status");
}

#[test]
fn openapi_3_1_schemas_are_json_schema_2020_12() {
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {"/things": {"post": {
            "operationId": "make",
            "parameters": [{"name": "page", "in": "query", "schema": {"type": ["integer", "null"], "exclusiveMinimum": 0}}],
            "requestBody": {"content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
            "responses": {"201": {"description": "made"}}
        }}},
        "components": {"schemas": {"Thing": {"type": "object", "properties": {"size": {"const": 3}}, "additionalProperties": false}}}
    });
    let mut api = api(orders_doc(), json!({}));
    api.openapi = doc;
    api.operations = vec![crate::model::Operation {
        id: "make".into(),
        method: "POST".into(),
        path: "/things".into(),
        ..Default::default()
    }];
    api.validation.requests = true;
    prepare(&mut api).expect("prepared");
    let v = validator(&api, "make");
    let sent = headers(&[("content-type", "application/merge-patch+json; charset=utf-8")]);
    assert!(v.reads_body(&sent));
    let ok = v.check_request("/things", "/things", Some("page=2"), &sent, SentBody::Bytes(br#"{"size": 3}"#));
    assert_eq!(ok, vec![]);
    let found =
        v.check_request("/things", "/things", Some("page=0"), &sent, SentBody::Bytes(br#"{"size": 4, "x": 1}"#));
    let mut got = pointers(&found);
    got.sort_unstable();
    assert_eq!(got, vec!["/body", "/body/size", "/query/page"]);
}

#[test]
fn the_refusal_is_problem_json_with_every_error() {
    let violations = vec![
        Violation { pointer: "/query/limit".into(), detail: "too big".into() },
        Violation { pointer: "/body/items/0/price".into(), detail: "negative".into() },
    ];
    let response = refusal(&violations);
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = serde_json::from_slice(response.body()).expect("json");
    assert_eq!(body["type"], "https://gatehouse.dev/problems/invalid-request");
    assert_eq!(body["outcome"], "invalid_request");
    assert_eq!(body["errors"][1]["pointer"], "/body/items/0/price");
    assert_eq!(body["errors"][0]["detail"], "too big");
}

#[test]
fn a_schema_the_crate_cannot_compile_is_noted_not_fatal() {
    let mut doc = orders_doc();
    doc["components"]["schemas"]["Item"]["properties"]["price"] = json!({"type": "string", "pattern": "(unclosed"});
    let api = api(doc, json!({"requests": true}));
    let notes = compile_all(&api);
    assert!(!notes.is_empty(), "the bad pattern is reported");
    assert!(notes.iter().all(|(op, _, _)| op == "putOrder"));
}
