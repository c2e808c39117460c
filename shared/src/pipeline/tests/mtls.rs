//! The pipeline's client-certificate path: a verified certificate's registered subject admits
//! its app; without the certificate, or with an unregistered subject, the call is refused.

use std::sync::Arc;

use serde_json::Value;

use super::*;
use crate::model::{ClientCertificate, Requirement};
use crate::pipeline::client_certificate::{certificate_hash, PresentedCertificate};
use crate::routing::RouteTable;

const PARTNER: &str = "CN=billing,O=Partner A";

/// The fakes' gateway with `requirements` on every operation and its one credential record
/// being the registration of [`PARTNER`]; also the key that the fakes' key record had.
fn mtls_gateway(requirements: Vec<Requirement>) -> (Gateway<Fakes>, String) {
    let (mut gw, key) = gateway(vec![], false);
    let mut api = gw.adapters.routes.apis().first().map(|api| (**api).clone()).expect("an api");
    api.cache.enabled = false;
    for op in &mut api.operations {
        op.requirements.clone_from(&requirements);
    }
    gw.adapters.routes = Arc::new(RouteTable::new([api]));
    gw.adapters.key.hash = certificate_hash(PARTNER);
    gw.adapters.key.client_certificate = Some(ClientCertificate { subject: PARTNER.into() });
    (gw, key)
}

fn certificate_only() -> Requirement {
    Requirement { key: false, jwt: None, client_certificate: true }
}

fn call(gw: &Gateway<Fakes>, subject: Option<&str>, key: Option<&str>) -> Response<TestBody> {
    let mut request = get("/v1/pets/1", key);
    if let Some(subject) = subject {
        request.extensions_mut().insert(PresentedCertificate { subject: subject.into() });
    }
    block_on(gw.handle(&mut request))
}

fn detail(response: &Response<TestBody>) -> String {
    let Body::Full(bytes) = response.body() else { return String::new() };
    let body: Value = serde_json::from_slice(bytes).unwrap_or_default();
    body["detail"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_registered_subject_calls_as_its_app_and_counts_as_its_registration() {
    let (gw, _) = mtls_gateway(vec![certificate_only()]);
    let response = call(&gw, Some(PARTNER), None);
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let seen = gw.adapters.upstream_seen.borrow();
    let identity = seen[0].headers()["gatehouse-identity"].to_str().unwrap_or_default().to_owned();
    assert!(identity.starts_with("app=app_1;dev=dev_1;key=key_1;ts="), "{identity}");
    let event = &gw.adapters.events.borrow()[0];
    assert_eq!((event.outcome, event.key_id.as_deref()), (Outcome::Valid, Some("key_1")));
}

#[test]
fn no_certificate_is_a_401_and_an_unregistered_subject_a_403_naming_it() {
    let (gw, _) = mtls_gateway(vec![certificate_only()]);
    let missing = call(&gw, None, None);
    assert_eq!(missing.status(), 401);
    assert!(detail(&missing).contains("client certificate"), "{}", detail(&missing));
    let stranger = call(&gw, Some("CN=billing,O=Partner B"), None);
    assert_eq!(stranger.status(), 403);
    assert!(detail(&stranger).contains("\"CN=billing,O=Partner B\""), "{}", detail(&stranger));
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
    let outcomes: Vec<Outcome> = gw.adapters.events.borrow().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, [Outcome::Missing, Outcome::Forbidden]);
}

#[test]
fn a_revoked_registration_is_refused_like_a_revoked_key() {
    let (mut gw, _) = mtls_gateway(vec![certificate_only()]);
    gw.adapters.key.status = KeyStatus::Revoked;
    assert_eq!(call(&gw, Some(PARTNER), None).status(), 401);
}

#[test]
fn beside_a_key_the_certificate_must_be_present_and_the_key_names_the_caller() {
    let both = Requirement { key: true, jwt: None, client_certificate: true };
    let (mut gw, key) = mtls_gateway(vec![both]);
    let (plain, _) = gateway(vec![], false);
    gw.adapters.key = plain.adapters.key.clone();
    assert_eq!(call(&gw, None, Some(&key)).status(), 401, "the key alone is not enough");
    // Any verified certificate will do: the key names the caller.
    assert_eq!(call(&gw, Some("CN=unregistered"), Some(&key)).status(), 200);
}

#[test]
fn an_operation_that_takes_a_certificate_or_a_key_takes_either() {
    let (mut gw, key) = mtls_gateway(vec![certificate_only(), Requirement::KEY]);
    assert_eq!(call(&gw, Some(PARTNER), None).status(), 200, "the certificate");
    let (plain, _) = gateway(vec![], false);
    gw.adapters.key = plain.adapters.key.clone();
    assert_eq!(call(&gw, None, Some(&key)).status(), 200, "a key without a certificate");
    assert_eq!(call(&gw, Some("CN=unregistered"), Some(&key)).status(), 200, "a key sent beside a certificate wins");
}
