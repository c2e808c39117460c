//! The pipeline's token path: a JWT admits its registered client's app, scopes decide per
//! operation, and every refusal has its problem type and challenge.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::*;
use crate::jwt::{client_hash, Algorithm, Jwk, JwkSet, ANY_CLIENT};
use crate::model::Requirement;
use crate::routing::RouteTable;

const ISSUER: &str = "https://idp.test/";
const SECRET: &[u8] = b"a shared secret of 32 bytes ....";

fn settings() -> JwtSettings {
    let key = Jwk {
        kty: "oct".into(),
        kid: Some("h1".into()),
        alg: None,
        usage: None,
        n: None,
        e: None,
        crv: None,
        x: None,
        y: None,
        k: Some(URL_SAFE_NO_PAD.encode(SECRET)),
    };
    JwtSettings {
        issuer: Some(ISSUER.into()),
        audiences: vec!["pets".into()],
        keys: Some(JwkSet { keys: vec![key] }),
        discovery_url: None,
        algorithms: vec![Algorithm::HS256],
        ..JwtSettings::discovered("https://unused.test/")
    }
}

fn sign(claims: Value) -> String {
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", b64(json!({"alg": "HS256", "kid": "h1"})), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn claims(scope: &str, client: &str) -> Value {
    let exp = NOW / 1000 + 300;
    json!({"iss": ISSUER, "aud": "pets", "sub": "user;7", "exp": exp, "scope": scope, "client_id": client})
}

/// The fakes' gateway with its one operation taking a key or a token with `pets:read`, and
/// its one credential record being the OAuth client `client` of the test issuer.
fn token_gateway(client: &str) -> Gateway<Fakes> {
    let (mut gw, _) = gateway(vec![], false);
    let mut api = gw.adapters.routes.apis().first().map(|api| (**api).clone()).expect("an api");
    api.auth.jwt = Some(settings());
    api.cache.enabled = false;
    for op in &mut api.operations {
        op.requirements = vec![Requirement::KEY, Requirement::token(vec!["pets:read".into()])];
    }
    gw.adapters.routes = Arc::new(RouteTable::new([api]));
    gw.adapters.key.hash = client_hash(ISSUER, client);
    gw
}

fn call(gw: &Gateway<Fakes>, token: &str) -> Response<TestBody> {
    let mut request = get("/v1/pets/1", None);
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    block_on(gw.handle(&mut request))
}

fn problem_type(response: &Response<TestBody>) -> String {
    let Body::Full(bytes) = response.body() else { return String::new() };
    let body: Value = serde_json::from_slice(bytes).unwrap_or_default();
    body["type"].as_str().unwrap_or_default().trim_start_matches("https://gatehouse.dev/problems/").to_owned()
}

#[test]
fn a_valid_token_admits_its_clients_app_and_tells_the_upstream_its_user_without_the_token() {
    let gw = token_gateway("cli_1");
    let response = call(&gw, &sign(claims("pets:read", "cli_1")));
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let seen = gw.adapters.upstream_seen.borrow();
    assert!(seen[0].headers().get("authorization").is_none(), "the token is not forwarded");
    let identity = seen[0].headers()["gatehouse-identity"].to_str().unwrap_or_default().to_owned();
    assert!(identity.starts_with("app=app_1;dev=dev_1;key=key_1;ts="), "{identity}");
    assert!(identity.ends_with(";sub=user%3B7"), "the end user, encoded: {identity}");
    let event = &gw.adapters.events.borrow()[0];
    assert_eq!((event.outcome, event.key_id.as_deref()), (Outcome::Valid, Some("key_1")));
}

#[test]
fn a_missing_scope_is_a_403_naming_the_scope() {
    let gw = token_gateway("cli_1");
    let response = call(&gw, &sign(claims("pets:write", "cli_1")));
    assert_eq!(response.status(), 403);
    assert_eq!(problem_type(&response), "insufficient-scope");
    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"insufficient_scope\", scope=\"pets:read\"");
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
}

#[test]
fn every_token_refusal_has_its_own_problem_type() {
    let gw = token_gateway("cli_1");
    let mut expired = claims("pets:read", "cli_1");
    expired["exp"] = json!(NOW / 1000 - 60);
    let mut wrong_aud = claims("pets:read", "cli_1");
    wrong_aud["aud"] = json!("other");
    let tampered = {
        // A valid token with its claims swapped for more generous ones: the signature no
        // longer covers what it carries.
        let token = sign(claims("pets:read", "cli_1"));
        let parts: Vec<&str> = token.split('.').collect();
        let elevated = URL_SAFE_NO_PAD.encode(claims("pets:read pets:admin", "cli_1").to_string());
        format!("{}.{elevated}.{}", parts[0], parts[2])
    };
    let bad_signature = {
        let token = sign(claims("pets:read", "cli_1"));
        let (signed, _) = token.rsplit_once('.').expect("three parts");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]))
    };
    let cases = [
        (sign(expired), 401, "jwt-expired"),
        (sign(wrong_aud), 401, "jwt-wrong-audience"),
        (bad_signature, 401, "jwt-bad-signature"),
        (tampered, 401, "jwt-bad-signature"),
        ("e30.e30.c2ln".into(), 401, "jwt-malformed"),
        (sign(claims("pets:read", "cli_unknown")), 403, "jwt-unknown-client"),
    ];
    for (token, status, slug) in cases {
        let response = call(&gw, &token);
        assert_eq!((response.status().as_u16(), problem_type(&response)), (status, slug.to_owned()), "{slug}");
        if status == 401 {
            assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"invalid_token\"", "{slug}");
        }
    }
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
}

#[test]
fn an_unregistered_client_rides_the_issuers_anonymous_registration_when_there_is_one() {
    let gw = token_gateway(ANY_CLIENT);
    assert_eq!(call(&gw, &sign(claims("pets:read", "anyone"))).status(), 200);
}

#[test]
fn an_operation_that_takes_a_key_or_a_token_still_takes_the_key() {
    let (gw, key) = gateway(vec![], false);
    let mut with_token = token_gateway("cli_1");
    with_token.adapters.key = gw.adapters.key.clone();
    assert_eq!(block_on(with_token.handle(&mut get("/v1/pets/1", Some(&key)))).status(), 200);
}
