//! Imported documents route exactly: every operation is reached by a request for its own
//! path, and what no request could tell apart is refused with a pointer.

use serde_json::json;

use super::{doc, has, imported, refused};
use crate::model::{Api, DiscriminatorPlace};
use crate::routing::probe::Probe;
use crate::routing::{Extras, RouteTable};

/// Imports `text` at `/api` and routes a probe for every operation; returns the ids reached.
fn reached_by_own_path(text: &str) -> Vec<(String, String)> {
    let imported = imported(text);
    let api: Api = serde_json::from_value(json!({
        "id": "api_t", "name": "t", "version": "1", "base_path": "/api", "hosts": [],
        "upstream": {"url": "http://127.0.0.1:1"},
        "lifecycle": {"state": "published", "published_at": "2026-01-01T00:00:00Z"},
        "operations": imported.operations, "openapi": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    }))
    .expect("an API");
    let table = RouteTable::new([api.clone()]);
    api.operations
        .iter()
        .map(|op| {
            let probe = Probe::of(op).expect("a probe");
            let path = format!("/api{}", probe.path);
            let extras = Extras { query: probe.query.as_deref(), headers: Some(&probe.headers) };
            let route = table.resolve_with("h", &probe.method, &path, extras).expect("routes");
            (op.id.clone(), route.operation.id.clone())
        })
        .collect()
}

fn assert_all_reach_themselves(text: &str) {
    for (wanted, reached) in reached_by_own_path(text) {
        assert_eq!(wanted, reached, "a request for {wanted}'s own path reached {reached}");
    }
}

#[test]
fn every_operation_of_each_template_shape_is_reached_by_its_own_path() {
    let ok = json!({"200": {"description": "OK"}});
    let text = doc(
        json!({
            "/files/{name}": {"get": {"operationId": "file", "responses": ok}},
            "/files/{name}.json": {"get": {"operationId": "fileJson", "responses": ok}},
            "/jobs/{id}:cancel": {"post": {"operationId": "cancel", "responses": ok}},
            "/jobs/{id}": {"post": {"operationId": "job", "responses": ok}},
            "/v/{major}.{minor}": {"get": {"operationId": "version", "responses": ok}},
            "/pets/{id}": {"get": {"operationId": "pet", "responses": ok}},
            "/pets/mine": {"get": {"operationId": "mine", "responses": ok},
                           "head": {"operationId": "mineHead", "responses": ok}},
            "/a": {"get": {"operationId": "a", "responses": ok}},
            "/a/": {"get": {"operationId": "aSlash", "responses": ok}},
        }),
        json!({}),
    );
    assert_all_reach_themselves(&text);
}

#[test]
fn query_and_fragment_discriminators_route_by_query_parameter_or_header() {
    let ok = json!({"200": {"description": "OK"}});
    let target = json!([{"name": "X-Amz-Target", "in": "header", "required": true, "schema": {"type": "string"}}]);
    let text = doc(
        json!({
            "/things?action=start": {"post": {"operationId": "start", "responses": ok}},
            "/things?action=stop": {"post": {"operationId": "stop", "responses": ok}},
            "/#X-Amz-Target=Svc.Get": {"post": {"operationId": "get", "parameters": target, "responses": ok}},
            "/#X-Amz-Target=Svc.Put": {"post": {"operationId": "put", "parameters": target, "responses": ok}},
            "/#Action=List": {"get": {"operationId": "list", "responses": ok}},
        }),
        json!({}),
    );
    let api = imported(&text);
    let get = api.operations.iter().find(|op| op.id == "get").expect("get");
    assert_eq!(get.discriminators[0].place, DiscriminatorPlace::Header);
    let list = api.operations.iter().find(|op| op.id == "list").expect("list");
    assert_eq!(list.discriminators[0].place, DiscriminatorPlace::Query);
    assert_all_reach_themselves(&text);
}

#[test]
fn templates_no_request_can_tell_apart_are_refused_with_both_pointers() {
    let ok = json!({"200": {"description": "OK"}});
    let text = doc(
        json!({
            "/r/{a}.{b}": {"get": {"responses": ok}},
            "/r/{a}-{b}": {"get": {"responses": ok}},
            "/s/{a}.json": {"get": {"responses": ok}},
            "/s/{a}.yaml": {"get": {"responses": ok}},
        }),
        json!({}),
    );
    let problems = refused(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].pointer, "/paths/~1r~1{a}-{b}");
    assert!(problems[0].message.contains("ambiguous with /paths/~1r~1{a}.{b}"), "{}", problems[0].message);
}

#[test]
fn a_path_key_whose_query_is_not_name_value_pairs_is_refused_by_name() {
    let ok = json!({"200": {"description": "OK"}});
    let problems = refused(&doc(json!({"/things?=start": {"post": {"responses": ok}}}), json!({})));
    assert_eq!(problems[0].pointer, "/paths/~1things?=start");
    assert!(problems[0].message.contains("\"/things?=start\""), "{}", problems[0].message);
}

#[test]
fn adjacent_parameters_import_unless_a_whole_segment_variable_sits_beside_them() {
    let ok = json!({"200": {"description": "OK"}});
    assert_all_reach_themselves(&doc(json!({"/p/{id}{ext}": {"get": {"responses": ok}}}), json!({})));
    let both = json!({"/p/{id}{ext}": {"get": {"responses": ok}}, "/p/{id}": {"get": {"responses": ok}}});
    let problems = refused(&doc(both, json!({})));
    assert!(problems[0].message.contains("ambiguous with"), "{}", problems[0].message);
}

#[test]
fn yaml_anchors_and_merge_keys_are_applied_not_kept_as_a_key() {
    let text = r#"
openapi: 3.0.3
info: {title: "Café ☕ API", version: "1"}
x-common: &common
  responses: {"200": {description: OK}}
  tags: [base]
paths:
  /a:
    get:
      <<: *common
      operationId: a
      tags: [own]
  /b:
    post:
      <<: [*common]
      operationId: b
"#;
    let api = imported(text);
    assert_eq!(api.title, "Café ☕ API");
    let get = &api.document["paths"]["/a"]["get"];
    assert!(get.get("<<").is_none(), "{get}");
    assert_eq!(get["tags"], json!(["own"]), "the mapping's own keys win");
    assert_eq!(get["responses"]["200"]["description"], "OK");
    assert_eq!(api.document["paths"]["/b"]["post"]["tags"], json!(["base"]));
    assert_all_reach_themselves(text);
}

#[test]
fn references_are_checked_where_written_cycles_included() {
    let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}});
    let components = json!({"components": {"schemas": {
        "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}},
    }}});
    assert_all_reach_themselves(&doc(json!({"/tree": {"get": {"responses": ok}}}), components.clone()));
    let bad = json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "common.yaml#/Pet"}}}},
                     "404": {"$ref": "#/components/responses/Gone"}});
    let problems = refused(&doc(json!({"/tree": {"get": {"responses": bad}}}), components));
    let at = "/paths/~1tree/get/responses";
    assert!(
        problems.iter().any(|p| p.pointer == format!("{at}/200/content/application~1json/schema/$ref")
            && p.message.contains("in another document")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.pointer == format!("{at}/404/$ref") && p.message.contains("does not exist")),
        "{problems:#?}"
    );
}

#[test]
fn a_ref_inside_an_extension_is_the_extension_s_business_but_an_x_named_property_is_checked() {
    let examples = json!({"x-ms-examples": {"get": {"$ref": "./examples/get.json"}}, "responses": {"200": {"description": "OK",
        "headers": {"x-rate": {"$ref": "#/components/headers/Rate"}},
        "content": {"application/json": {"schema": {"type": "object", "properties": {"x-id": {"$ref": "#/components/schemas/Id"}}}}}}}});
    let components = json!({"components": {"schemas": {"Id": {"type": "string"}}, "headers": {"Rate": {"schema": {"type": "integer"}}}}});
    assert_all_reach_themselves(&doc(json!({"/a": {"get": examples.clone()}}), components));
    let problems = refused(&doc(json!({"/a": {"get": examples}}), json!({})));
    let at = "/paths/~1a/get/responses/200";
    assert!(has(&problems, &format!("{at}/headers/x-rate/$ref"), "does not exist"), "{problems:#?}");
    let property = format!("{at}/content/application~1json/schema/properties/x-id/$ref");
    assert!(has(&problems, &property, "does not exist"), "{problems:#?}");
    assert_eq!(problems.len(), 2, "the extension's reference is not checked: {problems:#?}");
}
