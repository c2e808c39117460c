#![allow(clippy::unwrap_used)]

use gatehouse_core::model::{Discriminator, DiscriminatorPlace, Operation};
use serde_json::json;

use super::*;

fn operation(method: &str, path: &str) -> Operation {
    serde_json::from_value(json!({"id": "op", "method": method, "path": path})).unwrap()
}

fn doc(item: serde_json::Value) -> Value {
    json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/pets/{petId}/photos/{name}.jpg": item},
        "components": {"parameters": {"limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}}},
            "examples": {"rex": {"value": {"name": "Rex", "tags": ["a b"]}}}}})
}

#[test]
fn parameters_are_filled_from_their_examples_and_the_operation_overrides_the_path_item() {
    let d = doc(json!({
        "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}, "example": "wrong"},
            {"name": "name", "in": "path", "required": true, "examples": {"first": {"value": "my pic/1"}}}],
        "post": {"parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer", "example": 7}},
            {"$ref": "#/components/parameters/limit"},
            {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "example": ["x", "y"]},
            {"name": "nothing", "in": "query", "schema": {"type": "string"}},
            {"name": "X-Trace", "in": "header", "schema": {"type": "string", "enum": ["t1", "t2"]}}],
            "requestBody": {"required": true, "content": {"application/xml": {"example": "<pet/>"},
                "application/json": {"examples": {"rex": {"$ref": "#/components/examples/rex"}}}}},
            "responses": {"201": {"description": "made"}}}
    }));
    let call = call(&d, &operation("POST", "/pets/{petId}/photos/{name}.jpg")).unwrap();
    assert_eq!(call.path, "/pets/7/photos/my%20pic%2F1.jpg");
    assert_eq!(call.line(), "POST /pets/7/photos/my%20pic%2F1.jpg?limit=20&tag=x&tag=y");
    assert_eq!(call.headers, vec![("X-Trace".to_string(), "t1".to_string())], "no response describes content");
    let (media, bytes) = call.body.unwrap();
    assert_eq!(media, "application/json", "JSON is preferred over the first media type");
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), json!({"name": "Rex", "tags": ["a b"]}));
}

#[test]
fn an_operation_without_examples_for_what_it_requires_is_skipped_with_the_reason() {
    let d = doc(
        json!({"get": {"parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "name", "in": "path", "required": true, "example": "a"}], "responses": {}}}),
    );
    let why = call(&d, &operation("GET", "/pets/{petId}/photos/{name}.jpg")).unwrap_err();
    assert_eq!(why, "no example for the required path parameter \"petId\"");

    let d = doc(
        json!({"put": {"parameters": [{"name": "petId", "in": "path", "example": 1}, {"name": "name", "in": "path", "example": "a"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}},
            "multipart/form-data": {"example": {"file": "x"}}}}, "responses": {}}}),
    );
    let why = call(&d, &operation("PUT", "/pets/{petId}/photos/{name}.jpg")).unwrap_err();
    assert_eq!(
        why,
        "no example that can be sent for the required request body (application/json, multipart/form-data)"
    );

    let d = doc(
        json!({"get": {"parameters": [{"name": "petId", "in": "path", "example": {"a": 1}}, {"name": "name", "in": "path", "example": "a"}]}}),
    );
    let why = call(&d, &operation("GET", "/pets/{petId}/photos/{name}.jpg")).unwrap_err();
    assert_eq!(why, "the example of path parameter \"petId\" is an object");
    assert_eq!(
        call(&d, &operation("DELETE", "/pets/{petId}/photos/{name}.jpg")).unwrap_err(),
        "the operation is not in the document"
    );
}

#[test]
fn an_optional_body_without_an_example_is_not_sent_and_a_form_is_encoded() {
    let item = json!({"get": {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
        "post": {"requestBody": {"content": {"application/x-www-form-urlencoded": {"example": {"a": "1 2", "b": [true, 3]}}}}}});
    let d = json!({"openapi": "3.1.0", "paths": {"/things?action=start": item}});
    let mut op = operation("GET", "/things?action=start");
    op.discriminators =
        vec![Discriminator { place: DiscriminatorPlace::Query, name: "action".into(), value: Some("start".into()) }];
    let got = call(&d, &op).unwrap();
    assert_eq!((got.line(), got.body), ("GET /things?action=start".to_string(), None));
    op.method = "POST".into();
    let (media, bytes) = call(&d, &op).unwrap().body.unwrap();
    assert_eq!(
        (media.as_str(), String::from_utf8(bytes).unwrap().as_str()),
        ("application/x-www-form-urlencoded", "a=1+2&b=true&b=3")
    );
}

#[test]
fn accept_lists_the_described_response_types() {
    let item = json!({"get": {"responses": {"200": {"content": {"application/json": {}, "text/csv": {}}},
        "404": {"$ref": "#/components/responses/Problem"}}}});
    let d = json!({"openapi": "3.0.3", "paths": {"/r": item},
        "components": {"responses": {"Problem": {"content": {"application/problem+json": {}, "application/json": {}}}}}});
    let got = call(&d, &operation("GET", "/r")).unwrap();
    assert_eq!(
        got.headers,
        vec![("accept".to_string(), "application/json, text/csv, application/problem+json".to_string())]
    );
}
