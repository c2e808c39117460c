//! Text → `serde_json::Value`, under bounds that hostile input cannot get around.
//!
//! Both parsers feed one visitor that charges every node it builds to a budget. That matters
//! for YAML: serde_yaml_ng replays an anchor's events each time an alias names it, and its own
//! guard counts alias *jumps* (100 per event), not the size of what each jump expands to — one
//! large anchored node aliased a thousand times passes that guard and still costs gigabytes.
//! Charging what is built stops any alias bomb at [`MAX_EXPANDED_BYTES`].

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::ImportProblem;

/// Largest document accepted, checked before parsing: 10 MiB, which the largest real
/// descriptions (Stripe's, GitHub's, around 6-8 MiB as JSON) fit. The admin API's body limit
/// is set from it (`gatehouse_admin::AdminSettings`).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Deepest nesting of objects and arrays accepted (both parsers recurse).
pub const MAX_DEPTH: usize = 100;
/// Bound on the estimated in-memory size of the parsed document, aliases expanded. A document
/// without aliases within [`MAX_DOCUMENT_BYTES`] of realistic OpenAPI stays far below it.
pub const MAX_EXPANDED_BYTES: usize = 64 * 1024 * 1024;
/// Estimated cost of one node besides its text (a `Value` is 32 bytes; map entries more).
const NODE_COST: usize = 32;

/// Parses `text` as JSON when it starts with `{` (after a BOM and whitespace), else as YAML.
/// JSON is tried only then because YAML would accept it too but with vaguer error messages.
pub(crate) fn parse(text: &str) -> Result<Value, ImportProblem> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(whole_document(format!(
            "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (10 MiB)",
            text.len()
        )));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let budget = Budget(Cell::new(MAX_EXPANDED_BYTES));
    let json = text.trim_start().starts_with('{');
    let root = Node { budget: &budget, depth: 0, yaml: !json };
    if json {
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = root.deserialize(&mut de).and_then(|value| de.end().map(|()| value));
        parsed.map_err(|e| whole_document(format!("invalid JSON: {e}")))
    } else {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        root.deserialize(de).map_err(|e| whole_document(format!("invalid YAML: {e}")))
    }
}

fn whole_document(message: String) -> ImportProblem {
    ImportProblem { pointer: String::new(), message }
}

/// Estimated bytes still allowed; shared by every node of one parse.
struct Budget(Cell<usize>);

impl Budget {
    fn spend<E: serde::de::Error>(&self, text_len: usize) -> Result<(), E> {
        let cost = NODE_COST.saturating_add(text_len);
        match self.0.get().checked_sub(cost) {
            Some(left) => {
                self.0.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "the document expands to more than {} MiB in memory (YAML aliases repeating large nodes?)",
                MAX_EXPANDED_BYTES / (1024 * 1024)
            ))),
        }
    }
}

/// Builds one value, charging the budget, at nesting `depth`.
#[derive(Clone, Copy)]
struct Node<'b> {
    budget: &'b Budget,
    depth: usize,
    /// Reading YAML, where a `<<` key is a merge (YAML 1.1's merge key type, which
    /// serde_yaml_ng hands over as a plain key).
    yaml: bool,
}

impl Node<'_> {
    fn enter<E: serde::de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.budget.spend(0)?;
        Ok(Node { budget: self.budget, depth: self.depth + 1, yaml: self.yaml })
    }

    fn scalar<E: serde::de::Error>(self, text_len: usize, value: Value) -> Result<Value, E> {
        self.budget.spend(text_len)?;
        Ok(value)
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON-compatible value (YAML tags are not supported)")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.scalar(0, Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.scalar(0, Value::Number(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.scalar(0, Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        let number = Number::from_f64(v).ok_or_else(|| E::custom("infinite or NaN numbers have no JSON form"))?;
        self.scalar(0, Value::Number(number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.scalar(v.len(), Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.scalar(v.len(), Value::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(0, Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(0, Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut object = Map::new();
        let mut merged = Vec::new();
        while let Some(key) = map.next_key_seed(Key(self.budget))? {
            let value = map.next_value_seed(inner)?;
            if self.yaml && key == "<<" {
                merged.push(value);
                continue;
            }
            if object.contains_key(&key) {
                return Err(A::Error::custom(format_args!("duplicate key {key:?}")));
            }
            object.insert(key, value);
        }
        for value in merged {
            merge(&mut object, value).map_err(A::Error::custom)?;
        }
        Ok(Value::Object(object))
    }
}

/// Applies a YAML merge key's value (`<<: *base` or `<<: [*a, *b]`): keys the mapping sets
/// itself win, then earlier sources over later ones (YAML 1.1 merge key type). The merged
/// nodes were already charged to the budget when the alias expanded.
fn merge(object: &mut Map<String, Value>, value: Value) -> Result<(), &'static str> {
    let sources = match value {
        Value::Object(source) => vec![source],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(source) => Ok(source),
                _ => Err("a merge key (<<) takes a mapping or a list of mappings"),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("a merge key (<<) takes a mapping or a list of mappings"),
    };
    for source in sources {
        for (key, value) in source {
            object.entry(key).or_insert(value);
        }
    }
    Ok(())
}

/// An object key. YAML allows any scalar (`200:` in `responses` is an integer); JSON has only
/// strings, so scalars are written out as text and anything else is refused.
struct Key<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null as an object key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        self.visit_string(v.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        self.0.spend(v.len())?;
        Ok(v)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
        self.visit_string(v.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_string(v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_string(v.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        self.visit_string(v.to_string())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
        self.visit_string("null".to_owned())
    }
}
