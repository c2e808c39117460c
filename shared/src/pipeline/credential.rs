//! Finding the caller's credential where the API says it lives, and removing it before the
//! request goes upstream.

use http::HeaderMap;

#[cfg(test)]
use crate::model::FieldName;
use crate::model::{AuthSettings, KeyLocation};

/// A credential as presented, before any check. Holds a secret: never log it.
pub struct Presented<'r> {
    pub value: &'r str,
}

/// The first credential found, in the API's order of locations.
pub fn find<'r>(auth: &AuthSettings, headers: &'r HeaderMap, query: Option<&'r str>) -> Option<Presented<'r>> {
    auth.key_locations
        .iter()
        .find_map(|loc| match loc {
            KeyLocation::Header { name } => headers.get(name.header_name())?.to_str().ok().map(str::trim),
            KeyLocation::Bearer => {
                let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            }
            KeyLocation::Query { name } => query_param(query?, name),
        })
        .filter(|v| !v.is_empty())
        .map(|value| Presented { value })
}

fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

/// Removes every configured credential location from the forwarded request, so an upstream
/// never sees a caller's key or token unless the API asks for it.
pub fn strip(auth: &AuthSettings, headers: &mut HeaderMap, query: Option<&str>) -> Option<String> {
    if auth.jwt.is_some() {
        headers.remove(http::header::AUTHORIZATION);
    }
    let mut query_names = Vec::new();
    for loc in &auth.key_locations {
        match loc {
            KeyLocation::Header { name } => {
                headers.remove(name.header_name());
            }
            KeyLocation::Bearer => {
                headers.remove(http::header::AUTHORIZATION);
            }
            KeyLocation::Query { name } => query_names.push(name.as_str()),
        }
    }
    let kept: Vec<&str> = query?
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !pair.is_empty() && !query_names.contains(&name)
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> AuthSettings {
        AuthSettings {
            key_locations: vec![
                KeyLocation::Header { name: FieldName::parse("x-api-key").expect("valid") },
                KeyLocation::Bearer,
                KeyLocation::Query { name: "api_key".into() },
            ],
            jwt: None,
        }
    }

    #[test]
    fn credential_is_found_in_header_bearer_or_query_in_order() {
        let mut h = HeaderMap::new();
        assert!(find(&auth(), &h, Some("a=1")).is_none());
        assert_eq!(find(&auth(), &h, Some("a=1&api_key=q")).map(|p| p.value), Some("q"));
        h.insert("authorization", "Bearer  tok ".parse().expect("header"));
        assert_eq!(find(&auth(), &h, Some("api_key=q")).map(|p| p.value), Some("tok"));
        h.insert("x-api-key", "hdr".parse().expect("header"));
        assert_eq!(find(&auth(), &h, None).map(|p| p.value), Some("hdr"));
    }

    #[test]
    fn credential_never_reaches_the_upstream() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer tok".parse().expect("header"));
        h.insert("x-api-key", "hdr".parse().expect("header"));
        h.insert("accept", "*/*".parse().expect("header"));
        let q = strip(&auth(), &mut h, Some("api_key=q&page=2"));
        assert_eq!(q.as_deref(), Some("page=2"));
        assert_eq!(h.len(), 1);
        assert_eq!(strip(&auth(), &mut h, Some("api_key=q")), None);
    }

    #[test]
    fn a_bearer_token_never_reaches_the_upstream_either() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer a.b.c".parse().expect("header"));
        let keys_in_a_header = AuthSettings {
            key_locations: vec![KeyLocation::Header { name: FieldName::parse("x-api-key").expect("valid") }],
            jwt: Some(crate::jwt::JwtSettings::discovered("https://idp.example.com/.well-known/openid-configuration")),
        };
        strip(&keys_in_a_header, &mut h, None);
        assert!(h.is_empty());
    }
}
