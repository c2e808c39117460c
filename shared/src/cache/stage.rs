//! The cache stage of the request pipeline: [`lookup`] before the upstream call, [`complete`]
//! after it. See the module docs of [`crate::cache`] for how the pipeline strings them together.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::directives::CacheControl;
use super::entry::{conditional_headers, merge_headers, strip_tag_headers, tags, vary_matches};
use super::freshness::{usability, Usability};
use super::key::{remember_served, served_key};
use super::policy::{authorization_allows_sharing, entry_for, NotStored};
use super::respond::serve;
use super::status::{CacheStatus, FwdReason};
use super::CachedResponse;
use crate::model::Api;
use crate::ports::{PortError, ResponseCache};
use crate::problem::{Problem, ProblemKind};
use crate::time::UnixMillis;

/// What the cache needs to know about a request that has passed authentication and limits.
#[derive(Debug, Clone, Copy)]
pub struct CacheRequest<'a> {
    pub api: &'a Api,
    pub method: &'a Method,
    /// Request target below the gateway, as forwarded (a credential in the query is ignored
    /// by the key either way).
    pub path_and_query: &'a str,
    /// The client's request headers, before the credential is stripped: `Authorization` and
    /// the client's `Cache-Control` and validators matter here.
    pub headers: &'a HeaderMap,
    /// The authenticated app id; `None` for anonymous calls. Part of the key unless the API is
    /// `public`.
    pub identity: Option<&'a str>,
}

/// What [`lookup`] found, to be handed back to [`complete`].
#[derive(Debug)]
pub enum Lookup {
    /// The cache does not handle this request; `announce` is false only when the API has
    /// caching off, which is the one case without `Cache-Status`.
    Bypass { announce: bool },
    /// Forward as is. `error` is the store's failure, if that is why nothing was found.
    Miss { key: String, reason: FwdReason, requested_at: UnixMillis, error: Option<PortError> },
    /// Forward with [`Lookup::conditional_headers`]; a 304 refreshes `stored`.
    Revalidate { key: String, reason: FwdReason, stored: Arc<CachedResponse>, requested_at: UnixMillis },
    /// Answer with this response; do not call the upstream. Not boxed, although it is the
    /// largest variant: a hit is the path that must be fastest, and a box is an allocation.
    Hit(Response<Bytes>),
    /// Answer with this response, which the cache made without a stored one and without the
    /// upstream: the `504` for `only-if-cached` when nothing fresh is stored (RFC 9111
    /// §5.2.1.7). Not a hit.
    Answer(Response<Bytes>),
}

/// Put in a response's extensions when a cache store failed, for the runtime to log; the call
/// went on without the cache. Not attached otherwise: `Cache-Status` already says how the
/// cache handled a response, and an extension costs two allocations on every response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOutcome {
    /// `None` when the API has caching off.
    pub status: Option<CacheStatus>,
    /// Why the upstream's response was not stored, when it was a candidate.
    pub not_stored: Option<NotStored>,
    /// A store failure (read or write) the runtime should log; the call went on regardless.
    pub error: Option<PortError>,
}

impl Lookup {
    /// Headers to add (replacing the client's own) to the upstream request of a revalidation.
    pub fn conditional_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        match self {
            Lookup::Revalidate { stored, .. } => conditional_headers(stored),
            _ => Vec::new(),
        }
    }
}

/// Looks the request up. Never fails: a store error is a miss, carried in [`Lookup::Miss`].
pub async fn lookup<C: ResponseCache>(cache: &C, req: &CacheRequest<'_>, now: UnixMillis) -> Lookup {
    if !req.api.cache.enabled {
        return Lookup::Bypass { announce: false };
    }
    let request_cc = CacheControl::from_request(req.headers);
    if !(*req.method == Method::GET || *req.method == Method::HEAD) {
        return Lookup::Bypass { announce: true };
    }
    match find(cache, req, &request_cc, now).await {
        found @ Lookup::Hit(_) => found,
        _ if request_cc.only_if_cached => Lookup::Answer(not_cached()),
        found => found,
    }
}

/// The `504` for `only-if-cached` without a fresh stored response: the client asked not to
/// be forwarded, so the upstream is not called (RFC 9111 §5.2.1.7).
fn not_cached() -> Response<Bytes> {
    let mut response = Problem::new(ProblemKind::NotCached)
        .detail("No fresh response is stored for this request, and it asked for only-if-cached.")
        .into_response();
    CacheStatus::NotForwarded { detail: "only-if-cached" }.apply(response.headers_mut());
    response
}

/// [`lookup`] for a GET or HEAD: a hit, or why and how to forward.
async fn find<C: ResponseCache>(
    cache: &C,
    req: &CacheRequest<'_>,
    request_cc: &CacheControl,
    now: UnixMillis,
) -> Lookup {
    if request_cc.no_store {
        return Lookup::Bypass { announce: true };
    }
    let (key, remembered) = served_key(req.api, req.method, req.path_and_query, req.identity);
    let stored = match cache.get(&key).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return Lookup::Miss { key, reason: FwdReason::UriMiss, requested_at: now, error: None },
        Err(e) => return Lookup::Miss { key, reason: FwdReason::UriMiss, requested_at: now, error: Some(e) },
    };
    if !vary_matches(&stored, req.headers) {
        return Lookup::Miss { key, reason: FwdReason::VaryMiss, requested_at: now, error: None };
    }
    let reason =
        if req.headers.contains_key(AUTHORIZATION) && !authorization_allows_sharing(&stored.response_cache_control()) {
            FwdReason::Request // RFC 9111 §3.5, for entries stored from requests without it
        } else {
            match usability(&stored, request_cc, now) {
                Usability::Fresh { ttl_secs, age_secs } => {
                    if !remembered {
                        remember_served(req.api, req.method, req.path_and_query, req.identity, &key);
                    }
                    return hit(req, &stored, ttl_secs, age_secs);
                }
                Usability::Stale => FwdReason::Stale,
                Usability::RequestForbids => FwdReason::Request,
            }
        };
    if stored.has_validators() {
        Lookup::Revalidate { key, reason, stored, requested_at: now }
    } else {
        Lookup::Miss { key, reason, requested_at: now, error: None }
    }
}

fn hit(req: &CacheRequest<'_>, stored: &CachedResponse, ttl_secs: i64, age_secs: i64) -> Lookup {
    let mut response = serve(req, stored.status, &stored.headers, &stored.body, Some(age_secs));
    // No tag headers to strip: entries are stored without them (`entry::storable_headers`).
    let status = CacheStatus::Hit { ttl_secs };
    status.apply(response.headers_mut());
    Lookup::Hit(response)
}

/// Stores the upstream's response if allowed (or refreshes the stored one on a 304) and
/// returns what to send. A `Hit` lookup is returned unchanged: the upstream was not needed.
pub async fn complete<C: ResponseCache>(
    cache: &C,
    req: &CacheRequest<'_>,
    lookup: Lookup,
    upstream: Response<Bytes>,
    now: UnixMillis,
) -> Response<Bytes> {
    match lookup {
        Lookup::Hit(response) | Lookup::Answer(response) => response,
        Lookup::Bypass { announce } => bypassed(upstream, announce),
        Lookup::Revalidate { key, reason, stored, requested_at } if upstream.status() == StatusCode::NOT_MODIFIED => {
            refresh(cache, req, &key, reason, &stored, upstream, requested_at, now).await
        }
        Lookup::Revalidate { key, reason, requested_at, .. } => {
            store(cache, req, &key, reason, upstream, requested_at, now, None).await
        }
        Lookup::Miss { key, reason, requested_at, error } => {
            store(cache, req, &key, reason, upstream, requested_at, now, error).await
        }
    }
}

/// `Cache-Status` on the gateway's own answer when the upstream call failed (a `502` or
/// `504` problem): how the cache had handled the request before it was forwarded, with
/// nothing stored. A store error from the lookup is attached for the runtime to log.
pub fn failed<B>(lookup: Lookup, response: &mut Response<B>) {
    let (reason, error) = match lookup {
        Lookup::Hit(_) | Lookup::Answer(_) | Lookup::Bypass { announce: false } => return,
        Lookup::Bypass { announce: true } => (FwdReason::Bypass, None),
        Lookup::Miss { reason, error, .. } => (reason, error),
        Lookup::Revalidate { reason, .. } => (reason, None),
    };
    let status = CacheStatus::Forward { reason, fwd_status: None, stored: false };
    finish(response, CacheOutcome { status: Some(status), not_stored: None, error });
}

/// [`complete`] for a streamed response that is not stored, for the reason `why` (the head
/// says so, or the body is past [`super::MAX_ENTRY_BYTES`]): it goes on to the client as it
/// streams, with the `Cache-Status` that says it was forwarded and not stored. An entry being
/// revalidated stays as it was.
pub fn not_stored<B>(lookup: Lookup, response: &mut Response<B>, why: NotStored) {
    let (reason, error) = match lookup {
        Lookup::Hit(_) | Lookup::Answer(_) | Lookup::Bypass { announce: false } => return,
        Lookup::Bypass { announce: true } => (FwdReason::Bypass, None),
        Lookup::Miss { reason, error, .. } => (reason, error),
        Lookup::Revalidate { reason, .. } => (reason, None),
    };
    let status = CacheStatus::Forward { reason, fwd_status: None, stored: false };
    finish(response, CacheOutcome { status: Some(status), not_stored: Some(why), error });
}

/// [`complete`] for a [`Lookup::Bypass`], which needs no store: callable without awaiting,
/// so a call to an API with caching off does not move its response through `complete`'s
/// future (nine moves of a 144-byte response, 1.3 KB of copying per call).
pub fn bypassed<B>(mut upstream: Response<B>, announce: bool) -> Response<B> {
    let status = CacheStatus::Forward { reason: FwdReason::Bypass, fwd_status: None, stored: false };
    finish(&mut upstream, CacheOutcome { status: announce.then_some(status), not_stored: None, error: None });
    upstream
}

#[allow(clippy::too_many_arguments)] // the stage's whole context, passed through once
async fn store<C: ResponseCache>(
    cache: &C,
    req: &CacheRequest<'_>,
    key: &str,
    reason: FwdReason,
    mut response: Response<Bytes>,
    requested_at: UnixMillis,
    now: UnixMillis,
    lookup_error: Option<PortError>,
) -> Response<Bytes> {
    let mut outcome = CacheOutcome { status: None, not_stored: None, error: lookup_error };
    let stored = match entry_for(req, &response, requested_at, now) {
        Ok(entry) => match cache.put(key, entry).await {
            Ok(()) => true,
            Err(e) => {
                outcome.error = Some(e);
                false
            }
        },
        Err(why) => {
            outcome.not_stored = Some(why);
            false
        }
    };
    outcome.status = Some(CacheStatus::Forward { reason, fwd_status: None, stored });
    finish(&mut response, outcome);
    response
}

/// A 304 for our conditional request: update the stored headers and freshness (RFC 9111
/// §4.3.4) and serve the stored body. The refreshed entry is a GET entry even when a HEAD
/// revalidated it (RFC 9111 §4.3.5).
#[allow(clippy::too_many_arguments)]
async fn refresh<C: ResponseCache>(
    cache: &C,
    req: &CacheRequest<'_>,
    key: &str,
    reason: FwdReason,
    stored: &CachedResponse,
    not_modified: Response<Bytes>,
    requested_at: UnixMillis,
    now: UnixMillis,
) -> Response<Bytes> {
    let mut headers = stored.headers.clone();
    merge_headers(&mut headers, not_modified.headers());
    let mut merged = Response::new(stored.body.clone());
    *merged.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    *merged.headers_mut() = headers;
    let as_get = CacheRequest { method: &Method::GET, ..*req };
    let mut outcome = CacheOutcome { status: None, not_stored: None, error: None };
    match entry_for(&as_get, &merged, requested_at, now) {
        Ok(mut entry) => {
            if tags(merged.headers()).is_empty() {
                entry.tags.clone_from(&stored.tags); // a 304 without tags keeps the old ones
            }
            outcome.error = cache.put(key, entry).await.err();
        }
        Err(why) => outcome.not_stored = Some(why),
    }
    strip_tag_headers(merged.headers_mut());
    let mut response = serve(req, stored.status, merged.headers(), merged.body(), None);
    outcome.status = Some(CacheStatus::Forward { reason, fwd_status: Some(304), stored: false });
    finish(&mut response, outcome);
    response
}

/// Strips tag headers and adds `Cache-Status`, for caching-enabled APIs, and attaches the
/// outcome if a store failed.
fn finish<B>(response: &mut Response<B>, outcome: CacheOutcome) {
    if let Some(status) = outcome.status {
        strip_tag_headers(response.headers_mut());
        status.apply(response.headers_mut());
    }
    if outcome.error.is_some() {
        response.extensions_mut().insert(outcome);
    }
}
