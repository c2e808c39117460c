//! One operation of the document as a view: parameters (the path item's and the operation's
//! merged, `$ref`s followed), request body, responses, security, try-it defaults, snippets.

use serde_json::Value;

use super::anchor::Anchors;
use super::example::{self, Direction};
use super::markdown::{self, render_field};
use super::model::{MediaView, OperationView, ParameterView, RequestBodyView, ResponseView};
use super::refs::follow;
use super::schema;
use super::security;
use super::snippets::{self, Body, Call};

/// Where an operation sits in the document.
pub struct Site<'d> {
    pub path: &'d str,
    pub method: &'d str,
    pub path_item: &'d Value,
    pub operation: &'d Value,
}

/// The view of the operation at `site`.
pub fn view(doc: &Value, site: &Site, gateway: &str, anchors: &mut Anchors) -> OperationView {
    let method = site.method.to_ascii_uppercase();
    let operation_id = site.operation.get("operationId").and_then(Value::as_str).map(str::to_owned);
    let anchor = anchors.take("op", operation_id.as_deref().unwrap_or(&format!("{method} {}", site.path)));
    let parameters = parameters(doc, site, &anchor, anchors);
    let request_body = site.operation.get("requestBody").and_then(|body| request_body(doc, body));
    let (body_media_type, body_value) = try_it_body(doc, site.operation);
    let body_example = match &body_value {
        Some(TryBody::Json(value)) => serde_json::to_string_pretty(value).unwrap_or_default(),
        Some(TryBody::Text(text)) => text.clone(),
        None => String::new(),
    };
    let security = security::view(doc, site.operation);
    let body = match &body_value {
        Some(TryBody::Json(value)) => Some(Body::Json(value)),
        Some(TryBody::Text(text)) => Some(Body::Text { media_type: &body_media_type, text }),
        None => None,
    };
    let call = Call {
        gateway,
        method: &method,
        path: site.path,
        parameters: &parameters,
        key: (!security.public).then_some(&security.key),
        body,
    };
    let snippets = snippets::build(&call);
    OperationView {
        anchor,
        method,
        path: site.path.to_owned(),
        operation_id,
        summary: site.operation.get("summary").and_then(Value::as_str).map(str::to_owned),
        description_html: render_field(site.operation, "description"),
        deprecated: site.operation.get("deprecated").and_then(Value::as_bool) == Some(true),
        security,
        parameters,
        request_body,
        responses: responses(doc, site.operation),
        body_example,
        body_media_type,
        snippets,
    }
}

/// The path item's parameters, then the operation's; an operation parameter replaces a path
/// item one with the same location and name (OpenAPI's rule).
fn parameters(doc: &Value, site: &Site, op_anchor: &str, anchors: &mut Anchors) -> Vec<ParameterView> {
    let listed = |holder: &'_ Value| -> Vec<Value> {
        let items = holder.get("parameters").and_then(Value::as_array).into_iter().flatten();
        items.filter_map(|p| follow(doc, p).ok().map(|f| f.value.clone())).collect()
    };
    let mut merged: Vec<Value> = listed(site.path_item);
    for own in listed(site.operation) {
        let same = |p: &Value| p.get("in") == own.get("in") && p.get("name") == own.get("name");
        match merged.iter_mut().find(|p| same(p)) {
            Some(slot) => *slot = own,
            None => merged.push(own),
        }
    }
    merged.iter().map(|p| parameter(doc, p, op_anchor, anchors)).collect()
}

fn parameter(doc: &Value, parameter: &Value, op_anchor: &str, anchors: &mut Anchors) -> ParameterView {
    let text = |field: &str| parameter.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
    let location = text("in");
    let name = text("name");
    let flag = |field: &str| parameter.get(field).and_then(Value::as_bool) == Some(true);
    // A parameter is described by `schema`, or (rarely) by `content` with one media type.
    let schema = parameter
        .get("schema")
        .or_else(|| parameter.get("content").and_then(Value::as_object)?.values().next()?.get("schema"));
    let type_label = schema
        .and_then(|s| schema::view(doc, s).rows.into_iter().next())
        .map_or_else(|| "string".to_owned(), |row| row.type_label);
    let example = example::given(doc, parameter)
        .or_else(|| schema.and_then(|s| follow(doc, s).ok()?.value.get("enum")?.as_array()?.first().cloned()))
        .map(|value| parameter_text(&value))
        .unwrap_or_default();
    let form_style = matches!(parameter.get("style").and_then(Value::as_str), None | Some("form"));
    let explode = parameter.get("explode").and_then(Value::as_bool) != Some(false);
    ParameterView {
        repeat: location == "query" && type_label.starts_with("array") && form_style && explode,
        in_form: matches!(location.as_str(), "path" | "query" | "header"),
        input_id: anchors.take(&format!("{op_anchor}-{location}"), &name),
        required: location == "path" || flag("required"),
        deprecated: flag("deprecated"),
        description_html: render_field(parameter, "description"),
        type_label,
        example,
        location,
        name,
    }
}

/// A parameter's example as a reader types it: an array's items joined by commas (OpenAPI's
/// `simple` and non-exploded `form` serialisation, and what try-it splits for exploded ones).
fn parameter_text(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(super::label::scalar_text).collect::<Vec<_>>().join(","),
        other => super::label::scalar_text(other),
    }
}

fn request_body(doc: &Value, body: &Value) -> Option<RequestBodyView> {
    let followed = follow(doc, body).ok()?;
    let body = followed.value;
    Some(RequestBodyView {
        required: body.get("required").and_then(Value::as_bool) == Some(true),
        description_html: followed.description.map(markdown::render).unwrap_or_default(),
        content: content(doc, body, Direction::Request),
    })
}

fn responses(doc: &Value, operation: &Value) -> Vec<ResponseView> {
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else { return Vec::new() };
    responses
        .iter()
        .map(|(status, response)| match follow(doc, response) {
            Ok(followed) => ResponseView {
                status: status.clone(),
                class: status_class(status),
                description_html: followed.description.map(markdown::render).unwrap_or_default(),
                content: content(doc, followed.value, Direction::Response),
            },
            Err(reason) => ResponseView {
                status: status.clone(),
                class: status_class(status),
                description_html: markdown::render(&reason),
                content: Vec::new(),
            },
        })
        .collect()
}

/// `2xx` for `200` or `2XX`; `default` for anything else.
fn status_class(status: &str) -> String {
    match status.as_bytes().first() {
        Some(digit @ b'1'..=b'5') if status.len() == 3 => format!("{}xx", char::from(*digit)),
        _ => "default".to_owned(),
    }
}

/// `content`'s media types in document order, each with its schema rows and example.
fn content(doc: &Value, holder: &Value, direction: Direction) -> Vec<MediaView> {
    let Some(content) = holder.get("content").and_then(Value::as_object) else { return Vec::new() };
    content
        .iter()
        .map(|(media_type, media)| {
            let example = example::given_or_made(doc, media, direction)
                .map(|value| if is_json(media_type) { pretty(&value) } else { example::to_text(&value) })
                .unwrap_or_default();
            MediaView {
                media_type: media_type.clone(),
                schema: media.get("schema").map(|s| schema::view(doc, s)),
                example,
            }
        })
        .collect()
}

/// `application/json`, or any `+json` structured syntax suffix (RFC 6839).
pub fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

enum TryBody {
    Json(Value),
    Text(String),
}

/// What try-it sends as the body: the first JSON media type's example (given or made), else
/// the first other media type's given example as text.
fn try_it_body(doc: &Value, operation: &Value) -> (String, Option<TryBody>) {
    let body = operation.get("requestBody").and_then(|b| follow(doc, b).ok()).map(|f| f.value);
    let Some(content) = body.and_then(|b| b.get("content")).and_then(Value::as_object) else {
        return (String::new(), None);
    };
    if let Some((media_type, media)) = content.iter().find(|(m, _)| is_json(m)) {
        let value = example::given_or_made(doc, media, Direction::Request).unwrap_or(Value::Object(Default::default()));
        return (media_type.clone(), Some(TryBody::Json(value)));
    }
    match content.iter().next() {
        Some((media_type, media)) => {
            let text = example::given(doc, media).map(|v| example::to_text(&v)).unwrap_or_default();
            (media_type.clone(), Some(TryBody::Text(text)))
        }
        None => (String::new(), None),
    }
}
