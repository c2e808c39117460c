//! Every annotation in a document, with its JSON pointer, and warnings for properties and
//! parameters whose names suggest personal data but carry no class.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::pointer::{child, follow, index, Target};
use super::super::ImportProblem;
use crate::sensitivity::{annotation, Mask, EXTENSION};

/// What import found about sensitive data in a document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SensitivityReport {
    /// Every annotation, in document order.
    pub fields: Vec<AnnotatedField>,
    /// Names that look like personal data with no class (`email`, `phone`, `iban`, …).
    pub warnings: Vec<ImportProblem>,
    /// Annotations that do not parse; the import reports them as problems.
    #[serde(skip)]
    pub(crate) invalid: Vec<ImportProblem>,
}

/// One annotated schema, property, parameter or operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AnnotatedField {
    /// RFC 6901 pointer to the annotated object in the document.
    pub pointer: String,
    /// `property`, `parameter`, `operation` or `schema`.
    pub kind: String,
    /// The property's, parameter's or schema's name; the operation's id for an operation.
    pub name: String,
    pub class: String,
    #[cfg_attr(feature = "schema", schema(value_type = String))]
    pub mask: Mask,
}

/// Values that are data, not description: never scanned.
const DATA_KEYWORDS: [&str; 5] = ["example", "examples", "default", "enum", "const"];
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Normalised names (lower-case, letters and digits only) that are personal data alone.
const EXACT: [&str; 6] = ["ip", "dob", "mobile", "birthday", "phone", "tin"];
/// Endings that make a normalised name likely personal or financial data.
const ENDINGS: [&str; 17] = [
    "email",
    "phonenumber",
    "telephone",
    "ssn",
    "socialsecuritynumber",
    "iban",
    "address",
    "dateofbirth",
    "birthdate",
    "cardnumber",
    "creditcard",
    "cvv",
    "passport",
    "passportnumber",
    "taxid",
    "nationalid",
    "postcode",
];

/// Scans `doc` for annotations and likely-sensitive names without one.
pub fn report(doc: &Value) -> SensitivityReport {
    let mut out = SensitivityReport::default();
    walk(doc, doc, "", &[], &mut out);
    out
}

fn walk(doc: &Value, value: &Value, at: &str, keys: &[&str], out: &mut SensitivityReport) {
    match value {
        Value::Object(object) => {
            visit(doc, object, at, keys, out);
            // Under `properties` a member named `default` or `example` is a property, not data.
            let data = |key: &str| DATA_KEYWORDS.contains(&key) && keys.last() != Some(&"properties");
            for (key, member) in object.iter().filter(|(key, _)| !data(key)) {
                let mut path = keys.to_vec();
                path.push(key);
                walk(doc, member, &child(at, key), &path, out);
            }
        }
        Value::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                let mut path = keys.to_vec();
                path.push("");
                walk(doc, element, &index(at, i), &path, out);
            }
        }
        _ => {}
    }
}

/// One object: its annotation, or a warning when its name looks sensitive.
fn visit(doc: &Value, object: &Map<String, Value>, at: &str, keys: &[&str], out: &mut SensitivityReport) {
    let own = keys.last().copied().unwrap_or("");
    let parent = keys.len().checked_sub(2).map_or("", |i| keys[i]);
    let is_property = parent == "properties";
    let is_parameter =
        object.get("in").is_some_and(Value::is_string) && object.get("name").is_some_and(Value::is_string);
    let is_operation = keys.first() == Some(&"paths") && keys.len() == 3 && METHODS.contains(&own);
    let Some(found) = object.get(EXTENSION) else {
        let name = if is_parameter { object.get("name").and_then(Value::as_str).unwrap_or("") } else { own };
        let schema_annotated = || object.get("schema").is_some_and(|s| annotated(doc, s));
        if (is_property || is_parameter)
            && likely_sensitive(name)
            && !annotated(doc, &Value::Object(object.clone()))
            && !schema_annotated()
        {
            let what = if is_parameter { "parameter" } else { "property" };
            let message = format!("the {what} {name:?} looks like personal or financial data but has no {EXTENSION}");
            out.warnings.push(ImportProblem { pointer: at.to_owned(), message });
        }
        return;
    };
    let (kind, name) = match () {
        _ if is_operation => ("operation", object.get("operationId").and_then(Value::as_str).unwrap_or(own)),
        _ if is_parameter => ("parameter", object.get("name").and_then(Value::as_str).unwrap_or("")),
        _ if is_property => ("property", own),
        _ => ("schema", own),
    };
    match annotation::parse(found) {
        Ok(a) => out.fields.push(AnnotatedField {
            pointer: at.to_owned(),
            kind: kind.into(),
            name: name.into(),
            class: a.class,
            mask: a.mask,
        }),
        Err(message) => out.invalid.push(ImportProblem { pointer: child(at, EXTENSION), message }),
    }
}

/// Whether a schema (after `$ref`s) or one of its direct properties carries a class: an
/// `address` object whose lines are annotated needs no warning of its own.
fn annotated<'d>(doc: &'d Value, mut schema: &'d Value) -> bool {
    for _ in 0..16 {
        let direct = schema.get(EXTENSION).is_some()
            || schema
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.values().any(|v| v.get(EXTENSION).is_some()))
            || schema.get("items").is_some_and(|items| items.get(EXTENSION).is_some());
        if direct {
            return true;
        }
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else { return false };
        match follow(doc, reference) {
            Target::Found { value, .. } => schema = value,
            Target::External | Target::Missing => return false,
        }
    }
    false
}

/// `email`, `customer_email`, `phoneNumber`, `date-of-birth`, `ip_address`, …
fn likely_sensitive(name: &str) -> bool {
    let normal: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    EXACT.contains(&normal.as_str()) || ENDINGS.iter().any(|ending| normal.ends_with(ending))
}
