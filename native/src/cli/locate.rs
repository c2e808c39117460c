//! Finds the line of a JSON Pointer in a YAML (or JSON) file, so `gatehouse apply` can print
//! `file:line` beside each problem the admin API reports.
//!
//! No YAML crate keeps positions in a parsed value, but serde_yaml_ng puts the position of
//! the node being read on any error raised while reading it. So a visitor walks down the
//! pointer and, on reaching the node, fails on purpose; the error's location is the answer.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The message of the deliberate error: what tells "found" from a real YAML error.
const FOUND: &str = "gatehouse-locate: found";

/// The 1-based line of the node at `pointer`, or of its nearest ancestor that exists.
pub fn line_of(text: &str, pointer: &str) -> Option<usize> {
    let mut path: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    loop {
        if let Some(line) = exact_line(text, &path) {
            return Some(line);
        }
        path.pop()?;
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn exact_line(text: &str, path: &[String]) -> Option<usize> {
    let error = Seek { path }.deserialize(serde_yaml_ng::Deserializer::from_str(text)).err()?;
    // The message is prefixed with the path (`apis[0].colour: …`) and ends with the position.
    if !error.to_string().contains(FOUND) {
        return None;
    }
    error.location().map(|l| l.line())
}

struct Seek<'p> {
    path: &'p [String],
}

impl Seek<'_> {
    /// At the target: fail, so the parser reports where it is. Elsewhere: not found.
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else { return Err(de::Error::custom(FOUND)) };
        while let Some(key) = map.next_key::<Key>()? {
            if key.0 == *first {
                return map.next_value_seed(Seek { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else { return Err(de::Error::custom(FOUND)) };
        let Ok(index) = first.parse::<usize>() else { return Ok(()) };
        for _ in 0..index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek { path: rest }).map(|_| ())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

/// A mapping key as text, whatever its YAML type (`200:` is a number).
struct Key(String);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        let value = serde_yaml_ng::Value::deserialize(deserializer)?;
        Ok(Key(match value {
            serde_yaml_ng::Value::String(s) => s,
            serde_yaml_ng::Value::Number(n) => n.to_string(),
            serde_yaml_ng::Value::Bool(b) => b.to_string(),
            other => serde_yaml_ng::to_string(&other).unwrap_or_default().trim().to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apis:\n  - name: a\n    upstream:\n      url: http://x\n      timeout_ms: slow\n    colour: blue\nproducts:\n  - name: p\n    plans:\n      - { name: free, limits: [ {name: b, scope: planet} ] }\n";

    #[test]
    fn each_pointer_finds_its_line() {
        assert_eq!(line_of(DOC, "/apis/0/upstream/timeout_ms"), Some(5));
        assert_eq!(line_of(DOC, "/apis/0/colour"), Some(6));
        assert_eq!(line_of(DOC, "/products/0/name"), Some(8));
        assert_eq!(line_of(DOC, "/products/0/plans/0/limits/0/scope"), Some(10));
    }

    #[test]
    fn a_missing_node_falls_back_to_its_nearest_ancestor() {
        assert_eq!(line_of(DOC, "/apis/0/auth"), Some(2));
        assert_eq!(line_of(DOC, "/apis/3/name"), Some(2));
        assert_eq!(line_of("]", "/a"), None, "not YAML: no line");
    }

    #[test]
    fn json_files_and_escaped_keys_are_found_too() {
        let json = "{\n  \"paths\": {\n    \"/pets\": {\n      \"get\": 1\n    }\n  }\n}\n";
        assert_eq!(line_of(json, "/paths/~1pets/get"), Some(4));
        assert_eq!(line_of("responses:\n  200:\n    description: ok\n", "/responses/200/description"), Some(3));
    }
}
