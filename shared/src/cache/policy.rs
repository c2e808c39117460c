//! Whether a response may be stored by a shared cache (RFC 9111 §3), and the entry to store.

use bytes::Bytes;
use http::header::{AUTHORIZATION, ETAG, LAST_MODIFIED, SET_COOKIE};
use http::{Method, Response};

use super::directives::CacheControl;
use super::entry::{storable_headers, tags, vary_digest, vary_names};
use super::freshness::{freshness_lifetime, initial_age};
use super::stage::CacheRequest;
use super::CachedResponse;
use crate::time::UnixMillis;

/// Why a response was not stored. A value, not an error: most responses are not cacheable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStored {
    /// Only GET responses are stored (HEAD has no body to serve a later GET with).
    Method,
    /// Not final, or a status whose caching rules we do not implement (206, 304).
    Status,
    NoStore,
    /// `private`: meant for one user's cache, never a shared one.
    Private,
    /// `Vary: *`: no later request can be shown to match.
    VaryStar,
    /// Personalised: storing it would hand one caller's cookie to the next.
    SetCookie,
    /// The request carried `Authorization` and the response lacks `public`, `s-maxage` or
    /// `must-revalidate` (RFC 9111 §3.5).
    Authorization,
    /// Neither the upstream nor the API owner gave a freshness lifetime, and there is no
    /// validator that would make a revalidate-every-time entry useful.
    NoFreshness,
    /// A header value that is not visible ASCII.
    Unrepresentable,
    /// `must-understand` on a status whose caching rules RFC 9110 does not define for us.
    MustUnderstand,
    /// The body is past [`super::MAX_ENTRY_BYTES`]: it streams on without being stored.
    TooLarge,
}

/// Statuses cacheable by default (RFC 9110 §15.1), minus 206: we store no partial content.
/// Only these take the API's default TTL or are stored for revalidation without a lifetime.
pub fn cacheable_by_default(status: u16) -> bool {
    matches!(status, 200 | 203 | 204 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501)
}

/// Final statuses whose caching rules we implement: any final status with explicit freshness,
/// except 206 (needs range combination) and 304 (not a complete response).
pub fn understood(status: u16) -> bool {
    (200..600).contains(&status) && status != 206 && status != 304
}

/// Statuses whose semantics RFC 9110 defines, and so whose caching rules Gatehouse
/// understands for `must-understand` (RFC 9111 §5.2.2.3). An extension status such as 299 or
/// 499 is not among them: with `must-understand` it is never stored.
pub fn understood_for_must_understand(status: u16) -> bool {
    matches!(status, 200..=205 | 300..=305 | 307 | 308 | 400..=417 | 421 | 422 | 426 | 500..=505)
}

/// The entry to store for `response`, received at `received_at` for a request sent at
/// `requested_at`, or why it must not be stored.
pub fn entry_for(
    req: &CacheRequest<'_>,
    response: &Response<Bytes>,
    requested_at: UnixMillis,
    received_at: UnixMillis,
) -> Result<CachedResponse, NotStored> {
    let Storable { freshness_ms, varied } = head_allows_storing(req, response, received_at)?;
    let headers = response.headers();
    Ok(CachedResponse {
        status: response.status().as_u16(),
        headers: storable_headers(headers).ok_or(NotStored::Unrepresentable)?,
        body: response.body().clone(),
        stored_at: received_at,
        api_id: req.api.id.clone(),
        tags: tags(headers),
        initial_age_ms: initial_age(headers, requested_at, received_at),
        freshness_ms,
        vary_digest: vary_digest(&varied, req.headers),
    })
}

/// What the head of a storable response decides about its entry.
pub struct Storable {
    freshness_ms: i64,
    /// The request fields the entry varies on.
    varied: Vec<String>,
}

/// Whether a response may be stored, from its head alone: asked before a streamed body is read
/// whole, so a body that will not be stored (an event stream marked `no-store`, say) is never
/// held back from the client to find out.
pub fn head_allows_storing<B>(
    req: &CacheRequest<'_>,
    response: &Response<B>,
    received_at: UnixMillis,
) -> Result<Storable, NotStored> {
    if *req.method != Method::GET {
        return Err(NotStored::Method);
    }
    let status = response.status().as_u16();
    if !understood(status) {
        return Err(NotStored::Status);
    }
    let headers = response.headers();
    let cc = CacheControl::from_headers(headers);
    refuse_by_directives(&cc, req, status, headers.contains_key(SET_COOKIE))?;
    let varied = vary_names(headers).ok_or(NotStored::VaryStar)?;
    let default_cacheable = cacheable_by_default(status);
    let lifetime = freshness_lifetime(headers, &cc, req.api.cache.default_ttl_secs, default_cacheable, received_at);
    let validators = headers.contains_key(ETAG) || headers.contains_key(LAST_MODIFIED);
    // `no-cache` from the upstream: usable only after revalidation, i.e. a lifetime of 0, so
    // serving never has to re-read the directives.
    let lifetime = if cc.no_cache { lifetime.map(|_| 0) } else { lifetime };
    let freshness_ms = match lifetime {
        Some(ms) if ms > 0 => ms,
        Some(_) if validators => 0,
        None if validators && cc.no_cache && default_cacheable => 0,
        _ => return Err(NotStored::NoFreshness),
    };
    Ok(Storable { freshness_ms, varied })
}

fn refuse_by_directives(
    cc: &CacheControl,
    req: &CacheRequest<'_>,
    status: u16,
    sets_cookie: bool,
) -> Result<(), NotStored> {
    // `must-understand` replaces the response's `no-store` for a cache that understands the
    // status (RFC 9111 §5.2.2.3); an origin sends both so older caches store nothing.
    if cc.must_understand && !understood_for_must_understand(status) {
        return Err(NotStored::MustUnderstand);
    }
    if (cc.no_store && !cc.must_understand) || CacheControl::from_headers(req.headers).no_store {
        return Err(NotStored::NoStore);
    }
    if cc.private {
        return Err(NotStored::Private);
    }
    if sets_cookie {
        return Err(NotStored::SetCookie);
    }
    if req.headers.contains_key(AUTHORIZATION) && !authorization_allows_sharing(cc) {
        return Err(NotStored::Authorization);
    }
    Ok(())
}

/// RFC 9111 §3.5: a response to a request with `Authorization` may be shared only if the
/// origin said so with `public`, `s-maxage` or `must-revalidate`.
pub fn authorization_allows_sharing(cc: &CacheControl) -> bool {
    cc.public || cc.s_maxage.is_some() || cc.must_revalidate
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use crate::cache::testkit::api;
    use crate::time::{http_date, SECOND};
    use http::HeaderMap;

    const T0: UnixMillis = 1_700_000_000_000;

    fn response(status: u16, headers: &[(&'static str, &str)]) -> Response<Bytes> {
        let mut r = Response::new(Bytes::from_static(b"{}"));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        for (k, v) in headers {
            r.headers_mut().append(*k, v.parse().unwrap());
        }
        r
    }

    fn store(
        request_headers: &HeaderMap,
        status: u16,
        headers: &[(&'static str, &str)],
    ) -> Result<CachedResponse, NotStored> {
        let api = api(false);
        let req = CacheRequest {
            api: &api,
            method: &Method::GET,
            path_and_query: "/a",
            headers: request_headers,
            identity: None,
        };
        entry_for(&req, &response(status, headers), T0, T0)
    }

    #[test]
    fn private_response_is_never_stored_in_shared_cache() {
        let none = HeaderMap::new();
        assert_eq!(store(&none, 200, &[("cache-control", "private, max-age=60")]), Err(NotStored::Private));
        assert_eq!(store(&none, 200, &[("cache-control", "max-age=60, PRIVATE=\"x-user\"")]), Err(NotStored::Private));
    }

    #[test]
    fn responses_that_forbid_or_defeat_sharing_are_never_stored() {
        let none = HeaderMap::new();
        let cases: [(&[(&'static str, &str)], NotStored); 4] = [
            (&[("cache-control", "no-store, max-age=60")], NotStored::NoStore),
            (&[("cache-control", "max-age=60"), ("vary", "accept, *")], NotStored::VaryStar),
            (&[("cache-control", "max-age=60"), ("set-cookie", "session=1")], NotStored::SetCookie),
            (&[("etag", "\"v1\"")], NotStored::NoFreshness),
        ];
        for (headers, why) in cases {
            assert_eq!(store(&none, 200, headers), Err(why), "{headers:?}");
        }
    }

    #[test]
    fn rfc9111_5_2_2_3_must_understand_stores_understood_statuses_despite_no_store() {
        let none = HeaderMap::new();
        let cc = [("cache-control", "must-understand, no-store, max-age=60")];
        assert!(store(&none, 200, &cc).is_ok(), "an understood status is stored; no-store is for older caches");
        assert!(store(&none, 404, &cc).is_ok());
        for unknown in [299, 499, 599] {
            assert_eq!(store(&none, unknown, &cc), Err(NotStored::MustUnderstand), "{unknown}");
        }
        let mut no_store_request = HeaderMap::new();
        no_store_request.insert("cache-control", "no-store".parse().unwrap());
        assert_eq!(store(&no_store_request, 200, &cc), Err(NotStored::NoStore), "the client's no-store still counts");
    }

    #[test]
    fn client_no_store_keeps_the_response_out_of_the_cache() {
        let mut request = HeaderMap::new();
        request.insert("cache-control", "no-store".parse().unwrap());
        assert_eq!(store(&request, 200, &[("cache-control", "max-age=60")]), Err(NotStored::NoStore));
    }

    #[test]
    fn partial_interim_and_not_modified_responses_are_never_stored() {
        for status in [101, 206, 304] {
            assert_eq!(store(&HeaderMap::new(), status, &[("cache-control", "max-age=60")]), Err(NotStored::Status));
        }
        assert!(store(&HeaderMap::new(), 302, &[("cache-control", "max-age=60")]).is_ok(), "explicit freshness");
    }

    #[test]
    fn authorization_responses_are_shared_only_when_the_origin_allows_it() {
        let mut request = HeaderMap::new();
        request.insert("authorization", "Bearer gh_live_x".parse().unwrap());
        assert_eq!(store(&request, 200, &[("cache-control", "max-age=60")]), Err(NotStored::Authorization));
        for allowed in ["public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"] {
            assert!(store(&request, 200, &[("cache-control", allowed)]).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn no_cache_response_with_validator_is_stored_for_revalidation() {
        for cc in ["no-cache", "no-cache, max-age=100"] {
            let entry = store(&HeaderMap::new(), 200, &[("cache-control", cc), ("etag", "\"v1\"")]);
            assert_eq!(entry.map(|e| e.freshness_ms), Ok(0), "{cc}: fresh for no time, so always revalidated");
            let no_validator = store(&HeaderMap::new(), 200, &[("cache-control", cc)]);
            assert_eq!(no_validator, Err(NotStored::NoFreshness), "{cc}");
        }
    }

    #[test]
    fn default_ttl_covers_unmarked_successes_but_not_errors() {
        let mut api = api(false);
        api.cache.default_ttl_secs = Some(30);
        let h = HeaderMap::new();
        let req = CacheRequest { api: &api, method: &Method::GET, path_and_query: "/a", headers: &h, identity: None };
        let ok = entry_for(&req, &response(200, &[]), T0, T0).map(|e| e.freshness_ms);
        assert_eq!(ok, Ok(30 * SECOND));
        assert_eq!(entry_for(&req, &response(500, &[]), T0, T0), Err(NotStored::NoFreshness));
    }

    #[test]
    fn stored_entry_records_age_tags_and_drops_hop_by_hop_fields() {
        let date = http_date(T0 - 5 * SECOND);
        let headers = [
            ("cache-control", "max-age=60"),
            ("date", date.as_str()),
            ("connection", "x-hop"),
            ("x-hop", "1"),
            ("age", "2"),
            ("cache-tag", "pets, pet-1"),
            ("surrogate-key", "pets owners"),
        ];
        let entry = store(&HeaderMap::new(), 200, &headers).unwrap();
        assert_eq!(entry.initial_age_ms, 5 * SECOND);
        assert_eq!(entry.tags, ["owners", "pet-1", "pets"]);
        let names: Vec<&str> = entry.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["cache-control", "date"]);
    }
}
