//! A value that fits a JSON Schema, made from the schema alone: its own `const`, `default`,
//! `example` or `examples` first, then `enum`, then a plain value of its `type` and `format`.
//!
//! Deterministic on purpose (Prism's static mode does the same): a mock that answers the
//! same request the same way can be cached, diffed and written into tests. No crate was
//! taken: the Rust JSON Schema fakers draw randomness, which the core must not, and walk
//! `$ref`s without a cycle bound.

use serde_json::{Map, Value};

use crate::openapi::pointer::{follow, Target};

/// How deep a generated value may nest; past it a value is cut short (`null`, `[]`, `{}`).
const MAX_DEPTH: usize = 12;
/// Most items a generated array gets, whatever `minItems` asks for.
const MAX_ITEMS: u64 = 3;
/// Most values (every scalar, array and object counts one) in one generated value: without
/// it, a wide schema nested a few times (Stripe's expandable objects) grows exponentially.
/// Past it, values are cut short as at the depth bound.
const MAX_NODES: usize = 5_000;

/// A value for `schema`, whose `$ref`s are resolved in `doc`.
pub fn value(doc: &Value, schema: &Value) -> Value {
    Generator { doc, refs: Vec::new(), nodes: 0 }.value(schema, 0)
}

struct Generator<'d> {
    doc: &'d Value,
    /// The `$ref`s being expanded, outermost first: one met again is a cycle.
    refs: Vec<&'d str>,
    /// Values made so far, against [`MAX_NODES`].
    nodes: usize,
}

impl<'d> Generator<'d> {
    fn value(&mut self, schema: &'d Value, depth: usize) -> Value {
        if self.nodes >= MAX_NODES {
            return Value::Null;
        }
        self.nodes += 1;
        let Some(object) = schema.as_object() else {
            return Value::Null; // `true`, `false` or nonsense: anything goes, so nothing.
        };
        if let Some(Value::String(reference)) = object.get("$ref") {
            return self.referenced(reference, depth);
        }
        if let Some(given) = given_value(object) {
            return given.clone();
        }
        if let Some(first) = object.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
            return first.clone();
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            return self.all_of(object, all, depth);
        }
        let alternative = ["oneOf", "anyOf"].iter().find_map(|k| object.get(*k)?.as_array()?.first());
        if let Some(first) = alternative {
            return self.value(first, depth);
        }
        match type_of(object) {
            Some("object") => self.object(object, depth),
            Some("array") => self.array(object, depth),
            Some("string") => string(object),
            Some("integer") => number(object, true),
            Some("number") => number(object, false),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ if object.contains_key("properties") => self.object(object, depth),
            _ if object.contains_key("items") => self.array(object, depth),
            _ => Value::Null,
        }
    }

    fn referenced(&mut self, reference: &'d str, depth: usize) -> Value {
        if self.refs.contains(&reference) || depth >= MAX_DEPTH {
            return Value::Null;
        }
        let Target::Found { value: target, .. } = follow(self.doc, reference) else {
            return Value::Null;
        };
        self.refs.push(reference);
        let value = self.value(target, depth + 1);
        self.refs.pop();
        value
    }

    /// Every member's object properties merged; a non-object member's value if there is no
    /// object to merge into.
    fn all_of(&mut self, object: &'d Map<String, Value>, all: &'d [Value], depth: usize) -> Value {
        let mut merged = match type_of(object) {
            Some("object") | None if object.contains_key("properties") => self.object(object, depth),
            _ => Value::Null,
        };
        for member in all {
            match (&mut merged, self.value(member, depth)) {
                (Value::Object(into), Value::Object(from)) => into.extend(from),
                (merged @ Value::Null, from) => *merged = from,
                _ => {}
            }
        }
        merged
    }

    /// Every property; one that would start a cycle or go too deep is left out unless it is
    /// required (then it is `null`, as deep as the bound allows).
    fn object(&mut self, object: &'d Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        if depth >= MAX_DEPTH {
            return Value::Object(out);
        }
        let required: Vec<&str> =
            object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let properties = object.get("properties").and_then(Value::as_object).into_iter().flatten();
        for (name, schema) in properties {
            if schema.get("writeOnly") == Some(&Value::Bool(true)) {
                continue; // never in a response
            }
            let value = self.value(schema, depth + 1);
            if value.is_null() && !required.contains(&name.as_str()) && self.cut(schema, depth) {
                continue;
            }
            out.insert(name.clone(), value);
        }
        Value::Object(out)
    }

    /// Whether `schema`'s value was cut short by a cycle or the depth bound.
    fn cut(&self, schema: &Value, depth: usize) -> bool {
        let reference = schema.get("$ref").and_then(Value::as_str);
        depth + 1 >= MAX_DEPTH || self.nodes >= MAX_NODES || reference.is_some_and(|r| self.refs.contains(&r))
    }

    fn array(&mut self, object: &'d Map<String, Value>, depth: usize) -> Value {
        let Some(items) = object.get("items") else {
            return Value::Array(Vec::new());
        };
        if depth >= MAX_DEPTH {
            return Value::Array(Vec::new());
        }
        let before = self.nodes;
        let item = self.value(items, depth + 1);
        if item.is_null() && self.cut(items, depth) {
            return Value::Array(Vec::new());
        }
        // The copies count against the budget too; as many as it still allows.
        let size = (self.nodes - before).max(1);
        let wanted = object.get("minItems").and_then(Value::as_u64).unwrap_or(1).clamp(1, MAX_ITEMS) as usize;
        let count = wanted.min(1 + MAX_NODES.saturating_sub(self.nodes) / size);
        self.nodes += size * (count - 1);
        Value::Array(vec![item; count])
    }
}

/// The schema's own `const`, `default`, `example` or first of `examples` (3.1).
fn given_value(object: &Map<String, Value>) -> Option<&Value> {
    object
        .get("const")
        .or_else(|| object.get("example"))
        .or_else(|| object.get("examples").and_then(Value::as_array).and_then(|e| e.first()))
        .or_else(|| object.get("default"))
}

/// `type`, or the first non-`null` of a 3.1 type list.
fn type_of(object: &Map<String, Value>) -> Option<&str> {
    match object.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => {
            let mut names = types.iter().filter_map(Value::as_str);
            names.clone().find(|t| *t != "null").or_else(|| names.next())
        }
        _ => None,
    }
}

/// A string of the schema's `format`, padded to `minLength`.
fn string(object: &Map<String, Value>) -> Value {
    let format = object.get("format").and_then(Value::as_str).unwrap_or("");
    let text = match format {
        "date-time" => "2026-01-01T00:00:00Z",
        "date" => "2026-01-01",
        "time" => "00:00:00Z",
        "email" | "idn-email" => "user@example.com",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "uri" | "url" | "iri" => "https://example.com/",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "byte" => "c3RyaW5n",
        "duration" => "P1D",
        _ => "string",
    };
    let min = object.get("minLength").and_then(Value::as_u64).unwrap_or(0).min(1024) as usize;
    let mut text = text.to_owned();
    while text.chars().count() < min {
        text.push('x');
    }
    if let Some(max) = object.get("maxLength").and_then(Value::as_u64) {
        text = text.chars().take(max as usize).collect();
    }
    Value::String(text)
}

/// `minimum` (or just above an exclusive one), else `maximum`, else zero.
fn number(object: &Map<String, Value>, integer: bool) -> Value {
    let min = object.get("minimum").and_then(Value::as_f64);
    let exclusive = object.get("exclusiveMinimum");
    let value = match (min, exclusive) {
        (_, Some(Value::Number(n))) => n.as_f64().map(|n| n + 1.0),
        (Some(min), Some(Value::Bool(true))) => Some(min + 1.0),
        (Some(min), _) => Some(min),
        _ => object.get("maximum").and_then(Value::as_f64).map(|m| m.min(0.0)),
    }
    .unwrap_or(0.0);
    if integer {
        Value::from(value.ceil() as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}
