//! Following `$ref`s inside the document (`#/components/…`): the importer has already
//! refused any that lead outside it or nowhere, so a chain that does not resolve simply stops.

use serde_json::Value;

/// How many `$ref` hops one chain may take before it is taken as a cycle.
const MAX_HOPS: usize = 16;

/// `value`, or what its `$ref` chain leads to (the last value reached if it leads nowhere).
pub fn resolve<'d>(doc: &'d Value, mut value: &'d Value) -> &'d Value {
    for _ in 0..MAX_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        match target(doc, reference) {
            Some(found) => value = found,
            None => break,
        }
    }
    value
}

/// The value a local reference (`#/a/b~1c`, percent-encoded as a URI fragment) names.
fn target<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    let fragment = reference.strip_prefix('#')?;
    let pointer = percent_encoding::percent_decode_str(fragment).decode_utf8().ok()?;
    doc.pointer(&pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chain_is_followed_and_a_cycle_stops() {
        let doc = json!({"components": {"parameters": {"a": {"$ref": "#/components/parameters/b"},
            "b": {"name": "id", "in": "path"}, "c~d": {"name": "x"},
            "loop": {"$ref": "#/components/parameters/loop"}}}});
        let a = json!({"$ref": "#/components/parameters/a"});
        assert_eq!(resolve(&doc, &a), &json!({"name": "id", "in": "path"}));
        assert_eq!(resolve(&doc, &json!({"$ref": "#/components/parameters/c~0d"}))["name"], "x");
        let looped = json!({"$ref": "#/components/parameters/loop"});
        assert_eq!(resolve(&doc, &looped), &json!({"$ref": "#/components/parameters/loop"}));
        let nowhere = json!({"$ref": "other.yaml#/x"});
        assert_eq!(resolve(&doc, &nowhere), &nowhere);
    }
}
