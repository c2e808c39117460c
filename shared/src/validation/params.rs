//! Parameters as text, read into the JSON values their schemas describe: path variables
//! captured from the request path by the operation's template, query values decoded, header
//! values as sent; then numbers, booleans and lists made of them.

use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Number, Value};
use smallvec::SmallVec;

use super::spec::{Kind, ParamSpec, Place, Shape};

/// Every value sent for `param`: one for a path variable, a header's field lines, a query
/// key's repetitions. Empty when it was not sent.
pub fn raw_values(
    param: &ParamSpec,
    template: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Vec<String> {
    match param.place {
        Place::Path => path_value(template, path, &param.name).into_iter().collect(),
        Place::Query => form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .filter(|(name, _)| *name == param.name)
            .map(|(_, value)| value.into_owned())
            .collect(),
        Place::Header => headers
            .get_all(param.name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .collect(),
    }
}

/// The candidate JSON values for what was sent, in the order they are tried: the first that
/// its schema accepts passes. `None` for an object parameter, which is not checked.
pub fn candidates(shape: Shape, values: &[String]) -> Option<SmallVec<[Value; 3]>> {
    match shape {
        Shape::Object => None,
        Shape::Scalar(kind) => Some(read(kind, values.first().map_or("", String::as_str))),
        Shape::Array { items, explode } => {
            let texts: Vec<&str> = if explode || values.len() > 1 {
                values.iter().map(String::as_str).collect()
            } else {
                values.first().map_or_else(Vec::new, |v| v.split(',').collect())
            };
            // Items are read each as their kind says; an item that is not (`"x"` for an
            // integer) stays text, and the schema reports it at its index.
            let items = texts.iter().map(|text| read(items, text).swap_remove(0)).collect();
            Some(SmallVec::from_iter([Value::Array(items)]))
        }
    }
}

fn read(kind: Kind, text: &str) -> SmallVec<[Value; 3]> {
    let string = Value::String(text.to_owned());
    let number = || number(text).map(Value::Number);
    let boolean = || match text {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    };
    let mut out = SmallVec::new();
    match kind {
        Kind::String => out.push(string),
        Kind::Integer | Kind::Number => out.push(number().unwrap_or(string)),
        Kind::Boolean => out.push(boolean().unwrap_or(string)),
        Kind::Any => {
            out.push(string);
            out.extend(number());
            out.extend(boolean());
        }
    }
    out
}

/// A JSON number, as JSON writes it (no `+`, no `0x`, no `NaN`).
fn number(text: &str) -> Option<Number> {
    if text.is_empty() || text.starts_with('+') {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Number(n)) => Some(n),
        _ => None,
    }
}

/// The value the request path gives the template variable `name`, percent-decoded.
pub fn path_value(template: &str, path: &str, name: &str) -> Option<String> {
    let template = template.split(['?', '#']).next().unwrap_or_default();
    for (pattern, text) in template.split('/').zip(path.split('/')) {
        if !pattern.contains('{') {
            continue;
        }
        let pieces = pieces(pattern);
        let mut captured = Vec::new();
        if capture(&pieces, text, &mut captured) {
            if let Some((_, value)) = captured.into_iter().find(|(n, _)| *n == name) {
                return Some(percent_decode_str(value).decode_utf8_lossy().into_owned());
            }
        }
    }
    None
}

enum Piece<'t> {
    Literal(&'t str),
    Variable(&'t str),
}

fn pieces(segment: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = segment;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Literal(&rest[..open]));
        }
        let Some(close) = rest[open..].find('}') else { break };
        out.push(Piece::Variable(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    out
}

/// Matches `text` against the pieces as the router does (a variable takes one or more
/// bytes), recording each variable's text; the router already bounded the variables a
/// segment may hold.
fn capture<'t, 'p>(pieces: &[Piece<'t>], text: &'p str, out: &mut Vec<(&'t str, &'p str)>) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((Piece::Literal(literal), rest)) => text.strip_prefix(literal).is_some_and(|t| capture(rest, t, out)),
        Some((Piece::Variable(name), [])) => {
            out.push((name, text));
            !text.is_empty()
        }
        Some((Piece::Variable(name), rest)) => {
            for end in (1..text.len()).filter(|end| text.is_char_boundary(*end)) {
                let mark = out.len();
                out.push((name, &text[..end]));
                if capture(rest, &text[end..], out) {
                    return true;
                }
                out.truncate(mark);
            }
            false
        }
    }
}
