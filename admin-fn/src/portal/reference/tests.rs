//! The view model from whole documents: references, cycles, `allOf`, nullables in both
//! dialects, parameters, bodies, responses and sanitised descriptions.

use serde_json::{json, Value};

use super::{KeyPlace, Reference, SchemaRow};

fn doc(version: &str) -> Value {
    json!({
        "openapi": version,
        "info": {"title": "Pets", "version": "2.0.0",
                 "description": "Pets **here**. <script>alert(1)</script>[x](javascript:alert(1))"},
        "tags": [{"name": "pets", "description": "All about *pets*."}, {"name": "unused"}],
        "security": [{"key": []}],
        "paths": {
            "/pets/{petId}": {
                "parameters": [
                    {"name": "petId", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}, "example": 42},
                    {"name": "trace", "in": "header", "schema": {"type": "string"}}
                ],
                "get": {
                    "operationId": "getPetById", "tags": ["pets"], "summary": "One pet",
                    "parameters": [
                        {"$ref": "#/components/parameters/Fields"},
                        {"name": "trace", "in": "header", "description": "overridden", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "The pet", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dog"}}}},
                        "404": {"$ref": "#/components/responses/NotFound"}
                    }
                },
                "put": {
                    "operationId": "putPet", "tags": ["pets"], "deprecated": true,
                    "requestBody": {"$ref": "#/components/requestBodies/PetBody"},
                    "responses": {"204": {"description": "Saved"}}
                }
            },
            "/tree": {"get": {"security": [], "responses": {"200": {"description": "A tree",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}}
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Pet-Key"}},
            "parameters": {"Fields": {"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}},
            "requestBodies": {"PetBody": {"required": true, "description": "The pet to save",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"},
                                                  "example": {"name": "Rex", "tag": null}}}}},
            "responses": {"NotFound": {"description": "No such pet", "content": {"application/problem+json": {"schema": {"type": "object"}}}}},
            "schemas": {
                "Pet": {"type": "object", "required": ["name"], "properties": {
                    "id": {"type": "integer", "readOnly": true},
                    "name": {"type": "string", "minLength": 1},
                    "tag": if version.starts_with("3.0") { json!({"type": "string", "nullable": true}) }
                           else { json!({"type": ["string", "null"]}) },
                    "owner": {"oneOf": [{"$ref": "#/components/schemas/Owner"}, {"type": "null"}]}
                }},
                "Owner": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
                "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"},
                                  {"type": "object", "required": ["bark"], "properties": {"bark": {"type": "string", "enum": ["loud", "soft"]}}}]},
                "Node": {"type": "object", "properties": {
                    "value": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
                }},
                "Shape": {"oneOf": [{"$ref": "#/components/schemas/Pet"}, {"$ref": "#/components/schemas/Owner"}]}
            }
        }
    })
}

fn build(version: &str) -> Reference {
    Reference::build(&doc(version), Some("http://gw.test/"), "/pets")
}

fn component(reference: &Reference, schema: &str) -> Vec<SchemaRow> {
    let named = reference.schemas.iter().find(|s| s.name == schema).expect("schema listed");
    named.schema.rows.clone()
}

fn row<'a>(rows: &'a [SchemaRow], name: &str) -> &'a SchemaRow {
    rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no row {name} in {rows:#?}"))
}

fn operation<'a>(reference: &'a Reference, anchor: &str) -> &'a super::OperationView {
    let all = reference.groups.iter().flat_map(|g| &g.operations);
    all.into_iter().find(|op| op.anchor == anchor).unwrap_or_else(|| panic!("no operation {anchor}"))
}

#[test]
fn operations_are_grouped_by_their_first_tag_in_the_documents_tag_order() {
    let reference = build("3.1.0");
    let names: Vec<&str> = reference.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["pets", "Other operations"], "an unused tag shows no empty group");
    assert!(reference.groups[0].description_html.contains("<em>pets</em>"));
    let anchors: Vec<&str> = reference.groups[0].operations.iter().map(|op| op.anchor.as_str()).collect();
    assert_eq!(anchors, ["op-get-pet-by-id", "op-put-pet"]);
    assert_eq!(reference.groups[1].operations[0].anchor, "op-get-tree", "method and path without an operationId");
    assert_eq!(reference.operation_count, 3);
    assert_eq!(reference.gateway, "http://gw.test/pets");
}

#[test]
fn info_markdown_is_rendered_and_sanitised() {
    let reference = build("3.1.0");
    assert_eq!((reference.title.as_str(), reference.version.as_str()), ("Pets", "2.0.0"));
    let html = &reference.description_html;
    assert!(html.contains("<strong>here</strong>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("javascript:"), "{html}");
}

#[test]
fn path_item_parameters_merge_with_the_operations_own_and_refs_are_followed() {
    let reference = build("3.1.0");
    let op = operation(&reference, "op-get-pet-by-id");
    let names: Vec<(&str, &str)> = op.parameters.iter().map(|p| (p.location.as_str(), p.name.as_str())).collect();
    assert_eq!(names, [("path", "petId"), ("header", "trace"), ("query", "fields")]);
    let pet_id = &op.parameters[0];
    assert!(pet_id.required);
    assert_eq!((pet_id.type_label.as_str(), pet_id.example.as_str()), ("integer (int64)", "42"));
    assert!(
        op.parameters[1].description_html.contains("overridden"),
        "the operation's parameter replaces the path item's"
    );
    assert_eq!(op.parameters[2].type_label, "array of string");
    assert!(op.parameters[2].repeat, "a query array in form style repeats its name");
    assert!(!op.parameters[1].repeat);
    let ids: std::collections::HashSet<&str> = op.parameters.iter().map(|p| p.input_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "each input has its own id");
}

#[test]
fn all_of_merges_the_referenced_object_with_its_own_fields() {
    let reference = build("3.1.0");
    let rows = component(&reference, "Dog");
    assert_eq!(rows[0].type_label, "object");
    for (name, required) in [("id", false), ("name", true), ("tag", false), ("owner", false), ("bark", true)] {
        assert_eq!(row(&rows, name).required, required, "{name}");
        assert_eq!(row(&rows, name).depth, 1, "{name}");
    }
    assert_eq!(row(&rows, "bark").constraints, "one of: loud, soft");
    assert!(row(&rows, "id").read_only);
    let op = operation(&reference, "op-get-pet-by-id");
    let ok = &op.responses[0].content[0];
    let view = ok.schema.as_ref().expect("schema");
    assert_eq!(view.rows[0].type_label, "Dog");
    assert_eq!(view.rows[0].link.as_deref(), Some("schema-Dog"));
    assert!(view.rows.iter().any(|r| r.name == "bark"));
}

#[test]
fn nullable_reads_the_same_in_3_0_and_3_1() {
    for version in ["3.0.3", "3.1.0"] {
        let reference = build(version);
        let rows = component(&reference, "Pet");
        let tag = row(&rows, "tag");
        assert!(tag.nullable, "{version}");
        assert_eq!(tag.type_label, "string", "{version}: null is not a type to show");
        assert!(!row(&rows, "name").nullable, "{version}");
        let owner = row(&rows, "owner");
        assert!(owner.nullable, "a oneOf of a schema and null is that schema, nullable");
        assert_eq!(owner.type_label, "Owner");
        assert_eq!(row(&rows, "email").depth, 2);
    }
}

#[test]
fn a_recursive_schema_stops_at_the_cycle_and_links_to_itself() {
    let reference = build("3.1.0");
    let rows = component(&reference, "Node");
    let items = row(&rows, "[]");
    assert_eq!(items.type_label, "Node");
    assert_eq!(items.note.as_deref(), Some("recursive: see Node"));
    assert_eq!(items.link.as_deref(), Some("schema-Node"));
    assert_eq!(row(&rows, "children").type_label, "array of Node");
    let tree = operation(&reference, "op-get-tree");
    let inline = tree.responses[0].content[0].schema.as_ref().expect("schema");
    assert!(inline.rows.iter().any(|r| r.note.as_deref() == Some("recursive: see Node")));
    assert!(inline.rows.len() < 10, "{:#?}", inline.rows);
}

#[test]
fn one_of_lists_each_option() {
    let reference = build("3.1.0");
    let rows = component(&reference, "Shape");
    assert_eq!(rows[0].type_label, "one of");
    assert_eq!(row(&rows, "option 1").type_label, "Pet");
    assert_eq!(row(&rows, "option 2").type_label, "Owner");
}

#[test]
fn the_request_body_ref_is_followed_and_prefills_try_it_with_its_example() {
    let reference = build("3.1.0");
    let op = operation(&reference, "op-put-pet");
    assert!(op.deprecated);
    let body = op.request_body.as_ref().expect("a body");
    assert!(body.required);
    assert!(body.description_html.contains("The pet to save"));
    assert_eq!(body.content[0].media_type, "application/json");
    assert_eq!(op.body_media_type, "application/json");
    let prefilled: Value = serde_json::from_str(&op.body_example).expect("JSON");
    assert_eq!(prefilled, json!({"name": "Rex", "tag": null}));
    assert!(op.snippets.python.contains("\"tag\": None"), "{}", op.snippets.python);
    assert!(op.snippets.curl.contains("--data-raw '{"), "{}", op.snippets.curl);
}

#[test]
fn a_response_ref_keeps_its_description_and_media_type() {
    let reference = build("3.1.0");
    let op = operation(&reference, "op-get-pet-by-id");
    let not_found = &op.responses[1];
    assert_eq!((not_found.status.as_str(), not_found.class.as_str()), ("404", "4xx"));
    assert!(not_found.description_html.contains("No such pet"));
    assert_eq!(not_found.content[0].media_type, "application/problem+json");
}

#[test]
fn security_places_the_key_and_public_operations_need_none() {
    let reference = build("3.1.0");
    let op = operation(&reference, "op-get-pet-by-id");
    assert_eq!(op.security.key, KeyPlace::Header("X-Pet-Key".to_owned()));
    assert!(op.snippets.curl.contains("-H \"X-Pet-Key: ${GATEHOUSE_KEY}\""), "{}", op.snippets.curl);
    assert!(op.snippets.curl.starts_with("curl \"http://gw.test/pets/pets/42\" \\\n"), "{}", op.snippets.curl);
    assert!(!op.snippets.curl.contains("fields"), "an optional parameter without an example is left out");
    let tree = operation(&reference, "op-get-tree");
    assert!(tree.security.public);
    assert!(!tree.snippets.curl.contains("GATEHOUSE_KEY"), "{}", tree.snippets.curl);
}

#[test]
fn a_body_without_an_example_is_made_from_its_schema() {
    let mut document = doc("3.1.0");
    document["components"]["requestBodies"]["PetBody"]["content"]["application/json"]
        .as_object_mut()
        .expect("media")
        .remove("example");
    let reference = Reference::build(&document, Some("http://gw.test"), "/");
    let op = operation(&reference, "op-put-pet");
    let made: Value = serde_json::from_str(&op.body_example).expect("JSON");
    assert_eq!(made["name"], json!("string"));
    assert_eq!(made["owner"], json!({"email": "someone@example.com"}));
    assert!(made.get("id").is_none(), "read-only fields are not sent");
    let answered = &operation(&reference, "op-get-pet-by-id").responses[0].content[0].example;
    let answered: Value = serde_json::from_str(answered).expect("JSON");
    assert_eq!(answered["id"], json!(0), "read-only fields are answered: {answered}");
    assert_eq!(answered["bark"], json!("loud"), "allOf parts are merged: {answered}");
}

#[test]
fn a_made_example_of_a_recursive_schema_ends_in_null() {
    let reference = build("3.1.0");
    let tree = &operation(&reference, "op-get-tree").responses[0].content[0].example;
    let tree: Value = serde_json::from_str(tree).expect("JSON");
    assert_eq!(tree, json!({"value": "string", "children": [null]}));
}

#[test]
fn a_deep_or_hostile_document_is_bounded() {
    let mut schemas = serde_json::Map::new();
    for level in 0..40 {
        let next =
            json!({"type": "object", "properties": {"next": {"$ref": format!("#/components/schemas/L{}", level + 1)}}});
        schemas.insert(format!("L{level}"), next);
    }
    schemas.insert("L40".to_owned(), json!({"type": "string"}));
    schemas.insert("Loop".to_owned(), json!({"$ref": "#/components/schemas/Loop"}));
    schemas.insert("Self".to_owned(), json!({"allOf": [{"$ref": "#/components/schemas/Self"}]}));
    let wide: serde_json::Map<String, Value> =
        (0..1000).map(|i| (format!("f{i}"), json!({"type": "string"}))).collect();
    schemas.insert("Wide".to_owned(), json!({"type": "object", "properties": wide}));
    let document = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
                          "components": {"schemas": schemas}});
    let reference = Reference::build(&document, Some("http://gw.test"), "/");
    let deep = component(&reference, "L0");
    assert!(deep.len() <= super::schema::MAX_DEPTH + 1, "{deep:#?}");
    assert!(deep.iter().any(|r| r.note.as_deref().is_some_and(|n| n.contains("not shown at this depth"))));
    let looped = component(&reference, "Loop");
    assert!(looped[0].note.as_deref().is_some_and(|n| n.contains("loop")), "{looped:#?}");
    assert_eq!(component(&reference, "Self").len(), 1);
    let wide = reference.schemas.iter().find(|s| s.name == "Wide").expect("listed");
    assert_eq!(wide.schema.rows.len(), super::schema::MAX_ROWS);
    assert!(wide.schema.truncated, "the page says rows were left out");
}
