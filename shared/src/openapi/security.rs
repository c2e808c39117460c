//! Security schemes and requirements: which operations are public, which scopes they need,
//! and where the gateway should look for a key.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::document::{kind, optional_str, required_str};
use super::pointer::{child, follow, index, Target};
use super::Problems;
use crate::model::{AuthSettings, FieldName, KeyLocation};

/// What a declared security scheme means to the gateway.
#[derive(Debug, Clone)]
enum Scheme {
    /// An apiKey in a header or the query, or http bearer: a place to look for a key.
    Key(KeyLocation),
    /// Anything the gateway does not read a key from (cookie apiKey, OAuth2, OIDC, mTLS,
    /// http basic/digest). Still a valid name in requirements, and its scopes still count.
    Other,
}

/// One security requirement: alternatives are OR-ed, schemes within one are AND-ed.
type Requirement = Vec<(String, Vec<String>)>;

/// The effect of an operation's security on the gateway.
pub(crate) struct Access {
    pub(crate) public: bool,
    pub(crate) scopes: Vec<String>,
}

/// The document's schemes and top-level requirements, plus the schemes operations used.
pub(crate) struct Security {
    /// In the parsed document's order.
    schemes: Vec<(String, Scheme)>,
    top: Option<Vec<Requirement>>,
    used: HashSet<String>,
    operations: usize,
}

impl Security {
    /// Reads and checks `components.securitySchemes` and the top-level `security`.
    pub(crate) fn read(doc: &Value, problems: &mut Problems) -> Self {
        let schemes = schemes(doc, problems);
        let mut security = Security { schemes, top: None, used: HashSet::new(), operations: 0 };
        security.top = doc.get("security").map(|value| security.requirements(value, "/security", problems));
        security
    }

    /// The access rules for one operation (`at` is its pointer); see [`super::import`].
    pub(crate) fn access(&mut self, operation: &Map<String, Value>, at: &str, problems: &mut Problems) -> Access {
        self.operations += 1;
        let own = operation.get("security").map(|value| self.requirements(value, &child(at, "security"), problems));
        let Some(effective) = own.as_ref().or(self.top.as_ref()) else {
            return Access { public: false, scopes: Vec::new() };
        };
        let mut scopes: Vec<String> = Vec::new();
        for (name, listed) in effective.iter().flatten() {
            self.used.insert(name.clone());
            for scope in listed {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
        }
        Access { public: effective.iter().all(Vec::is_empty), scopes }
    }

    /// Key locations of the schemes in use, in scheme order, without repeats; the gateway's
    /// defaults when there are none. With no operations (a 3.1 webhooks-only document) the
    /// top-level requirements decide what is in use.
    pub(crate) fn auth(&self) -> AuthSettings {
        let mut used: HashSet<&str> = self.used.iter().map(String::as_str).collect();
        if self.operations == 0 {
            used.extend(self.top.iter().flatten().flatten().map(|(name, _)| name.as_str()));
        }
        let mut key_locations = Vec::new();
        for (name, scheme) in &self.schemes {
            if let (true, Scheme::Key(location)) = (used.contains(name.as_str()), scheme) {
                if !key_locations.contains(location) {
                    key_locations.push(location.clone());
                }
            }
        }
        if key_locations.is_empty() {
            return AuthSettings::default();
        }
        AuthSettings { key_locations }
    }

    /// Checks a `security` array at `at`; names must be declared schemes.
    fn requirements(&self, value: &Value, at: &str, problems: &mut Problems) -> Vec<Requirement> {
        let Some(list) = value.as_array() else {
            problems.push(at, format!("must be an array of security requirements, not {}", kind(value)));
            return Vec::new();
        };
        let mut requirements = Vec::new();
        for (i, requirement) in list.iter().enumerate() {
            let at = index(at, i);
            let Some(requirement) = requirement.as_object() else {
                problems
                    .push(at, format!("must be an object mapping scheme names to scopes, not {}", kind(requirement)));
                continue;
            };
            requirements.push(
                requirement.iter().filter_map(|(name, scopes)| self.entry(name, scopes, &at, problems)).collect(),
            );
        }
        requirements
    }

    fn entry(&self, name: &str, scopes: &Value, at: &str, problems: &mut Problems) -> Option<(String, Vec<String>)> {
        let at = child(at, name);
        if !self.schemes.iter().any(|(declared, _)| declared == name) {
            problems.push(&at, format!("no security scheme named {name:?} in components.securitySchemes"));
            return None;
        }
        let Some(scopes) = scopes.as_array() else {
            problems.push(at, format!("must be an array of scope names, not {}", kind(scopes)));
            return None;
        };
        let mut names = Vec::new();
        for (i, scope) in scopes.iter().enumerate() {
            match scope.as_str() {
                Some(scope) => names.push(scope.to_owned()),
                None => problems.push(index(&at, i), format!("must be a string, not {}", kind(scope))),
            }
        }
        Some((name.to_owned(), names))
    }
}

/// Reads `components.securitySchemes`, following local `$ref`s.
fn schemes(doc: &Value, problems: &mut Problems) -> Vec<(String, Scheme)> {
    const AT: &str = "/components/securitySchemes";
    let Some(declared) = doc.pointer(AT) else {
        return Vec::new();
    };
    let Some(declared) = declared.as_object() else {
        problems.push(AT, format!("must be an object, not {}", kind(declared)));
        return Vec::new();
    };
    let mut schemes = Vec::new();
    for (name, scheme) in declared {
        let mut at = child(AT, name);
        let mut scheme = scheme;
        if let Some(reference) = scheme.get("$ref").and_then(Value::as_str) {
            match follow(doc, reference) {
                Target::Found { value, pointer } => (scheme, at) = (value, pointer),
                _ => {
                    problems.push(child(&at, "$ref"), format!("{reference:?} does not lead to a security scheme"));
                    schemes.push((name.clone(), Scheme::Other)); // declared: no second report per use
                    continue;
                }
            }
        }
        let Some(object) = scheme.as_object() else {
            problems.push(at, format!("must be an object, not {}", kind(scheme)));
            schemes.push((name.clone(), Scheme::Other));
            continue;
        };
        schemes.push((name.clone(), classify(object, &at, problems).unwrap_or(Scheme::Other)));
    }
    schemes
}

fn classify(scheme: &Map<String, Value>, at: &str, problems: &mut Problems) -> Option<Scheme> {
    match required_str(scheme, at, "type", problems)? {
        "apiKey" => api_key(scheme, at, problems),
        "http" => {
            let bearer = required_str(scheme, at, "scheme", problems)?.eq_ignore_ascii_case("bearer");
            Some(if bearer { Scheme::Key(KeyLocation::Bearer) } else { Scheme::Other })
        }
        "oauth2" | "openIdConnect" | "mutualTLS" => Some(Scheme::Other),
        other => {
            let expected = "apiKey, http, oauth2, openIdConnect or mutualTLS";
            problems.push(child(at, "type"), format!("unknown security scheme type {other:?}: expected {expected}"));
            None
        }
    }
}

fn api_key(scheme: &Map<String, Value>, at: &str, problems: &mut Problems) -> Option<Scheme> {
    let name = required_str(scheme, at, "name", problems);
    let location = required_str(scheme, at, "in", problems);
    let _ = optional_str(scheme, at, "description", problems);
    match (name?, location?) {
        (name, "header") => match FieldName::parse(name) {
            Ok(name) => Some(Scheme::Key(KeyLocation::Header { name })),
            Err(invalid) => {
                problems.push(child(at, "name"), invalid.to_string());
                None
            }
        },
        (name, "query") => Some(Scheme::Key(KeyLocation::Query { name: name.to_owned() })),
        (_, "cookie") => Some(Scheme::Other),
        (_, other) => {
            problems.push(
                child(at, "in"),
                format!("{other:?} is not a place for an API key: expected header, query or cookie"),
            );
            None
        }
    }
}
