//! The native verifier and every algorithm Gatehouse accepts: a token signed by the provider's
//! key verifies under the JWK it publishes, and the same token with one signature byte changed
//! does not. Keys are given inline (static), so no server is involved.
#![allow(clippy::unwrap_used)]

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::jwt::{parse, Algorithm, JwkSet, JwtSettings, Refusal};
use gatehouse_core::ports::{SignatureError, TokenVerifier};
use gatehouse_native::adapters::tokens::JwtVerifier;
use serde_json::json;
use support::jwt::{now_secs, ProviderKey, RSA_1, RSA_2};

fn settings(key: &ProviderKey, algorithm: Algorithm) -> JwtSettings {
    let keys: JwkSet = serde_json::from_value(json!({"keys": [key.jwk()]})).unwrap();
    JwtSettings {
        issuer: Some("https://idp.test/".into()),
        keys: Some(keys),
        discovery_url: None,
        algorithms: vec![algorithm],
        ..JwtSettings::discovered("")
    }
}

async fn verify(verifier: &JwtVerifier, settings: &JwtSettings, token: &str) -> Result<(), SignatureError> {
    let parsed = parse(token, &settings.algorithms).unwrap();
    verifier.verify(settings, token, &parsed).await.map(drop)
}

#[tokio::test]
async fn every_supported_algorithm_verifies_its_own_signatures_only() {
    let cases = [
        (Algorithm::RS256, ProviderKey::rsa(RSA_1, "k", "RS256")),
        (Algorithm::RS384, ProviderKey::rsa(RSA_1, "k", "RS384")),
        (Algorithm::RS512, ProviderKey::rsa(RSA_2, "k", "RS512")),
        (Algorithm::PS256, ProviderKey::rsa(RSA_2, "k", "PS256")),
        (Algorithm::ES256, ProviderKey::ec("k", "ES256")),
        (Algorithm::ES384, ProviderKey::ec("k", "ES384")),
        (Algorithm::EdDSA, ProviderKey::ed25519("k")),
        (Algorithm::HS256, ProviderKey::hmac("k", b"a static shared secret, 32 bytes")),
    ];
    let claims = json!({"iss": "https://idp.test/", "sub": "u", "exp": now_secs() + 60});
    for (algorithm, key) in cases {
        let verifier = JwtVerifier::default();
        let settings = settings(&key, algorithm);
        let token = key.sign(&claims);
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(verify(&verifier, &settings, &forged).await, Err(SignatureError::Refused(Refusal::BadSignature)));
        assert_eq!(verify(&verifier, &settings, &token).await, Ok(()), "{algorithm:?}");
        assert_eq!(verify(&verifier, &settings, &forged).await, Err(SignatureError::Refused(Refusal::BadSignature)));
    }
}

#[tokio::test]
async fn a_token_verified_under_old_static_keys_is_not_taken_as_verified_under_new_ones() {
    let (old, new) = (ProviderKey::rsa(RSA_1, "k", "RS256"), ProviderKey::rsa(RSA_2, "k", "RS256"));
    let verifier = JwtVerifier::default();
    let token = old.sign(&json!({"iss": "https://idp.test/", "exp": now_secs() + 60}));
    assert_eq!(verify(&verifier, &settings(&old, Algorithm::RS256), &token).await, Ok(()));
    let replaced = verify(&verifier, &settings(&new, Algorithm::RS256), &token).await;
    assert_eq!(replaced, Err(SignatureError::Refused(Refusal::BadSignature)), "remembered per key set");
}
