//! Two JSON Schemas of one place (a parameter, a request body, a response), compared member
//! by member in the direction data flows.
//!
//! A request schema says what the API *accepts*: narrowing it (a type, an enum, a bound, a
//! new required property) refuses what callers already send, so it breaks them. A response
//! schema says what callers *read*: removing a property, making one optional, or widening a
//! type or an enum hands them what they were not written for. `allOf` members are read as one
//! schema; `oneOf`/`anyOf` are compared alternative by alternative when their count is kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{resolve, ChangeKind, Changes, Docs, Op, Severity};

/// Deep enough for any real schema; what is deeper is not compared (never a stack overflow).
const MAX_DEPTH: usize = 32;

/// Which way data flows through the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Callers send it: narrowing breaks.
    Request,
    /// Callers read it: removing and widening break.
    Response,
}

impl Direction {
    pub(super) fn side(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }

    /// The severity of narrowing (`true`) or widening (`false`) what the schema allows.
    fn severity(self, narrowed: bool) -> Severity {
        match (self, narrowed) {
            (Direction::Request, true) | (Direction::Response, false) => Severity::Breaking,
            _ => Severity::NonBreaking,
        }
    }
}

/// One comparison of a place's schemas.
pub(super) struct Walk<'a, 'd> {
    docs: &'a Docs<'d>,
    op: &'a Op,
    direction: Direction,
    place: &'a str,
    out: &'a mut Changes,
    /// The pairs of schemas being compared further up: a recursive schema stops here.
    stack: Vec<(*const Value, *const Value)>,
}

impl<'a, 'd> Walk<'a, 'd> {
    pub(super) fn new(
        docs: &'a Docs<'d>,
        op: &'a Op,
        direction: Direction,
        place: &'a str,
        out: &'a mut Changes,
    ) -> Self {
        Walk { docs, op, direction, place, out, stack: Vec::new() }
    }

    /// Compares the schema at `old` (old document) with the one at `new`.
    pub(super) fn compare(&mut self, old: &'d Value, new: &'d Value) {
        self.field(old, new, "");
    }

    fn field(&mut self, old: &'d Value, new: &'d Value, field: &str) {
        let (old, new) = (resolve(self.docs.old, old), resolve(self.docs.new, new));
        let pair = (old as *const Value, new as *const Value);
        if self.stack.len() >= MAX_DEPTH || self.stack.contains(&pair) {
            return;
        }
        self.stack.push(pair);
        self.types(old, new, field);
        self.enums(old, new, field);
        self.bounds(old, new, field);
        self.properties(old, new, field);
        if let (Some(a), Some(b)) = (old.get("items"), new.get("items")) {
            self.field(a, b, &format!("{field}[]"));
        }
        self.alternatives(old, new, field);
        self.stack.pop();
    }

    fn push(&mut self, rule: &str, severity: Severity, kind: ChangeKind, field: &str, message: String) {
        let code = format!("{}-{rule}", self.direction.side());
        let location = match field {
            "" => self.place.to_owned(),
            field => format!("{}: {field}", self.place),
        };
        self.out.push(self.op, &code, severity, kind, &location, message);
    }

    fn types(&mut self, old: &Value, new: &Value, field: &str) {
        let (was, now) = match (types(old), types(new)) {
            (None, None) => return,
            // No `type` allows every type: naming one narrows, dropping it widens.
            (None, Some(now)) => {
                let message = format!("now limited to type {}", join(&now));
                return self.push(
                    "property-type-changed",
                    self.direction.severity(true),
                    ChangeKind::Changed,
                    field,
                    message,
                );
            }
            (Some(was), None) => {
                let message = format!("no longer limited to type {}", join(&was));
                return self.push(
                    "property-type-changed",
                    self.direction.severity(false),
                    ChangeKind::Changed,
                    field,
                    message,
                );
            }
            (Some(was), Some(now)) => (was, now),
        };
        if was == now {
            return;
        }
        let narrowed = !accepts(&now, &was);
        let widened = !accepts(&was, &now);
        let severity = match self.direction {
            Direction::Request if narrowed => Severity::Breaking,
            Direction::Response if widened => Severity::Breaking,
            _ => Severity::NonBreaking,
        };
        let message = format!("type changed from {} to {}", join(&was), join(&now));
        self.push("property-type-changed", severity, ChangeKind::Changed, field, message);
    }

    fn enums(&mut self, old: &Value, new: &Value, field: &str) {
        let values =
            |v: &Value| v.get("enum").and_then(Value::as_array).map(|a| a.iter().map(Value::to_string).collect());
        let (was, now): (Option<BTreeSet<String>>, Option<BTreeSet<String>>) = (values(old), values(new));
        match (was, now) {
            (None, None) => {}
            (None, Some(now)) => {
                let message = format!("now limited to {}", now.into_iter().collect::<Vec<_>>().join(", "));
                self.push("enum-added", self.direction.severity(true), ChangeKind::Added, field, message);
            }
            (Some(_), None) => {
                let message = "no longer limited to a list of values".to_owned();
                self.push("enum-removed", self.direction.severity(false), ChangeKind::Removed, field, message);
            }
            (Some(was), Some(now)) => {
                for gone in was.difference(&now) {
                    let message = format!("value {gone} removed");
                    self.push("enum-value-removed", self.direction.severity(true), ChangeKind::Removed, field, message);
                }
                for added in now.difference(&was) {
                    let message = format!("value {added} added");
                    self.push("enum-value-added", self.direction.severity(false), ChangeKind::Added, field, message);
                }
            }
        }
    }

    /// Length, size and range bounds: a tighter bound narrows, a looser one widens.
    fn bounds(&mut self, old: &Value, new: &Value, field: &str) {
        const UPPER: [&str; 4] = ["maxLength", "maxItems", "maximum", "maxProperties"];
        const LOWER: [&str; 4] = ["minLength", "minItems", "minimum", "minProperties"];
        for (keyword, upper) in UPPER.iter().map(|k| (k, true)).chain(LOWER.iter().map(|k| (k, false))) {
            let (was, now) = (old.get(*keyword).and_then(Value::as_f64), new.get(*keyword).and_then(Value::as_f64));
            let narrowed = match (was, now) {
                (None, None) => continue,
                (Some(a), Some(b)) if a == b => continue,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(a), Some(b)) => (b < a) == upper,
            };
            let show = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
            let message = format!("{keyword} changed from {} to {}", show(was), show(now));
            let rule = format!("{}-{}", to_kebab(keyword), if narrowed { "narrowed" } else { "widened" });
            self.push(&rule, self.direction.severity(narrowed), ChangeKind::Changed, field, message);
        }
    }

    fn properties(&mut self, old: &'d Value, new: &'d Value, field: &str) {
        let (was, now) = (Members::of(self.docs.old, old), Members::of(self.docs.new, new));
        let child = |name: &str| if field.is_empty() { name.to_owned() } else { format!("{field}.{name}") };
        for (name, schema) in &was.properties {
            let Some(next) = now.properties.get(name) else {
                if !self.ignored(self.docs.old, schema) {
                    let (severity, message) = match self.direction {
                        Direction::Request => {
                            (Severity::NonBreaking, "property removed (callers that send it are ignored)")
                        }
                        Direction::Response => (Severity::Breaking, "property removed"),
                    };
                    self.push("property-removed", severity, ChangeKind::Removed, &child(name), message.to_owned());
                }
                continue;
            };
            self.requiredness(was.required.contains(name), now.required.contains(name), &child(name));
            self.field(schema, next, &child(name));
        }
        for (name, schema) in now.properties.iter().filter(|(n, _)| !was.properties.contains_key(*n)) {
            if self.ignored(self.docs.new, schema) {
                continue;
            }
            let required = now.required.contains(name);
            let (rule, severity, message) = match self.direction {
                Direction::Request if required => {
                    ("new-required-property", Severity::Breaking, "new required property")
                }
                Direction::Request => ("new-optional-property", Severity::NonBreaking, "new optional property"),
                Direction::Response => ("property-added", Severity::NonBreaking, "property added"),
            };
            self.push(rule, severity, ChangeKind::Added, &child(name), message.to_owned());
        }
    }

    /// A property that does not flow this way: `readOnly` in requests, `writeOnly` in responses.
    fn ignored(&self, doc: &Value, schema: &Value) -> bool {
        let keyword = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        resolve(doc, schema).get(keyword).and_then(Value::as_bool).unwrap_or(false)
    }

    fn requiredness(&mut self, was: bool, now: bool, field: &str) {
        let (rule, narrowed_for_request) = match (was, now) {
            (false, true) => ("property-became-required", true),
            (true, false) => ("property-became-optional", false),
            _ => return,
        };
        // A request property made required narrows what is accepted; a response property
        // made optional may now be missing where callers read it.
        let severity = match self.direction {
            Direction::Request => self.direction.severity(narrowed_for_request),
            Direction::Response if !now => Severity::Breaking,
            Direction::Response => Severity::NonBreaking,
        };
        let message = rule.replace('-', " ");
        self.push(rule, severity, ChangeKind::Changed, field, message);
    }

    fn alternatives(&mut self, old: &'d Value, new: &'d Value, field: &str) {
        for keyword in ["oneOf", "anyOf"] {
            let (Some(was), Some(now)) =
                (old.get(keyword).and_then(Value::as_array), new.get(keyword).and_then(Value::as_array))
            else {
                continue;
            };
            if was.len() == now.len() {
                for (i, (a, b)) in was.iter().zip(now).enumerate() {
                    self.field(a, b, &format!("{field}<{keyword}[{i}]>"));
                }
                continue;
            }
            let narrowed = now.len() < was.len();
            let message = format!("{keyword} went from {} to {} alternatives", was.len(), now.len());
            let rule = format!("{}-{}", to_kebab(keyword), if narrowed { "narrowed" } else { "widened" });
            self.push(&rule, self.direction.severity(narrowed), ChangeKind::Changed, field, message);
        }
    }
}

/// A schema's properties and required names, its `allOf` members' included.
struct Members<'d> {
    properties: BTreeMap<&'d str, &'d Value>,
    required: BTreeSet<&'d str>,
}

impl<'d> Members<'d> {
    fn of(doc: &'d Value, schema: &'d Value) -> Members<'d> {
        let mut members = Members { properties: BTreeMap::new(), required: BTreeSet::new() };
        members.gather(doc, schema, 0);
        members
    }

    fn gather(&mut self, doc: &'d Value, schema: &'d Value, depth: usize) {
        let schema = resolve(doc, schema);
        if depth > 8 {
            return;
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            self.properties.extend(properties.iter().map(|(k, v)| (k.as_str(), v)));
        }
        let required = schema.get("required").and_then(Value::as_array).into_iter().flatten();
        self.required.extend(required.filter_map(Value::as_str));
        for member in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.gather(doc, member, depth + 1);
        }
    }
}

/// The types a schema allows (`nullable: true` adds `null`); `None` when it names none.
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    let mut found: BTreeSet<String> = match schema.get("type")? {
        Value::String(t) => BTreeSet::from([t.clone()]),
        Value::Array(list) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return None,
    };
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        found.insert("null".to_owned());
    }
    Some(found)
}

/// Whether a value of every type in `narrow` is allowed by `wide` (an integer is a number).
fn accepts(wide: &BTreeSet<String>, narrow: &BTreeSet<String>) -> bool {
    narrow.iter().all(|t| wide.contains(t) || (t == "integer" && wide.contains("number")))
}

fn join(types: &BTreeSet<String>) -> String {
    types.iter().map(String::as_str).collect::<Vec<_>>().join(" or ")
}

/// `max-length` for `maxLength`.
fn to_kebab(keyword: &str) -> String {
    let mut out = String::with_capacity(keyword.len() + 2);
    for c in keyword.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
