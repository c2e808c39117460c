//! Request bodies built from command-line flags: only the flags given become fields, so an
//! `update` (PATCH) changes exactly what the user named.

use serde_json::{Map, Value};

use super::client::CliError;

/// An object of the fields that are `Some`.
pub fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
    Value::Object(map)
}

/// Like [`object`], for an update: refuses an empty change, which would be a no-op the user
/// surely did not mean.
pub fn changes(fields: Vec<(&str, Option<Value>)>) -> Result<Value, CliError> {
    let names: Vec<String> = fields.iter().map(|(k, _)| format!("--{}", k.replace('_', "-"))).collect();
    let body = object(fields);
    if body.as_object().is_some_and(Map::is_empty) {
        return Err(CliError::Usage(format!("nothing to change: pass at least one of {}", names.join(", "))));
    }
    Ok(body)
}

pub fn string(v: Option<String>) -> Option<Value> {
    v.map(Value::String)
}

/// A YAML or JSON value given on the command line (YAML's flow style is a superset of JSON),
/// e.g. `--limits '[{name: burst, scope: app, type: rate, limit: 10, period_secs: 1, burst: 20}]'`.
pub fn yaml(flag: &str, text: Option<String>) -> Result<Option<Value>, CliError> {
    text.map(|t| {
        serde_yaml_ng::from_str(&t).map_err(|e| CliError::Usage(format!("--{flag} is not valid YAML or JSON: {e}")))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_flags_given_become_fields() {
        let body = object(vec![("name", string(Some("Ann".into()))), ("group", None)]);
        assert_eq!(body, json!({"name": "Ann"}));
    }

    #[test]
    fn an_update_that_changes_nothing_is_refused() {
        let err = changes(vec![("name", None), ("requires_approval", None)]).map_err(|e| e.to_string());
        assert_eq!(err, Err("nothing to change: pass at least one of --name, --requires-approval".to_string()));
    }

    #[test]
    fn flow_yaml_and_json_are_both_accepted() {
        let a = yaml("limits", Some("[{name: b, limit: 1}]".into())).ok().flatten();
        let b = yaml("limits", Some(r#"[{"name": "b", "limit": 1}]"#.into())).ok().flatten();
        assert_eq!(a, b);
        assert!(yaml("limits", Some("[{".into())).is_err());
    }
}
