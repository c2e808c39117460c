//! What one operation's description says a request (and its JSON responses) must look like,
//! read from the OpenAPI document once: each parameter with where its schema sits, the request
//! body's media types, and the JSON responses. Schemas stay in the document and are named by
//! JSON Pointer; [`super::compile`] turns them into validators.

use serde_json::Value;

use crate::openapi::pointer::{child, follow, index, Target};
use crate::routing::template::split_key;

/// How many `$ref` hops a parameter, body or response reference chain may take.
const MAX_HOPS: usize = 8;

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Path,
    Query,
    Header,
}

impl Place {
    /// The first token of an error's pointer (`/query/limit`).
    pub fn token(self) -> &'static str {
        match self {
            Place::Path => "path",
            Place::Query => "query",
            Place::Header => "header",
        }
    }
}

/// The JSON type a parameter's text is read as before it is checked (parameters arrive as
/// text; their schema speaks of integers, booleans and arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// The schema names no single type (`oneOf`, no `type`): the text is tried as a string,
    /// a number and a boolean, and passes when one of them does.
    Any,
}

/// A parameter's shape: one value, a list (`form` style, exploded as repeated keys or joined
/// by commas), or an object, which the gateway does not take apart (`deepObject`) and leaves
/// unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar(Kind),
    Array { items: Kind, explode: bool },
    Object,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    pub place: Place,
    /// As the document writes it (a header's pointer keeps the document's case).
    pub name: String,
    pub required: bool,
    pub shape: Shape,
    /// Where its schema is in the document; `None`: no schema, only presence is checked.
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySpec {
    pub required: bool,
    /// Every described media type, for the `Content-Type` check.
    pub media_types: Vec<String>,
    /// The JSON ones with a schema: (media type, pointer to the schema).
    pub json: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationSpec {
    pub params: Vec<ParamSpec>,
    pub body: Option<BodySpec>,
    /// JSON response schemas: (status key as written, media type, pointer to the schema).
    pub responses: Vec<(String, String, String)>,
}

/// The operation `method` on `path` (a template as the gateway keeps it), read from `doc`;
/// `None` when the document does not describe it.
pub fn read(doc: &Value, path: &str, method: &str) -> Option<OperationSpec> {
    let method = method.to_ascii_lowercase();
    let paths = doc.get("paths")?.as_object()?;
    let (key, item) = paths
        .get_key_value(path)
        .filter(|(_, item)| item.get(&method).is_some() || item.get("$ref").is_some())
        .or_else(|| paths.iter().find(|(key, item)| split_key(key).0 == path && item.get(&method).is_some()))?;
    let (item, item_at) = resolve(doc, item, child("/paths", key));
    let (operation, op_at) = resolve(doc, item.get(&method)?, child(&item_at, &method));
    let mut params = parameters(doc, item, &item_at);
    for param in parameters(doc, operation, &op_at) {
        // The operation's own definition replaces the path item's (same name and place).
        params.retain(|p| !(p.place == param.place && p.name.eq_ignore_ascii_case(&param.name)));
        params.push(param);
    }
    let body = operation.get("requestBody").map(|b| body(doc, b, child(&op_at, "requestBody")));
    let responses = responses(doc, operation, &op_at);
    Some(OperationSpec { params, body, responses })
}

fn parameters(doc: &Value, owner: &Value, at: &str) -> Vec<ParamSpec> {
    let Some(list) = owner.get("parameters").and_then(Value::as_array) else { return Vec::new() };
    let base = child(at, "parameters");
    list.iter().enumerate().filter_map(|(i, p)| parameter(doc, p, index(&base, i))).collect()
}

fn parameter(doc: &Value, param: &Value, at: String) -> Option<ParamSpec> {
    let (param, at) = resolve(doc, param, at);
    let place = match param.get("in")?.as_str()? {
        "path" => Place::Path,
        "query" => Place::Query,
        "header" => Place::Header,
        _ => return None, // cookies are not checked
    };
    let name = param.get("name")?.as_str()?.to_owned();
    // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored.
    let ignored = ["accept", "content-type", "authorization"];
    if place == Place::Header && ignored.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        return None;
    }
    let required = place == Place::Path || param.get("required").and_then(Value::as_bool).unwrap_or(false);
    let schema_at = param.get("schema").map(|_| child(&at, "schema"));
    let explode = param.get("explode").and_then(Value::as_bool).unwrap_or_else(|| {
        // `form` (the query default) explodes by default; `simple` (path, header) does not.
        place == Place::Query && param.get("style").and_then(Value::as_str).is_none_or(|s| s == "form")
    });
    let shape = match param.get("schema") {
        Some(schema) => shape_of(doc, schema, explode),
        None => Shape::Scalar(Kind::String),
    };
    Some(ParamSpec { place, name, required, shape, schema: schema_at })
}

fn shape_of(doc: &Value, schema: &Value, explode: bool) -> Shape {
    let (schema, _) = resolve(doc, schema, String::new());
    match type_of(schema) {
        Some("array") => {
            let items = schema.get("items").map_or(Kind::Any, |items| kind_of(resolve(doc, items, String::new()).0));
            Shape::Array { items, explode }
        }
        Some("object") => Shape::Object,
        _ => Shape::Scalar(kind_of(schema)),
    }
}

fn kind_of(schema: &Value) -> Kind {
    match type_of(schema) {
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        _ => Kind::Any,
    }
}

/// The schema's one non-null `type` (3.1 writes `[integer, "null"]`).
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => {
            let mut named = types.iter().filter_map(Value::as_str).filter(|t| *t != "null");
            let first = named.next()?;
            named.next().is_none().then_some(first)
        }
        _ => None,
    }
}

fn body(doc: &Value, body: &Value, at: String) -> BodySpec {
    let (body, at) = resolve(doc, body, at);
    let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
    let content_at = child(&at, "content");
    let mut media_types = Vec::new();
    let mut json = Vec::new();
    for (media, described) in body.get("content").and_then(Value::as_object).into_iter().flatten() {
        media_types.push(media.clone());
        let (described, media_at) = resolve(doc, described, child(&content_at, media));
        if is_json(media) && described.get("schema").is_some() {
            json.push((media.clone(), child(&media_at, "schema")));
        }
    }
    BodySpec { required, media_types, json }
}

fn responses(doc: &Value, operation: &Value, at: &str) -> Vec<(String, String, String)> {
    let base = child(at, "responses");
    let mut out = Vec::new();
    for (status, response) in operation.get("responses").and_then(Value::as_object).into_iter().flatten() {
        let (response, response_at) = resolve(doc, response, child(&base, status));
        let content_at = child(&response_at, "content");
        for (media, described) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
            let (described, media_at) = resolve(doc, described, child(&content_at, media));
            if is_json(media) && described.get("schema").is_some() {
                out.push((status.clone(), media.clone(), child(&media_at, "schema")));
            }
        }
    }
    out
}

/// `application/json`, `*/*+json` and `application/*`'s JSON cousins, parameters ignored.
pub fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// `value` and where it is, or what its `$ref` chain leads to and where that is.
fn resolve<'d>(doc: &'d Value, mut value: &'d Value, mut at: String) -> (&'d Value, String) {
    for _ in 0..MAX_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        match follow(doc, reference) {
            Target::Found { value: target, pointer } => (value, at) = (target, pointer),
            _ => break,
        }
    }
    (value, at)
}
