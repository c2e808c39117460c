//! JSON (or YAML) text to a `serde_json::Value`, refusing an object that names a member twice.
//!
//! RFC 8259 leaves duplicate names undefined and `serde_json` keeps the last one silently, so
//! `{"plan_id": "a", "plan_id": "b"}` would be read differently by a proxy or an audit tool
//! that keeps the first. A request the API cannot read one way only is refused (400) instead.
//! No maintained crate does this for a whole document (`serde_with` checks one map field at a
//! time), hence this small visitor; depth is still bounded by `serde_json`'s recursion limit.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `bytes` as one JSON document whose objects have distinct member names.
pub(crate) fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = Strict.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Parses `bytes` as one YAML document into JSON, with the same refusal: `serde_yaml_ng` keeps
/// the last of two equal keys when it builds a `serde_json::Value`, as `serde_json` does.
pub(crate) fn from_yaml_slice(bytes: &[u8]) -> Result<Value, serde_yaml_ng::Error> {
    Strict.deserialize(serde_yaml_ng::Deserializer::from_slice(bytes))
}

/// A `Value` seed (and visitor) that checks every object it builds.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    /// A whole number written with a fraction (`40.0`) is read as the integer it is, as JSON
    /// Schema reads it (its `integer` type admits `40.0`), so a client whose JSON library
    /// writes floats is not refused for a `u32` field. Up to 2^53, where doubles stay exact.
    fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if v.fract() == 0.0 && v.abs() <= EXACT {
            return Ok(Value::Number((v as i64).into()));
        }
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                return Err(A::Error::custom(format_args!("the member {name:?} appears twice in one object")));
            }
            let value = access.next_value_seed(Strict)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_without_repeated_names_parse_as_serde_json_would() {
        let text = br#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": {"a": 1}, "big": 18446744073709551615}"#;
        assert_eq!(from_slice(text).expect("valid"), serde_json::from_slice::<Value>(text).expect("valid"));
    }

    #[test]
    fn a_repeated_name_is_refused_at_any_depth() {
        for text in [r#"{"a": 1, "a": 2}"#, r#"{"x": [{"b": 1, "c": 2, "b": 1}]}"#] {
            let err = from_slice(text.as_bytes()).expect_err(text);
            assert!(err.to_string().contains("appears twice"), "{err}");
        }
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let value = from_slice(b"[40.0, -3.0, 0.0, 2.5, 1e3, 1e300]").expect("valid");
        assert_eq!(value, serde_json::json!([40, -3, 0, 2.5, 1000, 1e300]));
        assert!(value[0].is_u64() && value[1].is_i64() && value[3].is_f64() && value[5].is_f64());
    }

    #[test]
    fn yaml_mappings_are_checked_the_same_way() {
        assert_eq!(from_yaml_slice(b"a: [1, {b: x}]").expect("valid"), serde_json::json!({"a": [1, {"b": "x"}]}));
        let err = from_yaml_slice(b"a:\n  b: 1\n  b: 2\n").expect_err("repeated key");
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn trailing_text_and_bad_syntax_are_still_errors() {
        assert!(from_slice(b"{} {}").is_err());
        assert!(from_slice(b"{\"a\": }").is_err());
    }
}
