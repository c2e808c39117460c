use http::HeaderMap;
use serde_json::{json, Value};

use super::*;

/// A pet store whose `getPet` describes a 200 with named examples in two media types, a
/// 404 through a `$ref`d response, and a `default` error; `listPets` only a schema.
fn doc() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Pets", "version": "1"},
        "paths": {
            "/pets/{id}": {"get": {"operationId": "getPet", "responses": {
                "200": {"description": "a pet",
                    "headers": {"X-Rate": {"schema": {"type": "integer", "minimum": 5}}},
                    "content": {
                    "application/json": {"examples": {
                        "cat": {"value": {"id": 1, "name": "Tom"}},
                        "dog": {"$ref": "#/components/examples/dog"}
                    }},
                    "text/plain": {"example": "Tom the cat"}
                }},
                "404": {"$ref": "#/components/responses/NotFound"},
                "default": {"description": "error", "content": {"application/json": {"example": {"error": "boom"}}}}
            }}},
            "/pets": {"get": {"operationId": "listPets", "responses": {
                "200": {"description": "pets", "content": {"application/json": {"schema": {
                    "type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}},
                "204": {"description": "nothing"}
            }}}
        },
        "components": {
            "examples": {"dog": {"value": {"id": 2, "name": "Rex"}}},
            "responses": {"NotFound": {"description": "no such pet",
                "content": {"application/problem+json": {"example": {"title": "no such pet"}}}}},
            "schemas": {"Pet": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer", "format": "int64", "minimum": 1},
                "name": {"type": "string"},
                "born": {"type": "string", "format": "date"},
                "kind": {"enum": ["cat", "dog"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "secret": {"type": "string", "writeOnly": true},
                "parent": {"$ref": "#/components/schemas/Pet"}
            }}}
        }
    })
}

fn operation(path: &str) -> MockOperation {
    let doc = doc();
    compile(&doc, &doc["paths"][path]["get"])
}

fn call(op: &MockOperation, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(http::HeaderName::from_bytes(name.as_bytes()).expect("name"), value.parse().expect("value"));
    }
    let response = answer(op, &map);
    let content_type = response.headers().get("content-type").map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.body();
    let value = serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()));
    (response.status().as_u16(), content_type, value)
}

#[test]
fn the_first_2xx_and_its_first_named_example_answer_by_default() {
    let (status, content_type, body) = call(&operation("/pets/{id}"), &[]);
    assert_eq!((status, content_type.as_deref()), (200, Some("application/json")));
    assert_eq!(body, json!({"id": 1, "name": "Tom"}));
}

#[test]
fn prefer_example_names_an_example_even_through_a_ref() {
    let (status, _, body) = call(&operation("/pets/{id}"), &[("prefer", "example=dog")]);
    assert_eq!((status, body), (200, json!({"id": 2, "name": "Rex"})));
}

#[test]
fn prefer_code_picks_the_described_response_through_its_ref() {
    let (status, content_type, body) = call(&operation("/pets/{id}"), &[("prefer", "code=404")]);
    assert_eq!((status, content_type.as_deref()), (404, Some("application/problem+json")));
    assert_eq!(body, json!({"title": "no such pet"}));
}

#[test]
fn an_undescribed_code_falls_to_default_with_that_status() {
    let (status, _, body) = call(&operation("/pets/{id}"), &[("prefer", "code=503")]);
    assert_eq!((status, body), (503, json!({"error": "boom"})));
}

#[test]
fn an_undescribed_code_without_default_is_a_problem_naming_what_is_described() {
    let (status, content_type, body) = call(&operation("/pets"), &[("prefer", "code=418, example=x")]);
    assert_eq!((status, content_type.as_deref()), (400, Some("application/problem+json")));
    assert_eq!(body["type"], "https://gatehouse.dev/problems/mock-no-such-response");
    assert_eq!(body["described"], json!(["200", "204"]));
    let (status, _, body) = call(&operation("/pets"), &[("prefer", "code=teapot")]);
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().expect("detail").contains("teapot"), "{body}");
}

#[test]
fn an_unknown_example_name_is_a_problem_listing_the_names() {
    let (status, _, body) = call(&operation("/pets/{id}"), &[("prefer", "example=hamster")]);
    assert_eq!(status, 400);
    assert_eq!(body["examples"], json!(["cat", "dog"]));
}

#[test]
fn accept_chooses_among_described_media_types_and_text_is_sent_raw() {
    let op = operation("/pets/{id}");
    let (_, content_type, body) = call(&op, &[("accept", "text/plain")]);
    assert_eq!((content_type.as_deref(), body), (Some("text/plain"), json!("Tom the cat")));
    let (_, content_type, _) = call(&op, &[("accept", "application/json;q=0.5, text/*;q=0.9")]);
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    let (_, content_type, _) = call(&op, &[("accept", "*/*")]);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let (status, _, body) = call(&op, &[("accept", "image/png, text/plain;q=0")]);
    assert_eq!(status, 406);
    assert_eq!(body["described"], json!(["application/json", "text/plain"]));
}

#[test]
fn described_headers_and_vary_come_with_the_answer() {
    let mut map = HeaderMap::new();
    map.insert("prefer", "code=200".parse().expect("v"));
    let response = answer(&operation("/pets/{id}"), &map);
    assert_eq!(response.headers()["x-rate"], "5");
    assert_eq!(response.headers()["vary"], "Accept, Prefer");
    assert_eq!(response.headers()["preference-applied"], "code=200");
    map.insert("prefer", "code=200; example=dog".parse().expect("v"));
    assert_eq!(answer(&operation("/pets/{id}"), &map).headers()["preference-applied"], "code=200, example=dog");
    assert!(answer(&operation("/pets/{id}"), &HeaderMap::new()).headers().get("preference-applied").is_none());
}

#[test]
fn a_response_without_content_has_no_body() {
    let (status, content_type, body) = call(&operation("/pets"), &[("prefer", "code=204")]);
    assert_eq!((status, content_type, body), (204, None, json!("")));
}

#[test]
fn schema_values_follow_types_formats_enums_and_bounded_cycles() {
    let (status, _, body) = call(&operation("/pets"), &[]);
    assert_eq!(status, 200);
    let pet = json!({"id": 1, "name": "string", "born": "2026-01-01", "kind": "cat", "tags": ["string", "string"]});
    // `parent` is a cycle back to Pet: left out (not required); `secret` is write-only.
    assert_eq!(body, json!([pet]));
}

#[test]
fn a_required_cyclic_property_is_null_and_generation_ends() {
    let doc = json!({"components": {"schemas": {
        "Node": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
        "A": {"allOf": [{"$ref": "#/components/schemas/B"}, {"properties": {"a": {"type": "boolean"}}}]},
        "B": {"type": "object", "properties": {"b": {"type": ["null", "number"], "exclusiveMinimum": 2}}}
    }}});
    let node = generate(&doc, &json!({"$ref": "#/components/schemas/Node"}));
    assert_eq!(node, json!({"next": null}));
    let merged = generate(&doc, &json!({"$ref": "#/components/schemas/A"}));
    assert_eq!(merged, json!({"b": 3.0, "a": true}));
}

#[test]
fn deep_schemas_are_cut_at_the_depth_bound() {
    let mut schema = json!({"type": "string"});
    for _ in 0..40 {
        schema = json!({"type": "object", "properties": {"x": schema}});
    }
    let value = generate(&json!({}), &schema);
    let depth = std::iter::successors(Some(&value), |v| v.get("x")).count();
    assert!(depth <= 13, "{depth}");
}

#[test]
fn prefer_reads_quoted_values_semicolons_and_several_fields() {
    let p = Preference::read(["code=\"404\"; example=gone", "respond-async, wait=5"]);
    assert_eq!(p, Preference { code: Some("404".into()), example: Some("gone".into()) });
    assert_eq!(Preference::read(["handling=lenient"]), Preference::default());
}

#[test]
fn prepare_compiles_only_mock_apis_and_finds_each_operation() {
    let mut api = crate::cache::testkit::api(false);
    api.openapi = doc();
    api.operations = vec![
        crate::model::Operation {
            id: "getPet".into(),
            method: "GET".into(),
            path: "/pets/{id}".into(),
            ..Default::default()
        },
        crate::model::Operation {
            id: "gone".into(),
            method: "DELETE".into(),
            path: "/pets/{id}".into(),
            ..Default::default()
        },
    ];
    prepare(&mut api);
    assert!(api.operations[0].mock.is_none(), "a real upstream is not mocked");
    api.upstream.url = crate::model::UpstreamSettings::MOCK.into();
    prepare(&mut api);
    assert_eq!(api.operations[0].mock.as_deref().map(|m| m.responses.len()), Some(3));
    let (status, _, body) = call(api.operations[1].mock.as_deref().expect("prepared"), &[]);
    assert_eq!((status, body["type"].as_str()), (400, Some("https://gatehouse.dev/problems/mock-no-such-response")));
}

#[test]
fn range_and_odd_response_keys_answer_a_valid_status() {
    let op = |key: &str| MockOperation {
        responses: vec![MockResponse { status: key.into(), contents: Vec::new(), headers: Vec::new() }],
    };
    assert_eq!(call(&op("2XX"), &[]).0, 200);
    assert_eq!(call(&op("4XX"), &[]).0, 400);
    assert_eq!(call(&op("4XX"), &[("prefer", "code=409")]).0, 409);
    for odd in ["default", "!", "", "1XX", "99", "101", "600"] {
        assert_eq!(call(&op(odd), &[]).0, 200, "{odd:?}");
    }
}

#[test]
fn a_schema_that_fans_out_exponentially_makes_a_bounded_value() {
    // Each level: three arrays of three items of the next level, twelve levels deep: 9^12
    // values unbounded.
    let mut schemas = serde_json::Map::new();
    for level in 0..12 {
        let next =
            json!({"type": "array", "minItems": 3, "items": {"$ref": format!("#/components/schemas/L{}", level + 1)}});
        let properties = json!({"a": next, "b": next, "c": next});
        schemas.insert(format!("L{level}"), json!({"type": "object", "properties": properties}));
    }
    schemas.insert("L12".into(), json!({"type": "string"}));
    let doc = json!({"components": {"schemas": schemas}});
    let value = generate(&doc, &json!({"$ref": "#/components/schemas/L0"}));
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(members) => members.values().map(count).sum(),
            _ => 0,
        }
    }
    let n = count(&value);
    assert!((1_000..=6_000).contains(&n), "{n} values");
}

#[test]
fn described_framing_headers_are_never_copied() {
    let doc = json!({});
    let op = compile(
        &doc,
        &json!({"responses": {"200": {"description": "ok",
        "headers": {
            "Content-Length": {"schema": {"type": "integer", "example": 100}},
            "Transfer-Encoding": {"schema": {"type": "string", "example": "chunked"}},
            "Content-Encoding": {"schema": {"type": "string", "example": "gzip"}},
            "X-Request-Id": {"schema": {"type": "string", "format": "uuid"}}
        },
        "content": {"application/json": {"example": {"ok": true}}}}}}),
    );
    let response = answer(&op, &HeaderMap::new());
    let mut names: Vec<&str> = response.headers().keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["content-type", "vary", "x-request-id"]);
    assert_eq!(response.headers()["x-request-id"], "00000000-0000-4000-8000-000000000000");
}

#[test]
fn a_204_or_304_never_carries_content_even_when_described() {
    let doc = json!({});
    let content = json!({"application/json": {"example": {"ok": true}}});
    let op = compile(
        &doc,
        &json!({"responses": {"204": {"description": "", "content": content},
        "304": {"description": "", "content": content}}}),
    );
    for code in ["code=204", "code=304"] {
        let (status, content_type, body) = call(&op, &[("prefer", code)]);
        assert_eq!((content_type, body), (None, json!("")), "{status}");
    }
}
