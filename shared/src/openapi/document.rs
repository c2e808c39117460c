//! Top-level checks: the OpenAPI version, `info`, `servers`; and small field readers shared
//! by the other checks, so every type problem is worded the same way.

use serde_json::{Map, Value};

use super::pointer::{child, index};
use super::Problems;

/// Which rules the document is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    V30,
    V31,
    /// `openapi` missing or not 3.0.x/3.1.x (already reported); checked by 3.0's stricter rules.
    Unknown,
    /// A `swagger: "2.0"` document (already reported); not checked further.
    Swagger2,
}

/// Reads `openapi`, reporting a missing, mistyped or unsupported version.
pub(crate) fn dialect(root: &Map<String, Value>, problems: &mut Problems) -> Dialect {
    let Some(version) = root.get("openapi") else {
        if let Some(version) = root.get("swagger") {
            // 2.x was converted before this check; what is left is 1.x or not a version.
            problems.push(
                "/swagger",
                format!("unsupported Swagger version {version}: Gatehouse imports Swagger 2.0 and OpenAPI 3.0 and 3.1"),
            );
            return Dialect::Swagger2;
        }
        problems.push("/openapi", "required: the OpenAPI version, such as \"3.1.0\"");
        return Dialect::Unknown;
    };
    let Some(version) = version.as_str() else {
        problems
            .push("/openapi", format!("must be a string such as \"3.0.3\" (quote it in YAML), not {}", kind(version)));
        return Dialect::Unknown;
    };
    let patch_ok = |rest: &str| rest.starts_with(|c: char| c.is_ascii_digit());
    match version {
        v if v.strip_prefix("3.0.").is_some_and(patch_ok) => Dialect::V30,
        v if v.strip_prefix("3.1.").is_some_and(patch_ok) => Dialect::V31,
        v => {
            problems.push("/openapi", format!("unsupported OpenAPI version {v:?}: expected 3.0.x or 3.1.x"));
            Dialect::Unknown
        }
    }
}

/// What `info` says; empty strings where a required field was missing (and reported).
pub(crate) struct Info {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
}

pub(crate) fn info(root: &Map<String, Value>, problems: &mut Problems) -> Info {
    let mut info = Info { title: String::new(), version: String::new(), description: None };
    let Some(object) = required_object(root, "", "info", problems) else {
        return info;
    };
    let title = required_str(object, "/info", "title", problems);
    let version = required_str(object, "/info", "version", problems);
    info.title = title.unwrap_or_default().to_owned();
    info.version = version.unwrap_or_default().to_owned();
    info.description = optional_str(object, "/info", "description", problems).map(str::to_owned);
    info
}

/// The first server URL that can be an upstream: absolute `http(s)`, with each `{variable}`
/// replaced by its `default` (OpenAPI requires one for every variable).
pub(crate) fn default_upstream(root: &Map<String, Value>) -> Option<String> {
    root.get("servers")?.as_array()?.iter().find_map(|server| {
        let mut url = server.get("url")?.as_str()?.to_owned();
        if let Some(variables) = server.get("variables").and_then(Value::as_object) {
            for (name, variable) in variables {
                if let Some(default) = variable.get("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
        }
        let absolute = url.starts_with("https://") || url.starts_with("http://");
        (absolute && !url.contains('{')).then(|| url.trim_end_matches('/').to_owned())
    })
}

/// `servers[*].url`, reporting entries that have none.
pub(crate) fn servers(root: &Map<String, Value>, problems: &mut Problems) -> Vec<String> {
    let Some(servers) = root.get("servers") else {
        return Vec::new();
    };
    let Some(servers) = servers.as_array() else {
        problems.push("/servers", format!("must be an array, not {}", kind(servers)));
        return Vec::new();
    };
    let mut urls = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let at = index("/servers", i);
        let Some(server) = server.as_object() else {
            problems.push(at, format!("must be an object, not {}", kind(server)));
            continue;
        };
        if let Some(url) = required_str(server, &at, "url", problems) {
            urls.push(url.to_owned());
        }
    }
    urls
}

/// `object[key]` as an object, reporting it (at `base/key`) when missing or mistyped.
pub(crate) fn required_object<'d>(
    object: &'d Map<String, Value>,
    base: &str,
    key: &str,
    problems: &mut Problems,
) -> Option<&'d Map<String, Value>> {
    let at = child(base, key);
    match object.get(key) {
        None => problems.push(at, "required"),
        Some(Value::Object(inner)) => return Some(inner),
        Some(other) => problems.push(at, format!("must be an object, not {}", kind(other))),
    }
    None
}

/// `object[key]` as a string, reporting it when missing or mistyped.
pub(crate) fn required_str<'d>(
    object: &'d Map<String, Value>,
    base: &str,
    key: &str,
    problems: &mut Problems,
) -> Option<&'d str> {
    if !object.contains_key(key) {
        problems.push(child(base, key), "required");
    }
    optional_str(object, base, key, problems)
}

/// `object[key]` as a string when present, reporting it when mistyped.
pub(crate) fn optional_str<'d>(
    object: &'d Map<String, Value>,
    base: &str,
    key: &str,
    problems: &mut Problems,
) -> Option<&'d str> {
    match object.get(key)? {
        Value::String(text) => Some(text),
        other => {
            let hint = if other.is_number() { " (quote it in YAML)" } else { "" };
            problems.push(child(base, key), format!("must be a string, not {}{hint}", kind(other)));
            None
        }
    }
}

/// The JSON type of `value`, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
