//! Whether an upstream's answer keeps the operation's contract: its status is one the document
//! describes (exactly, as a range such as `2XX`, or through `default`), its `Content-Type` is
//! one described for that status, and a JSON body fits the described schema.
//!
//! Schemas are checked by the `jsonschema` crate, the validator the gateway's request
//! validation uses too: it passes the official JSON Schema test suite for drafts 4 to 2020-12
//! and locates each error by JSON Pointer. A hand-written checker would drift from the
//! standard in exactly the corners (`$ref` cycles, `allOf` with `additionalProperties`,
//! formats) a contract test exists to catch. Without default features it fetches nothing: a
//! `$ref` leads only into the document itself.

use jsonschema::Draft;
use serde_json::{Map, Value};

use super::refs::resolve;

/// Errors listed per failing body; the rest are counted.
const MAX_SCHEMA_ERRORS: usize = 5;

/// The document prepared once for checking answers against its schemas.
pub struct Checker {
    /// The document with OpenAPI 3.0's `nullable` turned into JSON Schema (see [`normalise`]).
    doc: Value,
    /// Draft 4 for OpenAPI 3.0 (its Schema Object is an extended subset of draft 4's, with the
    /// boolean `exclusiveMinimum`), 2020-12 for 3.1, which adopts that draft whole.
    draft: Draft,
}

/// What came back from the upstream.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Checker {
    pub fn new(doc: &Value) -> Checker {
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("3.0");
        let mut doc = doc.clone();
        if version.starts_with("3.1") {
            return Checker { doc, draft: Draft::Draft202012 };
        }
        normalise(&mut doc);
        Checker { doc, draft: Draft::Draft4 }
    }

    /// The operation's documented statuses (`200`, `4XX`, `default`), for the report.
    pub fn statuses(&self, operation: &Value) -> Vec<String> {
        let responses = operation.get("responses").and_then(Value::as_object).into_iter().flatten();
        responses.map(|(status, _)| status.clone()).filter(|s| !s.starts_with("x-")).collect()
    }

    /// Every way `answer` breaks the contract of the operation at `path` (the key in `paths`)
    /// and `method`; empty when it keeps it. `head`: a HEAD request, whose answer has no body.
    /// The operation is read from this checker's copy, so its inline schemas are normalised too.
    pub fn problems(&mut self, path: &str, method: &str, answer: &Answer, head: bool) -> Vec<String> {
        match self.body_to_check(path, method, answer, head) {
            Err(problems) => problems,
            Ok(None) => Vec::new(),
            Ok(Some((schema, body))) => self.schema_problems(schema, &body),
        }
    }

    /// The status and media type checks; then the schema and JSON body left to check, if any.
    fn body_to_check(&self, path: &str, method: &str, answer: &Answer, head: bool) -> Checked {
        let item = self.doc.get("paths").and_then(|p| p.get(path)).map(|i| resolve(&self.doc, i));
        let operation = item.and_then(|i| i.get(method.to_ascii_lowercase())).map(|o| resolve(&self.doc, o));
        let Some(operation) = operation else { return Err(vec!["the operation is not in the document".into()]) };
        let Some(response) = self.response_for(operation, answer.status) else {
            let documented = self.statuses(operation).join(", ");
            return Err(vec![format!("status {} is not documented (documented: {documented})", answer.status)]);
        };
        match response.get("content").and_then(Value::as_object) {
            Some(content) if !content.is_empty() && !head && !matches!(answer.status, 204 | 304) => {
                self.content_to_check(content, answer)
            }
            _ => Ok(None),
        }
    }

    /// The response object for `status`: the exact code, else its range (`2XX`), else `default`.
    fn response_for<'d>(&'d self, operation: &'d Value, status: u16) -> Option<&'d Value> {
        let responses = operation.get("responses")?.as_object()?;
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let found = responses
            .get(&exact)
            .or_else(|| responses.iter().find(|(k, _)| k.eq_ignore_ascii_case(&range)).map(|(_, v)| v))
            .or_else(|| responses.get("default"))?;
        Some(resolve(&self.doc, found))
    }

    fn content_to_check(&self, content: &Map<String, Value>, answer: &Answer) -> Checked {
        let described: Vec<&str> = content.keys().map(String::as_str).collect();
        let Some(content_type) = answer.content_type else {
            return Err(vec![format!("no Content-Type; the document describes {}", described.join(", "))]);
        };
        let essence = essence(content_type);
        let Some((_, media)) = content.iter().find(|(range, _)| matches_range(&essence, range)) else {
            return Err(vec![format!("Content-Type {content_type} is not described ({})", described.join(", "))]);
        };
        let media = resolve(&self.doc, media);
        let Some(schema) = media.get("schema") else { return Ok(None) };
        if !is_json(&essence) {
            return Ok(None); // Only JSON bodies are checked against their schema.
        }
        match serde_json::from_slice(answer.body) {
            Ok(body) => Ok(Some((schema.clone(), body))),
            Err(e) => Err(vec![format!("the body is not JSON ({e}) although Content-Type is {content_type}")]),
        }
    }

    /// `body` against `schema`, whose `$ref`s resolve in the document: the document is the
    /// root resource and the schema sits in an `allOf` at its root (put there for this check
    /// only: no copy of a large document per call). No member of an OpenAPI document's root is
    /// a JSON Schema keyword, so nothing but that `allOf` constrains.
    fn schema_problems(&mut self, schema: Value, body: &Value) -> Vec<String> {
        let Some(root) = self.doc.as_object_mut() else { return Vec::new() };
        root.insert("allOf".into(), Value::Array(vec![schema]));
        let validator = jsonschema::options().with_draft(self.draft).should_validate_formats(true).build(&self.doc);
        if let Some(root) = self.doc.as_object_mut() {
            root.remove("allOf");
        }
        let validator = match validator {
            Ok(validator) => validator,
            Err(e) => return vec![format!("the response schema cannot be checked: {e}")],
        };
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("body{}: {}", pointer_or_root(&e.instance_path().to_string()), e))
            .collect();
        let mut shown: Vec<String> = errors.iter().take(MAX_SCHEMA_ERRORS).cloned().collect();
        if errors.len() > MAX_SCHEMA_ERRORS {
            shown.push(format!("and {} more schema errors", errors.len() - MAX_SCHEMA_ERRORS));
        }
        shown
    }
}

/// Problems found before the schema check, or the schema and body it still has to check.
type Checked = Result<Option<(Value, Value)>, Vec<String>>;

fn pointer_or_root(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" at {pointer}")
    }
}

/// `application/json` from `Application/JSON; charset=utf-8`.
fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// A media type and a described key (`application/json`, `application/*`, `*/*`, with or
/// without parameters).
fn matches_range(essence: &str, range: &str) -> bool {
    let range = self::essence(range);
    match range.split_once('/') {
        Some(("*", "*")) => true,
        Some((kind, "*")) => essence.split_once('/').is_some_and(|(k, _)| k == kind),
        _ => range == essence,
    }
}

/// `application/json`, `application/problem+json`, `text/json` and the like.
pub fn is_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    essence.ends_with("/json") || essence.ends_with("+json")
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` added to the `type` (and to an
/// `enum`), or, on a schema with no `type` (an `allOf`, a `oneOf`), the schema wrapped in
/// `anyOf: [schema, {type: null}]`. Everything else of 3.0's dialect draft 4 reads as is.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for inner in object.values_mut() {
                normalise(inner);
            }
            if object.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            object.remove("nullable");
            if let Some(Value::Array(items)) = object.get_mut("enum") {
                items.push(Value::Null);
            }
            match object.get("type").cloned() {
                Some(Value::String(kind)) => {
                    object.insert("type".into(), Value::Array(vec![Value::String(kind), "null".into()]));
                }
                Some(_) => {}
                None => {
                    let inner = Value::Object(std::mem::take(object));
                    object.insert("anyOf".into(), Value::Array(vec![inner, serde_json::json!({"type": "null"})]));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
