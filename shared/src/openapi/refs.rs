//! Every `$ref` in the document: one into another file is refused (the import sees one
//! document), one into this document must lead somewhere. References are checked where they
//! are written, never expanded, so recursive schemas (a `Node` whose `children` are `Node`s)
//! and reference cycles cost nothing and cannot loop.
//!
//! Specification extensions (`x-…` members) are opaque to OpenAPI: a `$ref` inside one means
//! what its tool says, not a Reference Object (AutoRest's `x-ms-examples` point at example
//! files beside the document), so they are not checked. A member named `x-…` of a map of
//! names (`properties`, `headers`, `schemas`, …) is a name, not an extension, and is checked.

use serde_json::Value;

use super::pointer::{escape, follow, Target};
use super::Problems;

/// Members whose keys are names the document chose (a header may be called `x-request-id`),
/// where a key starting with `x-` is not an extension.
const NAMED_MAPS: [&str; 18] = [
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "examples",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
    "content",
    "encoding",
    "variables",
];

/// Walks `doc` and reports each `$ref` that is external or leads nowhere, at its pointer.
pub(crate) fn check(doc: &Value, problems: &mut Problems) {
    let mut at = Vec::new();
    walk(doc, doc, &mut at, problems);
}

fn walk(doc: &Value, value: &Value, at: &mut Vec<String>, problems: &mut Problems) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                let pointer = || format!("{}/$ref", at.iter().map(|t| format!("/{}", escape(t))).collect::<String>());
                match follow(doc, reference) {
                    Target::Found { .. } => {}
                    Target::External => problems.push(
                        pointer(),
                        format!(
                            "{reference:?} is in another document: bundle it into this one, or import with \
                             `gatehouse apply`, which inlines files beside the document"
                        ),
                    ),
                    Target::Missing => {
                        problems.push(pointer(), format!("{reference:?} does not exist in this document"))
                    }
                }
            }
            let names = at.last().is_some_and(|parent| NAMED_MAPS.contains(&parent.as_str()));
            for (key, inner) in object {
                // Values that are data, not description: a `$ref` member there is just a field.
                let data = matches!(key.as_str(), "example" | "default" | "enum" | "const")
                    || key == "examples" && inner.is_array()
                    || !names && key.starts_with("x-");
                if data {
                    continue;
                }
                at.push(key.clone());
                walk(doc, inner, at, problems);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                at.push(i.to_string());
                walk(doc, inner, at, problems);
                at.pop();
            }
        }
        _ => {}
    }
}
