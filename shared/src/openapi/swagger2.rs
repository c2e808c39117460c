//! Swagger 2.0 → OpenAPI 3.0, so a 2.0 description imports like any other (a large share of
//! real descriptions are still 2.0). No maintained Rust crate does this conversion (the
//! reference converter, swagger2openapi, is JavaScript), so this is a small one that covers
//! what the gateway and the portal read, following the mapping of the OpenAPI 3.0 spec's
//! "changes from 2.0": `host`/`basePath`/`schemes` → `servers`; `definitions`, `parameters`,
//! `responses` and `securityDefinitions` → `components`; `body` and `formData` parameters →
//! `requestBody` under each media type of `consumes`; response `schema` → `content` under each
//! media type of `produces`; non-body parameter types → `schema`.
//!
//! The result is checked afterwards by the 3.0 rules like any imported document, so a 2.0
//! description with a real problem is still refused, located in the converted document.

use serde_json::{json, Map, Value};

const DEFAULT_MEDIA: &str = "application/json";
/// Parameter fields that become the parameter's `schema` in 3.0.
const SCHEMA_FIELDS: [&str; 16] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Whether `doc` is a Swagger 2.0 document.
pub(crate) fn is_swagger2(doc: &Value) -> bool {
    doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with("2.")) && doc.get("openapi").is_none()
}

/// The OpenAPI 3.0 form of a Swagger 2.0 document.
pub(crate) fn convert(doc: &Value) -> Value {
    let empty = Map::new();
    let root = doc.as_object().unwrap_or(&empty);
    let context =
        Context { doc, consumes: media_list(root.get("consumes")), produces: media_list(root.get("produces")) };
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    for (key, value) in root {
        match key.as_str() {
            "swagger"
            | "host"
            | "basePath"
            | "schemes"
            | "consumes"
            | "produces"
            | "definitions"
            | "parameters"
            | "responses"
            | "securityDefinitions" => {}
            "paths" => drop(out.insert(key.clone(), context.paths(value))),
            _ => drop(out.insert(key.clone(), value.clone())),
        }
    }
    if let Some(servers) = servers(root) {
        out.insert("servers".into(), servers);
    }
    let components = context.components(root);
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }
    let mut out = Value::Object(out);
    rewrite_refs(&mut out);
    out
}

/// `schemes` × `host` + `basePath`; just `basePath` when no host is named.
fn servers(root: &Map<String, Value>) -> Option<Value> {
    let base = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = root.get("host").and_then(Value::as_str) else {
        return (!base.is_empty()).then(|| json!([{ "url": base }]));
    };
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .filter(|s: &Vec<&str>| !s.is_empty())
        .unwrap_or_else(|| vec!["https"]);
    let urls: Vec<Value> = schemes.iter().map(|scheme| json!({ "url": format!("{scheme}://{host}{base}") })).collect();
    Some(Value::Array(urls))
}

fn media_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

struct Context<'d> {
    doc: &'d Value,
    consumes: Vec<String>,
    produces: Vec<String>,
}

impl Context<'_> {
    fn paths(&self, paths: &Value) -> Value {
        let Some(paths) = paths.as_object() else { return paths.clone() };
        let mut out = Map::new();
        for (key, item) in paths {
            let Some(item) = item.as_object() else {
                out.insert(key.clone(), item.clone());
                continue;
            };
            let shared: Vec<Value> = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut converted = Map::new();
            for (field, value) in item {
                if METHODS.contains(&field.as_str()) {
                    converted.insert(field.clone(), self.operation(value, &shared));
                } else if field == "parameters" {
                    let kept = shared.iter().filter(|p| !self.is_body_like(p)).map(|p| self.parameter(p)).collect();
                    converted.insert(field.clone(), Value::Array(kept));
                } else {
                    converted.insert(field.clone(), value.clone());
                }
            }
            out.insert(key.clone(), Value::Object(converted));
        }
        Value::Object(out)
    }

    /// One operation; `shared` are the path item's parameters (body ones move into each
    /// operation's `requestBody`, since 3.0 has no path-level body).
    fn operation(&self, operation: &Value, shared: &[Value]) -> Value {
        let Some(operation) = operation.as_object() else { return operation.clone() };
        let consumes = operation.get("consumes").map_or_else(|| self.consumes.clone(), |c| media_list(Some(c)));
        let produces = operation.get("produces").map_or_else(|| self.produces.clone(), |p| media_list(Some(p)));
        let own: Vec<Value> = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Map::new();
        for (field, value) in operation {
            match field.as_str() {
                "consumes" | "produces" | "schemes" | "parameters" => {}
                "responses" => drop(out.insert(field.clone(), self.responses(value, &produces))),
                _ => drop(out.insert(field.clone(), value.clone())),
            }
        }
        let (mut body, mut form) = (None, Vec::new());
        let mut parameters = Vec::new();
        for parameter in shared.iter().chain(&own) {
            let resolved = self.resolve(parameter);
            match resolved.get("in").and_then(Value::as_str) {
                Some("body") => body = Some(resolved.clone()),
                Some("formData") => form.push(resolved.clone()),
                _ => parameters.push(self.parameter(parameter)),
            }
        }
        if !parameters.is_empty() {
            out.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(request_body) = request_body(body.as_ref(), &form, &consumes) {
            out.insert("requestBody".into(), request_body);
        }
        Value::Object(out)
    }

    /// A local parameter `$ref` followed once (2.0's `#/parameters/…`).
    fn resolve<'v>(&'v self, parameter: &'v Value) -> &'v Value {
        let target = parameter.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#'));
        target.and_then(|pointer| self.doc.pointer(pointer)).unwrap_or(parameter)
    }

    fn is_body_like(&self, parameter: &Value) -> bool {
        matches!(self.resolve(parameter).get("in").and_then(Value::as_str), Some("body" | "formData"))
    }

    /// A non-body parameter: references stay references (rewritten later); inline ones get a
    /// `schema`.
    fn parameter(&self, parameter: &Value) -> Value {
        if parameter.get("$ref").is_some() {
            return parameter.clone();
        }
        convert_parameter(parameter)
    }

    fn responses(&self, responses: &Value, produces: &[String]) -> Value {
        let Some(responses) = responses.as_object() else { return responses.clone() };
        let converted = responses.iter().map(|(code, response)| (code.clone(), convert_response(response, produces)));
        Value::Object(converted.collect())
    }

    /// `definitions`, `parameters`, `responses` and `securityDefinitions` as `components`.
    fn components(&self, root: &Map<String, Value>) -> Map<String, Value> {
        let mut components = Map::new();
        if let Some(definitions) = root.get("definitions") {
            components.insert("schemas".into(), definitions.clone());
        }
        if let Some(Value::Object(parameters)) = root.get("parameters") {
            let (mut plain, mut bodies) = (Map::new(), Map::new());
            for (name, parameter) in parameters {
                if self.is_body_like(parameter) {
                    let body = parameter.get("in").and_then(Value::as_str) == Some("body");
                    let form: Vec<Value> = if body { Vec::new() } else { vec![parameter.clone()] };
                    let converted = request_body(body.then_some(parameter), &form, &self.consumes);
                    bodies.insert(name.clone(), converted.unwrap_or(Value::Null));
                } else {
                    plain.insert(name.clone(), convert_parameter(parameter));
                }
            }
            components.insert("parameters".into(), Value::Object(plain));
            if !bodies.is_empty() {
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
        }
        if let Some(Value::Object(responses)) = root.get("responses") {
            let converted = responses.iter().map(|(n, r)| (n.clone(), convert_response(r, &self.produces)));
            components.insert("responses".into(), Value::Object(converted.collect()));
        }
        if let Some(Value::Object(schemes)) = root.get("securityDefinitions") {
            let converted = schemes.iter().map(|(n, s)| (n.clone(), security_scheme(s)));
            components.insert("securitySchemes".into(), Value::Object(converted.collect()));
        }
        components
    }
}

/// A query, header or path parameter: type fields into `schema`, `collectionFormat` into
/// `style`/`explode`.
fn convert_parameter(parameter: &Value) -> Value {
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
    Value::Object(out)
}

/// `in: body` → its schema under each media type; `formData` → an object schema with one
/// property per field, as a form (multipart when it carries a file or says so).
fn request_body(body: Option<&Value>, form: &[Value], consumes: &[String]) -> Option<Value> {
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

fn convert_response(response: &Value, produces: &[String]) -> Value {
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
            "examples" => {}
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
    out.entry("description").or_insert_with(|| json!(""));
    Value::Object(out)
}

fn security_scheme(scheme: &Value) -> Value {
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

/// Every `$ref` into 2.0's top-level sections now points into `components`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = reference.strip_prefix(from) {
                        *reference = format!("{to}{rest}");
                    }
                }
            }
            object.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
