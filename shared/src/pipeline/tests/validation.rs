//! Validation in the pipeline: a checked operation's invalid request is refused before the
//! upstream and counted as `invalid_request`; a response that does not match its schema is
//! passed on unchanged, with the mismatch noted for the runtime's log.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::routing::RouteTable;
use crate::validation::ResponseMismatch;

fn validated_gateway() -> (Gateway<Fakes>, String) {
    let (mut gw, key) = gateway(vec![], false);
    let mut api = gw.adapters.routes.apis().first().map(|api| (**api).clone()).expect("an api");
    api.cache.enabled = false;
    api.openapi = json!({
        "openapi": "3.1.0", "info": {"title": "Pets", "version": "1"},
        "paths": {"/pets/{id}": {"get": {
            "operationId": "getPet",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "required": ["name"]}}}}}
        }}}
    });
    api.validation = serde_json::from_value(json!({"requests": true, "responses": "log"})).expect("settings");
    crate::validation::prepare(&mut api).expect("prepared");
    gw.adapters.routes = Arc::new(RouteTable::new([api]));
    (gw, key)
}

#[test]
fn an_invalid_request_is_refused_before_the_upstream_and_counted_as_such() {
    let (gw, key) = validated_gateway();
    let response = block_on(gw.handle(&mut get("/v1/pets/0", Some(&key))));
    assert_eq!(response.status(), 400);
    assert!(gw.adapters.upstream_seen.borrow().is_empty(), "the upstream never saw it");
    let events = gw.adapters.events.borrow();
    assert_eq!(events.last().map(|e| (e.outcome, e.status)), Some((Outcome::InvalidRequest, 400)));
}

#[test]
fn a_response_mismatch_is_noted_for_the_log_and_the_response_passes_unchanged() {
    let (gw, key) = validated_gateway();
    let mut request = get("/v1/pets/3", Some(&key));
    request.headers_mut().insert("x-test-content-type", http::HeaderValue::from_static("application/json"));
    let response = block_on(gw.handle(&mut request));
    assert_eq!(response.status(), 200);
    assert!(matches!(response.body(), Body::Full(bytes) if bytes.as_ref() == b"{}"), "unchanged");
    let mismatch = response.extensions().get::<ResponseMismatch>().expect("noted");
    assert_eq!((mismatch.operation_id.as_str(), mismatch.status), ("getPet", 200));
    assert_eq!(mismatch.pointers, vec!["/body".to_owned()], "the missing `name`, at the body's root");
    assert_eq!(gw.adapters.events.borrow().last().map(|e| e.outcome), Some(Outcome::Valid));
}
