#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn pets(version: &str) -> Value {
    json!({"openapi": version, "info": {"title": "Pets", "version": "1"},
        "paths": {"/pets/{id}": {"get": {"responses": {
            "200": {"description": "one", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
            "4XX": {"description": "refused", "content": {"application/problem+json": {"schema": {"type": "object", "required": ["title"]}}}},
            "204": {"description": "nothing"}}}}},
        "components": {"schemas": {"Pet": {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "integer", "minimum": 1, "exclusiveMinimum": version.starts_with("3.0")},
            "name": {"type": "string", "nullable": true},
            "born": {"type": "string", "format": "date"},
            "parent": {"$ref": "#/components/schemas/Pet"}}}}}})
}

fn problems(doc: &Value, status: u16, content_type: Option<&str>, body: &str) -> Vec<String> {
    let mut checker = Checker::new(doc);
    checker.problems("/pets/{id}", "GET", &Answer { status, content_type, body: body.as_bytes() }, false)
}

#[test]
fn a_conforming_answer_passes_with_refs_cycles_and_nullable() {
    let doc = pets("3.0.3");
    let body = r#"{"id": 2, "name": null, "born": "2020-02-29", "parent": {"id": 3, "name": "Ma"}}"#;
    assert_eq!(problems(&doc, 200, Some("application/json; charset=utf-8"), body), Vec::<String>::new());
    assert_eq!(problems(&doc, 404, Some("application/problem+json"), r#"{"title": "no"}"#), Vec::<String>::new());
    assert_eq!(problems(&doc, 204, None, ""), Vec::<String>::new());
}

#[test]
fn each_way_of_breaking_the_contract_is_named() {
    let doc = pets("3.0.3");
    assert_eq!(problems(&doc, 500, None, ""), ["status 500 is not documented (documented: 200, 4XX, 204)"]);
    assert_eq!(
        problems(&doc, 200, Some("text/html"), "<p>"),
        ["Content-Type text/html is not described (application/json)"]
    );
    assert!(problems(&doc, 200, Some("application/json"), "{")[0].starts_with("the body is not JSON"));
    let wrong = problems(
        &doc,
        200,
        Some("application/json"),
        r#"{"id": 1, "born": "soon", "parent": {"id": "x", "name": "a"}}"#,
    );
    assert_eq!(wrong.len(), 4, "{wrong:?}");
    assert!(
        wrong.iter().any(|p| p.starts_with("body: ") && p.contains("\"name\" is a required property")),
        "{wrong:?}"
    );
    assert!(wrong.iter().any(|p| p.starts_with("body at /id: ")), "3.0's exclusiveMinimum: true excludes 1: {wrong:?}");
    assert!(wrong.iter().any(|p| p.starts_with("body at /born: ")), "formats are checked: {wrong:?}");
    assert!(wrong.iter().any(|p| p.starts_with("body at /parent/id: ")), "{wrong:?}");
}

#[test]
fn openapi_3_1_schemas_are_read_as_json_schema_2020_12() {
    let mut doc = pets("3.1.0");
    doc["components"]["schemas"]["Pet"]["properties"]["name"] = json!({"type": ["string", "null"]});
    doc["components"]["schemas"]["Pet"]["properties"]["id"] = json!({"type": "integer", "exclusiveMinimum": 1});
    assert_eq!(problems(&doc, 200, Some("application/json"), r#"{"id": 2, "name": null}"#), Vec::<String>::new());
    assert_eq!(problems(&doc, 200, Some("application/json"), r#"{"id": 1, "name": null}"#).len(), 1);
}

#[test]
fn nullable_without_a_type_wraps_the_schema() {
    let mut doc = json!({"a": {"nullable": true, "allOf": [{"type": "string"}]}, "b": {"nullable": true, "enum": ["x"], "type": "string"}});
    normalise(&mut doc);
    assert_eq!(doc["a"], json!({"anyOf": [{"allOf": [{"type": "string"}]}, {"type": "null"}]}));
    assert_eq!(doc["b"], json!({"enum": ["x", null], "type": ["string", "null"]}));
}

#[test]
fn an_inline_response_schema_is_normalised_too() {
    let doc = json!({"openapi": "3.0.3", "paths": {"/n": {"get": {"responses": {"200": {"description": "ok",
        "content": {"application/json": {"schema": {"type": "object", "properties": {"a": {"type": "string", "nullable": true}}}}}}}}}}});
    let mut checker = Checker::new(&doc);
    let answer =
        |body: &'static str| Answer { status: 200, content_type: Some("application/json"), body: body.as_bytes() };
    assert_eq!(checker.problems("/n", "GET", &answer(r#"{"a": null}"#), false), Vec::<String>::new());
    assert_eq!(checker.problems("/n", "GET", &answer(r#"{"a": 1}"#), false).len(), 1);
    assert_eq!(checker.problems("/n", "HEAD", &answer(""), true), ["the operation is not in the document"]);
}
