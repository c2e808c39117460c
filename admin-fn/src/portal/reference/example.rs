//! Examples: the document's own where it gives one (`example`, the first of `examples`, the
//! schema's), otherwise one made from the schema, so every try-it body starts filled in with
//! something the API would accept in shape.

use serde_json::{Map, Value};

use super::refs::follow;

/// Levels a made-up example goes down before it writes `{}`/`[]`.
const MAX_DEPTH: usize = 5;
/// Fields a made-up object gets (a huge schema still makes a body one can read).
const MAX_FIELDS: usize = 30;
/// Values one made-up example may hold in all: width and depth bounds alone would still
/// allow 30^5 values for a wide, deep schema.
const MAX_VALUES: usize = 500;

/// The example of a media type object (or a parameter): its own `example`, its first
/// `examples` entry's `value` (through `#/components/examples` references), or its schema's.
pub fn given(doc: &Value, holder: &Value) -> Option<Value> {
    if let Some(example) = holder.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = holder.get("examples").and_then(Value::as_object).and_then(|m| m.values().next()) {
        if let Some(value) = follow(doc, first).ok().and_then(|f| f.value.get("value")) {
            return Some(value.clone());
        }
    }
    holder.get("schema").and_then(|schema| of_schema(doc, schema))
}

/// The schema's own example (3.0 `example`, 3.1 `examples[0]`), or its `default`.
fn of_schema(doc: &Value, schema: &Value) -> Option<Value> {
    let schema = follow(doc, schema).ok()?.value;
    schema
        .get("example")
        .or_else(|| schema.get("examples").and_then(Value::as_array).and_then(|list| list.first()))
        .or_else(|| schema.get("default"))
        .cloned()
}

/// Which way a made-up value travels: a request leaves out `readOnly` fields, a response
/// `writeOnly` ones (OpenAPI's meaning of the two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// The given example, or one made from `holder`'s schema.
pub fn given_or_made(doc: &Value, holder: &Value, direction: Direction) -> Option<Value> {
    given(doc, holder).or_else(|| holder.get("schema").map(|schema| made(doc, schema, direction)))
}

/// An example value shaped like `schema`: fields filled with their examples, defaults, first
/// enum values or a typical value of their type. Bounded in depth and width; a schema met
/// again inside itself (a tree, a linked list) is `null` there.
pub fn made(doc: &Value, schema: &Value, direction: Direction) -> Value {
    let skip = match direction {
        Direction::Request => "readOnly",
        Direction::Response => "writeOnly",
    };
    Maker { doc, path: Vec::new(), skip, budget: MAX_VALUES }.make(schema, 0)
}

struct Maker<'d> {
    doc: &'d Value,
    /// References being made on the current path.
    path: Vec<&'d str>,
    /// `readOnly` or `writeOnly`: fields marked so are left out.
    skip: &'static str,
    /// Values still allowed; past it every value is `null`.
    budget: usize,
}

impl<'d> Maker<'d> {
    fn make(&mut self, schema: &'d Value, depth: usize) -> Value {
        let Ok(followed) = follow(self.doc, schema) else { return Value::Null };
        if self.budget == 0 {
            return Value::Null;
        }
        self.budget -= 1;
        if let Some(reference) = followed.reference {
            if self.path.contains(&reference) {
                return Value::Null;
            }
            self.path.push(reference);
        }
        let value = self.make_followed(followed.value, depth);
        if followed.reference.is_some() {
            self.path.pop();
        }
        value
    }

    fn make_followed(&mut self, schema: &'d Value, depth: usize) -> Value {
        let doc = self.doc;
        if let Some(value) = of_schema(doc, schema) {
            return value;
        }
        if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
            return first.clone();
        }
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        let option = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|word| schema.get(*word).and_then(Value::as_array))
            .flatten()
            .find(|o| o.get("type").and_then(Value::as_str) != Some("null"));
        if let Some(option) = option {
            return self.make(option, depth);
        }
        if depth >= MAX_DEPTH {
            return Value::Null;
        }
        if let Some(members) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for member in members {
                if let Value::Object(fields) = self.make(member, depth + 1) {
                    merged.extend(fields);
                }
            }
            self.fill_fields(schema, depth, &mut merged);
            return Value::Object(merged);
        }
        match main_type(schema) {
            "object" => {
                let mut fields = Map::new();
                self.fill_fields(schema, depth, &mut fields);
                Value::Object(fields)
            }
            "array" => match schema.get("items") {
                Some(items) => Value::Array(vec![self.make(items, depth + 1)]),
                None => Value::Array(Vec::new()),
            },
            "string" => Value::String(string_for(schema.get("format").and_then(Value::as_str)).to_owned()),
            "integer" => Value::from(0),
            "number" => Value::from(0),
            "boolean" => Value::Bool(false),
            _ => Value::Null,
        }
    }

    fn fill_fields(&mut self, schema: &'d Value, depth: usize, into: &mut Map<String, Value>) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
        for (name, property) in properties.iter().take(MAX_FIELDS) {
            if self.budget == 0 {
                break;
            }
            let followed = follow(self.doc, property);
            let skipped = followed.is_ok_and(|f| f.value.get(self.skip) == Some(&Value::Bool(true)));
            if !skipped {
                let value = self.make(property, depth + 1);
                into.insert(name.clone(), value);
            }
        }
    }
}

/// `type` as one word: the first non-null one of a 3.1 type array; `object` or `array`
/// inferred from `properties`/`items` when the schema does not say.
fn main_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "",
    }
}

fn string_for(format: Option<&str>) -> &'static str {
    match format {
        Some("date-time") => "2026-01-01T00:00:00Z",
        Some("date") => "2026-01-01",
        Some("email") => "someone@example.com",
        Some("uri" | "url") => "https://example.com",
        Some("uuid") => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        _ => "string",
    }
}

/// An example as text for a page: JSON pretty-printed, a bare string as itself.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{made, Direction, MAX_VALUES};

    fn count(value: &Value) -> usize {
        1 + match value {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(fields) => fields.values().map(count).sum(),
            _ => 0,
        }
    }

    #[test]
    fn a_wide_deep_schema_makes_a_bounded_example() {
        // Six levels of 30 fields, each level a component the one above refers to 30 times.
        let mut schemas = serde_json::Map::new();
        for level in 0..6 {
            let next = if level == 5 {
                json!({"type": "string"})
            } else {
                json!({"$ref": format!("#/components/schemas/L{}", level + 1)})
            };
            let fields: serde_json::Map<String, Value> = (0..30).map(|i| (format!("f{i}"), next.clone())).collect();
            schemas.insert(format!("L{level}"), json!({"type": "object", "properties": fields}));
        }
        let doc = json!({"components": {"schemas": schemas}});
        let example = made(&doc, &json!({"$ref": "#/components/schemas/L0"}), Direction::Request);
        assert!(count(&example) <= MAX_VALUES + 1, "{} values", count(&example));
        assert!(count(&example) > 100, "the budget is used, not refused: {}", count(&example));
    }

    #[test]
    fn types_formats_and_enums_give_typical_values() {
        let schema = json!({"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "n": {"type": ["integer", "null"]},
            "kind": {"enum": ["b", "a"]},
            "secret": {"type": "string", "writeOnly": true}
        }});
        let answered = made(&json!({}), &schema, Direction::Response);
        assert_eq!(answered, json!({"when": "2026-01-01T00:00:00Z", "n": 0, "kind": "b"}));
    }
}
