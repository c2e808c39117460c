//! A realistic OpenAPI 3.1 document of a chosen size (CRUD resources with Markdown
//! descriptions, shared parameters, nested `$ref`d schemas, `allOf`, nullable fields and
//! problem responses), for the reference render test and `benches/reference.rs`.

use serde_json::{json, Map, Value};

/// Resources added until the document's JSON is at least `bytes` long. Returns the document
/// and its number of operations.
pub fn document(bytes: usize) -> (Value, usize) {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert("Problem".into(), problem());
    schemas.insert(
        "Audit".into(),
        json!({"type": "object", "description": "Who changed it and when.",
        "properties": {"by": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                       "previous": {"oneOf": [{"$ref": "#/components/schemas/Audit"}, {"type": "null"}]}}}),
    );
    let mut operations = 0;
    let mut n = 0;
    loop {
        let doc = assemble(&paths, &schemas);
        if serde_json::to_string(&doc).map_or(0, |t| t.len()) >= bytes {
            return (doc, operations);
        }
        add_resource(n, &mut paths, &mut schemas);
        operations += 5;
        n += 1;
    }
}

fn assemble(paths: &Map<String, Value>, schemas: &Map<String, Value>) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Big API", "version": "3.2.1",
                 "description": "A large API.\n\n## Getting started\n\nSend your key in `X-API-Key`. See [the guide](https://example.com/guide)."},
        "tags": [{"name": "resources", "description": "Everything *resource*-shaped."}],
        "security": [{"key": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "description": "How many to return, **at most 100**.",
                          "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                "Cursor": {"name": "cursor", "in": "query", "description": "Where the previous page ended.", "schema": {"type": "string"}}
            },
            "responses": {"Problem": {"description": "Something went wrong; see `detail`.",
                                      "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
            "schemas": schemas
        }
    })
}

fn problem() -> Value {
    json!({"type": "object", "description": "An RFC 9457 problem.", "properties": {
        "type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"}}})
}

fn add_resource(n: usize, paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let name = format!("Resource{n}");
    let reference = format!("#/components/schemas/{name}");
    schemas.insert(name.clone(), json!({
        "allOf": [{"$ref": "#/components/schemas/Base"}, {
            "type": "object", "required": ["name", "kind"],
            "description": format!("A **{name}**: one of the things this API keeps.\n\n- listed\n- changed\n- removed"),
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Shown to people."},
                "kind": {"type": "string", "enum": ["small", "medium", "large"]},
                "size": {"type": ["number", "null"], "description": "In metres, when known."},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "parts": {"type": "array", "items": {"type": "object", "properties": {
                    "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}, "count": {"type": "integer", "minimum": 0}}}},
                "audit": {"$ref": "#/components/schemas/Audit"}
            }
        }]
    }));
    schemas.entry("Base").or_insert_with(|| {
        json!({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": true},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true}}})
    });
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let one = json!({"description": "The resource.", "content": {"application/json": {"schema": {"$ref": reference}}}});
    let body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": reference}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"},
                    "description": "The resource's id."});
    let lower = format!("resource{n}s");
    paths.insert(format!("/{lower}"), json!({
        "get": {"operationId": format!("list{name}s"), "tags": ["resources"], "summary": format!("List {lower}"),
                "description": "Newest first. Use `cursor` to page.",
                "parameters": [{"$ref": "#/components/parameters/Limit"}, {"$ref": "#/components/parameters/Cursor"}],
                "responses": {"200": {"description": "A page.", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": reference}},
                                                     "next": {"type": ["string", "null"]}}}}}},
                              "default": problem.clone()}},
        "post": {"operationId": format!("create{name}"), "tags": ["resources"], "summary": format!("Create a {name}"),
                 "requestBody": body.clone(), "responses": {"201": one.clone(), "422": problem.clone()}}
    }));
    paths.insert(format!("/{lower}/{{id}}"), json!({
        "parameters": [id],
        "get": {"operationId": format!("get{name}"), "tags": ["resources"], "responses": {"200": one.clone(), "404": problem.clone()}},
        "put": {"operationId": format!("replace{name}"), "tags": ["resources"], "requestBody": body,
                "responses": {"200": one, "404": problem.clone()}},
        "delete": {"operationId": format!("delete{name}"), "tags": ["resources"], "deprecated": true,
                   "responses": {"204": {"description": "Gone."}, "404": problem}}
    }));
}
