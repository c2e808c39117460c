//! From one operation of an OpenAPI document to the request `gatehouse test` sends: its
//! parameters and body taken from the document's own examples. An operation whose required
//! parameters or body have no example cannot be called honestly (an invented value would test
//! the generator, not the upstream), so it is skipped with the reason, never dropped silently.

use gatehouse_core::model::{DiscriminatorPlace, Operation};
use gatehouse_core::routing::template::split_key;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{Map, Value};

use super::example::schema_example;
use super::refs::resolve;

/// Characters escaped in a path segment (what RFC 3986's `pchar` does not allow as is).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'^')
    .add(b'|')
    .add(b'\\');

/// One request, relative to the upstream's URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    /// The path with every variable filled, starting with `/`.
    pub path: String,
    /// `(name, value)` pairs, in document order, not yet encoded.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// `(media type, bytes)` when a body is sent.
    pub body: Option<(String, Vec<u8>)>,
}

impl Call {
    /// `GET /pets/1?limit=2`, as printed in the table.
    pub fn line(&self) -> String {
        let mut line = format!("{} {}", self.method, self.path);
        if !self.query.is_empty() {
            line.push('?');
            line.push_str(&self.encoded_query());
        }
        line
    }

    pub fn encoded_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.query {
            query.append_pair(name, value);
        }
        query.finish()
    }
}

/// The request for `operation`, or why none can be made from the document's examples.
pub fn call(doc: &Value, operation: &Operation) -> Result<Call, String> {
    let item = doc.get("paths").and_then(|paths| paths.get(&operation.path)).map(|item| resolve(doc, item));
    let described = item.and_then(|item| item.get(operation.method.to_ascii_lowercase())).map(|op| resolve(doc, op));
    let (Some(item), Some(described)) = (item, described) else {
        return Err("the operation is not in the document".into());
    };
    let mut call = Call {
        method: operation.method.clone(),
        path: split_key(&operation.path).0.to_owned(),
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
    };
    for d in &operation.discriminators {
        let value = d.value.clone().unwrap_or_default();
        match d.place {
            DiscriminatorPlace::Query => call.query.push((d.name.clone(), value)),
            DiscriminatorPlace::Header => call.headers.push((d.name.clone(), value)),
        }
    }
    for parameter in parameters(doc, item, described) {
        parameter_into(doc, parameter, &mut call)?;
    }
    call.body = body(doc, described)?;
    if let Some(accept) =
        accept(doc, described).filter(|_| !call.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")))
    {
        call.headers.push(("accept".to_owned(), accept));
    }
    Ok(call)
}

/// Every media type the operation's responses describe, in document order, as an `Accept`
/// header: an upstream that negotiates answers in a type the document describes.
fn accept(doc: &Value, operation: &Value) -> Option<String> {
    let mut types: Vec<&str> = Vec::new();
    let responses = operation.get("responses").and_then(Value::as_object).into_iter().flatten();
    for (_, response) in responses {
        let content = resolve(doc, response).get("content").and_then(Value::as_object).into_iter().flatten();
        for (media, _) in content {
            if !types.contains(&media.as_str()) {
                types.push(media);
            }
        }
    }
    (!types.is_empty()).then(|| types.join(", "))
}

/// The path item's parameters and the operation's, an operation's entry replacing the path
/// item's of the same name and location (OpenAPI 3 § Operation Object).
fn parameters<'d>(doc: &'d Value, item: &'d Value, operation: &'d Value) -> Vec<&'d Value> {
    let listed = |owner: &'d Value| -> Vec<&'d Value> {
        let list = owner.get("parameters").and_then(Value::as_array).into_iter().flatten();
        list.map(|p| resolve(doc, p)).collect()
    };
    let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
    let own = listed(operation);
    let mut all: Vec<&Value> = listed(item).into_iter().filter(|p| !own.iter().any(|o| key(o) == key(p))).collect();
    all.extend(own);
    all
}

/// Adds one parameter's example to `call`: required without an example is a reason to skip,
/// optional without one is left out.
fn parameter_into(doc: &Value, parameter: &Value, call: &mut Call) -> Result<(), String> {
    let (Some(name), Some(place)) =
        (parameter.get("name").and_then(Value::as_str), parameter.get("in").and_then(Value::as_str))
    else {
        return Ok(());
    };
    let required = place == "path" || parameter.get("required").and_then(Value::as_bool).unwrap_or(false);
    let Some(example) = parameter_example(doc, parameter) else {
        return if required { Err(format!("no example for the required {place} parameter {name:?}")) } else { Ok(()) };
    };
    let explode = parameter.get("explode").and_then(Value::as_bool).unwrap_or(place == "query" || place == "cookie");
    let values = scalars(&example).ok_or_else(|| format!("the example of {place} parameter {name:?} is an object"))?;
    match place {
        "path" => {
            let text = values.join(",");
            let encoded = utf8_percent_encode(&text, SEGMENT).to_string();
            let template = format!("{{{name}}}");
            if !call.path.contains(&template) {
                return Err(format!("path parameter {name:?} is not in the path"));
            }
            call.path = call.path.replace(&template, &encoded);
        }
        "query" if explode => call.query.extend(values.into_iter().map(|v| (name.to_owned(), v))),
        "query" => call.query.push((name.to_owned(), values.join(","))),
        "header" => call.headers.push((name.to_owned(), values.join(","))),
        "cookie" => call.headers.push(("cookie".to_owned(), format!("{name}={}", values.join(",")))),
        _ => {}
    }
    Ok(())
}

/// A parameter's example: its own `example`, its first named example, else what its schema
/// gives (`example`, `examples`, `default`, `enum`, `const`).
fn parameter_example(doc: &Value, parameter: &Value) -> Option<Value> {
    if let Some(example) = parameter.get("example") {
        return Some(example.clone());
    }
    if let Some(named) = first_named(doc, parameter.get("examples")) {
        return Some(named);
    }
    let content_schema = || parameter.get("content")?.as_object()?.values().next()?.get("schema");
    let schema = parameter.get("schema").or_else(content_schema)?;
    schema_example(doc, schema)
}

/// The value of the first entry of an `examples` map (`{name: {value: …}}`, `$ref`s followed).
fn first_named(doc: &Value, examples: Option<&Value>) -> Option<Value> {
    let (_, first) = examples?.as_object()?.iter().next()?;
    resolve(doc, first).get("value").cloned()
}

/// A scalar or an array of scalars as text; `None` for objects (no style serialises them
/// the same way everywhere, so they are reported rather than guessed).
fn scalars(value: &Value) -> Option<Vec<String>> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(text).collect(),
        other => text(other).map(|t| vec![t]),
    }
}

/// The request body from the document's example: JSON media types first, then the others in
/// document order. `Ok(None)` when there is none to send and none is required.
fn body(doc: &Value, operation: &Value) -> Result<Option<(String, Vec<u8>)>, String> {
    let Some(request) = operation.get("requestBody").map(|b| resolve(doc, b)) else { return Ok(None) };
    let required = request.get("required").and_then(Value::as_bool).unwrap_or(false);
    let empty = Map::new();
    let content = request.get("content").and_then(Value::as_object).unwrap_or(&empty);
    let mut media: Vec<(&String, &Value)> = content.iter().collect();
    media.sort_by_key(|(name, _)| !super::check::is_json(name)); // stable: document order otherwise
    for (media_type, described) in media {
        let described = resolve(doc, described);
        let example = described
            .get("example")
            .cloned()
            .or_else(|| first_named(doc, described.get("examples")))
            .or_else(|| schema_example(doc, described.get("schema")?));
        if let Some(bytes) = example.and_then(|e| encode(media_type, &e)) {
            return Ok(Some((media_type.clone(), bytes)));
        }
    }
    if required {
        let types: Vec<&str> = content.keys().map(String::as_str).collect();
        return Err(format!("no example that can be sent for the required request body ({})", types.join(", ")));
    }
    Ok(None)
}

/// An example as the bytes of `media_type`: JSON as JSON, a form from an object of scalars,
/// text as itself. `None` for what cannot be written faithfully (multipart, binary).
fn encode(media_type: &str, example: &Value) -> Option<Vec<u8>> {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if super::check::is_json(&essence) {
        return serde_json::to_vec(example).ok();
    }
    if essence == "application/x-www-form-urlencoded" {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in example.as_object()? {
            for value in scalars(value)? {
                form.append_pair(name, &value);
            }
        }
        return Some(form.finish().into_bytes());
    }
    match example {
        Value::String(text)
            if essence.starts_with("text/") || essence.ends_with("+xml") || essence.ends_with("/xml") =>
        {
            Some(text.clone().into_bytes())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
