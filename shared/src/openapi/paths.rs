//! The `paths` object: path templates and path items (following a path item's `$ref`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::document::{kind, Dialect};
use super::operations::Collector;
use super::pointer::{child, follow, Target};
use super::security::Security;
use super::Problems;
use crate::model::Operation;

/// How many `$ref` hops a path item may take; more is almost certainly a cycle.
const MAX_REF_HOPS: usize = 8;

/// Checks `paths` and returns its operations.
pub(crate) fn read(doc: &Value, dialect: Dialect, security: &mut Security, problems: &mut Problems) -> Vec<Operation> {
    let Some(paths) = doc.get("paths") else {
        // 3.1 made `paths` optional when `webhooks` or `components` carry the document.
        let pathless_ok = dialect == Dialect::V31 && (doc.get("webhooks").is_some() || doc.get("components").is_some());
        if !pathless_ok {
            problems.push("/paths", "required (OpenAPI 3.1 also accepts webhooks or components instead)");
        }
        return Vec::new();
    };
    let Some(paths) = paths.as_object() else {
        problems.push("/paths", format!("must be an object, not {}", kind(paths)));
        return Vec::new();
    };
    let mut collector = Collector::new(security);
    let mut shapes: HashMap<String, String> = HashMap::new();
    for (path, item) in paths.iter().filter(|(path, _)| !path.starts_with("x-")) {
        let at = child("/paths", path);
        if let Some(shape) = template_shape(path, &at, problems) {
            match shapes.get(&shape) {
                Some(first) => problems.push(&at, format!("same template as {first} but for parameter names")),
                None => drop(shapes.insert(shape, at.clone())),
            }
        }
        if let Some((item, item_at)) = resolve_item(doc, item, at, problems) {
            collector.read_item(path, item, &item_at, problems);
        }
    }
    collector.finish()
}

/// Checks one path key and returns it with parameter names erased (`/pets/{}`), the form in
/// which two templates are the same route; `None` when the template is malformed.
fn template_shape(path: &str, at: &str, problems: &mut Problems) -> Option<String> {
    let before = problems.0.len();
    if !path.starts_with('/') {
        problems.push(at, format!("path {path:?} must start with '/'"));
    }
    let mut shape = String::with_capacity(path.len());
    let mut names: Vec<&str> = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in path.char_indices() {
        match (c, open) {
            ('{', Some(_)) => problems.push(at, format!("'{{' at byte {i} opens a parameter inside another")),
            ('{', None) => open = Some(i),
            ('}', None) => problems.push(at, format!("'}}' at byte {i} closes no parameter")),
            ('}', Some(start)) => {
                open = None;
                let name = &path[start + 1..i];
                if name.is_empty() {
                    problems.push(at, format!("empty parameter name '{{}}' at byte {start}"));
                } else if names.contains(&name) {
                    problems.push(at, format!("path parameter {name:?} appears twice"));
                }
                names.push(name);
                shape.push_str("{}");
            }
            (_, Some(_)) => {}
            (c, None) => shape.push(c),
        }
    }
    if let Some(start) = open {
        problems.push(at, format!("'{{' at byte {start} is never closed"));
    }
    (problems.0.len() == before).then_some(shape)
}

/// The path item itself, following `$ref` within the document. Problems inside a referenced
/// item are reported where it really is, so the returned pointer is the target's.
fn resolve_item<'d>(
    doc: &'d Value,
    mut item: &'d Value,
    mut at: String,
    problems: &mut Problems,
) -> Option<(&'d Map<String, Value>, String)> {
    for _ in 0..=MAX_REF_HOPS {
        let Some(reference) = item.get("$ref") else {
            let Some(object) = item.as_object() else {
                problems.push(at, format!("a path item must be an object, not {}", kind(item)));
                return None;
            };
            return Some((object, at));
        };
        let ref_at = child(&at, "$ref");
        let Some(reference) = reference.as_str() else {
            problems.push(ref_at, format!("must be a string, not {}", kind(reference)));
            return None;
        };
        match follow(doc, reference) {
            Target::Found { value, pointer } => (item, at) = (value, pointer),
            Target::External => {
                let message = format!("{reference:?} is in another document; bundle it into this one first");
                problems.push(ref_at, message);
                return None;
            }
            Target::Missing => {
                problems.push(ref_at, format!("{reference:?} does not exist in this document"));
                return None;
            }
        }
    }
    problems.push(at, format!("more than {MAX_REF_HOPS} $ref hops (a reference cycle?)"));
    None
}
