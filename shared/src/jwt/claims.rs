//! The claim checks once a token's signature holds: one function, so the native gateway and
//! the Worker refuse exactly the same tokens. Unlike jwt-simple's defaults, `exp` is required
//! and the leeway is seconds, not minutes.

use serde_json::{Map, Value};

use super::{JwtSettings, Refusal};

/// Largest clock leeway an API may configure, in seconds.
pub const MAX_LEEWAY_SECS: u32 = 300;

/// What a verified token says about its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `sub`: the end user, kept in usage.
    pub subject: Option<String>,
    /// The client (app) the token was issued to.
    pub client: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at_secs: i64,
}

/// Scopes from `scope` (space-separated, RFC 8693) or `scp` (an array, or a string).
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => words(s),
        (None, Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn seconds(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims.get(name).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Checks `claims` at `now_secs` against `policy`, the `issuer` expected (the configured one,
/// or the one an OpenID Connect discovery document names) and the operation's `needed`
/// scopes (all of them).
pub fn check_claims(
    policy: &JwtSettings,
    issuer: &str,
    claims: &Map<String, Value>,
    now_secs: i64,
    needed: &[String],
) -> Result<Verified, Refusal> {
    let leeway = i64::from(policy.leeway_secs.min(MAX_LEEWAY_SECS));
    let exp = seconds(claims, "exp").ok_or(Refusal::NoExpiry)?;
    if now_secs >= exp.saturating_add(leeway) {
        return Err(Refusal::Expired);
    }
    if seconds(claims, "nbf").is_some_and(|nbf| now_secs.saturating_add(leeway) < nbf) {
        return Err(Refusal::NotYetValid);
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(Refusal::WrongIssuer);
    }
    if !policy.audiences.is_empty() {
        let listed = match claims.get("aud") {
            Some(Value::String(a)) => policy.audiences.contains(a),
            Some(Value::Array(all)) => {
                all.iter().filter_map(Value::as_str).any(|a| policy.audiences.iter().any(|p| p == a))
            }
            _ => false,
        };
        if !listed {
            return Err(Refusal::WrongAudience);
        }
    }
    if let Some(missing) = policy.required_claims.iter().find(|c| !claims.contains_key(c.as_str())) {
        return Err(Refusal::MissingClaim(missing.clone()));
    }
    let scopes = scopes(claims);
    let lacking: Vec<String> = needed.iter().filter(|s| !scopes.contains(s)).cloned().collect();
    if !lacking.is_empty() {
        return Err(Refusal::InsufficientScope { needed: needed.to_vec() });
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let client = match &policy.client_claim {
        Some(name) => text(name),
        None => text("client_id").or_else(|| text("azp")),
    };
    Ok(Verified { subject: text("sub"), client, scopes, expires_at_secs: exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const ISSUER: &str = "https://idp.example.com/";

    fn policy() -> JwtSettings {
        JwtSettings {
            issuer: Some("https://idp.example.com/".into()),
            audiences: vec!["pets-api".into()],
            required_claims: vec!["sub".into()],
            ..JwtSettings::discovered("https://idp.example.com/.well-known/openid-configuration")
        }
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut base = json!({"iss": "https://idp.example.com/", "aud": "pets-api", "sub": "u1", "exp": NOW + 60,
                              "scope": "pets:read pets:write", "client_id": "app_1"});
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            for (k, v) in e {
                match v {
                    Value::Null => drop(b.remove(&k)),
                    v => drop(b.insert(k, v)),
                }
            }
        }
        match base {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    fn check(extra: Value, needed: &[&str]) -> Result<Verified, Refusal> {
        let needed: Vec<String> = needed.iter().map(|s| s.to_string()).collect();
        check_claims(&policy(), ISSUER, &claims(extra), NOW, &needed)
    }

    #[test]
    fn every_claim_refusal_has_its_case() {
        let table: Vec<(Value, &[&str], Refusal)> = vec![
            (json!({"exp": null}), &[], Refusal::NoExpiry),
            (json!({"exp": NOW - 30}), &[], Refusal::Expired),
            (json!({"nbf": NOW + 31}), &[], Refusal::NotYetValid),
            (json!({"iss": "https://evil.example.com/"}), &[], Refusal::WrongIssuer),
            (json!({"iss": null}), &[], Refusal::WrongIssuer),
            (json!({"aud": "other-api"}), &[], Refusal::WrongAudience),
            (json!({"aud": ["a", "b"]}), &[], Refusal::WrongAudience),
            (json!({"aud": null}), &[], Refusal::WrongAudience),
            (json!({"sub": null}), &[], Refusal::MissingClaim("sub".into())),
            (json!({}), &["pets:delete"], Refusal::InsufficientScope { needed: vec!["pets:delete".into()] }),
        ];
        for (extra, needed, refusal) in table {
            assert_eq!(check(extra.clone(), needed), Err(refusal), "{extra}");
        }
    }

    #[test]
    fn leeway_is_honoured_and_bounded() {
        assert!(check(json!({"exp": NOW - 29}), &[]).is_ok(), "within 30 s of leeway");
        assert!(check(json!({"nbf": NOW + 30}), &[]).is_ok());
        let mut generous = policy();
        generous.leeway_secs = 3_600;
        let an_hour_late = claims(json!({"exp": NOW - 600}));
        assert_eq!(check_claims(&generous, ISSUER, &an_hour_late, NOW, &[]), Err(Refusal::Expired), "clamped to 300 s");
    }

    #[test]
    fn a_valid_token_names_its_user_client_and_scopes() {
        let verified = check(json!({"aud": ["x", "pets-api"]}), &["pets:read"]).expect("valid");
        assert_eq!(verified.subject.as_deref(), Some("u1"));
        assert_eq!(verified.client.as_deref(), Some("app_1"));
        assert_eq!(verified.scopes, ["pets:read", "pets:write"]);
        let azp =
            check(json!({"client_id": null, "azp": "app_2", "scope": null, "scp": ["a", "b"]}), &["b"]).expect("ok");
        assert_eq!((azp.client.as_deref(), azp.scopes), (Some("app_2"), vec!["a".to_string(), "b".to_string()]));
    }
}
