//! OpenID Connect discovery natively: the verifier reads the issuer and `jwks_uri` from a real
//! discovery document on 127.0.0.1, fetches each document once, and checks tokens against the
//! issuer the document names.
#![allow(clippy::unwrap_used)]

mod support;

use gatehouse_core::jwt::{check_claims, parse, JwtSettings, Refusal};
use gatehouse_core::ports::{SignatureError, TokenVerifier};
use gatehouse_native::adapters::tokens::JwtVerifier;
use serde_json::json;
use support::jwt::{now_secs, ProviderKey, RSA_1};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_discovery_document_names_the_keys_and_the_issuer_and_is_fetched_once() {
    let idp = MockServer::start().await;
    let key = ProviderKey::rsa(RSA_1, "k1", "RS256");
    let issuer = format!("{}/realms/partners", idp.uri());
    let document = json!({"issuer": issuer, "jwks_uri": format!("{}/certs", idp.uri())});
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document))
        .mount(&idp)
        .await;
    Mock::given(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [key.jwk()]})))
        .mount(&idp)
        .await;
    let settings = JwtSettings::discovered(&format!("{}/.well-known/openid-configuration", idp.uri()));
    let verifier = JwtVerifier::default();
    for n in 0..3 {
        let token = key.sign(&json!({"iss": issuer, "exp": now_secs() + 60, "n": n}));
        let parsed = parse(&token, &settings.algorithms).unwrap();
        let named = verifier.verify(&settings, &token, &parsed).await.unwrap();
        assert_eq!(&*named, issuer.as_str());
        assert!(check_claims(&settings, &named, &parsed.claims, now_secs(), &[]).is_ok());
    }
    let other = key.sign(&json!({"iss": "https://elsewhere.test/", "exp": now_secs() + 60}));
    let parsed = parse(&other, &settings.algorithms).unwrap();
    let named = verifier.verify(&settings, &other, &parsed).await.unwrap();
    assert_eq!(check_claims(&settings, &named, &parsed.claims, now_secs(), &[]), Err(Refusal::WrongIssuer));
    assert_eq!(idp.received_requests().await.unwrap().len(), 2, "one discovery document, one key set");

    let down = JwtSettings::discovered("http://127.0.0.1:9/.well-known/openid-configuration");
    let token = key.sign(&json!({"iss": issuer, "exp": now_secs() + 60}));
    let parsed = parse(&token, &down.algorithms).unwrap();
    assert!(matches!(verifier.verify(&down, &token, &parsed).await, Err(SignatureError::KeysUnavailable(_))));
}
