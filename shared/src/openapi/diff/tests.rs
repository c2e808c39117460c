use serde_json::{json, Value};

use super::*;

/// A document of one `GET /pets/{id}` (a query parameter, a `Pet` response by `$ref`) and one
/// `POST /pets` (a `NewPet` body), which each test edits.
fn base() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Pets", "version": "1"},
        "paths": {
            "/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {
                    "operationId": "getPet",
                    "parameters": [{"name": "fields", "in": "query", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                        "404": {"description": "missing"}
                    }
                }
            },
            "/pets": {
                "post": {
                    "operationId": "addPet",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}},
                    "responses": {"201": {"description": "made"}}
                }
            }
        },
        "components": {"schemas": {
            "Pet": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "status": {"type": "string", "enum": ["available", "sold"]},
                "owner": {"$ref": "#/components/schemas/Pet"}
            }},
            "NewPet": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 50},
                "kind": {"type": "string", "enum": ["cat", "dog"]}
            }}
        }}
    })
}

fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = base();
    edit(&mut doc);
    doc
}

fn codes(diff: &ApiDiff) -> Vec<(String, Severity)> {
    diff.changes.iter().map(|c| (c.code.clone(), c.severity)).collect()
}

fn only(diff: &ApiDiff) -> &Change {
    assert_eq!(diff.changes.len(), 1, "one change expected: {:#?}", diff.changes);
    &diff.changes[0]
}

#[test]
fn the_same_document_has_no_changes_even_with_recursive_schemas() {
    assert_eq!(diff(&base(), &base()), ApiDiff::default());
}

#[test]
fn renaming_a_path_variable_is_no_change() {
    let new = edited(|d| {
        let paths = d["paths"].as_object_mut().expect("paths");
        let mut item = paths.remove("/pets/{id}").expect("item");
        item["parameters"][0]["name"] = json!("petId");
        paths.insert("/pets/{petId}".into(), item);
    });
    assert_eq!(diff(&base(), &new), ApiDiff::default());
}

#[test]
fn a_removed_operation_is_breaking_and_an_added_one_is_not() {
    let new = edited(|d| {
        let post = d["paths"]["/pets"]["post"].take();
        d["paths"]["/pets"] = json!({"put": post});
    });
    let d = diff(&base(), &new);
    assert_eq!(
        codes(&d),
        [("api-removed".into(), Severity::Breaking), ("endpoint-added".into(), Severity::NonBreaking)]
    );
    assert_eq!((d.changes[0].method.as_str(), d.changes[0].path.as_str()), ("POST", "/pets"));
    assert_eq!(d.breaking_operations(), [("POST".to_owned(), "/pets".to_owned())]);
}

#[test]
fn a_new_required_parameter_breaks_and_a_new_optional_one_does_not() {
    let required = edited(|d| {
        let p = json!({"name": "X-Tenant", "in": "header", "required": true, "schema": {"type": "string"}});
        d["paths"]["/pets/{id}"]["get"]["parameters"].as_array_mut().expect("list").push(p);
    });
    let c = diff(&base(), &required);
    assert_eq!(codes(&c), [("new-required-request-parameter".into(), Severity::Breaking)]);
    assert_eq!(c.changes[0].location, "header parameter `X-Tenant`");
    let optional = edited(|d| {
        let p = json!({"name": "limit", "in": "query", "schema": {"type": "integer"}});
        d["paths"]["/pets/{id}"]["get"]["parameters"].as_array_mut().expect("list").push(p);
    });
    assert_eq!(only(&diff(&base(), &optional)).severity, Severity::NonBreaking);
}

#[test]
fn a_parameter_made_required_or_narrowed_breaks() {
    let new = edited(|d| {
        d["paths"]["/pets/{id}"]["get"]["parameters"][0]["required"] = json!(true);
        d["paths"]["/pets/{id}"]["get"]["parameters"][0]["schema"] = json!({"type": "string", "maxLength": 10});
    });
    assert_eq!(
        codes(&diff(&base(), &new)),
        [
            ("request-parameter-became-required".into(), Severity::Breaking),
            ("request-max-length-narrowed".into(), Severity::Breaking)
        ]
    );
    // The other way round widens what is accepted: nothing breaks.
    assert!(!diff(&new, &base()).is_breaking());
}

#[test]
fn removing_or_renaming_a_response_field_breaks_adding_one_does_not() {
    let renamed = edited(|d| {
        let props = d["components"]["schemas"]["Pet"]["properties"].as_object_mut().expect("props");
        let name = props.remove("name").expect("name");
        props.insert("title".into(), name);
    });
    let d = diff(&base(), &renamed);
    assert_eq!(
        codes(&d),
        [
            ("response-property-removed".into(), Severity::Breaking),
            ("response-property-added".into(), Severity::NonBreaking)
        ]
    );
    assert_eq!(d.changes[0].location, "response 200 application/json: name");
    assert_eq!(d.breaking_operations(), [("GET".to_owned(), "/pets/{id}".to_owned())]);
}

#[test]
fn a_nested_response_field_through_a_recursive_ref_is_found() {
    let new = edited(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["owner"] =
            json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    });
    let d = diff(&base(), &new);
    let removed: Vec<&str> =
        d.changes.iter().filter(|c| c.code == "response-property-removed").map(|c| c.location.as_str()).collect();
    assert!(removed.contains(&"response 200 application/json: owner.name"), "{removed:?}");
}

#[test]
fn enums_narrowing_a_request_or_widening_a_response_break() {
    let new = edited(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["kind"]["enum"] = json!(["cat"]);
        d["components"]["schemas"]["Pet"]["properties"]["status"]["enum"] = json!(["available", "sold", "lost"]);
    });
    let d = diff(&base(), &new);
    let found: Vec<(&str, &str, Severity)> =
        d.changes.iter().map(|c| (c.code.as_str(), c.location.as_str(), c.severity)).collect();
    assert!(found.contains(&(
        "response-enum-value-added",
        "response 200 application/json: status",
        Severity::Breaking
    )));
    assert!(found.contains(&("request-enum-value-removed", "request body application/json: kind", Severity::Breaking)));
    // Widening a request enum or narrowing a response one is safe.
    assert!(!diff(&new, &base()).is_breaking(), "{:#?}", diff(&new, &base()));
}

#[test]
fn a_new_required_request_field_breaks_and_an_optional_one_does_not() {
    let required = edited(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["age"] = json!({"type": "integer"});
        d["components"]["schemas"]["NewPet"]["required"] = json!(["name", "age"]);
    });
    assert_eq!(codes(&diff(&base(), &required)), [("request-new-required-property".into(), Severity::Breaking)]);
    let optional = edited(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["age"] = json!({"type": "integer"});
    });
    assert_eq!(codes(&diff(&base(), &optional)), [("request-new-optional-property".into(), Severity::NonBreaking)]);
    let read_only = edited(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["id"] = json!({"type": "integer", "readOnly": true});
        d["components"]["schemas"]["NewPet"]["required"] = json!(["name", "id"]);
    });
    assert_eq!(diff(&base(), &read_only), ApiDiff::default(), "readOnly does not flow in requests");
}

#[test]
fn type_changes_follow_the_direction() {
    let new = edited(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["id"] = json!({"type": "number"});
        d["paths"]["/pets/{id}"]["parameters"][0]["schema"] = json!({"type": "number"});
    });
    let d = diff(&base(), &new);
    let found: Vec<(&str, Severity)> = d.changes.iter().map(|c| (c.location.as_str(), c.severity)).collect();
    // integer → number accepts more in a request, but hands callers fractions in a response.
    assert!(found.contains(&("path parameter `id`", Severity::NonBreaking)), "{found:?}");
    assert!(found.contains(&("response 200 application/json: id", Severity::Breaking)), "{found:?}");
}

#[test]
fn status_codes_and_media_types() {
    let new = edited(|d| {
        let get = &mut d["paths"]["/pets/{id}"]["get"]["responses"];
        let ok = get["200"].take();
        *get = json!({"203": ok, "429": {"description": "slow down"}});
        let body = &mut d["paths"]["/pets"]["post"]["requestBody"]["content"];
        body["application/xml"] = json!({"schema": {"type": "string"}});
    });
    let d = diff(&base(), &new);
    assert_eq!(
        codes(&d),
        [
            ("response-success-status-removed".into(), Severity::Breaking),
            ("response-non-success-status-removed".into(), Severity::NonBreaking),
            ("response-status-added".into(), Severity::NonBreaking),
            ("response-status-added".into(), Severity::NonBreaking),
            ("request-media-type-added".into(), Severity::NonBreaking),
        ]
    );
    let dropped = edited(|d| {
        d["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"] = json!({"text/plain": {}});
    });
    assert!(codes(&diff(&base(), &dropped)).contains(&("response-media-type-removed".into(), Severity::Breaking)));
}

#[test]
fn request_bodies_added_required_break() {
    let new = edited(|d| {
        d["paths"]["/pets/{id}"]["get"]["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
    });
    assert_eq!(codes(&diff(&base(), &new)), [("new-required-request-body".into(), Severity::Breaking)]);
    assert_eq!(codes(&diff(&new, &base())), [("request-body-removed".into(), Severity::NonBreaking)]);
}

#[test]
fn all_of_members_are_read_as_one_schema() {
    let new = edited(|d| {
        d["components"]["schemas"]["Pet"] = json!({"allOf": [
            {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
            {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "status": {"type": "string", "enum": ["available", "sold"]},
                "owner": {"$ref": "#/components/schemas/Pet"}
            }}
        ]});
    });
    let d = diff(&base(), &new);
    assert!(!d.changes.iter().any(|c| c.code.contains("property-removed")), "{:#?}", d.changes);
}

#[test]
fn a_response_field_made_optional_breaks() {
    let new = edited(|d| d["components"]["schemas"]["Pet"]["required"] = json!(["id"]));
    let d = diff(&base(), &new);
    assert_eq!(codes(&d), [("response-property-became-optional".into(), Severity::Breaking)]);
    assert_eq!(d.changes[0].location, "response 200 application/json: name");
}
