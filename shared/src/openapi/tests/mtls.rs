//! `mutualTLS` schemes on import: a client certificate requirement, alone or beside a key.

use super::*;

#[test]
fn mutual_tls_alone_or_beside_a_key_becomes_a_certificate_requirement() {
    let paths = json!({
        "/partner": { "get": { "security": [{ "partnerCert": [] }] } },
        "/both": { "get": { "security": [{ "partnerCert": [], "key": ["read"] }] } },
        "/either": { "get": { "security": [{ "partnerCert": [] }, { "key": [] }] } },
    });
    let schemes = json!({ "components": { "securitySchemes": {
        "partnerCert": { "type": "mutualTLS" },
        "key": { "type": "apiKey", "in": "header", "name": "X-Key" },
    } } });
    let api = imported(&doc(paths, schemes));
    let certificate = Requirement { key: false, jwt: None, client_certificate: true };
    assert_eq!(operation(&api, "GET /partner").requirements, std::slice::from_ref(&certificate));
    let both = operation(&api, "GET /both");
    assert_eq!(both.requirements, [Requirement { key: true, jwt: None, client_certificate: true }]);
    assert_eq!(both.scopes, ["read"], "the key's scopes stay the plan's");
    assert_eq!(operation(&api, "GET /either").requirements, [certificate, Requirement::KEY]);
}
