//! Reads a parsed body into its Rust type as `serde_json::from_value` does, except that a
//! struct is filled only from a JSON object.
//!
//! serde's derived structs also accept a sequence, field by field in declaration order, so
//! `"upstream": ["http://x", 5000, false]` or a whole body `[null, null]` would be read though
//! the served OpenAPI document (and every client) says "object". This deserializer keeps that
//! door shut at every depth it can see: inside an internally tagged or untagged enum serde
//! buffers the value itself, and those variants hold only plain fields here.

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// `T` from `value`, refusing an array wherever `T` has a struct; the error carries the path
/// to the value that was refused.
pub(crate) fn from_value<T: de::DeserializeOwned>(
    value: Value,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(ObjectsOnly(value))
}

struct ObjectsOnly(Value);

impl ObjectsOnly {
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.0 {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }
}

impl<'de> Deserializer<'de> for ObjectsOnly {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(members) => visitor.visit_map(Members::new(members)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Object(members) => visitor.visit_map(Members::new(members)),
            _ => Err(de::Error::invalid_type(self.unexpected(), &"a JSON object")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(ObjectsOnly(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// An array's items, each read through [`ObjectsOnly`].
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> serde_json::Result<Option<T::Value>> {
        self.0.next().map(|item| seed.deserialize(ObjectsOnly(item))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's members, each value read through [`ObjectsOnly`].
struct Members {
    members: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Members {
    fn new(members: Map<String, Value>) -> Members {
        Members { members: members.into_iter(), value: None }
    }
}

impl<'de> MapAccess<'de> for Members {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> serde_json::Result<Option<K::Value>> {
        let Some((name, value)) = self.members.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> serde_json::Result<V::Value> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a value was asked for before its name"))?;
        seed.deserialize(ObjectsOnly(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
        #[serde(default)]
        tags: Vec<String>,
        count: Option<u32>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Inner {
        a: u32,
        b: Option<String>,
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let value = json!({"inner": {"a": 1, "b": "x"}, "list": [{"a": 2, "b": null}], "tags": ["t"], "count": 3});
        let ours: Outer = from_value(value.clone()).expect("valid");
        assert_eq!(ours, serde_json::from_value::<Outer>(value).expect("valid"));
        assert_eq!(ours.list, Some(vec![Inner { a: 2, b: None }]));
    }

    #[test]
    fn an_array_in_place_of_a_struct_is_refused_at_any_depth() {
        for value in [json!([null, null, [], 1]), json!({"inner": [1, "x"]}), json!({"list": [[2, null]]})] {
            assert!(serde_json::from_value::<Outer>(value.clone()).is_ok(), "serde_json alone reads {value}");
            let err = from_value::<Outer>(value.clone()).expect_err("refused");
            assert!(err.to_string().contains("expected a JSON object"), "{value}: {err}");
        }
    }

    #[test]
    fn other_errors_are_unchanged() {
        let unknown = from_value::<Outer>(json!({"nmae": 1})).expect_err("unknown field");
        assert!(unknown.to_string().contains("unknown field `nmae`"), "{unknown}");
        let wrong = from_value::<Outer>(json!({"count": "3"})).expect_err("wrong type");
        assert!(wrong.to_string().contains("invalid type: string \"3\", expected u32"), "{wrong}");
    }
}
