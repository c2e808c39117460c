//! JSON Web Key Sets (RFC 7517): the keys an identity provider publishes, and which of them
//! may check a given token.

use serde::{Deserialize, Serialize};

use super::Algorithm;

/// One public key (or, for HS256 from static configuration only, a shared secret). Members
/// stay base64url text: each runtime turns them into its own key type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// RSA modulus and exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC / OKP curve and coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// A symmetric secret (`kty: oct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

/// A JWK Set. Keys Gatehouse cannot use (other types, encryption keys) are kept but never
/// chosen, so one odd key in a provider's set does not break the others.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// Whether this key can check a signature made with `algorithm`: the key type must fit
    /// the algorithm, so an RSA public key is never taken as an HMAC secret.
    pub fn fits(&self, algorithm: Algorithm) -> bool {
        let curve = self.crv.as_deref();
        let type_fits = match algorithm {
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 => self.kty == "RSA",
            Algorithm::ES256 => self.kty == "EC" && curve == Some("P-256"),
            Algorithm::ES384 => self.kty == "EC" && curve == Some("P-384"),
            Algorithm::EdDSA => self.kty == "OKP" && curve == Some("Ed25519"),
            Algorithm::HS256 => self.kty == "oct",
        };
        let alg_fits = self.alg.as_deref().is_none_or(|alg| alg == algorithm.name());
        type_fits && alg_fits && self.usage.as_deref().is_none_or(|u| u == "sig")
    }
}

impl JwkSet {
    /// Reads a fetched set. Symmetric keys are dropped: a shared secret must never come from
    /// a URL, only from the API's own configuration.
    pub fn from_fetched(body: &[u8]) -> Result<JwkSet, String> {
        let mut set: JwkSet = serde_json::from_slice(body).map_err(|e| format!("not a JWK Set: {e}"))?;
        set.keys.retain(|key| key.kty != "oct");
        Ok(set)
    }

    /// The key for a token with this `kid` and algorithm. Without a `kid`, only a set with
    /// exactly one fitting key answers: guessing among several would let any of them sign.
    pub fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<&Jwk> {
        let mut fitting = self.keys.iter().filter(|key| key.fits(algorithm));
        match kid {
            Some(kid) => fitting.find(|key| key.kid.as_deref() == Some(kid)),
            None => match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            },
        }
    }

    pub(super) fn has_secret(&self) -> bool {
        self.keys.iter().any(|key| key.kty == "oct" && key.k.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(value: serde_json::Value) -> JwkSet {
        JwkSet::from_fetched(value.to_string().as_bytes()).expect("a set")
    }

    #[test]
    fn keys_are_chosen_by_kid_and_by_what_fits_the_algorithm() {
        let keys = set(json!({"keys": [
            {"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "r2", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "e1", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "h1", "k": "c2VjcmV0"},
        ]}));
        assert_eq!(keys.find(Some("r1"), Algorithm::RS256).and_then(|k| k.kid.as_deref()), Some("r1"));
        assert!(keys.find(Some("r2"), Algorithm::RS256).is_none(), "an encryption key never checks signatures");
        assert!(keys.find(Some("e1"), Algorithm::RS256).is_none(), "an EC key does not fit RS256");
        assert!(keys.find(Some("e1"), Algorithm::ES384).is_none(), "P-256 does not fit ES384");
        assert!(keys.find(Some("h1"), Algorithm::HS256).is_none(), "fetched secrets are dropped");
        assert!(keys.find(Some("r1"), Algorithm::HS256).is_none(), "an RSA key is never an HMAC secret");
        assert_eq!(keys.find(None, Algorithm::ES256).and_then(|k| k.kid.as_deref()), Some("e1"), "the only fit");
    }

    #[test]
    fn without_a_kid_several_fitting_keys_choose_none() {
        let keys = set(json!({"keys": [{"kty": "RSA", "kid": "a"}, {"kty": "RSA", "kid": "b"}]}));
        assert!(keys.find(None, Algorithm::RS256).is_none());
        assert!(JwkSet::from_fetched(b"{\"nope\": 1}").is_err());
    }
}
