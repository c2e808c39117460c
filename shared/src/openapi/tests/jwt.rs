//! JWT schemes on import: each kind becomes token checks, `x-gatehouse-jwt` configures them,
//! and what cannot work is reported where it was written.

use super::*;

fn with_scheme(scheme: Value, extra: Value) -> String {
    let mut members = json!({ "components": { "securitySchemes": { "s": scheme } } });
    if let (Some(members), Value::Object(extra)) = (members.as_object_mut(), extra) {
        members.extend(extra);
    }
    doc(json!({ "/a": { "get": { "security": [{ "s": ["read"] }] } } }), members)
}

fn jwt_block() -> Value {
    json!({ "issuer": "https://idp.test/", "jwks_url": "https://idp.test/jwks", "audiences": ["a"], "leeway_secs": 60 })
}

fn token_requirement() -> Vec<Requirement> {
    vec![Requirement::token(vec!["read".into()])]
}

#[test]
fn each_scheme_kind_becomes_token_checks() {
    let kinds = [
        json!({ "type": "oauth2", "flows": {}, "x-gatehouse-jwt": jwt_block() }),
        json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "x-gatehouse-jwt": jwt_block() }),
        json!({ "type": "openIdConnect", "openIdConnectUrl": "https://idp.test/.well-known/openid-configuration",
                "x-gatehouse-jwt": { "audiences": ["a"], "leeway_secs": 60 } }),
    ];
    for scheme in kinds {
        let api = imported(&with_scheme(scheme.clone(), json!({})));
        assert_eq!(operation(&api, "GET /a").requirements, token_requirement(), "{scheme}");
        let jwt = api.auth.jwt.unwrap_or_else(|| panic!("settings for {scheme}"));
        assert_eq!((jwt.audiences.as_slice(), jwt.leeway_secs), (["a".to_string()].as_slice(), 60), "{scheme}");
        assert!(jwt.key_source().is_some(), "{scheme}");
    }
}

#[test]
fn a_plain_bearer_scheme_is_still_a_key_and_the_top_level_block_serves_every_scheme() {
    let api = imported(&with_scheme(json!({ "type": "http", "scheme": "bearer" }), json!({})));
    assert!(operation(&api, "GET /a").requirements.is_empty(), "a key, as before");
    assert_eq!(api.auth.key_locations, [KeyLocation::Bearer]);
    let top =
        imported(&with_scheme(json!({ "type": "oauth2", "flows": {} }), json!({ "x-gatehouse-jwt": jwt_block() })));
    assert_eq!(top.auth.jwt.and_then(|jwt| jwt.jwks_url).as_deref(), Some("https://idp.test/jwks"));
}

#[test]
fn open_id_connect_alone_discovers_its_issuer_and_keys() {
    let url = "https://idp.test/.well-known/openid-configuration";
    let api = imported(&with_scheme(json!({ "type": "openIdConnect", "openIdConnectUrl": url }), json!({})));
    assert_eq!(api.auth.jwt, Some(JwtSettings::discovered(url)));
}

#[test]
fn what_cannot_check_a_token_is_reported_where_it_was_written() {
    let at = "/components/securitySchemes/s";
    let unconfigured = imported(&with_scheme(json!({ "type": "oauth2", "flows": {} }), json!({})));
    let noted = unconfigured.report.iter().any(|n| n.pointer == at && n.message.contains("needs x-gatehouse-jwt"));
    assert!(noted, "reported, not a silent fallback: {:#?}", unconfigured.report);
    assert_eq!(unconfigured.auth.jwt, None, "no settings: the pipeline refuses every token");
    let bad = json!({ "type": "oauth2", "flows": {}, "x-gatehouse-jwt": { "jwks_url": "ftp://x", "leeway_secs": 900,
                      "algorithms": ["HS256"] } });
    let problems = refused(&with_scheme(bad, json!({})));
    let block = format!("{at}/x-gatehouse-jwt");
    assert!(has(&problems, &format!("{block}/jwks_url"), "not an http(s) URL"), "{problems:#?}");
    assert!(has(&problems, &format!("{block}/leeway_secs"), "at most 300"), "{problems:#?}");
    assert!(has(&problems, &format!("{block}/issuer"), "required"), "{problems:#?}");
    assert!(has(&problems, &format!("{block}/algorithms"), "HS256 needs a static secret"), "{problems:#?}");
    assert!(!has(&problems, at, "needs x-gatehouse-jwt"), "no second report: {problems:#?}");
    let typo = json!({ "type": "oauth2", "flows": {}, "x-gatehouse-jwt": { "issuer": "i", "jwks_url": "https://j",
                       "audience": "a" } });
    assert!(has(&refused(&with_scheme(typo, json!({}))), &block, "unknown field `audience`"));
}

#[test]
fn and_between_schemes_and_or_between_alternatives_are_kept() {
    let schemes = json!({ "components": { "securitySchemes": {
        "k": { "type": "apiKey", "name": "K", "in": "header" },
        "t": { "type": "oauth2", "flows": {} } } }, "x-gatehouse-jwt": jwt_block() });
    let paths = json!({ "/both": { "get": { "security": [{ "k": [], "t": ["w"] }] } },
                        "/either": { "get": { "security": [{ "k": ["plan"] }, { "t": ["r"] }] } } });
    let api = imported(&doc(paths, schemes));
    assert_eq!(
        operation(&api, "GET /both").requirements,
        [Requirement { key: true, jwt: Some(vec!["w".into()]), client_certificate: false }]
    );
    let either = operation(&api, "GET /either");
    assert_eq!(either.requirements, [Requirement::KEY, Requirement::token(vec!["r".into()])]);
    assert_eq!(either.scopes, ["plan"], "a key's plan scopes stay apart from token scopes");
}
