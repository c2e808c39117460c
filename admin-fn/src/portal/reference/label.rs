//! Schema facts in words: the type label (`array of Pet`, `string (date-time)`), whether a
//! schema may be null in either OpenAPI dialect, and its constraints.

use serde_json::Value;

use super::refs::{follow, schema_name};
use super::schema::Parts;

/// Enum values listed before "…".
const MAX_ENUM: usize = 12;
/// `array of array of ...` levels named before "array of …".
const MAX_LABEL_DEPTH: usize = 4;

/// 3.0 `nullable: true`, or a 3.1 type that is or includes `"null"`.
pub fn says_nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
        || match schema.get("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
            _ => false,
        }
}

/// `{"type": "null"}`: the 3.1 way to offer null as an option.
pub fn is_null_type(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// `oneOf`/`anyOf` of exactly one schema besides `null`: that schema (the value is then
/// "that, or null", not a choice worth listing).
pub fn single_non_null_option(schema: &Value) -> Option<&Value> {
    let options = schema.get("oneOf").or_else(|| schema.get("anyOf"))?.as_array()?;
    let mut real = options.iter().filter(|o| !is_null_type(o));
    let single = real.next()?;
    (real.next().is_none() && options.len() == 2).then_some(single)
}

/// The options to list (`one of` or `any of`), unless they fold into "nullable".
pub fn options<'d>(parts: &Parts<'d>) -> Option<(&'static str, &'d [Value])> {
    parts.list.iter().find_map(|part| {
        if single_non_null_option(part).is_some() {
            return None;
        }
        let one = part.get("oneOf").and_then(Value::as_array).map(|o| ("option", o.as_slice()));
        one.or_else(|| part.get("anyOf").and_then(Value::as_array).map(|o| ("choice", o.as_slice())))
    })
}

/// The schema's own type names, `null` left out (it shows as "nullable").
fn types<'d>(parts: &Parts<'d>) -> Vec<&'d str> {
    let declared = parts.list.iter().find_map(|p| p.get("type"));
    let mut names: Vec<&str> = match declared {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    names.retain(|t| *t != "null");
    if names.is_empty() {
        if parts.list.iter().any(|p| p.get("properties").is_some()) {
            names.push("object");
        } else if parts.list.iter().any(|p| p.get("items").is_some()) {
            names.push("array");
        }
    }
    names
}

/// Readable type of a schema made of `parts`.
pub fn type_label(doc: &Value, parts: &Parts) -> String {
    if let Some((word, _)) = options(parts) {
        return if word == "option" { "one of".to_owned() } else { "any of".to_owned() };
    }
    let names = types(parts);
    match names.as_slice() {
        ["array"] => {
            let items = parts.list.iter().find_map(|p| p.get("items"));
            format!("array of {}", items.map_or_else(|| "anything".to_owned(), |i| item_label(doc, i, 1)))
        }
        ["object"] | [] if parts.name.is_some() => parts.name.clone().unwrap_or_default(),
        ["object"] if has_map_values(parts) => "map".to_owned(),
        [] => "any".to_owned(),
        [single] => with_format(single, parts),
        several => several.join(" or "),
    }
}

fn with_format(name: &str, parts: &Parts) -> String {
    match parts.list.iter().find_map(|p| p.get("format").and_then(Value::as_str)) {
        Some(format) => format!("{name} ({format})"),
        None => name.to_owned(),
    }
}

fn has_map_values(parts: &Parts) -> bool {
    parts.list.iter().any(|p| p.get("additionalProperties").is_some_and(Value::is_object))
}

/// Short label of an array's items: a component's name, or the item's own type.
fn item_label(doc: &Value, items: &Value, level: usize) -> String {
    let Ok(followed) = follow(doc, items) else { return "unknown".to_owned() };
    if let Some(name) = followed.reference.and_then(schema_name) {
        return name;
    }
    let value = followed.value;
    if level >= MAX_LABEL_DEPTH {
        return "…".to_owned();
    }
    match value.get("type") {
        Some(Value::String(t)) if t == "array" => match value.get("items") {
            Some(inner) => format!("array of {}", item_label(doc, inner, level + 1)),
            None => "array".to_owned(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" or ")
        }
        _ if value.get("properties").is_some() => "object".to_owned(),
        _ if value.get("oneOf").or_else(|| value.get("anyOf")).is_some() => "one of several".to_owned(),
        _ => "any".to_owned(),
    }
}

/// Whether the walk goes below this schema: fields, map values, structured items, options.
pub fn has_children(parts: &Parts) -> bool {
    parts.list.iter().any(|p| {
        p.get("properties").and_then(Value::as_object).is_some_and(|o| !o.is_empty())
            || p.get("additionalProperties").is_some_and(Value::is_object)
            || p.get("items").is_some()
    }) || options(parts).is_some()
}

/// An array's items deserve a row of their own when they have structure or words; plain
/// `array of string` says all there is already.
pub fn worth_a_row(doc: &Value, items: &Value) -> bool {
    let Ok(followed) = follow(doc, items) else { return true };
    let v = followed.value;
    ["properties", "allOf", "oneOf", "anyOf", "items", "enum", "description", "additionalProperties"]
        .iter()
        .any(|field| v.get(*field).is_some())
}

/// Allowed values, bounds, pattern and default, in words.
pub fn constraints(parts: &Parts) -> String {
    let mut out: Vec<String> = Vec::new();
    let find = |field: &str| parts.list.iter().find_map(|p| p.get(field));
    if let Some(values) = find("enum").and_then(Value::as_array) {
        let shown: Vec<String> = values.iter().take(MAX_ENUM).map(scalar_text).collect();
        let more = if values.len() > MAX_ENUM { ", …" } else { "" };
        out.push(format!("one of: {}{more}", shown.join(", ")));
    }
    if let Some(value) = find("const") {
        out.push(format!("always {}", scalar_text(value)));
    }
    let words = [
        ("minimum", "at least"),
        ("exclusiveMinimum", "more than"),
        ("maximum", "at most"),
        ("exclusiveMaximum", "less than"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("pattern", "matches"),
        ("default", "default"),
    ];
    // 3.0 marks a bound exclusive with `exclusiveMinimum: true` beside `minimum`.
    let exclusive = |field: &str| find(field).and_then(Value::as_bool) == Some(true);
    for (field, word) in words {
        let word = match field {
            "minimum" if exclusive("exclusiveMinimum") => "more than",
            "maximum" if exclusive("exclusiveMaximum") => "less than",
            _ => word,
        };
        // Only 3.1's numeric `exclusiveMinimum` is a bound of its own (3.0's `true` is read above).
        if let Some(value) = find(field).filter(|v| !v.is_boolean() || field == "default") {
            let text = scalar_text(value);
            out.push(if word.contains("{}") { word.replace("{}", &text) } else { format!("{word} {text}") });
        }
    }
    if find("uniqueItems").and_then(Value::as_bool) == Some(true) {
        out.push("no duplicates".to_owned());
    }
    out.join("; ")
}

/// A JSON value as a reader would write it: strings bare, everything else as JSON.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::schema::view;

    #[test]
    fn bounds_read_the_same_in_both_dialects() {
        let doc = json!({});
        let old = view(&doc, &json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true, "maximum": 9}));
        assert_eq!(old.rows[0].constraints, "more than 1; at most 9");
        let new = view(&doc, &json!({"type": "integer", "exclusiveMinimum": 1, "maximum": 9}));
        assert_eq!(new.rows[0].constraints, "more than 1; at most 9");
    }

    #[test]
    fn labels_name_arrays_maps_formats_and_type_lists() {
        let doc = json!({"components": {"schemas": {"Pet": {"type": "object"}}}});
        let label = |schema| view(&doc, &schema).rows[0].type_label.clone();
        assert_eq!(
            label(json!({"type": "array", "items": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}})),
            "array of array of Pet"
        );
        assert_eq!(label(json!({"type": "object", "additionalProperties": {"type": "integer"}})), "map");
        assert_eq!(label(json!({"type": "string", "format": "date-time"})), "string (date-time)");
        assert_eq!(label(json!({"type": ["integer", "string"]})), "integer or string");
        assert_eq!(label(json!({})), "any");
    }
}
