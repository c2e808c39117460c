//! An API's JWT configuration: the `x-gatehouse-jwt` block of its OpenAPI document (or of the
//! declarative config), also derived from an `openIdConnect` scheme's discovery URL.

use serde::{Deserialize, Serialize};

use super::{Algorithm, JwkSet, MAX_LEEWAY_SECS};

/// How an API's bearer tokens are checked. Unknown fields are refused, so a misspelt
/// `audiences` cannot silently switch a check off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// `iss` must equal this. Required unless `discovery_url` supplies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `aud` (a string or an array) must hold one of these when any is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Where the signing keys are published (an `https` URL of a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// An OpenID Connect discovery document, which names the issuer and `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_url: Option<String>,
    /// Keys given inline, as a JWK Set: the only place an HS256 secret (`kty: oct`) may come
    /// from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<JwkSet>,
    /// The signature algorithms accepted; a token signed otherwise is refused before any key
    /// is looked at.
    #[serde(default = "JwtSettings::default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Clock leeway for `exp` and `nbf`, in seconds; at most [`MAX_LEEWAY_SECS`].
    #[serde(default = "JwtSettings::default_leeway")]
    #[cfg_attr(feature = "schema", schema(maximum = 300))]
    pub leeway_secs: u32,
    /// Claims every token must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_claims: Vec<String>,
    /// The claim that names the calling client (app); `client_id`, else `azp`, when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_claim: Option<String>,
}

/// Where a verifier finds an API's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource<'a> {
    Static(&'a JwkSet),
    Jwks(&'a str),
    Discovery(&'a str),
}

impl KeySource<'_> {
    /// What names this source where verified tokens are remembered
    /// ([`super::VerifiedTokens`]): the JWKS or discovery URL, or a digest of static keys, so
    /// changing them forgets what the old ones verified. Both runtimes name sources this way.
    pub fn name(self) -> std::sync::Arc<str> {
        match self {
            KeySource::Jwks(url) | KeySource::Discovery(url) => url.into(),
            KeySource::Static(keys) => {
                use sha2::{Digest, Sha256};
                let json = serde_json::to_vec(keys).unwrap_or_default();
                format!("static:{}", crate::hex::encode(&Sha256::digest(&json))).into()
            }
        }
    }
}

impl JwtSettings {
    pub fn default_algorithms() -> Vec<Algorithm> {
        vec![Algorithm::RS256]
    }

    pub const fn default_leeway() -> u32 {
        30
    }

    /// Settings that read their issuer and keys from an OpenID Connect discovery document.
    pub fn discovered(url: &str) -> JwtSettings {
        JwtSettings {
            issuer: None,
            audiences: Vec::new(),
            jwks_url: None,
            discovery_url: Some(url.to_owned()),
            keys: None,
            algorithms: JwtSettings::default_algorithms(),
            leeway_secs: JwtSettings::default_leeway(),
            required_claims: Vec::new(),
            client_claim: None,
        }
    }

    /// The one place keys come from; [`JwtSettings::problems`] makes sure there is exactly one.
    pub fn key_source(&self) -> Option<KeySource<'_>> {
        match (&self.keys, &self.jwks_url, &self.discovery_url) {
            (Some(keys), None, None) => Some(KeySource::Static(keys)),
            (None, Some(url), None) => Some(KeySource::Jwks(url)),
            (None, None, Some(url)) => Some(KeySource::Discovery(url)),
            _ => None,
        }
    }

    /// What is wrong with these settings, as (field, message) pairs; empty when usable.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.key_source().is_none() {
            problems.push(("keys", "give exactly one of jwks_url, discovery_url or keys".to_owned()));
        }
        for (field, url) in [("jwks_url", &self.jwks_url), ("discovery_url", &self.discovery_url)] {
            if let Some(url) = url.as_deref().filter(|u| !u.starts_with("https://") && !u.starts_with("http://")) {
                problems.push((field, format!("{url:?} is not an http(s) URL")));
            }
        }
        if self.issuer.is_none() && self.discovery_url.is_none() {
            problems.push(("issuer", "is required unless discovery_url names it".to_owned()));
        }
        if self.algorithms.is_empty() {
            problems.push(("algorithms", "must list at least one algorithm".to_owned()));
        }
        let shared_secret = self.algorithms.contains(&Algorithm::HS256);
        if shared_secret && self.keys.as_ref().is_none_or(|keys| !keys.has_secret()) {
            problems.push(("algorithms", "HS256 needs a static secret (a `kty: oct` key in keys)".to_owned()));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            problems.push(("leeway_secs", format!("must be at most {MAX_LEEWAY_SECS} seconds")));
        }
        problems
    }
}
