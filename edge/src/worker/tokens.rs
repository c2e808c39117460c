//! `WebCryptoVerifier`: the core's [`TokenVerifier`] at the edge. A token seen before on this
//! isolate (the core's [`VerifiedTokens`], by SHA-256 of the token and per key source) costs
//! a hash and a map lookup; a first sight finds its key (static, JWKS or OpenID Connect
//! discovery, see [`super::jwks`]) and checks the signature with WebCrypto
//! ([`super::webcrypto`]). Every platform failure becomes a [`SignatureError`]: a key set
//! that cannot be had fails the call closed (503), never open.

use std::cell::RefCell;
use std::sync::Arc;

use gatehouse_core::jwt::{token_digest, JwtSettings, KeySource, Parsed, Refusal, VerifiedToken, VerifiedTokens};
use gatehouse_core::ports::{PortError, SignatureError, TokenVerifier};
use worker::{console_warn, Env};

use super::jwks;
use super::webcrypto::{self, ImportError};

thread_local! {
    static VERIFIED: RefCell<VerifiedTokens> = RefCell::new(VerifiedTokens::default());
}

pub struct WebCryptoVerifier {
    env: Env,
}

impl WebCryptoVerifier {
    pub fn new(env: Env) -> Self {
        WebCryptoVerifier { env }
    }
}

impl TokenVerifier for WebCryptoVerifier {
    async fn verify(&self, settings: &JwtSettings, raw: &str, token: &Parsed<'_>) -> Result<Arc<str>, SignatureError> {
        // Settings without exactly one key source have no key for any token (the admin API
        // refuses them; the native verifier answers the same).
        let source = settings.key_source().ok_or(SignatureError::Refused(Refusal::UnknownKey))?;
        let id = source.name();
        let digest = token_digest(raw);
        let configured: Option<Arc<str>> = settings.issuer.as_deref().map(Arc::from);
        if let Some(seen) = VERIFIED.with(|tokens| tokens.borrow_mut().get(&digest, &id)) {
            return Ok(configured.unwrap_or(seen.issuer));
        }
        let (jwk, issuer) = match source {
            KeySource::Static(keys) => {
                let jwk = keys.find(token.kid.as_deref(), token.algorithm).cloned();
                (jwk.ok_or(SignatureError::Refused(Refusal::UnknownKey))?, configured)
            }
            KeySource::Jwks(url) => {
                (jwks::key(&self.env, url, token.kid.as_deref(), token.algorithm).await?, configured)
            }
            KeySource::Discovery(url) => {
                let doc = jwks::discovered(url).await?;
                let jwk = jwks::key(&self.env, &doc.jwks_uri, token.kid.as_deref(), token.algorithm).await?;
                (jwk, Some(configured.unwrap_or(doc.issuer)))
            }
        };
        // No issuer to expect: no token can name it (the admin API refuses such settings; the
        // native verifier answers the same).
        let issuer = issuer.ok_or(SignatureError::Refused(Refusal::WrongIssuer))?;
        let key = webcrypto::imported(token.algorithm, &jwk).await.map_err(|e| match e {
            // A key its provider publishes but nobody can use checks no token (logged, without
            // key material); the native verifier answers the same.
            ImportError::Unusable(why) => {
                console_warn!("jwt: a published {} key is unusable: {why}", token.algorithm.name());
                SignatureError::Refused(Refusal::UnknownKey)
            }
            ImportError::Platform(why) => SignatureError::KeysUnavailable(PortError::new("webcrypto", why)),
        })?;
        let holds = webcrypto::verify(token.algorithm, &key, &token.signature, token.signing_input.as_bytes())
            .await
            .map_err(|e| SignatureError::KeysUnavailable(PortError::new("webcrypto", e)))?;
        if !holds {
            return Err(SignatureError::Refused(Refusal::BadSignature));
        }
        VERIFIED
            .with(|tokens| tokens.borrow_mut().insert(digest, VerifiedToken { source: id, issuer: issuer.clone() }));
        Ok(issuer)
    }
}
