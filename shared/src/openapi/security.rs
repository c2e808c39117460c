//! Security schemes and requirements: which operations are public, which scopes they need,
//! where the gateway should look for a key, and how it checks JWTs (`oauth2`,
//! `openIdConnect`, and `http` bearer with `bearerFormat: JWT`), and which need a client
//! certificate (`mutualTLS`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::document::{kind, optional_str, required_str};
use super::pointer::{child, follow, index, Target};
use super::Problems;
use crate::jwt::JwtSettings;
use crate::model::{AuthSettings, FieldName, ImportNote, KeyLocation, Requirement};

/// The extension that configures JWT checks, on a scheme or at the document's top level.
const JWT_EXTENSION: &str = "x-gatehouse-jwt";

/// What a declared security scheme means to the gateway.
#[derive(Debug, Clone)]
enum Scheme {
    /// An apiKey in a header or the query, or http bearer: a place to look for a key.
    Key(KeyLocation),
    /// A JWT in `Authorization: Bearer`, checked with these settings.
    Jwt(JwtConfig),
    /// `mutualTLS`: a client certificate the listener verified.
    Certificate,
    /// A declaration already reported as broken (a `$ref` that leads nowhere, not an object).
    /// Still a valid name in requirements, so each use is not reported again: it stands for
    /// the gateway's default key, and its scopes count as a key's.
    Other,
    /// A scheme the gateway cannot check (http basic or digest, an API key in a cookie): an
    /// alternative that needs it never admits a call, and the import report says so.
    Unsupported(String),
}

/// A JWT scheme's settings, as far as the document gives them.
#[derive(Debug, Clone)]
enum JwtConfig {
    /// None given: a problem once an operation uses the scheme.
    Missing,
    /// Given but wrong; already reported.
    Invalid,
    Valid(Box<JwtSettings>),
}

/// One security requirement: alternatives are OR-ed, schemes within one are AND-ed.
type Listed = Vec<(String, Vec<String>)>;

/// The effect of an operation's security on the gateway.
pub(crate) struct Access {
    pub(crate) public: bool,
    /// Scopes a key's plan must grant: those listed with key schemes.
    pub(crate) scopes: Vec<String>,
    pub(crate) requirements: Vec<Requirement>,
    /// Why every call is refused, when every alternative needs an unsupported scheme.
    pub(crate) refused: Option<String>,
}

/// The document's schemes and top-level requirements, plus the schemes operations used.
pub(crate) struct Security {
    /// In the parsed document's order.
    schemes: Vec<(String, Scheme)>,
    top: Option<Vec<Listed>>,
    used: HashSet<String>,
    operations: usize,
    /// What the import ignored and why, for the import report (no repeats).
    pub(crate) notes: Vec<ImportNote>,
}

impl Security {
    /// Reads and checks `components.securitySchemes` and the top-level `security`.
    pub(crate) fn read(doc: &Value, problems: &mut Problems) -> Self {
        let schemes = schemes(doc, problems);
        let mut security = Security { schemes, top: None, used: HashSet::new(), operations: 0, notes: Vec::new() };
        security.top = doc.get("security").map(|value| security.requirements(value, "/security", problems));
        security
    }

    /// The access rules for one operation (`at` is its pointer); see [`super::import`].
    pub(crate) fn access(&mut self, operation: &Map<String, Value>, at: &str, problems: &mut Problems) -> Access {
        self.operations += 1;
        let own_at = child(at, "security");
        let own = operation.get("security").map(|value| self.requirements(value, &own_at, problems));
        let (effective, effective_at) = match (&own, &self.top) {
            (Some(own), _) => (own, own_at.as_str()),
            (None, Some(top)) => (top, "/security"),
            (None, None) => {
                return Access { public: false, scopes: Vec::new(), requirements: Vec::new(), refused: None }
            }
        };
        let effective = effective.clone();
        let mut scopes: Vec<String> = Vec::new();
        let mut requirements = Vec::new();
        let mut unsupported: Vec<String> = Vec::new();
        for (i, listed) in effective.iter().enumerate().filter(|(_, listed)| !listed.is_empty()) {
            if let Some(kind) = self.unsupported_in(listed, &index(effective_at, i)) {
                unsupported.push(kind);
                continue;
            }
            let mut requirement = Requirement { key: false, jwt: None, client_certificate: false };
            for (name, names) in listed {
                self.used.insert(name.clone());
                match self.scheme(name) {
                    Some(Scheme::Jwt(_)) => add_all(requirement.jwt.get_or_insert_with(Vec::new), names),
                    // OpenAPI gives mutualTLS no scopes; the plan's come with the caller.
                    Some(Scheme::Certificate) => requirement.client_certificate = true,
                    _ => {
                        requirement.key = true;
                        add_all(&mut scopes, names);
                    }
                }
            }
            if !requirements.contains(&requirement) {
                requirements.push(requirement);
            }
        }
        let public = effective.iter().all(Vec::is_empty);
        let refused = (!public && requirements.is_empty() && !unsupported.is_empty()).then(|| {
            format!(
                "this operation's security needs {}, which Gatehouse cannot check; every call is refused until \
                 the document names an apiKey (header or query), http bearer, oauth2, openIdConnect or mutualTLS \
                 scheme",
                unsupported.join(" or ")
            )
        });
        // Keys alone, as every import before JWTs: stored without the list.
        if requirements == [Requirement::KEY] {
            requirements.clear();
        }
        Access { public, scopes, requirements, refused }
    }

    /// The first unsupported scheme an alternative names (noted in the report once per
    /// place), or `None` when the gateway can check all of them.
    fn unsupported_in(&mut self, listed: &Listed, at: &str) -> Option<String> {
        let (name, kind) = listed.iter().find_map(|(name, _)| match self.scheme(name) {
            Some(Scheme::Unsupported(kind)) => Some((name.clone(), kind.clone())),
            _ => None,
        })?;
        self.used.insert(name.clone());
        let message = format!(
            "ignored: this alternative needs the scheme {name:?} ({kind}), which Gatehouse cannot check, so it \
             admits no call"
        );
        let note = ImportNote { pointer: at.to_owned(), message };
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
        Some(format!("{name:?} ({kind})"))
    }

    fn scheme(&self, name: &str) -> Option<&Scheme> {
        self.schemes.iter().find(|(declared, _)| declared == name).map(|(_, scheme)| scheme)
    }

    /// Key locations of the schemes in use, in scheme order, without repeats; the gateway's
    /// defaults when there are none. With no operations (a 3.1 webhooks-only document) the
    /// top-level requirements decide what is in use.
    pub(crate) fn auth(&mut self, problems: &mut Problems) -> AuthSettings {
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
        let mut notes = Vec::new();
        let jwt = self.jwt(&used, problems, &mut notes);
        for note in notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        if key_locations.is_empty() {
            return AuthSettings { jwt, ..AuthSettings::default() };
        }
        AuthSettings { key_locations, jwt }
    }

    /// The JWT settings of the JWT schemes in use: one set per API, so schemes in use must
    /// agree. A scheme in use without any goes in the report: its tokens cannot be checked,
    /// so the gateway refuses calls that only it would admit (the pipeline needs the API's
    /// `auth.jwt` for any token) until the document or the API's `auth` gives settings.
    fn jwt(&self, used: &HashSet<&str>, problems: &mut Problems, notes: &mut Vec<ImportNote>) -> Option<JwtSettings> {
        let mut chosen: Option<&JwtSettings> = None;
        for (name, scheme) in &self.schemes {
            let Scheme::Jwt(config) = scheme else { continue };
            if !used.contains(name.as_str()) {
                continue;
            }
            let at = child("/components/securitySchemes", name);
            let settings = match config {
                JwtConfig::Valid(settings) => Some(&**settings),
                JwtConfig::Invalid => continue,
                JwtConfig::Missing => None,
            };
            match (settings, chosen) {
                (None, _) => notes.push(ImportNote {
                    pointer: at,
                    message: format!(
                        "not enforced yet: the gateway checks this scheme's tokens, so it needs {JWT_EXTENSION} \
                         (issuer and jwks_url, discovery_url or keys) on the scheme or at the top of the document, or \
                         the API's auth.jwt; until then a call that only this scheme would admit is refused"
                    ),
                }),
                (Some(settings), None) => chosen = Some(settings),
                (Some(settings), Some(first)) if settings != first => problems.push(
                    at,
                    format!("an API has one JWT configuration; this scheme's {JWT_EXTENSION} differs from another's"),
                ),
                _ => {}
            }
        }
        chosen.cloned()
    }

    /// Checks a `security` array at `at`; names must be declared schemes.
    fn requirements(&self, value: &Value, at: &str, problems: &mut Problems) -> Vec<Listed> {
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
    let top_at = format!("/{JWT_EXTENSION}");
    let top_jwt = doc.get(JWT_EXTENSION).map(|value| (parse_jwt(value, &top_at, problems), top_at));
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
        let scheme = match classify(object, &at, problems) {
            Some(Scheme::Jwt(_)) => Scheme::Jwt(resolve_jwt(object, &at, top_jwt.as_ref(), problems)),
            other => other.unwrap_or(Scheme::Other),
        };
        schemes.push((name.clone(), scheme));
    }
    schemes
}

fn classify(scheme: &Map<String, Value>, at: &str, problems: &mut Problems) -> Option<Scheme> {
    match required_str(scheme, at, "type", problems)? {
        "apiKey" => api_key(scheme, at, problems),
        "http" => {
            let bearer = required_str(scheme, at, "scheme", problems)?.eq_ignore_ascii_case("bearer");
            let jwt = scheme.get("bearerFormat").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("jwt"));
            Some(match (bearer, jwt) {
                (true, true) => Scheme::Jwt(JwtConfig::Missing),
                (true, false) => Scheme::Key(KeyLocation::Bearer),
                (false, _) => {
                    let name = scheme.get("scheme").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
                    Scheme::Unsupported(format!("http {name}"))
                }
            })
        }
        "oauth2" => Some(Scheme::Jwt(JwtConfig::Missing)),
        "openIdConnect" => {
            required_str(scheme, at, "openIdConnectUrl", problems)?;
            Some(Scheme::Jwt(JwtConfig::Missing))
        }
        "mutualTLS" => Some(Scheme::Certificate),
        other => {
            let expected = "apiKey, http, oauth2, openIdConnect or mutualTLS";
            problems.push(child(at, "type"), format!("unknown security scheme type {other:?}: expected {expected}"));
            None
        }
    }
}

/// A JWT scheme's settings: its own `x-gatehouse-jwt`, else the document's; an
/// `openIdConnect` scheme's discovery URL supplies the keys and issuer when neither names
/// them. Every problem is reported where the settings were written.
fn resolve_jwt(
    scheme: &Map<String, Value>,
    at: &str,
    top: Option<&(Option<JwtSettings>, String)>,
    problems: &mut Problems,
) -> JwtConfig {
    let discovery = (scheme.get("type").and_then(Value::as_str) == Some("openIdConnect"))
        .then(|| scheme.get("openIdConnectUrl").and_then(Value::as_str))
        .flatten();
    let own_at = child(at, JWT_EXTENSION);
    let given = match scheme.get(JWT_EXTENSION) {
        Some(value) => Some((parse_jwt(value, &own_at, problems), own_at)),
        None => top.cloned(),
    };
    let (mut settings, from) = match (given, discovery) {
        (Some((Some(settings), from)), _) => (settings, from),
        (Some((None, _)), _) => return JwtConfig::Invalid,
        (None, Some(url)) => return JwtConfig::Valid(Box::new(JwtSettings::discovered(url))),
        (None, None) => return JwtConfig::Missing,
    };
    if let (Some(url), None, None, None) = (discovery, &settings.jwks_url, &settings.keys, &settings.discovery_url) {
        settings.discovery_url = Some(url.to_owned());
    }
    let found = settings.problems();
    for (field, message) in &found {
        problems.push(child(&from, field), message.clone());
    }
    if found.is_empty() {
        JwtConfig::Valid(Box::new(settings))
    } else {
        JwtConfig::Invalid
    }
}

/// Reads an `x-gatehouse-jwt` block at `at`; `None` (reported) when it is not one.
fn parse_jwt(value: &Value, at: &str, problems: &mut Problems) -> Option<JwtSettings> {
    serde_json::from_value(value.clone())
        .map_err(|e| problems.push(at, format!("is not a JWT configuration: {e}")))
        .ok()
}

fn add_all(into: &mut Vec<String>, names: &[String]) {
    for name in names {
        if !into.contains(name) {
            into.push(name.clone());
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
        (_, "cookie") => Some(Scheme::Unsupported("an API key in a cookie".to_owned())),
        (_, other) => {
            problems.push(
                child(at, "in"),
                format!("{other:?} is not a place for an API key: expected header, query or cookie"),
            );
            None
        }
    }
}
