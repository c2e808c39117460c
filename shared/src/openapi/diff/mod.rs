//! What changed between two revisions of an API's OpenAPI document, and whether each change
//! breaks existing callers, classified as oasdiff does.
//!
//! Operations are paired by method and path template with the parameter names ignored
//! (`/pets/{id}` and `/pets/{petId}` are one operation), so a renamed path variable is no
//! change at all. Within a pair, parameters are paired by place and name, request bodies and
//! responses by media type (and responses by status), and schemas are compared member by
//! member, with `$ref`s followed in each document. A schema is read in the direction data
//! flows: the gateway's callers *send* requests (so narrowing what is accepted breaks them)
//! and *read* responses (so removing or widening what they read breaks them).
//!
//! Pure: two parsed documents in, a list of changes out.

mod operation;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::operations::METHODS;
use super::pointer::{follow, Target};

/// Whether a change breaks callers written against the old revision. Named `ChangeSeverity`
/// in the admin API's schema: the lint report has a `Severity` of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema), schema(as = ChangeSeverity))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Breaking,
    NonBreaking,
}

/// What happened to the thing a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Change {
    /// A stable id of the rule, e.g. `response-property-removed` (oasdiff's names where it
    /// has one).
    pub code: String,
    pub severity: Severity,
    pub kind: ChangeKind,
    /// Upper-case method of the operation concerned.
    pub method: String,
    /// Its path template as the old revision writes it (the new one's for an added operation).
    pub path: String,
    /// Where in the operation, e.g. `response 200 application/json: items[].name`; empty for
    /// the operation itself.
    pub location: String,
    /// The change in words, for the API's owner.
    pub message: String,
}

/// Every change from one revision to the next, in document order of the old revision's
/// operations, then the added ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ApiDiff {
    pub changes: Vec<Change>,
}

impl ApiDiff {
    /// The changes that break callers.
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.severity == Severity::Breaking)
    }

    pub fn is_breaking(&self) -> bool {
        self.breaking().next().is_some()
    }

    /// The operations (method, old path) that breaking changes touch, each once, in order.
    pub fn breaking_operations(&self) -> Vec<(String, String)> {
        let mut seen: Vec<(String, String)> = Vec::new();
        for c in self.breaking() {
            let key = (c.method.clone(), c.path.clone());
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    }
}

/// The changes from `old` to `new` (both whole OpenAPI 3.x documents, as imported).
pub fn diff(old: &Value, new: &Value) -> ApiDiff {
    let mut out = Changes::default();
    let (old_ops, new_ops) = (operations(old), operations(new));
    for (key, before) in &old_ops {
        let at = Op { method: before.method.clone(), path: before.path.clone() };
        match new_ops.get(key) {
            Some(after) => {
                let docs = Docs { old, new };
                operation::compare(&docs, &at, before, after, &mut out);
            }
            None => out.push(&at, "api-removed", Severity::Breaking, ChangeKind::Removed, "", "operation removed"),
        }
    }
    for (key, after) in &new_ops {
        if !old_ops.contains_key(key) {
            let at = Op { method: after.method.clone(), path: after.path.clone() };
            out.push(&at, "endpoint-added", Severity::NonBreaking, ChangeKind::Added, "", "operation added");
        }
    }
    ApiDiff { changes: out.0 }
}

/// The two documents, for following `$ref`s on each side.
pub(crate) struct Docs<'d> {
    pub old: &'d Value,
    pub new: &'d Value,
}

/// The operation a change is about.
pub(crate) struct Op {
    pub method: String,
    pub path: String,
}

/// The changes gathered so far.
#[derive(Default)]
pub(crate) struct Changes(Vec<Change>);

impl Changes {
    pub(crate) fn push(
        &mut self,
        op: &Op,
        code: &str,
        severity: Severity,
        kind: ChangeKind,
        location: &str,
        message: impl Into<String>,
    ) {
        self.0.push(Change {
            code: code.to_owned(),
            severity,
            kind,
            method: op.method.clone(),
            path: op.path.clone(),
            location: location.to_owned(),
            message: message.into(),
        });
    }
}

/// One operation of a document, with its path item's shared parameters.
pub(crate) struct OperationAt<'d> {
    pub method: String,
    pub path: String,
    pub operation: &'d Value,
    pub item: &'d Value,
}

/// Operations keyed by (method, path with variable names blanked), in document order of keys.
fn operations(doc: &Value) -> BTreeMap<(String, String), OperationAt<'_>> {
    let mut found = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return found };
    for (path, item) in paths {
        let item = resolve(doc, item);
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let key = (method.to_ascii_uppercase(), shape(path));
                let at = OperationAt { method: method.to_ascii_uppercase(), path: path.clone(), operation, item };
                found.entry(key).or_insert(at);
            }
        }
    }
    found
}

/// `/pets/{}/toys` for `/pets/{petId}/toys`: the path as routing sees it.
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_variable = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_variable = true;
                out.push('{');
            }
            '}' => {
                in_variable = false;
                out.push('}');
            }
            _ if in_variable => {}
            c => out.push(c),
        }
    }
    out
}

static NULL: Value = Value::Null;

/// Follows `$ref`s (a chain of at most 16) within `doc`; a reference that leads nowhere is
/// read as the empty schema, which the importer has already refused anyway.
pub(crate) fn resolve<'d>(doc: &'d Value, mut value: &'d Value) -> &'d Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { return value };
        match follow(doc, reference) {
            Target::Found { value: next, .. } => value = next,
            Target::External | Target::Missing => return &NULL,
        }
    }
    value
}
