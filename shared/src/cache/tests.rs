//! End-to-end tests of the stage: `lookup` then `complete` against a `HashMap` store, with an
//! explicit `now`. GIVEN a stored state, WHEN a request arrives, THEN this is served.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};

use super::testkit::{api, block_on, MapCache};
use super::*;
use crate::model::Api;
use crate::ports::ResponseCache;
use crate::time::SECOND;

const T0: UnixMillis = 1_700_000_000_000;
const TARGET: &str = "/pets?b=2&a=1";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
}

fn upstream(status: u16, pairs: &[(&'static str, &str)], body: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(body.as_bytes()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    *r.headers_mut() = headers(pairs);
    r
}

/// One request through both calls; `upstream` is only consulted when the lookup forwards.
fn exchange(
    cache: &MapCache,
    api: &Api,
    method: Method,
    request: &HeaderMap,
    identity: Option<&str>,
    upstream: Response<Bytes>,
    now: UnixMillis,
) -> Response<Bytes> {
    let req = CacheRequest { api, method: &method, path_and_query: TARGET, headers: request, identity };
    let lookup = block_on(lookup(cache, &req, now));
    match lookup {
        Lookup::Hit(hit) => hit,
        lookup => block_on(complete(cache, &req, lookup, upstream, now)),
    }
}

fn status_of(r: &Response<Bytes>) -> &str {
    r.headers().get(CACHE_STATUS).map_or("", |v| v.to_str().unwrap())
}

fn get(cache: &MapCache, api: &Api, up: Response<Bytes>, now: UnixMillis) -> Response<Bytes> {
    exchange(cache, api, Method::GET, &HeaderMap::new(), None, up, now)
}

#[test]
fn stored_response_is_served_with_growing_age_until_it_expires() {
    let (cache, api) = (MapCache::default(), api(false));
    let first = get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v1"), T0);
    assert_eq!(status_of(&first), "Gatehouse; fwd=uri-miss; stored");
    let hit = get(&cache, &api, upstream(500, &[], "unused"), T0 + 10 * SECOND);
    assert_eq!((status_of(&hit), hit.body().as_ref()), ("Gatehouse; hit; ttl=50", b"v1".as_ref()));
    assert_eq!(hit.headers()["age"], "10");
    assert!(hit.extensions().get::<CacheOutcome>().is_none(), "an outcome is attached only to report a failure");
    let expired = get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v2"), T0 + 60 * SECOND);
    assert_eq!((status_of(&expired), expired.body().as_ref()), ("Gatehouse; fwd=stale; stored", b"v2".as_ref()));
}

#[test]
fn no_cache_response_is_revalidated_with_etag() {
    let (cache, api) = (MapCache::default(), api(false));
    get(&cache, &api, upstream(200, &[("cache-control", "no-cache"), ("etag", "\"v1\"")], "body"), T0);
    let req = CacheRequest {
        api: &api,
        method: &Method::GET,
        path_and_query: "/pets?a=1&b=2",
        headers: &HeaderMap::new(),
        identity: None,
    };
    let lookup = block_on(lookup(&cache, &req, T0 + SECOND));
    assert!(matches!(lookup, Lookup::Revalidate { reason: FwdReason::Stale, .. }));
    let conditional = lookup.conditional_headers();
    assert_eq!(conditional.len(), 1);
    assert_eq!((conditional[0].0.as_str(), conditional[0].1.to_str().unwrap()), ("if-none-match", "\"v1\""));
    let served = block_on(complete(&cache, &req, lookup, upstream(304, &[("etag", "\"v1\"")], ""), T0 + SECOND));
    assert_eq!((served.status(), served.body().as_ref()), (StatusCode::OK, b"body".as_ref()));
    assert_eq!(status_of(&served), "Gatehouse; fwd=stale; fwd-status=304");
}

#[test]
fn not_modified_refreshes_stored_headers_and_freshness() {
    let (cache, api) = (MapCache::default(), api(false));
    let validators =
        [("cache-control", "max-age=10"), ("etag", "\"v1\""), ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")];
    get(&cache, &api, upstream(200, &validators, "body"), T0);
    let req = CacheRequest {
        api: &api,
        method: &Method::GET,
        path_and_query: "/pets?a=1&b=2",
        headers: &HeaderMap::new(),
        identity: None,
    };
    let lookup = block_on(lookup(&cache, &req, T0 + 20 * SECOND));
    let names: Vec<String> = lookup.conditional_headers().iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, ["if-none-match", "if-modified-since"]);
    let not_modified = upstream(304, &[("cache-control", "max-age=100"), ("x-version", "2")], "");
    let served = block_on(complete(&cache, &req, lookup, not_modified, T0 + 20 * SECOND));
    assert_eq!((served.body().as_ref(), served.headers()["x-version"].to_str().unwrap()), (b"body".as_ref(), "2"));
    let hit = get(&cache, &api, upstream(500, &[], ""), T0 + 30 * SECOND);
    assert_eq!((status_of(&hit), hit.headers()["x-version"].to_str().unwrap()), ("Gatehouse; hit; ttl=90", "2"));
}

#[test]
fn client_no_cache_forwards_a_fresh_entry_as_fwd_request() {
    let (cache, api) = (MapCache::default(), api(false));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v1"), T0);
    let no_cache = headers(&[("cache-control", "no-cache")]);
    let up = upstream(200, &[("cache-control", "max-age=60")], "v2");
    let served = exchange(&cache, &api, Method::GET, &no_cache, None, up, T0 + SECOND);
    assert_eq!((status_of(&served), served.body().as_ref()), ("Gatehouse; fwd=request; stored", b"v2".as_ref()));
}

#[test]
fn client_no_store_and_unsafe_methods_bypass_the_cache() {
    let (cache, api) = (MapCache::default(), api(false));
    let no_store = headers(&[("cache-control", "no-store")]);
    let up = || upstream(200, &[("cache-control", "max-age=60")], "v1");
    let served = exchange(&cache, &api, Method::GET, &no_store, None, up(), T0);
    assert_eq!(status_of(&served), "Gatehouse; fwd=bypass");
    let posted = exchange(&cache, &api, Method::POST, &HeaderMap::new(), None, up(), T0);
    assert_eq!(status_of(&posted), "Gatehouse; fwd=bypass");
    assert!(cache.entries.borrow().is_empty());
}

#[test]
fn api_with_caching_off_is_left_untouched() {
    let (cache, mut api) = (MapCache::default(), api(false));
    api.cache.enabled = false;
    let served = get(&cache, &api, upstream(200, &[("cache-control", "max-age=60"), ("cache-tag", "t")], "v1"), T0);
    assert!(served.headers().get(CACHE_STATUS).is_none());
    assert_eq!(served.headers()["cache-tag"], "t");
    assert!(cache.entries.borrow().is_empty());
}

#[test]
fn authenticated_callers_never_see_each_others_cached_responses() {
    let (cache, api) = (MapCache::default(), api(false));
    let up = |body| upstream(200, &[("cache-control", "public, max-age=60")], body);
    exchange(&cache, &api, Method::GET, &HeaderMap::new(), Some("app_alice"), up("alice"), T0);
    let bob = exchange(&cache, &api, Method::GET, &HeaderMap::new(), Some("app_bob"), up("bob"), T0 + SECOND);
    assert_eq!((status_of(&bob), bob.body().as_ref()), ("Gatehouse; fwd=uri-miss; stored", b"bob".as_ref()));
    let alice = exchange(&cache, &api, Method::GET, &HeaderMap::new(), Some("app_alice"), up("x"), T0 + SECOND);
    assert_eq!(alice.body().as_ref(), b"alice");
}

#[test]
fn vary_mismatch_is_a_vary_miss_and_replaces_the_variant() {
    let (cache, api) = (MapCache::default(), api(false));
    let (json, xml) = (headers(&[("accept", "application/json")]), headers(&[("accept", "application/xml")]));
    let up = |body| upstream(200, &[("cache-control", "max-age=60"), ("vary", "Accept")], body);
    exchange(&cache, &api, Method::GET, &json, None, up("json"), T0);
    let served = exchange(&cache, &api, Method::GET, &xml, None, up("xml"), T0 + SECOND);
    assert_eq!((status_of(&served), served.body().as_ref()), ("Gatehouse; fwd=vary-miss; stored", b"xml".as_ref()));
    let hit = exchange(&cache, &api, Method::GET, &xml, None, up("unused"), T0 + 2 * SECOND);
    assert_eq!(hit.body().as_ref(), b"xml");
}

#[test]
fn tags_are_kept_for_purge_and_never_reach_the_client() {
    let (cache, api) = (MapCache::default(), api(false));
    let tagged = [("cache-control", "max-age=60"), ("cache-tag", "pets,pet-1"), ("surrogate-key", "zoo")];
    let served = get(&cache, &api, upstream(200, &tagged, "v1"), T0);
    assert!(served.headers().get("cache-tag").is_none() && served.headers().get("surrogate-key").is_none());
    let purge = |tag: &str| block_on(cache.purge(&PurgeSelector::Tag { api_id: api.id.clone(), tag: tag.into() }));
    assert_eq!(purge("other"), Ok(0));
    assert_eq!(purge("zoo"), Ok(1));
}

#[test]
fn broken_store_degrades_to_a_forwarded_call_and_reports_the_error() {
    let (cache, api) = (MapCache { broken: true, ..MapCache::default() }, api(false));
    let served = get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v1"), T0);
    assert_eq!((served.status(), status_of(&served)), (StatusCode::OK, "Gatehouse; fwd=uri-miss"));
    let outcome = served.extensions().get::<CacheOutcome>().unwrap();
    assert_eq!(outcome.error.as_ref().map(|e| e.port), Some("cache"));
}

#[test]
fn head_is_answered_from_a_stored_get_but_never_stored_itself() {
    let (cache, api) = (MapCache::default(), api(false));
    let up = |body| upstream(200, &[("cache-control", "max-age=60"), ("content-length", "2")], body);
    let head = exchange(&cache, &api, Method::HEAD, &HeaderMap::new(), None, up(""), T0);
    assert_eq!(status_of(&head), "Gatehouse; fwd=uri-miss");
    get(&cache, &api, up("v1"), T0);
    let head = exchange(&cache, &api, Method::HEAD, &HeaderMap::new(), None, up(""), T0 + SECOND);
    assert_eq!((status_of(&head), head.body().len()), ("Gatehouse; hit; ttl=59", 0));
    assert_eq!(head.headers()["content-length"], "2");
}

#[test]
fn client_holding_the_stored_etag_gets_not_modified_from_the_cache() {
    let (cache, api) = (MapCache::default(), api(false));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60"), ("etag", "W/\"v1\"")], "body"), T0);
    let conditional = headers(&[("if-none-match", "\"v0\", \"v1\"")]);
    let served = exchange(&cache, &api, Method::GET, &conditional, None, upstream(500, &[], ""), T0 + SECOND);
    assert_eq!((served.status(), served.body().len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(
        (status_of(&served), served.headers()["etag"].to_str().unwrap()),
        ("Gatehouse; hit; ttl=59", "W/\"v1\"")
    );
}

#[test]
fn authorization_request_does_not_use_an_entry_the_origin_did_not_share() {
    let (cache, api) = (MapCache::default(), api(true));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "anon"), T0);
    let bearer = headers(&[("authorization", "Bearer gh_live_x")]);
    let up = upstream(200, &[("cache-control", "max-age=60")], "fresh");
    let served = exchange(&cache, &api, Method::GET, &bearer, None, up, T0 + SECOND);
    assert_eq!((status_of(&served), served.body().as_ref()), ("Gatehouse; fwd=request", b"fresh".as_ref()));
}

#[test]
fn rfc9111_4_4_a_successful_unsafe_request_invalidates_its_url_and_location() {
    let (cache, api) = (MapCache::default(), api(false));
    let fresh = || upstream(200, &[("cache-control", "max-age=60")], "v1");
    get(&cache, &api, fresh(), T0);
    let other = CacheRequest {
        api: &api,
        method: &Method::GET,
        path_and_query: "/pets/2",
        headers: &HeaderMap::new(),
        identity: None,
    };
    block_on(complete(&cache, &other, block_on(lookup(&cache, &other, T0)), fresh(), T0));
    assert_eq!(cache.entries.borrow().len(), 2);
    let failed = CacheRequest { method: &Method::POST, ..other };
    let mut error = upstream(500, &[("location", TARGET)], "");
    block_on(invalidate(&cache, &failed, &mut error));
    assert_eq!(cache.entries.borrow().len(), 2, "a failed unsafe request invalidates nothing");
    let mut created = upstream(201, &[("location", TARGET)], "");
    block_on(invalidate(&cache, &failed, &mut created));
    assert!(cache.entries.borrow().is_empty(), "the request URL and its Location are both dropped");
}

#[test]
fn rfc9111_5_2_1_7_only_if_cached_is_a_504_from_the_cache_when_nothing_fresh_is_stored() {
    let (cache, api) = (MapCache::default(), api(false));
    let only = headers(&[("cache-control", "only-if-cached")]);
    let req = CacheRequest { api: &api, method: &Method::GET, path_and_query: TARGET, headers: &only, identity: None };
    let Lookup::Answer(answer) = block_on(lookup(&cache, &req, T0)) else { panic!("must not forward") };
    assert_eq!((answer.status().as_u16(), status_of(&answer)), (504, "Gatehouse; detail=only-if-cached"));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v1"), T0);
    assert!(matches!(block_on(lookup(&cache, &req, T0 + SECOND)), Lookup::Hit(_)), "a fresh entry answers it");
}

#[test]
fn rfc9111_5_4_pragma_no_cache_forwards_a_fresh_entry() {
    let (cache, api) = (MapCache::default(), api(false));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "v1"), T0);
    let pragma = headers(&[("pragma", "no-cache")]);
    let served = exchange(&cache, &api, Method::GET, &pragma, None, upstream(200, &[], "v2"), T0 + SECOND);
    assert_eq!((status_of(&served), served.body().as_ref()), ("Gatehouse; fwd=request", b"v2".as_ref()));
}

#[test]
fn rfc9110_14_a_range_request_is_served_as_206_from_a_complete_entry() {
    let (cache, api) = (MapCache::default(), api(false));
    get(&cache, &api, upstream(200, &[("cache-control", "max-age=60")], "01234567890"), T0);
    let range = headers(&[("range", "bytes=1-3")]);
    let served = exchange(&cache, &api, Method::GET, &range, None, upstream(500, &[], ""), T0 + SECOND);
    assert_eq!((served.status().as_u16(), served.body().as_ref()), (206, b"123".as_ref()));
    assert_eq!(
        (status_of(&served), served.headers()["content-range"].to_str().unwrap()),
        ("Gatehouse; hit; ttl=59", "bytes 1-3/11")
    );
}

#[test]
fn rfc9111_3_2_a_304_refresh_keeps_the_stored_etag_and_content_encoding() {
    let (cache, api) = (MapCache::default(), api(false));
    let stored = [("cache-control", "max-age=1"), ("etag", "\"v1\""), ("content-encoding", "gzip")];
    get(&cache, &api, upstream(200, &stored, "zz"), T0);
    let not_modified =
        upstream(304, &[("cache-control", "max-age=60"), ("etag", "\"v2\""), ("content-encoding", "br")], "");
    let served = get(&cache, &api, not_modified, T0 + 2 * SECOND);
    let hit = get(&cache, &api, upstream(500, &[], ""), T0 + 3 * SECOND);
    for r in [&served, &hit] {
        assert_eq!(
            (r.headers()["etag"].to_str().unwrap(), r.headers()["content-encoding"].to_str().unwrap()),
            ("\"v1\"", "gzip")
        );
    }
    assert_eq!(status_of(&hit), "Gatehouse; hit; ttl=59");
}

#[test]
fn rfc9111_5_1_age_joined_by_the_platform_is_read_like_two_lines() {
    for age in [&["7200", "0"][..], &["7200, 0"][..]] {
        let (cache, api) = (MapCache::default(), api(false));
        let mut up = upstream(200, &[("cache-control", "max-age=3600")], "old");
        for line in age {
            up.headers_mut().append("age", line.parse().unwrap());
        }
        get(&cache, &api, up, T0);
        let next = get(&cache, &api, upstream(200, &[("cache-control", "max-age=3600")], "new"), T0 + SECOND);
        assert_eq!(next.body().as_ref(), b"new", "{age:?}: 7200 s old is past max-age=3600");
    }
}
