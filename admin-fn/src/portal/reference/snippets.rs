//! Copyable calls in curl, JavaScript `fetch` and Python `requests`, built on the server so
//! a reader with JavaScript off can still copy one. Values come from the document's examples;
//! the key is never written in: curl and Python read it from `$GATEHOUSE_KEY`, the `fetch`
//! snippet has a `YOUR_API_KEY` to replace.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::model::{KeyPlace, ParameterView, Snippets};

/// The environment variable the curl and Python snippets read the key from.
pub const KEY_VARIABLE: &str = "GATEHOUSE_KEY";

/// Stands for the key while a snippet is built; each language then swaps in its own way of
/// reading the key. Letters and `_` only, so URL-encoding and string quoting keep it intact.
const KEY: &str = "GATEHOUSE_KEY_PLACEHOLDER";

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A request body for the snippets.
pub enum Body<'a> {
    Json(&'a Value),
    Text { media_type: &'a str, text: &'a str },
}

/// What a snippet calls.
pub struct Call<'a> {
    pub gateway: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub parameters: &'a [ParameterView],
    /// `None` for a public operation.
    pub key: Option<&'a KeyPlace>,
    pub body: Option<Body<'a>>,
}

/// The three snippets for `call`.
pub fn build(call: &Call) -> Snippets {
    Snippets { curl: curl(call), javascript: javascript(call), python: python(call) }
}

/// Parameters of one location that a snippet sends: the required ones, and the others
/// that have an example.
fn sent<'a>(call: &'a Call, location: &'a str) -> impl Iterator<Item = &'a ParameterView> {
    call.parameters.iter().filter(move |p| p.location == location && p.in_form && (p.required || !p.example.is_empty()))
}

/// What a query parameter sends: its example, or each item of it when it repeats.
fn values(parameter: &ParameterView) -> Vec<&str> {
    match parameter.repeat {
        true => parameter.example.split(',').map(str::trim).filter(|v| !v.is_empty()).collect(),
        false => vec![parameter.example.as_str()],
    }
}

/// Gateway URL with path parameters filled in (their example, else `{name}` to replace).
fn url(call: &Call, with_query: bool) -> String {
    let mut path = call.path.to_owned();
    for parameter in sent(call, "path") {
        let value = if parameter.example.is_empty() {
            format!("{{{}}}", parameter.name)
        } else {
            utf8_percent_encode(&parameter.example, SEGMENT).to_string()
        };
        path = path.replace(&format!("{{{}}}", parameter.name), &value);
    }
    let mut url = format!("{}{path}", call.gateway);
    if with_query {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for parameter in sent(call, "query") {
            for value in values(parameter) {
                query.append_pair(&parameter.name, value);
            }
        }
        if let Some(KeyPlace::Query(name)) = call.key {
            query.append_pair(name, KEY);
        }
        let query = query.finish();
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
    }
    url
}

/// Headers as (name, value) pairs: the key's, the header parameters', the body's type.
fn headers(call: &Call) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match call.key {
        Some(KeyPlace::Header(name)) => out.push((name.clone(), KEY.to_owned())),
        Some(KeyPlace::Bearer) => out.push(("Authorization".to_owned(), format!("Bearer {KEY}"))),
        _ => {}
    }
    for parameter in sent(call, "header") {
        out.push((parameter.name.clone(), parameter.example.clone()));
    }
    match &call.body {
        Some(Body::Json(_)) => out.push(("Content-Type".to_owned(), "application/json".to_owned())),
        Some(Body::Text { media_type, .. }) => out.push(("Content-Type".to_owned(), (*media_type).to_owned())),
        None => {}
    }
    out
}

fn body_text(body: &Body) -> String {
    match body {
        Body::Json(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
        Body::Text { text, .. } => (*text).to_owned(),
    }
}

fn curl(call: &Call) -> String {
    let key = format!("${{{KEY_VARIABLE}}}");
    let shell = |text: &str| double_quoted(text).replace(KEY, &key);
    let mut lines = Vec::new();
    let method = if call.method == "GET" { String::new() } else { format!("-X {} ", call.method) };
    let url = url(call, true);
    // A `{name}` left for the reader to fill in would be a curl URL glob; `-g` keeps it literal.
    let globoff = if url.contains('{') { "-g " } else { "" };
    lines.push(format!("curl {globoff}{method}{}", shell(&url)));
    for (name, value) in headers(call) {
        lines.push(format!("  -H {}", shell(&format!("{name}: {value}"))));
    }
    if let Some(body) = &call.body {
        lines.push(format!("  --data-raw {}", single_quoted(&body_text(body))));
    }
    lines.join(" \\\n")
}

/// `text` in shell double quotes, every character kept literal.
fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A JSON string literal, which is also a valid JavaScript and Python string literal.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A string literal with the key placeholder swapped for `expression` (concatenated).
fn literal_with_key(text: &str, expression: &str) -> String {
    quoted(text).replace(KEY, &format!("\" + {expression} + \"")).replace(" + \"\"", "").replace("\"\" + ", "")
}

fn javascript(call: &Call) -> String {
    let mut out = String::new();
    if call.key.is_some() {
        out.push_str("const key = \"YOUR_API_KEY\"; // paste your key here\n");
    }
    let _ = writeln!(
        out,
        "const response = await fetch({}, {{",
        literal_with_key(&url(call, true), "encodeURIComponent(key)")
    );
    let _ = writeln!(out, "  method: {},", quoted(call.method));
    let headers = headers(call);
    if !headers.is_empty() {
        out.push_str("  headers: {\n");
        for (name, value) in headers {
            let _ = writeln!(out, "    {}: {},", quoted(&name), literal_with_key(&value, "key"));
        }
        out.push_str("  },\n");
    }
    match &call.body {
        Some(body @ Body::Json(_)) => {
            let _ = writeln!(out, "  body: JSON.stringify({}),", indent(&body_text(body), "  "));
        }
        Some(Body::Text { text, .. }) => {
            let _ = writeln!(out, "  body: {},", quoted(text));
        }
        None => {}
    }
    out.push_str("});\nconsole.log(response.status, await response.text());");
    out
}

fn python(call: &Call) -> String {
    let mut out = String::from("import os\n\nimport requests\n\n");
    let _ =
        writeln!(out, "response = requests.request(\n    {},\n    {},", quoted(call.method), quoted(&url(call, false)));
    let key = format!("os.environ[{}]", quoted(KEY_VARIABLE));
    let mut params: Vec<String> = sent(call, "query")
        .map(|p| match p.repeat {
            true => {
                format!("{}: [{}]", quoted(&p.name), values(p).into_iter().map(quoted).collect::<Vec<_>>().join(", "))
            }
            false => format!("{}: {}", quoted(&p.name), quoted(&p.example)),
        })
        .collect();
    if let Some(KeyPlace::Query(name)) = call.key {
        params.push(format!("{}: {key}", quoted(name)));
    }
    if !params.is_empty() {
        let _ = writeln!(out, "    params={{{}}},", params.join(", "));
    }
    let headers: Vec<String> = headers(call)
        .into_iter()
        .filter(|(name, _)| !(name == "Content-Type" && matches!(call.body, Some(Body::Json(_)))))
        .map(|(name, value)| format!("{}: {}", quoted(&name), literal_with_key(&value, &key)))
        .collect();
    if !headers.is_empty() {
        let _ = writeln!(out, "    headers={{{}}},", headers.join(", "));
    }
    match &call.body {
        Some(Body::Json(value)) => {
            let _ = writeln!(out, "    json={},", indent(&python_literal(value), "    "));
        }
        Some(Body::Text { text, .. }) => {
            let _ = writeln!(out, "    data={},", quoted(text));
        }
        None => {}
    }
    out.push_str("    timeout=30,\n)\nprint(response.status_code)\nprint(response.text)");
    out
}

/// Every line after the first indented by `prefix` (a multi-line value inside a call).
fn indent(text: &str, prefix: &str) -> String {
    text.replace('\n', &format!("\n{prefix}"))
}

/// A JSON value as a Python literal (`True`, `False`, `None`; strings in JSON escapes,
/// which Python reads the same), pretty-printed like `json.dumps(indent=4)`.
fn python_literal(value: &Value) -> String {
    let mut out = String::new();
    write_python(value, 0, &mut out);
    out
}

fn write_python(value: &Value, level: usize, out: &mut String) {
    let pad = "    ".repeat(level + 1);
    let close = "    ".repeat(level);
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&quoted(s)),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                write_python(item, level + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push(']');
        }
        Value::Object(fields) => {
            out.push_str("{\n");
            for (name, item) in fields {
                let _ = write!(out, "{pad}{}: ", quoted(name));
                write_python(item, level + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push('}');
        }
    }
}

#[cfg(test)]
#[path = "snippets_tests.rs"]
mod tests;
