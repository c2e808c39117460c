//! The shape check of a config document: every wrong type, unknown or missing field and value
//! outside a field's type is reported at once, each located by a JSON Pointer into the
//! document, so `gatehouse apply` can show them all with their place in the file. serde alone
//! stops at the first problem; `eserde` (see the workspace Cargo.toml) keeps going.

use eserde::reporter::ErrorReporter;
use eserde::EDeserialize;

use crate::error::FieldError;

use super::config_doc::{ApiConfig, ConfigDocument, OrganisationConfig, ProductConfig};

/// The document as typed config, or every shape problem in it.
pub(crate) fn typed(value: &serde_json::Value) -> Result<ConfigDocument, Vec<FieldError>> {
    let mut errors = unknown_fields(value);
    let text = serde_json::to_vec(value).unwrap_or_default(); // a Value always encodes
    match eserde::json::from_slice::<ConfigDocument>(&text) {
        Ok(doc) if errors.is_empty() => Ok(doc),
        Ok(_) => Err(errors),
        Err(found) => {
            errors.extend(found.iter().map(field_error));
            errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            Err(errors)
        }
    }
}

/// The entries of a document that can be checked further, each with its index in the
/// document, so that problems of meaning are reported together with problems of shape.
#[derive(Default)]
pub(crate) struct Readable {
    pub apis: Vec<(usize, ApiConfig)>,
    pub products: Vec<(usize, ProductConfig)>,
    pub organisations: Vec<(usize, OrganisationConfig)>,
    /// Names of API entries that could not be read: products naming them are not told
    /// "no API named" on top of the API's own problem.
    pub unread_api_names: Vec<String>,
}

impl Readable {
    pub(crate) fn whole(doc: ConfigDocument) -> Readable {
        Readable {
            apis: doc.apis.into_iter().enumerate().collect(),
            products: doc.products.into_iter().enumerate().collect(),
            organisations: doc.organisations.into_iter().enumerate().collect(),
            unread_api_names: Vec::new(),
        }
    }

    /// Every entry of a document of the wrong shape that has no shape problem of its own.
    pub(crate) fn entries_of(value: &serde_json::Value, problems: &[FieldError]) -> Readable {
        let (apis, unread) = entries::<ApiConfig>(value, "apis", problems);
        let unread_api_names =
            unread.iter().filter_map(|i| value["apis"][i]["name"].as_str().map(str::to_owned)).collect();
        Readable {
            apis,
            products: entries(value, "products", problems).0,
            organisations: entries(value, "organisations", problems).0,
            unread_api_names,
        }
    }
}

/// The readable entries of the list `name`, and the indices of the others.
fn entries<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    name: &str,
    problems: &[FieldError],
) -> (Vec<(usize, T)>, Vec<usize>) {
    let (mut read, mut unread) = (Vec::new(), Vec::new());
    for (i, entry) in value[name].as_array().into_iter().flatten().enumerate() {
        let at = format!("/{name}/{i}");
        let troubled = problems.iter().any(|p| p.pointer == at || p.pointer.starts_with(&format!("{at}/")));
        match serde_json::from_value::<T>(entry.clone()) {
            Ok(typed) if !troubled => read.push((i, typed)),
            _ => unread.push(i),
        }
    }
    (read, unread)
}

/// Every field of the document that no config type knows. eserde's error pass walks past
/// wrong types, so an unknown field after a type error is still found.
fn unknown_fields(value: &serde_json::Value) -> Vec<FieldError> {
    let mut unknown = Vec::new();
    let _guard = ErrorReporter::start_deserialization();
    let mut found = |path: serde_ignored::Path<'_>| unknown.push(ignored_pointer(&path));
    let _ = ConfigDocument::deserialize_for_errors(serde_ignored::Deserializer::new(value, &mut found));
    drop(ErrorReporter::take_errors()); // the type errors; the located pass reports them
    unknown.into_iter().map(|at| FieldError::new(at, "unknown field")).collect()
}

fn ignored_pointer(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}/{index}", ignored_pointer(parent)),
        Path::Map { parent, key } => format!("{}/{}", ignored_pointer(parent), escape(key)),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            ignored_pointer(parent)
        }
    }
}

/// Separates, in a `buffered` field's error message, the place inside the field from the message.
const INNER_AT: char = '\u{1f}';

/// Reads a field of a core type (plain serde) from its whole value first. Read straight from
/// the text, a failure in the middle of an object would leave the rest of it unread and
/// eserde would lose its place in the document; read from a buffered value, the problem is
/// reported at its own place (`/upstream/timeout_ms`) and the rest of the document is checked.
pub(crate) fn buffered<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner: String = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => Some(format!("/{}", escape(key))),
                _ => None,
            })
            .collect();
        D::Error::custom(format!("{inner}{INNER_AT}{}", e.inner()))
    })
}

fn field_error(e: &eserde::DeserializationError) -> FieldError {
    let mut at = e.path().map(pointer).unwrap_or_default();
    let mut message = e.message().trim();
    if let Some((inner, rest)) = message.split_once(INNER_AT) {
        at.push_str(inner);
        message = rest;
    }
    FieldError::new(at, without_position(message))
}

/// RFC 6901 pointer of an eserde path. Enum segments name a variant, not a place, and are left out.
fn pointer(path: &eserde::path::Path) -> String {
    path.iter()
        .filter_map(|segment| match segment {
            eserde::path::Segment::Seq { index } => Some(format!("/{index}")),
            eserde::path::Segment::Map { key } => Some(format!("/{}", escape(key))),
            eserde::path::Segment::Enum { .. } => None,
        })
        .collect()
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// serde_json ends its messages with a position in the text it parsed; that text is our
/// re-encoding, not the client's, so the position would mislead. The pointer locates it.
fn without_position(message: &str) -> String {
    if let Some((head, tail)) = message.rsplit_once(" at line ") {
        let mut parts = tail.split(" column ");
        let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none() {
            return head.to_string();
        }
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(doc: serde_json::Value) -> Vec<(String, String)> {
        let Err(errors) = typed(&doc) else { panic!("expected problems") };
        errors.into_iter().map(|e| (e.pointer, e.message)).collect()
    }

    #[test]
    fn every_shape_problem_is_reported_at_once_with_its_pointer() {
        let doc = json!({
            "apis": [{"name": "a", "base_path": "/a", "upstream": {"url": "http://x", "timeout_ms": "slow"},
                      "openapi": {}, "colour": "blue"}],
            "products": [{"name": 7, "plans": [{"name": "free", "requires_approval": "yes",
                "limits": [{"name": "b", "scope": "planet", "type": "rate", "limit": 1, "period_secs": 1, "burst": 1},
                           {"name": "d", "scope": "app", "type": "quota", "limit": -5, "window": "day"}]}]}]
        });
        let found = problems(doc);
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        for expected in [
            "/apis/0/upstream/timeout_ms",
            "/apis/0/colour",
            "/products/0/name",
            "/products/0/plans/0/requires_approval",
            "/products/0/plans/0/limits/0/scope",
            "/products/0/plans/0/limits/1",
        ] {
            assert!(pointers.contains(&expected), "{expected} missing from {found:?}");
        }
        assert_eq!(found.len(), 6, "nothing else, nothing twice: {found:?}");
        assert!(found.iter().all(|(_, m)| !m.contains(" at line ") && !m.contains(INNER_AT)), "{found:?}");
    }

    #[test]
    fn an_unknown_field_alone_is_refused() {
        let found = problems(json!({"products": [{"name": "p", "plans": [{"name": "free", "colour": 1}]}]}));
        assert_eq!(found, vec![("/products/0/plans/0/colour".to_string(), "unknown field".to_string())]);
        let found = problems(json!({"apis": [], "extra": true}));
        assert_eq!(found, vec![("/extra".to_string(), "unknown field".to_string())]);
    }

    #[test]
    fn entries_without_a_shape_problem_are_still_checked() {
        let doc = json!({
            "apis": [{"name": "ok", "base_path": "/a", "upstream": {"url": "http://x"}, "openapi": {}},
                     {"name": "bad", "base_path": 5, "upstream": {"url": "http://x"}, "openapi": {}}],
            "products": [{"name": "p", "apis": [{"api": "bad"}]}, {"name": "q", "plans": [{"name": 1}]}]
        });
        let problems = typed(&doc).map(|_| ()).expect_err("two problems");
        let readable = Readable::entries_of(&doc, &problems);
        assert_eq!(readable.apis.iter().map(|(i, a)| (*i, a.name.as_str())).collect::<Vec<_>>(), [(0, "ok")]);
        assert_eq!(readable.products.iter().map(|(i, p)| (*i, p.name.as_str())).collect::<Vec<_>>(), [(0, "p")]);
        assert_eq!(readable.unread_api_names, ["bad"]);
    }

    #[test]
    fn a_well_shaped_document_is_typed() {
        let doc = json!({"apis": [], "products": [{"name": "p", "plans": [{"name": "free"}]}]});
        let typed = typed(&doc).expect("typed");
        assert_eq!(typed.products[0].plans[0].name, "free");
    }

    #[test]
    fn positions_in_the_reencoded_text_are_dropped_but_other_text_is_kept() {
        assert_eq!(
            without_position("invalid type: string \"x\", expected u64 at line 1 column 80"),
            "invalid type: string \"x\", expected u64"
        );
        assert_eq!(without_position("seen at line one"), "seen at line one");
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
