//! Path items and their operations, becoming [`Operation`]s.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::document::{kind, optional_str};
use super::paths::Pairs;
use super::pointer::{child, follow, index, Target};
use super::security::{Access, Security};
use super::Problems;
use crate::model::{Discriminator, DiscriminatorPlace, Operation};

/// The HTTP methods a path item may hold, as OpenAPI spells them (lower-case).
pub(crate) const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Path item fields that are not operations.
const ITEM_FIELDS: [&str; 5] = ["$ref", "summary", "description", "servers", "parameters"];
/// Where a parameter can be, per OpenAPI.
const PARAMETER_PLACES: [&str; 4] = ["query", "header", "path", "cookie"];

/// Gathers operations across the document, keeping ids unique.
pub(crate) struct Collector<'s> {
    doc: &'s Value,
    security: &'s mut Security,
    /// Operation id → pointer of the operation that claimed it first.
    ids: HashMap<String, String>,
    operations: Vec<Operation>,
}

impl<'s> Collector<'s> {
    pub(crate) fn new(doc: &'s Value, security: &'s mut Security) -> Self {
        Collector { doc, security, ids: HashMap::new(), operations: Vec::new() }
    }

    pub(crate) fn finish(self) -> Vec<Operation> {
        self.operations
    }

    /// Reads one path item found at `at` for the path key `path`, whose discriminator (if
    /// any) is `pairs`.
    pub(crate) fn read_item(
        &mut self,
        path: &str,
        pairs: Option<&Pairs>,
        item: &Map<String, Value>,
        at: &str,
        problems: &mut Problems,
    ) {
        check_parameters(item, at, problems);
        for (key, value) in item {
            if METHODS.contains(&key.as_str()) {
                let route = Route { path, pairs, item };
                self.read_operation(&route, key, value, &child(at, key), problems);
            } else if !ITEM_FIELDS.contains(&key.as_str()) && !key.starts_with("x-") {
                problems.push(child(at, key), not_a_method(key));
            }
        }
    }

    fn read_operation(&mut self, route: &Route, method: &str, value: &Value, at: &str, problems: &mut Problems) {
        let path = route.path;
        let Some(operation) = value.as_object() else {
            problems.push(at, format!("an operation must be an object, not {}", kind(value)));
            return;
        };
        let method = method.to_ascii_uppercase();
        let explicit = optional_str(operation, at, "operationId", problems);
        let summary = optional_str(operation, at, "summary", problems).map(str::to_owned);
        check_parameters(operation, at, problems);
        let access = self.security.access(operation, at, problems);
        let id = explicit.map_or_else(|| format!("{method} {path}"), str::to_owned);
        let id_at = if explicit.is_some() { child(at, "operationId") } else { at.to_owned() };
        if let Some(first) = self.ids.get(&id) {
            problems.push(id_at, format!("operation id {id:?} is already used by {first}; ids must be unique"));
            return;
        }
        self.ids.insert(id.clone(), at.to_owned());
        let Access { public, scopes, requirements, refused } = access;
        let discriminators = route.discriminators(self.doc, operation);
        let path = path.to_owned();
        let operation = Operation {
            id,
            method,
            path,
            public,
            scopes,
            requirements,
            summary,
            discriminators,
            refused,
            sensitivity: None,
            mock: None,
            validator: None,
        };
        self.operations.push(operation);
    }
}

/// Where an operation sits: its path key, the key's discriminator and the path item.
struct Route<'r> {
    path: &'r str,
    pairs: Option<&'r Pairs>,
    item: &'r Map<String, Value>,
}

impl Route<'_> {
    /// The discriminator as conditions: a `?` key's pairs are query parameters; a `#` key's
    /// pair is a header when the operation or path item declares a header parameter of that
    /// name (`/#X-Amz-Target=…`), else a query parameter (`/#Action=…`).
    fn discriminators(&self, doc: &Value, operation: &Map<String, Value>) -> Vec<Discriminator> {
        let Some((separator, pairs)) = self.pairs else {
            return Vec::new();
        };
        let headers: Vec<&str> = [operation, self.item]
            .into_iter()
            .filter_map(|owner| owner.get("parameters")?.as_array())
            .flatten()
            .filter_map(|parameter| resolve(doc, parameter))
            .filter(|parameter| parameter.get("in").and_then(Value::as_str) == Some("header"))
            .filter_map(|parameter| parameter.get("name")?.as_str())
            .collect();
        let is_header = |name: &str| *separator == '#' && headers.iter().any(|h| h.eq_ignore_ascii_case(name));
        pairs
            .iter()
            .map(|(name, value)| Discriminator {
                place: if is_header(name) { DiscriminatorPlace::Header } else { DiscriminatorPlace::Query },
                name: if is_header(name) { name.to_ascii_lowercase() } else { name.clone() },
                value: value.clone(),
            })
            .collect()
    }
}

/// A parameter itself, following one local `$ref`.
fn resolve<'d>(doc: &'d Value, parameter: &'d Value) -> Option<&'d Value> {
    match parameter.get("$ref").and_then(Value::as_str) {
        Some(reference) => match follow(doc, reference) {
            Target::Found { value, .. } => Some(value),
            _ => None,
        },
        None => Some(parameter),
    }
}

fn not_a_method(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    if METHODS.contains(&lower.as_str()) {
        return format!("method names are lower-case in OpenAPI: write {lower:?}");
    }
    format!("{key:?} is neither a path item field nor a method OpenAPI allows ({})", METHODS.join(", "))
}

/// Checks the `parameters` of a path item or operation: each one named, placed, and unique
/// by (name, place) — header names compared case-insensitively, as HTTP does.
fn check_parameters(owner: &Map<String, Value>, owner_at: &str, problems: &mut Problems) {
    let Some(parameters) = owner.get("parameters") else {
        return;
    };
    let at = child(owner_at, "parameters");
    let Some(parameters) = parameters.as_array() else {
        problems.push(at, format!("must be an array, not {}", kind(parameters)));
        return;
    };
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (i, parameter) in parameters.iter().enumerate() {
        let at = index(&at, i);
        let Some(parameter) = parameter.as_object() else {
            problems.push(at, format!("a parameter must be an object, not {}", kind(parameter)));
            continue;
        };
        if parameter.contains_key("$ref") {
            continue; // a component parameter; left unresolved, as the gateway needs nothing from it
        }
        let Some(key) = parameter_key(parameter, &at, problems) else {
            continue;
        };
        if seen.contains(&key) {
            problems.push(at, format!("parameter {:?} in {} is declared twice", key.0, key.1));
        } else {
            seen.push(key);
        }
    }
}

/// A parameter's (name, place), the pair OpenAPI requires to be unique.
fn parameter_key<'d>(
    parameter: &'d Map<String, Value>,
    at: &str,
    problems: &mut Problems,
) -> Option<(String, &'d str)> {
    let name = super::document::required_str(parameter, at, "name", problems);
    let place = super::document::required_str(parameter, at, "in", problems)?;
    if !PARAMETER_PLACES.contains(&place) {
        problems.push(
            child(at, "in"),
            format!("{place:?} is not a parameter location: expected query, header, path or cookie"),
        );
        return None;
    }
    let name = name?;
    Some((if place == "header" { name.to_ascii_lowercase() } else { name.to_owned() }, place))
}
