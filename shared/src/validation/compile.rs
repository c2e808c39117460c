//! From an operation's [`OperationSpec`] to validators, once per route-table load: natively
//! for every operation when the table is built, at the edge on an operation's first checked
//! call (a Worker's cold start then pays for none of it).
//!
//! The API's document is registered once as a resource of a `jsonschema` registry under
//! [`DOCUMENT_URI`]; each validator is the schema `{"$ref": "<uri>#<pointer>"}`, so `$ref`s
//! inside the document (`#/components/schemas/Pet`) resolve against it without copying any
//! part of it per operation.

use jsonschema::{Draft, Registry, Validator};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::spec::OperationSpec;

/// What a JSON Pointer keeps as it is inside a URI fragment: unreserved characters and `/`.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The name the document is registered under; never fetched (the crate is built without
/// its file and HTTP retrievers).
pub const DOCUMENT_URI: &str = "urn:gatehouse:openapi";

/// One API's document, prepared for compiling its operations' schemas.
pub struct ApiSchemas {
    registry: Registry<'static>,
    draft: Draft,
}

impl std::fmt::Debug for ApiSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSchemas").field("draft", &self.draft).finish_non_exhaustive()
    }
}

impl ApiSchemas {
    /// The document as JSON Schema sees it. OpenAPI 3.0 (and Swagger 2.0 converted to it)
    /// is read as draft 4, whose `exclusiveMinimum: true` it shares, with `nullable: true`
    /// turned into the `null` type it means; 3.1 is JSON Schema 2020-12 already.
    pub fn new(doc: &Value) -> Result<ApiSchemas, String> {
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("3.0");
        let mut doc = doc.clone();
        let draft = if version.starts_with("3.0") {
            nullable_to_null_type(&mut doc, 0);
            Draft::Draft4
        } else {
            Draft::Draft202012
        };
        let registry = Registry::new()
            .draft(draft)
            .add(DOCUMENT_URI, draft.create_resource(doc))
            .and_then(|builder| builder.prepare())
            .map_err(|e| e.to_string())?;
        Ok(ApiSchemas { registry, draft })
    }

    /// A validator for the schema at `pointer` in the document.
    pub fn validator(&self, pointer: &str) -> Result<Validator, String> {
        // A pointer into `paths` holds `{`, `}` and other text a URI fragment may not.
        let pointer = utf8_percent_encode(pointer, FRAGMENT);
        jsonschema::options()
            .with_draft(self.draft)
            .with_registry(&self.registry)
            // Formats (`date-time`, `email`, `uuid`, …) are checked under 3.0 and 3.1 alike, so
            // one document behaves the same whichever version it is written in; formats the
            // crate does not know (`int32`, `binary`) are let through.
            .should_validate_formats(true)
            .build(&json!({ "$ref": format!("{DOCUMENT_URI}#{pointer}") }))
            .map_err(|e| e.to_string())
    }
}

/// An operation's validators, in the order of its [`OperationSpec`].
#[derive(Default)]
pub struct Compiled {
    /// One per parameter; `None`: no schema (or one that did not compile), presence only.
    pub params: Vec<Option<Validator>>,
    /// One per JSON media type of the request body.
    pub body: Vec<Option<Validator>>,
    /// One per JSON response schema.
    pub responses: Vec<Option<Validator>>,
    /// Schemas that did not compile (pointer, why): checked as if absent, and logged once by
    /// the runtime, rather than refusing every call over one bad `pattern`.
    pub notes: Vec<(String, String)>,
}

/// Compiles every schema `spec` names.
pub fn compile(schemas: &ApiSchemas, spec: &OperationSpec) -> Compiled {
    let mut notes = Vec::new();
    let mut one = |pointer: &str| match schemas.validator(pointer) {
        Ok(validator) => Some(validator),
        Err(why) => {
            notes.push((pointer.to_owned(), why));
            None
        }
    };
    let params = spec.params.iter().map(|p| p.schema.as_deref().and_then(&mut one)).collect();
    let body = spec.body.iter().flat_map(|b| &b.json).map(|(_, pointer)| one(pointer)).collect();
    let responses = spec.responses.iter().map(|(_, _, pointer)| one(pointer)).collect();
    Compiled { params, body, responses, notes }
}

/// How deep the 3.0 rewrite walks: deeper than any real document, shallow enough for the
/// stack (the import bounds documents to the same depth).
const MAX_DEPTH: usize = 128;

/// `nullable: true` (OpenAPI 3.0) becomes `null` among the schema's types, or its enum's
/// values, which is what it means; JSON Schema knows no `nullable`. A schema with neither
/// (`allOf: [$ref]`, the usual way to make a reference nullable) becomes
/// `anyOf: [<schema>, {type: null}]`.
fn nullable_to_null_type(value: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Value::Object(map) = value {
        let untyped = !map.contains_key("type") && !map.contains_key("enum");
        if untyped && map.get("nullable") == Some(&Value::Bool(true)) {
            map.remove("nullable");
            let inner = std::mem::take(map);
            *value = json!({ "anyOf": [Value::Object(inner), { "type": "null" }] });
            // The schema is now one level down; its own members are walked from there.
            return nullable_to_null_type(value, depth);
        }
    }
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = std::mem::take(t);
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
                    _ => {}
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
            }
            map.values_mut().for_each(|v| nullable_to_null_type(v, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| nullable_to_null_type(v, depth + 1)),
        _ => {}
    }
}
