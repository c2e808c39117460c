//! Bearer JWTs: the token's structure, signature and claims, then the registered OAuth client
//! it was issued to, which stands for an app the way a key does (see
//! [`crate::jwt::client_hash`]), so limits, quotas and usage work the same for both.

use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Response};

use super::Adapters;
use crate::jwt::{self, JwtSettings, Refusal, Verified};
use crate::model::Requirement;
use crate::ports::{SignatureError, TokenVerifier};
use crate::problem::{Problem, ProblemKind, TYPE_BASE};
use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// A JWT in `Authorization: Bearer`, told apart from a bearer API key by its shape: three
/// dot-separated segments (keys have no dots).
pub(super) fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.bytes().filter(|b| *b == b'.').count() == 2).then_some(token)
}

/// Why a token did not admit its caller.
pub(super) enum Failure {
    Refused(Refusal),
    /// The keys could not be had: fail closed.
    Unavailable,
}

/// What a valid token says, and the issuer it was checked against.
pub(super) struct Checked {
    pub verified: Verified,
    pub issuer: Arc<str>,
}

/// Structure, then signature, then claims; scopes are the caller's business
/// ([`chosen_requirement`]), since each alternative asks for its own.
pub(super) async fn check<A: Adapters>(
    adapters: &A,
    settings: &JwtSettings,
    raw: &str,
    now: UnixMillis,
) -> Result<Checked, Failure> {
    let parsed = jwt::parse(raw, &settings.algorithms).map_err(Failure::Refused)?;
    let issuer = match adapters.tokens().verify(settings, raw, &parsed).await {
        Ok(issuer) => issuer,
        Err(SignatureError::Refused(refusal)) => return Err(Failure::Refused(refusal)),
        Err(SignatureError::KeysUnavailable(_)) => return Err(Failure::Unavailable),
    };
    let verified =
        jwt::check_claims(settings, &issuer, &parsed.claims, now.div_euclid(1_000), &[]).map_err(Failure::Refused)?;
    Ok(Checked { verified, issuer })
}

/// The first alternative that accepts a token with these scopes, or the refusal naming the
/// scopes of the first one that takes tokens at all.
pub(super) fn chosen_requirement<'r>(
    alternatives: &'r [Requirement],
    scopes: &[String],
) -> Result<&'r Requirement, Refusal> {
    let fits = |needed: &Vec<String>| needed.iter().all(|scope| scopes.contains(scope));
    alternatives.iter().find(|r| r.jwt.as_ref().is_some_and(fits)).ok_or_else(|| Refusal::InsufficientScope {
        needed: alternatives.iter().find_map(|r| r.jwt.clone()).unwrap_or_default(),
    })
}

/// The outcome a token refusal counts as in usage.
pub(super) fn outcome_of(refusal: &Refusal) -> Outcome {
    match refusal {
        Refusal::InsufficientScope { .. } | Refusal::UnknownClient => Outcome::Forbidden,
        _ => Outcome::InvalidToken,
    }
}

/// A refused token as a problem response with its own type (`jwt-…`) and the
/// `WWW-Authenticate` challenge of RFC 6750 §3.
pub(super) fn refusal(refusal: &Refusal) -> Response<bytes::Bytes> {
    let outcome = outcome_of(refusal);
    let (kind, challenge) = match refusal {
        Refusal::InsufficientScope { needed } => {
            (ProblemKind::Forbidden, format!("Bearer error=\"insufficient_scope\", scope=\"{}\"", needed.join(" ")))
        }
        Refusal::UnknownClient => (ProblemKind::Forbidden, "Bearer realm=\"gatehouse\"".to_owned()),
        _ => (ProblemKind::Unauthorized, "Bearer error=\"invalid_token\"".to_owned()),
    };
    let mut problem = Problem::new(kind).detail(format!("{refusal}.")).with("outcome", outcome.code());
    problem.type_uri = format!("{TYPE_BASE}{}", refusal.slug());
    problem.title = match refusal {
        Refusal::InsufficientScope { needed } => {
            problem = problem.with("scopes", needed.clone());
            "Insufficient scope".to_owned()
        }
        Refusal::UnknownClient => "Unregistered OAuth client".to_owned(),
        _ => "Invalid bearer token".to_owned(),
    };
    let mut response = problem.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(http::header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_jwt_is_told_apart_from_a_bearer_key() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer gh_live_abc123"));
        assert_eq!(presented(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer a.b.c"));
        assert_eq!(presented(&headers), Some("a.b.c"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic a.b.c"));
        assert_eq!(presented(&headers), None);
    }

    #[test]
    fn scopes_pick_the_first_alternative_that_fits() {
        let read = Requirement::token(vec!["pets:read".into()]);
        let admin = Requirement::token(vec!["pets:admin".into()]);
        let both = [admin.clone(), read.clone()];
        assert_eq!(chosen_requirement(&both, &["pets:read".into()]), Ok(&read));
        assert_eq!(
            chosen_requirement(&both, &[]),
            Err(Refusal::InsufficientScope { needed: vec!["pets:admin".into()] })
        );
    }

    #[test]
    fn an_insufficient_scope_says_which_in_its_challenge() {
        let response = refusal(&Refusal::InsufficientScope { needed: vec!["a".into(), "b".into()] });
        assert_eq!(response.status(), 403);
        assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"insufficient_scope\", scope=\"a b\"");
        let body: serde_json::Value = serde_json::from_slice(response.body()).expect("json");
        assert_eq!(body["type"], "https://gatehouse.dev/problems/insufficient-scope");
        let expired = refusal(&Refusal::Expired);
        assert_eq!(expired.status(), 401);
        assert_eq!(expired.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    }
}
