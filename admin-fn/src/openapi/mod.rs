//! The admin API's own OpenAPI 3.1 document, built once at run time from the Rust types.
//!
//! Every request and response body's schema comes from a `utoipa::ToSchema` derive on the type
//! the handler really deserialises or serialises (serde's renames, tags, defaults and
//! optionality included), so the document cannot drift from the code. What the types cannot
//! say (which type each route takes and answers, with which statuses, and a summary) is the
//! table in [`operations`]; a test checks that it names every routed (method, path) and no
//! other.

mod alerts;
mod operations;
mod revisions;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::Method;
use gatehouse_core::model::{Access, Role};
use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// The document as JSON text, built on first use.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| build().to_string())
}

fn build() -> Value {
    let mut doc = Doc { access: crate::route_access(), ..Doc::default() };
    operations::describe(&mut doc);
    alerts::describe(&mut doc);
    revisions::describe(&mut doc);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse admin API",
            "version": "1.0.0",
            "description": "Control plane of Gatehouse. Times are RFC 3339 in UTC (e.g. 2026-11-24T07:22:23Z); \
                requests may also give Unix milliseconds. Ids are prefixed strings (api_…, dev_…). Errors are \
                RFC 9457 problem details. Lists are {\"items\": [...]}. See docs/admin-api.md.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "adminToken": [] }],
        "paths": doc.paths,
        "components": {
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin token; only its SHA-256 hash is configured on the server.",
                },
            },
            "responses": { "Problem": doc.problem_response() },
            "schemas": doc.schemas,
        },
    })
}

/// The document under construction: paths, and every schema they refer to.
#[derive(Default)]
pub(crate) struct Doc {
    paths: Map<String, Value>,
    schemas: BTreeMap<String, RefOr<Schema>>,
    /// The route table's (method, path, access): each operation's roles come from the
    /// declaration of its route, never from a second list here.
    access: Vec<(Method, &'static str, Access)>,
}

impl Doc {
    /// A `$ref` to `T`'s schema, adding it (and every schema it refers to) to the components.
    fn schema<T: ToSchema>(&mut self) -> Value {
        let mut found = Vec::new();
        T::schemas(&mut found);
        self.schemas.extend(found);
        let name = T::name().into_owned();
        self.schemas.insert(name.clone(), T::schema());
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn problem_response(&mut self) -> Value {
        let schema = self.schema::<gatehouse_core::problem::Problem>();
        json!({
            "description": "Problem details (RFC 9457)",
            "content": { "application/problem+json": { "schema": schema } },
        })
    }

    /// Starts describing the operation `method path`; [`Op::add`] puts it in the document.
    fn op(&mut self, method: Method, path: &'static str, summary: &str) -> Op<'_> {
        let mut operation = Map::new();
        operation.insert("summary".into(), summary.into());
        let id = format!("{}{}", method.as_str().to_lowercase(), path.replace(['/', '{', '}'], "_"));
        operation.insert("operationId".into(), id.replace("__", "_").trim_end_matches('_').into());
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if !params.is_empty() {
            operation.insert("parameters".into(), params.into());
        }
        Op { doc: self, method, path, operation, responses: Map::new(), errors: vec![401, 503], tagged: false }
    }
}

/// `schema` without `null` among its types: a query parameter is absent or a string, and a
/// query string has no way to say null.
fn not_null(mut schema: Value) -> Value {
    if let Some(types) = schema["type"].as_array() {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if kept.len() == 1 { kept[0].clone() } else { kept.into() };
    }
    schema
}

/// One operation being described.
#[must_use = "an operation is only documented once added"]
pub(crate) struct Op<'a> {
    doc: &'a mut Doc,
    method: Method,
    path: &'static str,
    operation: Map<String, Value>,
    responses: Map<String, Value>,
    /// Error statuses the operation can answer, each with a problem body.
    errors: Vec<u16>,
    /// Its success answers carry the resource's `ETag`.
    tagged: bool,
}

impl Op<'_> {
    /// A JSON body of type `T`, required; a body brings 400, 413, 415 and 422 answers.
    fn body<T: ToSchema>(self) -> Self {
        self.body_as::<T>(true, &["application/json"])
    }

    /// A JSON body of type `T` that may be left out (then every field takes its default).
    fn optional_body<T: ToSchema>(self) -> Self {
        self.body_as::<T>(false, &["application/json"])
    }

    fn body_as<T: ToSchema>(mut self, required: bool, media_types: &[&str]) -> Self {
        let schema = self.doc.schema::<T>();
        let content: Map<String, Value> =
            media_types.iter().map(|m| (m.to_string(), json!({ "schema": schema.clone() }))).collect();
        self.operation.insert("requestBody".into(), json!({ "required": required, "content": content }));
        self.errors.extend([400, 413, 415, 422]);
        self
    }

    /// Query parameters: the properties of `T`'s object schema, one parameter each.
    fn query<T: ToSchema>(mut self) -> Self {
        let object = serde_json::to_value(T::schema()).unwrap_or_default();
        let required: Vec<&Value> = object["required"].as_array().map(|r| r.iter().collect()).unwrap_or_default();
        let params = object["properties"].as_object().into_iter().flatten().map(|(name, schema)| {
            let schema = not_null(schema.clone());
            json!({ "name": name, "in": "query", "required": required.contains(&&json!(name)), "schema": schema })
        });
        let mut all = self.operation.remove("parameters").and_then(|p| p.as_array().cloned()).unwrap_or_default();
        all.extend(params);
        self.operation.insert("parameters".into(), all.into());
        self.errors.push(422);
        self
    }

    /// A success answer with a JSON body of type `T`.
    fn answers<T: ToSchema>(mut self, status: u16, description: &str) -> Self {
        let schema = self.doc.schema::<T>();
        let content = json!({ "application/json": { "schema": schema } });
        self.responses.insert(status.to_string(), json!({ "description": description, "content": content }));
        self
    }

    fn ok<T: ToSchema>(self) -> Self {
        self.answers::<T>(200, "Success")
    }

    fn created<T: ToSchema>(self) -> Self {
        self.answers::<T>(201, "Created")
    }

    /// A success answer whose body is CSV text.
    fn ok_csv(mut self, description: &str) -> Self {
        let content = json!({ "text/csv": { "schema": { "type": "string" } } });
        self.responses.insert("200".into(), json!({ "description": description, "content": content }));
        self
    }

    fn no_content(mut self) -> Self {
        self.responses.insert("204".into(), json!({ "description": "Done; no body" }));
        self
    }

    /// More error statuses than the defaults (401, 503 and those a body or a path id brings).
    fn errors(mut self, statuses: &[u16]) -> Self {
        self.errors.extend(statuses);
        self
    }

    /// Fewer error statuses than the defaults, e.g. no 503 where the store is not involved.
    fn without(mut self, statuses: &[u16]) -> Self {
        self.errors.retain(|s| !statuses.contains(s));
        self
    }

    /// Success answers carry the `ETag` of the resource they show.
    fn tagged(mut self) -> Self {
        self.tagged = true;
        self
    }

    /// A write to one resource: takes `If-Match` (412 when it names another version) and
    /// answers with the new `ETag`.
    fn conditional(mut self) -> Self {
        let if_match = json!({
            "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
            "description": "Apply only to this version (an ETag this API answered, or *); 412 otherwise",
        });
        let mut all = self.operation.remove("parameters").and_then(|p| p.as_array().cloned()).unwrap_or_default();
        all.push(if_match);
        self.operation.insert("parameters".into(), all.into());
        self.errors.push(412);
        self.tagged()
    }

    /// Open to anyone: no admin token, hence no 401 either (unless `errors` adds it back).
    fn public(mut self) -> Self {
        self.operation.insert("security".into(), json!([]));
        self.errors.retain(|s| *s != 401);
        self
    }

    fn describe(mut self, key: &str, value: Value) -> Self {
        self.operation.insert(key.into(), value);
        self
    }

    /// Puts the operation in the document, with the roles its route declares: as
    /// `x-gatehouse-roles` and in words, and a 403 answer where a role can be refused.
    fn add(mut self) {
        let access = self.doc.access.iter().find(|(m, p, _)| *m == self.method && *p == self.path).map(|(.., a)| *a);
        if let Some(access) = access.filter(|a| *a != Access::Public) {
            let roles: Vec<&str> = access.roles().into_iter().map(Role::as_str).collect();
            let words = format!("Roles: {}.", roles.join(", "));
            let description = match self.operation.get("description").and_then(Value::as_str) {
                Some(d) => format!("{d}\n\n{words}"),
                None => words,
            };
            self.operation.insert("description".into(), description.into());
            if roles.len() < Role::ALL.len() {
                self.errors.push(403);
            }
            self.operation.insert("x-gatehouse-roles".into(), json!(roles));
        }
        if self.path.contains('{') {
            self.errors.push(404);
        }
        self.errors.sort_unstable();
        self.errors.dedup();
        for status in &self.errors {
            self.responses.insert(status.to_string(), json!({ "$ref": "#/components/responses/Problem" }));
        }
        if self.tagged {
            let etag = json!({ "ETag": { "description": "The resource's version, for If-Match", "schema": { "type": "string" } } });
            let success = self.responses.iter_mut().filter(|(status, _)| status.starts_with('2'));
            success.filter_map(|(_, r)| r.as_object_mut()).for_each(|r| drop(r.insert("headers".into(), etag.clone())));
        }
        self.operation.insert("responses".into(), Value::Object(self.responses));
        let item = self.doc.paths.entry(self.path).or_insert_with(|| json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(self.method.as_str().to_lowercase(), Value::Object(self.operation));
        }
    }
}
