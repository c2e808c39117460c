//! The example a schema gives: its own (`example`, the first of `examples`, `default`,
//! `const`, the first of `enum`), or, for an object, one put together from its properties'
//! examples when every required property has one (`allOf` parts merged, arrays of one item;
//! an object for which the document gives nothing is no example).
//! Real descriptions often give examples per property rather than per body. Nothing is made up
//! from a type: a required property without an example means there is no example.

use serde_json::{Map, Value};

use super::refs::resolve;

/// How deep an assembled example may nest (a `Pet` whose `parent` is a `Pet` stops here).
const MAX_DEPTH: usize = 8;

/// The example `schema` gives, `$ref`s followed; `None` when it gives none.
pub fn schema_example(doc: &Value, schema: &Value) -> Option<Value> {
    assemble(doc, schema, 0)
}

fn assemble(doc: &Value, schema: &Value, depth: usize) -> Option<Value> {
    let schema = resolve(doc, schema);
    if let Some(own) = own_example(schema) {
        return Some(own);
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            match assemble(doc, part, depth + 1) {
                Some(Value::Object(fields)) => merged.extend(fields),
                None if !requires_something(doc, part) => {}
                _ => return None,
            }
        }
        return (!merged.is_empty()).then_some(Value::Object(merged));
    }
    let kind = schema.get("type").and_then(Value::as_str);
    if kind == Some("array") {
        return assemble(doc, schema.get("items")?, depth + 1).map(|item| Value::Array(vec![item]));
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if kind != Some("object") && properties.is_none() {
        return None;
    }
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut object = Map::new();
    for (name, property) in properties.into_iter().flatten() {
        match assemble(doc, property, depth + 1) {
            Some(value) => drop(object.insert(name.clone(), value)),
            None if required.contains(&name.as_str()) => return None,
            None => {}
        }
    }
    // Every required property given (one the object does not describe has none), and not empty.
    let complete = required.iter().all(|name| object.contains_key(*name)) && !object.is_empty();
    complete.then_some(Value::Object(object))
}

/// Whether `schema` lists required properties (a part of an `allOf` that does not can be left
/// out of an assembled example).
fn requires_something(doc: &Value, schema: &Value) -> bool {
    resolve(doc, schema).get("required").and_then(Value::as_array).is_some_and(|r| !r.is_empty())
}

/// The schema's own example, in the order OpenAPI tools read them.
fn own_example(schema: &Value) -> Option<Value> {
    let first = |key: &str| schema.get(key).and_then(Value::as_array).and_then(|a| a.first()).cloned();
    let given = schema.get("example").cloned().or_else(|| first("examples"));
    given.or_else(|| schema.get("default").cloned()).or_else(|| schema.get("const").cloned()).or_else(|| first("enum"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_object_is_assembled_from_its_properties_examples_only_when_every_required_one_has_one() {
        let doc = json!({"components": {"schemas": {
            "New": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "example": "Rex"},
                "tag": {"type": "string"}, "age": {"type": "integer", "default": 3}}},
            "Pet": {"allOf": [{"$ref": "#/components/schemas/New"}, {"required": ["id"], "properties": {"id": {"enum": [9]}}}]},
            "Node": {"type": "object", "required": ["child"], "properties": {"child": {"$ref": "#/components/schemas/Node"}}}}}});
        let of = |name: &str| schema_example(&doc, &json!({"$ref": format!("#/components/schemas/{name}")}));
        assert_eq!(of("New"), Some(json!({"name": "Rex", "age": 3})));
        assert_eq!(of("Pet"), Some(json!({"name": "Rex", "age": 3, "id": 9})));
        assert_eq!(of("Node"), None, "a required property without an example, however deep");
        let list = json!({"type": "array", "items": {"$ref": "#/components/schemas/New"}});
        assert_eq!(schema_example(&doc, &list), Some(json!([{"name": "Rex", "age": 3}])));
        assert_eq!(schema_example(&doc, &json!({"type": "object", "example": {"a": 1}})), Some(json!({"a": 1})));
        assert_eq!(schema_example(&doc, &json!({"type": "string"})), None, "nothing is made up from a type");
        assert_eq!(schema_example(&doc, &json!({"type": "object"})), None, "an empty object is not an example");
        let loose = json!({"allOf": [{"type": "object"}, {"$ref": "#/components/schemas/New"}]});
        assert_eq!(schema_example(&doc, &loose), Some(json!({"name": "Rex", "age": 3})));
    }
}
