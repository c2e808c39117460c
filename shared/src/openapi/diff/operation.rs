//! One operation against its next revision: parameters, request body and responses. The
//! schemas inside them are compared by [`super::schema`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::schema::{Direction, Walk};
use super::{resolve, ChangeKind, Changes, Docs, Op, OperationAt, Severity};

/// Compares `before` (in `docs.old`) with `after` (in `docs.new`).
pub(super) fn compare(docs: &Docs, op: &Op, before: &OperationAt, after: &OperationAt, out: &mut Changes) {
    parameters(docs, op, before, after, out);
    request_body(docs, op, before.operation, after.operation, out);
    responses(docs, op, before.operation, after.operation, out);
}

/// The operation's parameters by (place, name), the path item's shared ones overridden by
/// the operation's own, each with the name to show; header names compared case-insensitively,
/// as HTTP does, and path variables by their position in the template, since renaming one
/// changes nothing for callers.
fn parameters_of<'d>(doc: &'d Value, at: &OperationAt<'d>) -> BTreeMap<(String, String), (String, &'d Value)> {
    let mut found = BTreeMap::new();
    for list in [at.item.get("parameters"), at.operation.get("parameters")].into_iter().flatten() {
        for parameter in list.as_array().into_iter().flatten().map(|p| resolve(doc, p)) {
            let place = parameter.get("in").and_then(Value::as_str).unwrap_or_default();
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
            let key = match place {
                "header" => name.to_ascii_lowercase(),
                "path" => variable_position(&at.path, name).map_or_else(|| name.to_owned(), |i| format!("#{i}")),
                _ => name.to_owned(),
            };
            found.insert((place.to_owned(), key), (name.to_owned(), parameter));
        }
    }
    found
}

/// Which variable of `path` (0 for the first) is `{name}`.
fn variable_position(path: &str, name: &str) -> Option<usize> {
    let wanted = format!("{{{name}}}");
    let at = path.find(&wanted)?;
    Some(path[..at].matches('{').count())
}

fn required(value: &Value) -> bool {
    value.get("required").and_then(Value::as_bool).unwrap_or(false)
}

fn parameters(docs: &Docs, op: &Op, before: &OperationAt, after: &OperationAt, out: &mut Changes) {
    let (old, new) = (parameters_of(docs.old, before), parameters_of(docs.new, after));
    for ((place, key), (name, was)) in &old {
        let location = format!("{place} parameter `{name}`");
        let Some((_, now)) = new.get(&(place.clone(), key.clone())) else {
            let (code, message) = ("request-parameter-removed", "parameter removed (callers that send it are ignored)");
            out.push(op, code, Severity::NonBreaking, ChangeKind::Removed, &location, message);
            continue;
        };
        match (required(was), required(now)) {
            (false, true) => {
                let code = "request-parameter-became-required";
                out.push(op, code, Severity::Breaking, ChangeKind::Changed, &location, "parameter became required");
            }
            (true, false) => {
                let code = "request-parameter-became-optional";
                out.push(op, code, Severity::NonBreaking, ChangeKind::Changed, &location, "parameter became optional");
            }
            _ => {}
        }
        if let (Some(a), Some(b)) = (was.get("schema"), now.get("schema")) {
            Walk::new(docs, op, Direction::Request, &location, out).compare(a, b);
        }
    }
    for ((place, key), (name, now)) in &new {
        if old.contains_key(&(place.clone(), key.clone())) {
            continue;
        }
        let location = format!("{place} parameter `{name}`");
        if required(now) || place == "path" {
            let message = "new required parameter";
            out.push(op, "new-required-request-parameter", Severity::Breaking, ChangeKind::Added, &location, message);
        } else {
            let message = "new optional parameter";
            out.push(
                op,
                "new-optional-request-parameter",
                Severity::NonBreaking,
                ChangeKind::Added,
                &location,
                message,
            );
        }
    }
}

/// A request body or response's media types and their schemas.
fn content<'d>(doc: &'d Value, holder: &'d Value) -> BTreeMap<&'d str, Option<&'d Value>> {
    let content = holder.get("content").and_then(Value::as_object);
    content.into_iter().flatten().map(|(media, body)| (media.as_str(), resolve(doc, body).get("schema"))).collect()
}

fn request_body(docs: &Docs, op: &Op, before: &Value, after: &Value, out: &mut Changes) {
    let was = before.get("requestBody").map(|b| resolve(docs.old, b));
    let now = after.get("requestBody").map(|b| resolve(docs.new, b));
    let location = "request body";
    let (was, now) = match (was, now) {
        (None, None) => return,
        (None, Some(now)) => {
            let (code, severity, message) = match required(now) {
                true => ("new-required-request-body", Severity::Breaking, "new required request body"),
                false => ("new-optional-request-body", Severity::NonBreaking, "new optional request body"),
            };
            return out.push(op, code, severity, ChangeKind::Added, location, message);
        }
        (Some(_), None) => {
            let message = "request body removed (callers that send one are ignored)";
            return out.push(op, "request-body-removed", Severity::NonBreaking, ChangeKind::Removed, location, message);
        }
        (Some(was), Some(now)) => (was, now),
    };
    match (required(was), required(now)) {
        (false, true) => {
            let message = "request body became required";
            out.push(op, "request-body-became-required", Severity::Breaking, ChangeKind::Changed, location, message);
        }
        (true, false) => {
            let message = "request body became optional";
            out.push(op, "request-body-became-optional", Severity::NonBreaking, ChangeKind::Changed, location, message);
        }
        _ => {}
    }
    media_types(docs, op, (was, now), Direction::Request, location, out);
}

/// Pairs the media types of a request body or one response, and compares their schemas.
fn media_types(
    docs: &Docs,
    op: &Op,
    (was, now): (&Value, &Value),
    direction: Direction,
    location: &str,
    out: &mut Changes,
) {
    let (old, new) = (content(docs.old, was), content(docs.new, now));
    let side = direction.side();
    for (media, schema) in &old {
        let here = format!("{location} {media}");
        match new.get(media) {
            None => {
                let message = format!("media type {media} removed");
                let code = format!("{side}-media-type-removed");
                out.push(op, &code, Severity::Breaking, ChangeKind::Removed, &here, message);
            }
            Some(next) => {
                if let (Some(a), Some(b)) = (schema, next) {
                    Walk::new(docs, op, direction, &here, out).compare(a, b);
                }
            }
        }
    }
    for media in new.keys().filter(|m| !old.contains_key(*m)) {
        let code = format!("{side}-media-type-added");
        let message = format!("media type {media} added");
        out.push(op, &code, Severity::NonBreaking, ChangeKind::Added, &format!("{location} {media}"), message);
    }
}

fn responses(docs: &Docs, op: &Op, before: &Value, after: &Value, out: &mut Changes) {
    let empty = Map::new();
    let old = before.get("responses").and_then(Value::as_object).unwrap_or(&empty);
    let new = after.get("responses").and_then(Value::as_object).unwrap_or(&empty);
    let new_codes: BTreeSet<&String> = new.keys().collect();
    for (status, was) in old {
        let location = format!("response {status}");
        let Some(now) = new.get(status) else {
            let success = status.starts_with('2');
            let (code, severity) = match success {
                true => ("response-success-status-removed", Severity::Breaking),
                false => ("response-non-success-status-removed", Severity::NonBreaking),
            };
            out.push(op, code, severity, ChangeKind::Removed, &location, format!("status {status} removed"));
            continue;
        };
        let (was, now) = (resolve(docs.old, was), resolve(docs.new, now));
        media_types(docs, op, (was, now), Direction::Response, &location, out);
    }
    for status in new_codes.into_iter().filter(|s| !old.contains_key(*s)) {
        let message = format!("status {status} added");
        let (code, location) = ("response-status-added", format!("response {status}"));
        out.push(op, code, Severity::NonBreaking, ChangeKind::Added, &location, message);
    }
}
