//! The `x-gatehouse-sensitivity` grammar: what an API owner writes on a schema, a parameter
//! or an operation.
//!
//! ```yaml
//! x-gatehouse-sensitivity: pii                          # class pii, removed when not granted
//! x-gatehouse-sensitivity: {class: financial, mask: last4}
//! ```
//!
//! Masks are kept to three, each with one meaning a client developer can rely on:
//! `remove` (the default: the member is left out, or an array element dropped), `redact`
//! (the value becomes `null`, for clients whose models need the member present) and `last4`
//! (a string or number becomes a string of `*` ending in its last four characters, as card
//! and account numbers are usually shown; four characters or fewer become all `*`). There is
//! no `hash`: an unsalted hash of low-entropy data (a phone number, a date of birth) is one
//! lookup table away from the value, and a salted one helps no client.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::check_class;

/// The extension's name.
pub const EXTENSION: &str = "x-gatehouse-sensitivity";

/// What happens to a value a caller may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mask {
    /// Leave the member out (an array element: drop it).
    #[default]
    Remove,
    /// Replace the value with `null`.
    Redact,
    /// `"********1234"`: only the last four characters of a string or number stay.
    Last4,
}

impl Mask {
    pub fn name(self) -> &'static str {
        match self {
            Mask::Remove => "remove",
            Mask::Redact => "redact",
            Mask::Last4 => "last4",
        }
    }

    fn parse(name: &str) -> Result<Mask, String> {
        match name {
            "remove" => Ok(Mask::Remove),
            "redact" => Ok(Mask::Redact),
            "last4" => Ok(Mask::Last4),
            other => Err(format!("{other:?} is not a mask: expected remove, redact or last4")),
        }
    }
}

/// One annotation: the class of the data and how it is withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub class: String,
    #[serde(default)]
    pub mask: Mask,
}

/// Reads the annotation of a schema, parameter or operation object, if it has one. An
/// annotation that does not parse is an error for the import to report: guessing would
/// either leak data or hide it.
pub fn read(owner: &Value) -> Option<Result<Annotation, String>> {
    owner.get(EXTENSION).map(parse)
}

/// Parses the extension's value: a class name, or `{class, mask}`.
pub fn parse(value: &Value) -> Result<Annotation, String> {
    let annotation = match value {
        Value::String(class) => Annotation { class: class.clone(), mask: Mask::Remove },
        Value::Object(fields) => {
            if let Some(unknown) = fields.keys().find(|k| *k != "class" && *k != "mask") {
                return Err(format!("unknown member {unknown:?}: an annotation has class and mask only"));
            }
            let class = fields.get("class").and_then(Value::as_str).ok_or("class is required and must be a string")?;
            let mask = match fields.get("mask") {
                None => Mask::Remove,
                Some(Value::String(name)) => Mask::parse(name)?,
                Some(_) => return Err("mask must be a string: remove, redact or last4".into()),
            };
            Annotation { class: class.to_owned(), mask }
        }
        _ => return Err("must be a class name or an object {class, mask}".into()),
    };
    check_class(&annotation.class)?;
    Ok(annotation)
}

/// `value` masked with `last4`: a string or number keeps its last four characters; anything
/// else (an object, an array, a boolean) cannot be partly shown and becomes `null`.
pub fn last4(value: &Value) -> Value {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return Value::Null,
    };
    Value::String(last4_of(&text))
}

/// `text` with all but its last four characters replaced by `*` (all of them when it has four
/// or fewer, so a short value is never shown whole).
pub fn last4_of(text: &str) -> String {
    let count = text.chars().count();
    let keep = if count > 4 { 4 } else { 0 };
    let mut out = "*".repeat(count - keep);
    out.extend(text.chars().skip(count - keep));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_class_name_alone_removes_and_an_object_names_its_mask() {
        assert_eq!(parse(&json!("pii")), Ok(Annotation { class: "pii".into(), mask: Mask::Remove }));
        let card = parse(&json!({"class": "financial", "mask": "last4"}));
        assert_eq!(card, Ok(Annotation { class: "financial".into(), mask: Mask::Last4 }));
        assert_eq!(parse(&json!({"class": "pii", "mask": "redact"})).map(|a| a.mask), Ok(Mask::Redact));
    }

    #[test]
    fn a_malformed_annotation_is_an_error_never_a_guess() {
        for bad in [json!("PII"), json!(3), json!({"mask": "last4"}), json!({"class": "pii", "mask": "hash"})] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        assert!(parse(&json!({"class": "pii", "level": 2})).is_err());
    }

    #[test]
    fn last4_never_shows_a_short_value_whole() {
        assert_eq!(last4_of("4111111111111111"), "************1111");
        assert_eq!(last4_of("1234"), "****");
        assert_eq!(last4_of("äöüßx"), "*öüßx");
        assert_eq!(last4(&json!(123456)), json!("**3456"));
        assert_eq!(last4(&json!({"a": 1})), Value::Null);
    }
}
