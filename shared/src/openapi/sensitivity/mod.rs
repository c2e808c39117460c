//! `x-gatehouse-sensitivity` at import: checks every annotation, lists them (with their JSON
//! pointers, for the admin API and the portal), warns about likely-sensitive names that have
//! none, and compiles what the gateway enforces per operation
//! ([`crate::sensitivity::OperationSensitivity`]).

mod report;
mod schema;

use serde_json::Value;

use super::pointer::{child, follow, Target};
use super::Problems;
use crate::model::Operation;
use crate::sensitivity::decide::{is_json, media_type};
use crate::sensitivity::plan::{OperationSensitivity, SensitiveParameter};
use crate::sensitivity::{annotation, OperationSensitivity as Compiled};

pub use report::{report, AnnotatedField, SensitivityReport};

/// `$ref` hops followed to reach a path item, parameter or response.
const MAX_REF_HOPS: usize = 16;

/// Compiles each operation's sensitivity into it. Problems (a malformed annotation, a
/// schema too large to compile) fail the import: enforcing a guess would leak or hide data.
pub(crate) fn annotate(doc: &Value, operations: &mut [Operation], problems: &mut Problems) -> SensitivityReport {
    let report = report(doc);
    for invalid in &report.invalid {
        problems.push(invalid.pointer.clone(), invalid.message.clone());
    }
    for operation in operations.iter_mut() {
        let Some((item, at)) = locate(doc, &operation.path) else { continue };
        let method = operation.method.to_ascii_lowercase();
        let Some(object) = item.get(&method) else { continue };
        let compiled = compile(doc, item, object, &child(&at, &method), problems);
        operation.sensitivity = (!compiled.is_empty()).then(|| Box::new(compiled));
    }
    report
}

/// The path item of `path` and its pointer (after its `$ref`s).
fn locate<'d>(doc: &'d Value, path: &str) -> Option<(&'d Value, String)> {
    resolve(doc, doc.get("paths")?.get(path)?, child("/paths", path))
}

/// `value` after its `$ref`s (at most [`MAX_REF_HOPS`]), with the pointer where it ends up.
pub(crate) fn resolve<'d>(doc: &'d Value, mut value: &'d Value, mut at: String) -> Option<(&'d Value, String)> {
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Some((value, at));
        };
        match follow(doc, reference) {
            Target::Found { value: next, pointer } => (value, at) = (next, pointer),
            Target::External | Target::Missing => return None,
        }
    }
    None
}

fn compile(doc: &Value, item: &Value, operation: &Value, at: &str, problems: &mut Problems) -> Compiled {
    let class = annotation::read(operation).and_then(Result::ok).map(|a| a.class);
    let mut parameters = Vec::new();
    for owner in [item, operation] {
        for parameter in owner.get("parameters").and_then(Value::as_array).into_iter().flatten() {
            if let Some(found) = sensitive_parameter(doc, parameter) {
                parameters.push(found);
            }
        }
    }
    let mut responses = Vec::new();
    let declared = operation.get("responses").and_then(Value::as_object);
    for (status, response) in declared.into_iter().flatten().filter(|(status, _)| !status.starts_with("x-")) {
        let Some((response, _)) = resolve(doc, response, String::new()) else { continue };
        let content = response.get("content").and_then(Value::as_object);
        for (media, body) in content.into_iter().flatten() {
            let media = media_type(media);
            let Some(schema) = body.get("schema").filter(|_| is_json(&media)) else { continue };
            let response_at = child(&child(&child(at, "responses"), status), "content");
            match schema::Builder::new(doc).compile(status, &media, schema) {
                Ok(Some(filter)) => responses.push(filter),
                Ok(None) => {}
                Err(message) => problems.push(child(&response_at, &media), message),
            }
        }
    }
    OperationSensitivity { class, parameters, responses }
}

/// A parameter's class: on the parameter object, or on its schema (each after `$ref`s).
fn sensitive_parameter(doc: &Value, parameter: &Value) -> Option<SensitiveParameter> {
    let (parameter, _) = resolve(doc, parameter, String::new())?;
    let on_schema = || {
        let (schema, _) = resolve(doc, parameter.get("schema")?, String::new())?;
        annotation::read(schema)
    };
    let found = annotation::read(parameter).or_else(on_schema)?.ok()?;
    Some(SensitiveParameter {
        name: parameter.get("name")?.as_str()?.to_owned(),
        place: parameter.get("in")?.as_str()?.to_owned(),
        class: found.class,
    })
}
