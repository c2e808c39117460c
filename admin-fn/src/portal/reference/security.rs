//! An operation's security in words, and where try-it puts the key: the first scheme the
//! gateway reads a key from (an `apiKey` in a header or the query, or `http` bearer), the
//! same reading `gatehouse_core::openapi` gives the gateway itself.

use serde_json::Value;

use super::model::{KeyPlace, SecurityView};

/// The gateway's default key header, used when the document declares no key scheme.
pub const DEFAULT_KEY_HEADER: &str = "x-api-key";

/// The security of `operation` (its own `security`, else the document's).
pub fn view(doc: &Value, operation: &Value) -> SecurityView {
    let requirements = operation.get("security").or_else(|| doc.get("security")).and_then(Value::as_array);
    let requirements: Vec<&Value> = requirements.into_iter().flatten().collect();
    let public = requirements.is_empty() || requirements.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty()));
    let mut key = None;
    let mut alternatives = Vec::new();
    let mut scopes: Vec<String> = Vec::new();
    for requirement in &requirements {
        let Some(schemes) = requirement.as_object() else { continue };
        if schemes.is_empty() {
            alternatives.push("no key".to_owned());
        }
        let mut words = Vec::new();
        for (name, listed) in schemes {
            let scheme = doc.pointer(&format!("/components/securitySchemes/{}", escape(name)));
            let (place, text) = describe(name, scheme);
            key = key.or(place);
            words.push(text);
            for scope in listed.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !scopes.iter().any(|s| s == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        if !words.is_empty() {
            alternatives.push(words.join(" and "));
        }
    }
    let summary = if requirements.is_empty() { "no key needed".to_owned() } else { alternatives.join(", or ") };
    SecurityView {
        public,
        key: key.unwrap_or_else(|| KeyPlace::Header(DEFAULT_KEY_HEADER.to_owned())),
        summary,
        scopes,
    }
}

/// A scheme in words, and the key place when the gateway reads a key from it.
fn describe(name: &str, scheme: Option<&Value>) -> (Option<KeyPlace>, String) {
    let field = |f: &str| scheme.and_then(|s| s.get(f)).and_then(Value::as_str).unwrap_or("");
    match (field("type"), field("in"), field("scheme").to_ascii_lowercase().as_str()) {
        // A scheme without a name cannot place a key (the import reports it); fall through.
        ("apiKey", "header" | "query", _) if field("name").is_empty() => (None, format!("{name} (no name given)")),
        ("apiKey", "header", _) => {
            let header = field("name");
            (Some(KeyPlace::Header(header.to_owned())), format!("API key in header {header}"))
        }
        ("apiKey", "query", _) => {
            let param = field("name");
            (Some(KeyPlace::Query(param.to_owned())), format!("API key in query parameter {param}"))
        }
        ("apiKey", "cookie", _) => (None, format!("API key in cookie {}", field("name"))),
        ("http", _, "bearer") => (Some(KeyPlace::Bearer), "bearer token (Authorization: Bearer …)".to_owned()),
        ("http", _, other) => (None, format!("HTTP {other} authentication")),
        ("oauth2", _, _) => (None, format!("OAuth 2 ({name})")),
        ("openIdConnect", _, _) => (None, format!("OpenID Connect ({name})")),
        ("mutualTLS", _, _) => (None, "client certificate (mutual TLS)".to_owned()),
        _ => (None, format!("{name} (not described)")),
    }
}

/// JSON Pointer escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "security": [{"key": []}],
            "components": {"securitySchemes": {
                "key": {"type": "apiKey", "in": "header", "name": "X-Demo-Key"},
                "q": {"type": "apiKey", "in": "query", "name": "api_key"},
                "jwt": {"type": "http", "scheme": "Bearer"}
            }}
        })
    }

    #[test]
    fn the_documents_header_scheme_places_the_key() {
        let view = view(&doc(), &json!({}));
        assert!(!view.public);
        assert_eq!(view.key, KeyPlace::Header("X-Demo-Key".to_owned()));
        assert_eq!(view.summary, "API key in header X-Demo-Key");
    }

    #[test]
    fn an_empty_requirement_makes_the_operation_public() {
        let view = view(&doc(), &json!({"security": []}));
        assert!(view.public);
        assert_eq!(view.summary, "no key needed");
    }

    #[test]
    fn query_and_bearer_schemes_are_read_and_scopes_collected() {
        let query = view(&doc(), &json!({"security": [{"q": ["read"]}]}));
        assert_eq!(query.key, KeyPlace::Query("api_key".to_owned()));
        assert_eq!(query.scopes, vec!["read".to_owned()]);
        let bearer = view(&doc(), &json!({"security": [{"jwt": []}]}));
        assert_eq!(bearer.key, KeyPlace::Bearer);
    }

    #[test]
    fn without_a_key_scheme_the_gateways_default_header_is_used() {
        let view = view(&json!({}), &json!({"security": [{"oauth": ["a"]}]}));
        assert_eq!(view.key, KeyPlace::Header(DEFAULT_KEY_HEADER.to_owned()));
    }
}
