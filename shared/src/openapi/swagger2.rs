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

use parts::{convert_parameter, convert_response, request_body, security_scheme};

mod parts;

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
