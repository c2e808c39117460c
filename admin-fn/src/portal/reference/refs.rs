//! Local `$ref`s (`#/components/...`): followed through the document, never fetched. A
//! reference to another file or URL is named, not followed: the portal does no I/O for a
//! document, and an imported document must not make the server fetch anything.

use serde_json::Value;

/// How many `$ref` hops one lookup may take before it is called a loop (`A` → `B` → `A`
/// made only of references has no schema to show at all).
const MAX_HOPS: usize = 16;

/// A value with its references followed.
#[derive(Debug, Clone, Copy)]
pub struct Followed<'d> {
    pub value: &'d Value,
    /// The last `$ref` followed (`#/components/schemas/Pet`), `None` for an inline value.
    pub reference: Option<&'d str>,
    /// The first description met on the way (a 3.1 `$ref` may carry its own, which wins).
    pub description: Option<&'d str>,
}

/// Follows `value`'s `$ref` chain inside `doc`; the error says, in words, why it stopped.
pub fn follow<'d>(doc: &'d Value, value: &'d Value) -> Result<Followed<'d>, String> {
    let mut current = value;
    let mut reference = None;
    let mut description = value.get("description").and_then(Value::as_str);
    for _ in 0..MAX_HOPS {
        let Some(target) = current.get("$ref").and_then(Value::as_str) else {
            let description = description.or_else(|| current.get("description").and_then(Value::as_str));
            return Ok(Followed { value: current, reference, description });
        };
        let Some(pointer) = target.strip_prefix('#') else {
            return Err(format!("external reference {target} (not shown)"));
        };
        current = doc.pointer(pointer).ok_or_else(|| format!("reference {target} points nowhere"))?;
        reference = Some(target);
        description = description.or_else(|| current.get("description").and_then(Value::as_str));
    }
    Err(format!("reference loop at {}", reference.unwrap_or("?")))
}

/// The component name a reference names (`#/components/schemas/Pet` → `Pet`), with JSON
/// Pointer escapes undone; `None` for a reference anywhere else.
pub fn schema_name(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix("#/components/schemas/")?;
    (!rest.contains('/')).then(|| rest.replace("~1", "/").replace("~0", "~"))
}

/// A component schema's anchor in the page: `schema-` and its name, with every character
/// an id or a URL fragment would trip over replaced by `-`.
pub fn schema_anchor(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' }).collect();
    format!("schema-{safe}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chain_of_local_references_is_followed_and_keeps_the_nearest_description() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string", "description": "far"}
        }}});
        let start = json!({"$ref": "#/components/schemas/A", "description": "near"});
        let followed = follow(&doc, &start).expect("resolves");
        assert_eq!(followed.value, &json!({"type": "string", "description": "far"}));
        assert_eq!(followed.reference, Some("#/components/schemas/B"));
        assert_eq!(followed.description, Some("near"));
    }

    #[test]
    fn a_loop_made_only_of_references_stops_with_a_reason() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"$ref": "#/components/schemas/A"}
        }}});
        let error = follow(&doc, &json!({"$ref": "#/components/schemas/A"})).expect_err("a loop");
        assert!(error.contains("loop"), "{error}");
    }

    #[test]
    fn external_and_dangling_references_are_named_not_fetched() {
        let doc = json!({});
        let external = follow(&doc, &json!({"$ref": "https://evil.test/s.json"})).expect_err("external");
        assert!(external.contains("external reference https://evil.test/s.json"), "{external}");
        let dangling = follow(&doc, &json!({"$ref": "#/components/schemas/Nope"})).expect_err("dangling");
        assert!(dangling.contains("points nowhere"), "{dangling}");
    }

    #[test]
    fn names_and_anchors_come_from_the_reference() {
        assert_eq!(schema_name("#/components/schemas/a~1b~0c").as_deref(), Some("a/b~c"));
        assert_eq!(schema_name("#/components/schemas/Pet/properties/x"), None);
        assert_eq!(schema_anchor("a/b c"), "schema-a-b-c");
    }
}
