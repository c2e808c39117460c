//! Splitting a compact JWS (RFC 7515 §7.1) and reading its header and claims.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::Refusal;

/// Largest token read at all: a bearer token is a header on every call, and real access
/// tokens are 1–2 KB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The signature algorithms Gatehouse verifies. HS256 is for a static shared secret only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    ES256,
    ES384,
    EdDSA,
    HS256,
}

impl Algorithm {
    /// The `alg` value (RFC 7518).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
        }
    }

    pub fn parse(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" => Algorithm::EdDSA,
            "HS256" => Algorithm::HS256,
            _ => return None,
        })
    }
}

/// A token that passed the structural checks, ready for its signature check.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<'a> {
    pub algorithm: Algorithm,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

fn segment(text: &str) -> Result<Vec<u8>, Refusal> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| Refusal::Malformed)
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Refusal::Malformed),
    }
}

/// Reads `token`, refusing what must never reach a signature check. `allowed` is the API's
/// list: an algorithm off it is refused even if the key would verify it, which is what stops
/// RS/HS confusion (an RSA public key used as an HMAC secret).
pub fn parse<'a>(token: &'a str, allowed: &[Algorithm]) -> Result<Parsed<'a>, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let header_json = object(&segment(header)?)?;
    let alg = header_json.get("alg").and_then(Value::as_str).ok_or(Refusal::Malformed)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(Refusal::Unsigned);
    }
    let algorithm = Algorithm::parse(alg)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| Refusal::AlgorithmNotAllowed(alg.chars().take(16).collect()))?;
    for name in ["jku", "x5u", "jwk"] {
        if header_json.contains_key(name) {
            return Err(Refusal::KeyLocationHeader(name));
        }
    }
    if let Some(crit) = header_json.get("crit") {
        // No extension is understood, so any named one refuses the token (RFC 7515 §4.1.11).
        let first = crit.as_array().and_then(|names| names.first()).and_then(Value::as_str).unwrap_or("crit");
        return Err(Refusal::UnknownCritical(first.chars().take(32).collect()));
    }
    let claims = object(&segment(payload)?)?;
    let signature = segment(signature)?;
    if signature.is_empty() {
        return Err(Refusal::Unsigned);
    }
    let kid = header_json.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok(Parsed { algorithm, kid, claims, signing_input: &token[..header.len() + 1 + payload.len()], signature })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn token(header: Value, claims: Value) -> String {
        format!("{}.{}.{}", b64(&header), b64(&claims), URL_SAFE_NO_PAD.encode(b"sig"))
    }

    const RS: &[Algorithm] = &[Algorithm::RS256];

    #[test]
    fn crafted_tokens_are_refused_before_any_signature_check() {
        let claims = json!({"sub": "u1", "exp": 2_000_000_000});
        let table: Vec<(String, Refusal)> = vec![
            ("a".repeat(MAX_TOKEN_BYTES + 1), Refusal::TooLarge),
            ("only.two".into(), Refusal::Malformed),
            ("a.b.c.d".into(), Refusal::Malformed),
            ("!!!.e30.c2ln".into(), Refusal::Malformed),
            (format!("{}.{}.c2ln", b64(&json!("not an object")), b64(&claims)), Refusal::Malformed),
            (format!("{}.bm90IGpzb24.c2ln", b64(&json!({"alg": "RS256"}))), Refusal::Malformed),
            (token(json!({"alg": "none"}), claims.clone()), Refusal::Unsigned),
            (token(json!({"alg": "NONE"}), claims.clone()), Refusal::Unsigned),
            (token(json!({"alg": "HS256"}), claims.clone()), Refusal::AlgorithmNotAllowed("HS256".into())),
            (token(json!({"alg": "XY999"}), claims.clone()), Refusal::AlgorithmNotAllowed("XY999".into())),
            (token(json!({"alg": "RS256", "jku": "https://evil"}), claims.clone()), Refusal::KeyLocationHeader("jku")),
            (token(json!({"alg": "RS256", "x5u": "https://evil"}), claims.clone()), Refusal::KeyLocationHeader("x5u")),
            (token(json!({"alg": "RS256", "jwk": {"kty": "RSA"}}), claims.clone()), Refusal::KeyLocationHeader("jwk")),
            (token(json!({"alg": "RS256", "crit": ["b64"]}), claims.clone()), Refusal::UnknownCritical("b64".into())),
            (format!("{}.{}.", b64(&json!({"alg": "RS256"})), b64(&claims)), Refusal::Unsigned),
        ];
        for (token, refusal) in table {
            assert_eq!(parse(&token, RS), Err(refusal.clone()), "{refusal:?}");
        }
    }

    #[test]
    fn a_well_formed_token_yields_its_kid_claims_and_signing_input() {
        let t = token(json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), json!({"sub": "u1"}));
        let parsed = parse(&t, RS).expect("parses");
        assert_eq!(parsed.algorithm, Algorithm::RS256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.claims["sub"], "u1");
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(parsed.signing_input, &t[..t.rfind('.').expect("dot")]);
    }
}
