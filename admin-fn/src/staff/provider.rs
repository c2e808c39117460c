//! The company's identity provider, spoken to as an OpenID Connect relying party: its
//! discovery document, the authorization request (code flow with PKCE, state and nonce), the
//! token request, and the ID token's checks.
//!
//! Built on the repo's own JWT code rather than the `openidconnect` crate: the gateway
//! already verifies provider-signed JWTs with ring (`jwt_keys`), caches JWK Sets and discovery
//! documents by one tested policy (`gatehouse_core::jwt::key_cache`) and checks claims with
//! explicit, bounded rules (`check_claims`: `exp` required, seconds of leeway, an algorithm
//! allow-list). `openidconnect` would bring a second crypto stack (the `rsa` crate, with its
//! open timing advisory RUSTSEC-2023-0071) and a second set of rules for the same checks.
//! What is left here is the protocol's few requests, each against its RFC.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::jwt::{check_claims, parse, Algorithm, JwtSettings, Refusal as TokenRefusal};
use gatehouse_core::ports::SignatureError;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::config::StaffSignInSettings;
use super::refusal::StaffRefusal;
use crate::jwt_keys::{signature_holds, DecodedKeys, KeySets};

/// How long one request to the provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a fetched discovery document is used before it is fetched again (a failed
/// refetch keeps the last good one).
const METADATA_LIFETIME: i64 = 3600 * 1000;
/// Asymmetric algorithms only: an HS256 ID token would be keyed with the client secret,
/// which the provider and Gatehouse share, so it proves less.
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What the discovery document says (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// The identity provider, with its cached discovery document and keys. One per process.
pub struct StaffProvider {
    pub(crate) settings: StaffSignInSettings,
    client: reqwest::Client,
    keys: KeySets,
    decoded: DecodedKeys,
    metadata: tokio::sync::Mutex<Option<(Metadata, i64)>>,
}

/// A PKCE code challenge for `verifier` (RFC 7636 §4.2, method S256).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl StaffProvider {
    pub fn new(settings: StaffSignInSettings) -> StaffProvider {
        let client = reqwest::Client::new();
        StaffProvider {
            settings,
            keys: KeySets::new(client.clone(), gatehouse_core::jwt::key_cache::UNKNOWN_KID_REFETCH),
            client,
            decoded: DecodedKeys::default(),
            metadata: tokio::sync::Mutex::new(None),
        }
    }

    async fn metadata(&self, now: i64) -> Result<Metadata, StaffRefusal> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, _)) = cached.as_ref().filter(|(_, at)| now.saturating_sub(*at) < METADATA_LIFETIME) {
            return Ok(metadata.clone());
        }
        let url = self.settings.discovery_url();
        let fetched = self.keys.fetch(&url).await.and_then(|(body, _)| {
            serde_json::from_slice::<Metadata>(&body).map_err(|e| format!("not a discovery document: {e}"))
        });
        match fetched {
            // OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one configured.
            Ok(metadata) if metadata.issuer == self.settings.issuer => {
                *cached = Some((metadata.clone(), now));
                Ok(metadata)
            }
            Ok(metadata) => {
                tracing::error!(configured = %self.settings.issuer, discovered = %metadata.issuer,
                    "the identity provider's discovery document names another issuer");
                Err(StaffRefusal::ProviderUnavailable)
            }
            Err(why) => {
                tracing::warn!(%url, %why, "the identity provider's discovery document could not be read");
                cached.as_ref().map(|(m, _)| m.clone()).ok_or(StaffRefusal::ProviderUnavailable)
            }
        }
    }

    /// Where to send the browser to sign in (OpenID Connect Core 1.0 §3.1.2.1).
    pub(crate) async fn authorization_url(
        &self,
        redirect_url: &str,
        (state, nonce, verifier): (&str, &str, &str),
        now: i64,
    ) -> Result<String, StaffRefusal> {
        let metadata = self.metadata(now).await?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_url)
            .append_pair("scope", &self.settings.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &code_challenge(verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        let separator = if metadata.authorization_endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{}{separator}{query}", metadata.authorization_endpoint))
    }

    /// Trades the code for an ID token (§3.1.3), proving the code with the PKCE verifier and
    /// the client with its secret (`client_secret_basic`, or `client_secret_post` when the
    /// provider offers only that).
    pub(crate) async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        redirect_url: &str,
        now: i64,
    ) -> Result<String, StaffRefusal> {
        let metadata = self.metadata(now).await?;
        let methods = &metadata.token_endpoint_auth_methods_supported;
        let post = !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post");
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_url),
            ("code_verifier", verifier),
        ];
        let mut request = self.client.post(&metadata.token_endpoint).timeout(REQUEST_TIMEOUT);
        if post {
            pairs.extend([
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", &self.settings.client_secret),
            ]);
        } else {
            // RFC 6749 §2.3.1: each part form-encoded, then joined and base64-encoded.
            let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(&self.settings.client_id), encode(&self.settings.client_secret));
            let basic = base64::engine::general_purpose::STANDARD.encode(pair);
            request = request.header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let response = request
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the identity provider's token endpoint could not be reached");
                StaffRefusal::ProviderUnavailable
            })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_client_error() {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("invalid_grant");
            return Err(StaffRefusal::CodeRefused { error: error.chars().take(64).collect() });
        }
        match body.get("id_token").and_then(Value::as_str) {
            Some(token) if status.is_success() => Ok(token.to_owned()),
            _ => {
                tracing::warn!(%status, "the identity provider's token endpoint answered without an ID token");
                Err(StaffRefusal::ProviderUnavailable)
            }
        }
    }

    /// Checks the ID token (§3.1.3.7): signature by a key the issuer publishes, `iss`, `aud`
    /// (and `azp` when there are several audiences), `exp`, and the `nonce` this sign-in sent.
    /// Answers its claims.
    pub(crate) async fn verify(&self, token: &str, nonce: &str, now: i64) -> Result<Map<String, Value>, StaffRefusal> {
        let metadata = self.metadata(now).await?;
        let parsed = parse(token, ALGORITHMS).map_err(StaffRefusal::Token)?;
        let key = match self.keys.key(&metadata.jwks_uri, &parsed).await {
            Ok(key) => key,
            Err(SignatureError::Refused(refusal)) => return Err(StaffRefusal::Token(refusal)),
            Err(SignatureError::KeysUnavailable(_)) => return Err(StaffRefusal::ProviderUnavailable),
        };
        let decoded = self.decoded.get(&key, parsed.algorithm).map_err(StaffRefusal::Token)?;
        if !signature_holds(&decoded, &parsed) {
            return Err(StaffRefusal::Token(TokenRefusal::BadSignature));
        }
        let policy = JwtSettings {
            issuer: Some(self.settings.issuer.clone()),
            audiences: vec![self.settings.client_id.clone()],
            required_claims: vec!["sub".into()],
            ..JwtSettings::discovered(&self.settings.discovery_url())
        };
        check_claims(&policy, &self.settings.issuer, &parsed.claims, now.div_euclid(1000), &[])
            .map_err(StaffRefusal::Token)?;
        let claims = parsed.claims;
        let several = claims.get("aud").and_then(Value::as_array).is_some_and(|a| a.len() > 1);
        let azp = claims.get("azp").and_then(Value::as_str);
        if (several || azp.is_some()) && azp != Some(self.settings.client_id.as_str()) {
            return Err(StaffRefusal::Token(TokenRefusal::WrongAudience));
        }
        let sent = claims.get("nonce").and_then(Value::as_str).unwrap_or_default();
        if !crate::portal::session::equal(sent, nonce) {
            return Err(StaffRefusal::WrongNonce);
        }
        Ok(claims)
    }
}

/// The values of `claim` (a dotted path into nested objects): a string, or the strings of an
/// array; nothing otherwise.
pub fn claim_values(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    let mut parts = claim.split('.');
    let first = parts.next().and_then(|name| claims.get(name));
    let found = parts.fold(first, |value, name| value.and_then(|v| v.get(name)));
    match found {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// How the audit trail and the session name the staff member: `staff:<email>` when the
/// provider vouches for the address (`email_verified` not false), `staff:<sub>` otherwise.
pub fn principal(claims: &Map<String, Value>) -> String {
    let verified = claims.get("email_verified").and_then(Value::as_bool) != Some(false);
    let email = claims.get("email").and_then(Value::as_str).filter(|e| verified && e.contains('@'));
    let who = email.map(str::to_lowercase).or_else(|| claims.get("sub").and_then(Value::as_str).map(str::to_owned));
    let who: String = who.unwrap_or_default().chars().filter(|c| !c.is_control()).take(128).collect();
    format!("staff:{who}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn claim_values_are_read_from_strings_arrays_and_nested_paths() {
        let claims = map(json!({"groups": ["a", 1, "b"], "role": "x", "realm_access": {"roles": ["r"]}}));
        assert_eq!(claim_values(&claims, "groups"), ["a", "b"]);
        assert_eq!(claim_values(&claims, "role"), ["x"]);
        assert_eq!(claim_values(&claims, "realm_access.roles"), ["r"]);
        assert!(claim_values(&claims, "missing.path").is_empty());
    }

    #[test]
    fn staff_are_named_by_a_verified_email_else_by_subject() {
        assert_eq!(principal(&map(json!({"sub": "u1", "email": "Ada@Corp.test"}))), "staff:ada@corp.test");
        let unverified = json!({"sub": "u1", "email": "ada@corp.test", "email_verified": false});
        assert_eq!(principal(&map(unverified)), "staff:u1");
        assert_eq!(principal(&map(json!({"sub": "u2"}))), "staff:u2");
    }
}
