//! From an OpenAPI document to each operation's [`MockOperation`], once, when the API is
//! published: the gateway then answers from a few prepared values and never walks the
//! document (which the read model does not keep) per request.

use serde_json::Value;

use super::{generate, MockContent, MockOperation, MockResponse};
use crate::model::Api;
use crate::openapi::pointer::{follow, Target};

/// Response headers a document may describe but the mock never copies: the gateway sets
/// `Content-Type` and the framing itself, and the rest describe a connection, not the answer
/// (a described `Content-Length` would break the response).
const FRAMING: [&str; 11] = [
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "vary",
    "content-encoding",
];

/// How many `$ref` hops one reference chain (response → response → …) may take.
const MAX_HOPS: usize = 8;

/// Prepares every operation of a mock API (see [`crate::model::UpstreamSettings::is_mock`]);
/// an API with a real upstream is left as it is.
pub fn prepare(api: &mut Api) {
    if !api.upstream.is_mock() {
        return;
    }
    let doc = &api.openapi;
    for operation in &mut api.operations {
        let described = doc
            .get("paths")
            .and_then(|paths| paths.get(&operation.path))
            .map(|item| resolve(doc, item))
            .and_then(|item| item.get(operation.method.to_ascii_lowercase()))
            .map(|op| resolve(doc, op));
        operation.mock = Some(Box::new(described.map_or_else(MockOperation::default, |op| compile(doc, op))));
    }
}

/// One operation's responses, in document order.
pub fn compile(doc: &Value, operation: &Value) -> MockOperation {
    let responses = operation.get("responses").and_then(Value::as_object).into_iter().flatten();
    let responses = responses
        .filter(|(status, _)| !status.starts_with("x-"))
        .map(|(status, response)| response_of(doc, status, resolve(doc, response)))
        .collect();
    MockOperation { responses }
}

fn response_of(doc: &Value, status: &str, response: &Value) -> MockResponse {
    let contents = response.get("content").and_then(Value::as_object).into_iter().flatten();
    let contents = contents.map(|(media_type, media)| content_of(doc, media_type, resolve(doc, media))).collect();
    let headers = response.get("headers").and_then(Value::as_object).into_iter().flatten();
    let headers = headers
        .filter(|(name, _)| !FRAMING.iter().any(|framing| name.eq_ignore_ascii_case(framing)))
        .filter_map(|(name, header)| {
            let header = resolve(doc, header);
            let value = header_value(doc, header)?;
            Some((name.clone(), value))
        })
        .collect();
    MockResponse { status: status.to_owned(), contents, headers }
}

/// A media type's named examples and the value to answer with when none is asked for: its
/// `example`, else its first named example, else one made from its schema.
fn content_of(doc: &Value, media_type: &str, media: &Value) -> MockContent {
    let named = media.get("examples").and_then(Value::as_object).into_iter().flatten();
    let examples: Vec<(String, Value)> =
        named.filter_map(|(name, example)| Some((name.clone(), resolve(doc, example).get("value")?.clone()))).collect();
    let example = match (media.get("example"), examples.first()) {
        (Some(example), _) => Some(example.clone()),
        (None, Some((_, first))) => Some(first.clone()),
        (None, None) => media.get("schema").map(|schema| generate::value(doc, schema)),
    };
    MockContent { media_type: media_type.to_owned(), examples, example }
}

/// A response header's value as text, from its example or schema; `None` when neither gives
/// a scalar.
fn header_value(doc: &Value, header: &Value) -> Option<String> {
    let value = match header.get("example") {
        Some(example) => example.clone(),
        None => generate::value(doc, header.get("schema")?),
    };
    match value {
        Value::String(text) => Some(text),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `value`, or what its `$ref` chain leads to (the last value reached if it leads nowhere).
fn resolve<'d>(doc: &'d Value, mut value: &'d Value) -> &'d Value {
    for _ in 0..MAX_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        match follow(doc, reference) {
            Target::Found { value: target, .. } => value = target,
            _ => break,
        }
    }
    value
}
