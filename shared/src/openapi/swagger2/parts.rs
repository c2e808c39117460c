//! The pieces of a 2.0 document that change shape in 3.0: parameters, bodies and forms,
//! responses, security schemes.

use serde_json::{json, Map, Value};

use super::{DEFAULT_MEDIA, SCHEMA_FIELDS};

/// A query, header or path parameter: type fields into `schema`, `collectionFormat` into
/// `style`/`explode`. 2.0 has no parameter example; the `x-example` extension that Swagger UI
/// reads (and many real descriptions carry) becomes 3.0's `example`, which the mock, the
/// reference and `gatehouse test` read.
pub(super) fn convert_parameter(parameter: &Value) -> Value {
    let Some(parameter) = parameter.as_object() else { return parameter.clone() };
    let mut out = Map::new();
    let mut schema = Map::new();
    for (field, value) in parameter {
        if SCHEMA_FIELDS.contains(&field.as_str()) {
            schema.insert(field.clone(), value.clone());
        } else if field == "collectionFormat" {
            let (style, explode) = match value.as_str() {
                Some("ssv") => ("spaceDelimited", false),
                Some("pipes") => ("pipeDelimited", false),
                Some("multi") => ("form", true),
                _ => ("form", false),
            };
            if parameter.get("in").and_then(Value::as_str) == Some("query") {
                out.insert("style".into(), json!(style));
                out.insert("explode".into(), json!(explode));
            }
        } else if field != "allowEmptyValue" || parameter.get("in").and_then(Value::as_str) == Some("query") {
            out.insert(field.clone(), value.clone());
        }
    }
    if !schema.is_empty() {
        out.insert("schema".into(), file_to_binary(Value::Object(schema)));
    }
    if let Some(example) = parameter.get("x-example") {
        out.entry("example").or_insert_with(|| example.clone());
    }
    Value::Object(out)
}

/// `in: body` → its schema under each media type; `formData` → an object schema with one
/// property per field, as a form (multipart when it carries a file or says so).
pub(super) fn request_body(body: Option<&Value>, form: &[Value], consumes: &[String]) -> Option<Value> {
    if let Some(body) = body {
        let schema = body.get("schema").cloned().unwrap_or_else(|| json!({}));
        let media: Vec<&str> = consumes.iter().map(String::as_str).collect();
        let media = if media.is_empty() { vec![DEFAULT_MEDIA] } else { media };
        let content: Map<String, Value> =
            media.iter().map(|m| ((*m).to_owned(), json!({ "schema": schema }))).collect();
        let mut out = json!({ "content": content });
        for field in ["description", "required"] {
            if let Some(value) = body.get(field) {
                out[field] = value.clone();
            }
        }
        return Some(out);
    }
    if form.is_empty() {
        return None;
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut has_file = false;
    for field in form {
        let Some(name) = field.get("name").and_then(Value::as_str) else { continue };
        has_file |= field.get("type").and_then(Value::as_str) == Some("file");
        let converted = convert_parameter(field);
        let mut schema = converted.get("schema").cloned().unwrap_or_else(|| json!({}));
        if let (Some(description), Some(object)) = (field.get("description"), schema.as_object_mut()) {
            object.insert("description".into(), description.clone());
        }
        properties.insert(name.to_owned(), schema);
        if field.get("required").and_then(Value::as_bool) == Some(true) {
            required.push(json!(name));
        }
    }
    let multipart = has_file || consumes.iter().any(|m| m.starts_with("multipart/"));
    let media = if multipart { "multipart/form-data" } else { "application/x-www-form-urlencoded" };
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    Some(json!({ "content": { media: { "schema": schema } } }))
}

pub(super) fn convert_response(response: &Value, produces: &[String]) -> Value {
    let Some(response) = response.as_object() else { return response.clone() };
    if response.contains_key("$ref") {
        return Value::Object(response.clone());
    }
    let mut out = Map::new();
    for (field, value) in response {
        match field.as_str() {
            "schema" => {
                let media: Vec<&str> = produces.iter().map(String::as_str).collect();
                let media = if media.is_empty() { vec![DEFAULT_MEDIA] } else { media };
                let schema = file_to_binary(value.clone());
                let content: Map<String, Value> =
                    media.iter().map(|m| ((*m).to_owned(), json!({ "schema": schema }))).collect();
                out.insert("content".into(), Value::Object(content));
            }
            "examples" => {} // after the loop, once `content` exists
            "headers" => {
                let Some(headers) = value.as_object() else { continue };
                let converted = headers.iter().map(|(name, header)| {
                    let mut header = convert_parameter(header);
                    if let Some(object) = header.as_object_mut() {
                        object.remove("name");
                        object.remove("in");
                    }
                    (name.clone(), header)
                });
                out.insert(field.clone(), Value::Object(converted.collect()));
            }
            _ => drop(out.insert(field.clone(), value.clone())),
        }
    }
    if let Some(examples) = response.get("examples").and_then(Value::as_object) {
        examples_into(&mut out, examples);
    }
    out.entry("description").or_insert_with(|| json!(""));
    Value::Object(out)
}

/// 2.0's response `examples` (`{"application/json": {...}}`, one per media type) as 3.0's
/// `content.<media>.example`; a media type the response has no content for gets one, with the
/// response's schema when it has one.
fn examples_into(out: &mut Map<String, Value>, examples: &Map<String, Value>) {
    let schema = out
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .and_then(|m| m.get("schema"))
        .cloned();
    let content = out.entry("content").or_insert_with(|| json!({}));
    let Some(content) = content.as_object_mut() else { return };
    for (media, example) in examples {
        let entry = content.entry(media.clone()).or_insert_with(|| match &schema {
            Some(schema) => json!({ "schema": schema }),
            None => json!({}),
        });
        if let Some(entry) = entry.as_object_mut() {
            entry.insert("example".into(), example.clone());
        }
    }
}

pub(super) fn security_scheme(scheme: &Value) -> Value {
    let Some(object) = scheme.as_object() else { return scheme.clone() };
    let extensions = object.iter().filter(|(k, _)| k.starts_with("x-") || *k == "description");
    let mut out: Map<String, Value> = extensions.map(|(k, v)| (k.clone(), v.clone())).collect();
    match object.get("type").and_then(Value::as_str) {
        Some("basic") => {
            out.insert("type".into(), json!("http"));
            out.insert("scheme".into(), json!("basic"));
        }
        Some("oauth2") => {
            let flow = match object.get("flow").and_then(Value::as_str) {
                Some("application") => "clientCredentials",
                Some("accessCode") => "authorizationCode",
                Some("password") => "password",
                _ => "implicit",
            };
            let mut settings = Map::new();
            for field in ["authorizationUrl", "tokenUrl"] {
                if let Some(value) = object.get(field) {
                    settings.insert(field.into(), value.clone());
                }
            }
            settings.insert("scopes".into(), object.get("scopes").cloned().unwrap_or_else(|| json!({})));
            out.insert("type".into(), json!("oauth2"));
            out.insert("flows".into(), json!({ flow: settings }));
        }
        _ => {
            for (field, value) in object.iter().filter(|(k, _)| matches!(k.as_str(), "type" | "name" | "in")) {
                out.insert(field.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// 2.0's `type: file` is a binary string in 3.0.
fn file_to_binary(mut schema: Value) -> Value {
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema["type"] = json!("string");
        schema["format"] = json!("binary");
    }
    schema
}
