//! `JwtVerifier`: bearer-token signatures natively, with ring (see
//! `gatehouse_admin::jwt_keys` for why not jwt-simple; the portal's staff sign-in checks ID
//! tokens with the same code). One verifier serves every gateway worker thread: the JWK Sets it fetches, the
//! keys it has decoded and the tokens it has verified are shared.
//!
//! Claims are the core's business ([`gatehouse_core::jwt::check_claims`]), so both runtimes
//! refuse the same tokens; here only the signature is checked ([`signature_holds`]).

use std::sync::{Arc, Mutex};

use gatehouse_core::jwt::{token_digest, JwtSettings, KeySource, Parsed, Refusal, VerifiedToken, VerifiedTokens};
use gatehouse_core::ports::{SignatureError, TokenVerifier};

use gatehouse_admin::jwt_keys::{signature_holds, DecodedKeys, KeySets};

/// Verifies JWT signatures for every API, natively.
#[derive(Default)]
pub struct JwtVerifier {
    key_sets: KeySets,
    decoded: DecodedKeys,
    verified: Mutex<VerifiedTokens>,
}

impl JwtVerifier {
    /// A verifier that refetches an issuer's keys for an unknown `kid` at most once per
    /// `unknown_kid_refetch` (a minute by default, as Azure API Management does).
    pub fn new(unknown_kid_refetch: std::time::Duration) -> JwtVerifier {
        let interval = i64::try_from(unknown_kid_refetch.as_millis()).unwrap_or(i64::MAX);
        JwtVerifier { key_sets: KeySets::new(reqwest::Client::new(), interval), ..JwtVerifier::default() }
    }

    /// Remembers at most `capacity` verified tokens (benches set 1 to time the signature path).
    pub fn remembering(mut self, capacity: usize) -> JwtVerifier {
        self.verified = Mutex::new(VerifiedTokens::with_capacity(capacity));
        self
    }

    fn remembered(&self, digest: &[u8; 32], source: &str) -> Option<VerifiedToken> {
        self.verified.lock().ok()?.get(digest, source)
    }

    fn remember(&self, digest: [u8; 32], token: VerifiedToken) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.insert(digest, token);
        }
    }
}

impl TokenVerifier for JwtVerifier {
    async fn verify(&self, settings: &JwtSettings, raw: &str, token: &Parsed<'_>) -> Result<Arc<str>, SignatureError> {
        let source = settings.key_source().ok_or(SignatureError::Refused(Refusal::UnknownKey))?;
        let name = source.name();
        let digest = token_digest(raw);
        if let Some(known) = self.remembered(&digest, &name) {
            return Ok(known.issuer);
        }
        let (key, issuer) = match source {
            KeySource::Static(set) => {
                let key = set
                    .find(token.kid.as_deref(), token.algorithm)
                    .ok_or(SignatureError::Refused(Refusal::UnknownKey))?;
                (key.clone(), settings.issuer.as_deref().map(Arc::from))
            }
            KeySource::Jwks(url) => (self.key_sets.key(url, token).await?, settings.issuer.as_deref().map(Arc::from)),
            KeySource::Discovery(url) => {
                let discovered = self.key_sets.discover(url).await?;
                let key = self.key_sets.key(&discovered.jwks_uri, token).await?;
                (key, Some(settings.issuer.as_deref().map_or(discovered.issuer, Arc::from)))
            }
        };
        let issuer = issuer.ok_or(SignatureError::Refused(Refusal::WrongIssuer))?;
        let decoded = self.decoded.get(&key, token.algorithm).map_err(SignatureError::Refused)?;
        if !signature_holds(&decoded, token) {
            return Err(SignatureError::Refused(Refusal::BadSignature));
        }
        self.remember(digest, VerifiedToken { source: name, issuer: Arc::clone(&issuer) });
        Ok(issuer)
    }
}
