//! Rules about each operation: its id, summary, error answers, security and examples.

use serde_json::{Map, Value};

use super::super::pointer::child;
use super::super::sensitivity::resolve;
use super::{
    Finding, MEDIA_EXAMPLE, OPERATION_ERROR_RESPONSE, OPERATION_ID, OPERATION_PUBLIC, OPERATION_SECURITY,
    OPERATION_SUMMARY,
};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation of the document, after its path item's `$ref`s.
pub(super) struct Op<'d> {
    /// The path key as written, e.g. `/pets/{id}`.
    pub(super) path: &'d str,
    pub(super) method: &'static str,
    pub(super) object: &'d Map<String, Value>,
    /// Pointer to the operation object.
    pub(super) at: String,
}

/// Every operation, in document order.
pub(super) fn operations(doc: &Value) -> Vec<Op<'_>> {
    let mut out = Vec::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let Some((item, at)) = resolve(doc, item, child("/paths", path)) else { continue };
        for method in METHODS {
            if let Some(object) = item.get(method).and_then(Value::as_object) {
                out.push(Op { path, method, object, at: child(&at, method) });
            }
        }
    }
    out
}

/// The per-operation rules, over every operation.
pub(super) fn check(doc: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    for op in operations(doc) {
        let name = format!("{} {}", op.method.to_ascii_uppercase(), op.path);
        let blank = |key: &str| op.object.get(key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty());
        if blank("operationId") {
            let message = format!("{name} has no operationId: analytics and products name it {name:?} instead");
            out.push(Finding::new(OPERATION_ID, &op.at, message));
        }
        if blank("summary") {
            out.push(Finding::new(OPERATION_SUMMARY, &op.at, format!("{name} has no summary for the portal")));
        }
        error_responses(&op, &name, &mut out);
        security(doc, &op, &name, &mut out);
        examples(doc, &op, &mut out);
    }
    out
}

fn error_responses(op: &Op, name: &str, out: &mut Vec<Finding>) {
    let responses = op.object.get("responses").and_then(Value::as_object);
    let is_error = |status: &String| status == "default" || status.starts_with('4') || status.starts_with('5');
    if !responses.into_iter().flatten().any(|(status, _)| is_error(status)) {
        let message = format!("{name} declares no 4xx, 5xx or default response: callers cannot tell how it fails");
        out.push(Finding::new(OPERATION_ERROR_RESPONSE, child(&op.at, "responses"), message));
    }
}

/// The effective requirement is the operation's `security`, else the document's.
fn security(doc: &Value, op: &Op, name: &str, out: &mut Vec<Finding>) {
    let (requirements, at) = match (op.object.get("security"), doc.get("security")) {
        (Some(own), _) => (own, child(&op.at, "security")),
        (None, Some(top)) => (top, "/security".to_owned()),
        (None, None) => {
            let message = format!(
                "{name} has no security requirement, neither its own nor the document's: readers cannot tell how to \
                 authenticate (Gatehouse still requires its default API key)"
            );
            out.push(Finding::new(OPERATION_SECURITY, &op.at, message));
            return;
        }
    };
    // Not a list: import reports the malformed requirement; guessing here would mislead.
    let Some(alternatives) = requirements.as_array() else { return };
    let empty = |r: &Value| r.as_object().is_some_and(Map::is_empty);
    if alternatives.iter().all(empty) {
        let message = format!("{name} is public: anyone may call it without a credential");
        out.push(Finding::new(OPERATION_PUBLIC, at, message));
    } else if alternatives.iter().any(empty) {
        let message = format!("{name} makes its credential optional (an empty {{}} alternative)");
        out.push(Finding::new(OPERATION_PUBLIC, at, message));
    }
}

/// Request and response bodies (after `$ref`s) whose media types have no example.
fn examples(doc: &Value, op: &Op, out: &mut Vec<Finding>) {
    let mut bodies = Vec::new();
    if let Some(body) = op.object.get("requestBody") {
        bodies.extend(resolve(doc, body, child(&op.at, "requestBody")));
    }
    let responses = op.object.get("responses").and_then(Value::as_object);
    for (status, response) in responses.into_iter().flatten().filter(|(s, _)| !s.starts_with("x-")) {
        bodies.extend(resolve(doc, response, child(&child(&op.at, "responses"), status)));
    }
    for (body, at) in bodies {
        for (media, object) in body.get("content").and_then(Value::as_object).into_iter().flatten() {
            if !has_example(doc, object) {
                let message = format!("the {media} body has no example: mocks and the portal will invent one");
                out.push(Finding::new(MEDIA_EXAMPLE, child(&child(&at, "content"), media), message));
            }
        }
    }
}

/// An `example` or non-empty `examples` on the media type object or on its schema.
fn has_example(doc: &Value, media: &Value) -> bool {
    let given = |v: &Value| {
        v.get("example").is_some()
            || match v.get("examples") {
                Some(Value::Object(named)) => !named.is_empty(), // a media type's map of Example objects
                Some(Value::Array(listed)) => !listed.is_empty(), // a 3.1 schema's list
                _ => false,
            }
    };
    let schema = media.get("schema").and_then(|s| resolve(doc, s, String::new())).map(|(s, _)| s);
    given(media) || schema.is_some_and(given)
}
