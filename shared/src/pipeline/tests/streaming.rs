//! Streamed bodies through the pipeline: what it decides about them (cache within a size,
//! limits named in the 413, usage left to the runtime) without reading them itself.

use http::header::{CONNECTION, UPGRADE};
use serde_json::Value;

use super::*;
use crate::cache::MAX_ENTRY_BYTES;
use crate::usage::StreamedUsage;

/// The fake upstream's answer: `x-test-chunks: n` streams n chunks of `x-test-chunk-bytes`
/// (default 2) bytes, `x-test-cc` sets its `Cache-Control`, and an upgrade request is
/// switched when `x-test-switch` is present.
pub(super) fn answer(request: &Request<TestBody>, call: &UpstreamCall) -> Result<Response<TestBody>, UpstreamError> {
    let field = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let cc = field("x-test-cc").unwrap_or_else(|| "public, max-age=60".into());
    let mut response = Response::builder().header("cache-control", cc);
    if let Some(content_type) = field("x-test-content-type") {
        response = response.header("content-type", content_type);
    }
    if call.upgrade && field("x-test-switch").is_some() {
        response = response.status(101).header("connection", "upgrade").header("upgrade", "websocket");
        return Ok(response.body(Body::Stream(vec![])).unwrap_or_default());
    }
    let body = match field("x-test-chunks").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => {
            let size = field("x-test-chunk-bytes").and_then(|n| n.parse().ok()).unwrap_or(2);
            Body::Stream(vec![Bytes::from(vec![b'x'; size]); n])
        }
        None => Body::Full(Bytes::from_static(b"{}")),
    };
    Ok(response.body(body).unwrap_or_default())
}

fn streamed(key: &str, chunks: usize, chunk_bytes: usize, cc: Option<&str>) -> Request<TestBody> {
    let mut request = get("/v1/pets/1", Some(key));
    let headers = request.headers_mut();
    headers.insert("x-test-chunks", chunks.to_string().parse().expect("value"));
    headers.insert("x-test-chunk-bytes", chunk_bytes.to_string().parse().expect("value"));
    if let Some(cc) = cc {
        headers.insert("x-test-cc", cc.parse().expect("value"));
    }
    request
}

fn cache_status(response: &Response<TestBody>) -> String {
    response.headers().get("cache-status").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[test]
fn a_small_streamed_answer_the_cache_may_store_is_stored_and_served_whole() {
    let (gw, key) = gateway(vec![], false);
    let first = block_on(gw.handle(&mut streamed(&key, 3, 2, None)));
    assert!(matches!(first.body(), Body::Full(b) if b.len() == 6), "read whole for the cache");
    assert!(cache_status(&first).contains("stored"), "{}", cache_status(&first));
    let second = block_on(gw.handle(&mut streamed(&key, 3, 2, None)));
    assert!(cache_status(&second).contains("hit"), "{}", cache_status(&second));
    assert_eq!(gw.adapters.upstream_seen.borrow().len(), 1);
}

#[test]
fn a_streamed_answer_the_head_says_not_to_store_streams_on_untouched() {
    let (gw, key) = gateway(vec![], false);
    let response = block_on(gw.handle(&mut streamed(&key, 3, 2, Some("no-store"))));
    assert!(matches!(response.body(), Body::Stream(chunks) if chunks.len() == 3), "never read by the gateway");
    assert!(!cache_status(&response).contains("stored"), "{}", cache_status(&response));
}

#[test]
fn a_streamed_answer_past_the_cache_entry_limit_streams_on_uncached() {
    let (gw, key) = gateway(vec![], false);
    let chunk = MAX_ENTRY_BYTES / 4 + 1;
    let response = block_on(gw.handle(&mut streamed(&key, 4, chunk, None)));
    assert!(matches!(response.body(), Body::Stream(chunks) if chunks.len() == 4), "streams on whole");
    assert!(cache_status(&response).contains("fwd=uri-miss"), "{}", cache_status(&response));
    assert!(!cache_status(&response).contains("stored"));
    let again = block_on(gw.handle(&mut streamed(&key, 4, chunk, None)));
    assert!(!cache_status(&again).contains("hit"), "nothing was stored");
}

#[test]
fn a_streamed_call_leaves_its_usage_event_to_the_runtime_with_what_the_pipeline_knew() {
    let (gw, key) = gateway(vec![], false);
    let response = block_on(gw.handle(&mut streamed(&key, 2, 2, Some("no-store"))));
    assert!(gw.adapters.events.borrow().is_empty(), "not recorded before the body has passed");
    let usage = response.extensions().get::<StreamedUsage>().expect("handed to the runtime");
    assert_eq!((usage.api_id.as_str(), usage.key_id.as_deref(), usage.status), ("api_1", Some("key_1"), 200));
    let event = usage.event(0, 4);
    assert_eq!((event.bytes_in, event.bytes_out, event.outcome), (0, 4, Outcome::Valid));
}

#[test]
fn a_body_announced_past_the_apis_own_limit_is_refused_with_that_limit() {
    let (mut gw, key) = gateway(vec![], false);
    let mut api = gw.adapters.routes.apis().first().map(|api| (**api).clone()).expect("an api");
    api.upstream.max_body_bytes = Some(1000);
    gw.adapters.routes = Arc::new(RouteTable::new([api]));
    let mut request = get("/v1/pets/1", Some(&key));
    request.headers_mut().insert("content-length", "1001".parse().expect("value"));
    *request.body_mut() = Body::Stream(vec![]);
    let response = block_on(gw.handle(&mut request));
    assert_eq!(response.status(), 413);
    let Body::Full(bytes) = response.body() else { panic!("a problem is whole") };
    let problem: Value = serde_json::from_slice(bytes).expect("json");
    assert_eq!(problem["max_bytes"], 1000, "{problem}");
    assert!(gw.adapters.upstream_seen.borrow().is_empty());
    // Within the API's limit (above the gateway's default of 64 here), it goes through.
    let mut request = get("/v1/pets/1", Some(&key));
    request.headers_mut().insert("content-length", "1000".parse().expect("value"));
    *request.body_mut() = Body::Stream(vec![]);
    assert_eq!(block_on(gw.handle(&mut request)).status(), 200);
    let seen = gw.adapters.upstream_seen.borrow();
    assert!(seen[0].body().is_stream(), "the body goes on as a stream");
}

fn upgrade(key: Option<&str>) -> Request<TestBody> {
    let mut request = get("/v1/pets/1", key);
    let headers = request.headers_mut();
    headers.insert(CONNECTION, "Upgrade".parse().expect("value"));
    headers.insert(UPGRADE, "websocket".parse().expect("value"));
    headers.insert("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==".parse().expect("value"));
    headers.insert("x-test-switch", "1".parse().expect("value"));
    request
}

#[test]
fn a_websocket_upgrade_is_switched_only_after_the_caller_is_admitted() {
    let (gw, key) = gateway(vec![], false);
    let refused = block_on(gw.handle(&mut upgrade(None)));
    assert_eq!(refused.status(), 401);
    assert!(gw.adapters.upstream_seen.borrow().is_empty(), "no upgrade without a key");

    let switched = block_on(gw.handle(&mut upgrade(Some(&key))));
    assert_eq!(switched.status(), 101);
    assert_eq!(switched.headers()[UPGRADE], "websocket");
    assert!(switched.extensions().get::<StreamedUsage>().is_some(), "one request, counted when it closes");
    let seen = gw.adapters.upstream_seen.borrow();
    assert_eq!(seen[0].headers()[UPGRADE], "websocket", "the upstream is asked to switch");
    assert_eq!(seen[0].headers()[CONNECTION], "upgrade");
    assert!(seen[0].headers().get("x-api-key").is_none(), "the credential is still stripped");
}
