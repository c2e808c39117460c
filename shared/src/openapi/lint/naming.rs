//! Naming consistency: the document's dominant style for operationIds, and for literal path
//! segments, and every name that departs from it. A one-word name (`pets`, `list`) fits every
//! style and is never reported.

use super::super::pointer::child;
use super::operations::operations;
use super::{Finding, Rule, NAMING_OPERATION_ID, NAMING_PATH_SEGMENT};
use serde_json::Value;

/// A naming style, as far as one name shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Camel,
    Pascal,
    Snake,
    Kebab,
}

impl Style {
    fn as_str(self) -> &'static str {
        match self {
            Style::Camel => "camelCase",
            Style::Pascal => "PascalCase",
            Style::Snake => "snake_case",
            Style::Kebab => "kebab-case",
        }
    }
}

/// The style `name` is written in; `None` for one lower-case word, a mixture (`get_Pets`) or
/// anything else that shows no single style.
pub(super) fn style(name: &str) -> Option<Style> {
    let letters = |c: char| c.is_ascii_alphanumeric();
    let has_upper = name.chars().any(|c| c.is_ascii_uppercase());
    let first_upper = name.starts_with(|c: char| c.is_ascii_uppercase());
    let words = |sep: char| name.split(sep).all(|w| !w.is_empty() && w.chars().all(letters));
    match (name.contains('_'), name.contains('-')) {
        (true, false) if !has_upper && words('_') => Some(Style::Snake),
        (false, true) if !has_upper && words('-') => Some(Style::Kebab),
        (false, false) if name.chars().all(letters) && has_upper => {
            Some(if first_upper { Style::Pascal } else { Style::Camel })
        }
        _ => None,
    }
}

/// Both naming rules.
pub(super) fn check(doc: &Value) -> Vec<Finding> {
    let ops = operations(doc);
    let ids: Vec<(String, &str)> = ops
        .iter()
        .filter_map(|op| Some((child(&op.at, "operationId"), op.object.get("operationId")?.as_str()?)))
        .collect();
    let mut out = mixed(NAMING_OPERATION_ID, "operationId", &ids);
    let paths = doc.get("paths").and_then(Value::as_object);
    let segments: Vec<(String, &str)> = paths
        .into_iter()
        .flatten()
        .flat_map(|(path, _)| {
            let literal = path.split('/').filter(|s| !s.is_empty() && !s.contains('{'));
            literal.map(move |segment| (child("/paths", path), segment))
        })
        .collect();
    out.extend(mixed(NAMING_PATH_SEGMENT, "path segment", &segments));
    out
}

/// The names (with their pointers) not in the most common style, when there are several.
/// Ties go to the style seen first.
fn mixed(rule: Rule, what: &str, names: &[(String, &str)]) -> Vec<Finding> {
    let styled: Vec<(&String, &str, Style)> =
        names.iter().filter_map(|(at, name)| Some((at, *name, style(name)?))).collect();
    let mut counts: Vec<(Style, usize)> = Vec::new();
    for (.., s) in &styled {
        match counts.iter_mut().find(|(seen, _)| seen == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((*s, 1)),
        }
    }
    let Some(&(dominant, _)) = counts.iter().rev().max_by_key(|(_, n)| *n) else { return Vec::new() };
    styled
        .into_iter()
        .filter(|(.., s)| *s != dominant)
        .map(|(at, name, s)| {
            let message =
                format!("the {what} {name:?} is {}, but most of this document's are {}", s.as_str(), dominant.as_str());
            Finding::new(rule, at.clone(), message)
        })
        .collect()
}
