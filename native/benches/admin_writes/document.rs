//! Generated OpenAPI descriptions of realistic size (~100 KB of JSON each): many paths, two
//! or three operations per path with parameters, request and response bodies, and a
//! components section of object schemas that reference each other, like a real SaaS API.

use serde_json::{json, Map, Value};

/// Paths per document; with the schemas below this lands near 100 KB of compact JSON.
const PATHS: usize = 44;
const SCHEMAS: usize = 34;

fn schema(api: usize, i: usize) -> Value {
    let mut properties = Map::new();
    for p in 0..10 {
        let property = match p % 4 {
            0 => json!({"type": "string", "description": format!("Field {p} of resource {i} in API {api}.")}),
            1 => json!({"type": "integer", "format": "int64", "minimum": 0}),
            2 => json!({"type": "array", "items": {"$ref": format!("#/components/schemas/R{}", (i + 1) % SCHEMAS)}}),
            _ => json!({"type": "string", "enum": ["active", "pending", "archived"]}),
        };
        properties.insert(format!("field_{p}"), property);
    }
    json!({"type": "object", "required": ["field_0"], "properties": properties})
}

fn operation(api: usize, path: usize, method: &str) -> Value {
    let schema = format!("#/components/schemas/R{}", path % SCHEMAS);
    let mut op = json!({
        "operationId": format!("{method}Resource{path}"),
        "summary": format!("{method} resource {path} of API {api}"),
        "description": "Returns the resource, or a problem document when the caller may not see it. ".repeat(2),
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "expand", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
        ],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": schema}}}},
            "404": {"description": "Not found", "content": {"application/problem+json": {"schema": {"type": "object"}}}},
        },
        "security": [{"api_key": [format!("r{path}:{method}")]}],
    });
    if method != "get" {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": schema}}}});
    }
    op
}

/// The `api`-th generated description; every one differs so nothing is shared between them.
pub fn openapi(api: usize) -> Value {
    let mut paths = Map::new();
    for p in 0..PATHS {
        let methods: &[&str] = if p % 3 == 0 { &["get", "put", "delete"] } else { &["get", "post"] };
        let item: Map<String, Value> = methods.iter().map(|m| (m.to_string(), operation(api, p, m))).collect();
        paths.insert(format!("/v{api}/resources{p}/{{id}}"), Value::Object(item));
    }
    let schemas: Map<String, Value> = (0..SCHEMAS).map(|i| (format!("R{i}"), schema(api, i))).collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": format!("Generated API {api}"), "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    })
}
