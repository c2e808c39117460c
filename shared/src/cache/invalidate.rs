//! Invalidation after an unsafe request (RFC 9111 §4.4): a `POST`, `PUT`, `DELETE`, `PATCH`
//! or extension method that succeeds (a 2xx or 3xx answer) changed something upstream, so the
//! cache drops what it holds for the request's URL and for the URLs in the answer's
//! `Location` and `Content-Location`, when those are on the same origin (a different origin
//! is never invalidated, or one site could empty the cache for another).
//!
//! **What is dropped.** Entries are keyed per identity ([`super::key`]), and no store can list
//! them (the Cache API cannot), so an unsafe request drops the caller's own entry and the
//! shared one (anonymous callers', or every caller's for a `public` API). Other callers'
//! private copies of the same URL are not found; they end with their own freshness. URLs are
//! read in the client's URL space, as the client would resolve them: Gatehouse does not
//! rewrite `Location`, so an upstream that wants invalidation to reach a URL names it as the
//! client sees it. Only this API's entries are dropped.

use http::header::{CONTENT_LOCATION, HOST, LOCATION};
use http::{Method, Response, Uri};

use super::key::cache_key;
use super::stage::{CacheOutcome, CacheRequest};
use crate::ports::ResponseCache;

/// Whether a method is safe (RFC 9110 §9.2.1): only these leave the cache as it is.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Drops the entries `response` invalidates, for a request to an API with caching on. A
/// store failure is put in the response's extensions as a [`CacheOutcome`] for the runtime to
/// log; the response goes out regardless.
pub async fn invalidate<C: ResponseCache, B>(cache: &C, req: &CacheRequest<'_>, response: &mut Response<B>) {
    if !req.api.cache.enabled || is_safe(req.method) || !(200..400).contains(&response.status().as_u16()) {
        return;
    }
    let host = req.headers.get(HOST).and_then(|h| h.to_str().ok());
    let mut targets = vec![req.path_and_query.to_owned()];
    for name in [LOCATION, CONTENT_LOCATION] {
        let value = response.headers().get(&name).and_then(|v| v.to_str().ok());
        if let Some(target) = value.and_then(|v| same_origin_target(v, req.path_and_query, host)) {
            targets.push(target);
        }
    }
    let mut keys = Vec::with_capacity(targets.len() * 2);
    for target in &targets {
        for identity in [req.identity, None] {
            let key = cache_key(req.api, &Method::GET, target, identity);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    for key in &keys {
        if let Err(error) = cache.remove(key).await {
            let outcome = CacheOutcome { status: None, not_stored: None, error: Some(error) };
            response.extensions_mut().insert(outcome);
        }
    }
}

/// The path and query a `Location`/`Content-Location` value names, resolved against the
/// request's target; `None` for another origin, or for a reference this does not resolve
/// (dot segments), which is then not invalidated.
pub fn same_origin_target(reference: &str, request_target: &str, host: Option<&str>) -> Option<String> {
    let reference = reference.trim();
    if reference.is_empty() {
        return None;
    }
    if reference.starts_with("//") || reference.contains("://") {
        // A network-path reference (`//host/path`) keeps the request's scheme; only its
        // authority matters here.
        let uri = match reference.strip_prefix("//") {
            Some(rest) => Uri::try_from(format!("http://{rest}")).ok()?,
            None => Uri::try_from(reference).ok()?,
        };
        let same_host = uri.authority().zip(host).is_some_and(|(a, h)| a.as_str().eq_ignore_ascii_case(h));
        return same_host.then(|| uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned());
    }
    let path_of_request = request_target.split(['?', '#']).next().unwrap_or("/");
    let resolved = if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let directory = &path_of_request[..path_of_request.rfind('/').map_or(0, |slash| slash + 1)];
        format!("{directory}{reference}")
    };
    let path = resolved.split(['?', '#']).next().unwrap_or_default();
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return None;
    }
    Some(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9111_4_4_location_targets_resolve_on_the_same_origin_only() {
        let resolve = |r| same_origin_target(r, "/pets/items?x=1", Some("gw.test:8080"));
        assert_eq!(resolve("/pets/items/1").as_deref(), Some("/pets/items/1"));
        assert_eq!(resolve("items/1?y=2").as_deref(), Some("/pets/items/1?y=2"));
        assert_eq!(resolve("http://GW.test:8080/pets/a").as_deref(), Some("/pets/a"));
        assert_eq!(resolve("//gw.test:8080/pets/b").as_deref(), Some("/pets/b"));
        assert_eq!(resolve("https://other.test/pets/a"), None, "another origin is never invalidated");
        assert_eq!(resolve("http://gw.test/pets/a"), None, "another port is another origin");
        assert_eq!(resolve("../admin"), None);
        assert_eq!(resolve("  "), None);
        assert_eq!(same_origin_target("http://gw.test/a", "/", None), None, "no Host: no absolute match");
    }

    #[test]
    fn only_unsafe_methods_invalidate() {
        for safe in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(is_safe(&safe));
        }
        for unsafe_method in ["POST", "PUT", "DELETE", "PATCH", "M-SEARCH"] {
            assert!(!is_safe(&Method::from_bytes(unsafe_method.as_bytes()).unwrap_or(Method::POST)));
        }
    }
}
