//! Building the responses the cache sends: hits (with `Age`), and `304 Not Modified` when the
//! client already holds the stored representation.

use bytes::Bytes;
use http::header::{
    HeaderName, AGE, CACHE_CONTROL, CONTENT_LOCATION, DATE, ETAG, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::stage::CacheRequest;
use crate::time::parse_http_date;

/// Fields a 304 carries from the stored response (RFC 9110 §15.4.5).
const NOT_MODIFIED_FIELDS: [HeaderName; 6] = [CACHE_CONTROL, CONTENT_LOCATION, DATE, ETAG, EXPIRES, VARY];

/// Headers the pipeline adds to a response served from storage: `Age`, `Cache-Status` and the
/// two `RateLimit` fields.
pub(super) const SERVED_HEADERS: usize = 4;

/// The stored response (`status`, `headers`, `body`) as the client should get it: a 304 when
/// the client's own validators match it, the bare headers for HEAD, the part a `Range` asks
/// for ([`super::range`]), the full response otherwise.
/// `age_secs` adds `Age`, which only responses served from storage carry (RFC 9111 §5.1).
pub fn serve(
    req: &CacheRequest<'_>,
    status: u16,
    headers: &HeaderMap,
    body: &Bytes,
    age_secs: Option<i64>,
) -> Response<Bytes> {
    let mut response = if client_has_it(req.headers, status, headers) {
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        for name in NOT_MODIFIED_FIELDS {
            for value in headers.get_all(&name) {
                r.headers_mut().append(name.clone(), value.clone());
            }
        }
        r
    } else {
        let body = if *req.method == Method::HEAD { Bytes::new() } else { body.clone() };
        let mut r = Response::new(body);
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        // A clone, not field by field (which hashes every name again): stored maps are made
        // with room for what a hit adds (`entry::storable_headers`), and a clone keeps its
        // table's size, so adding those fields does not rehash it.
        *r.headers_mut() = headers.clone();
        super::range::apply(req.method, req.headers, &mut r);
        r
    };
    if let Some(age) = age_secs {
        // The same few ages on every hit: remembered per thread rather than built each time.
        let age = age.max(0).unsigned_abs();
        let value = crate::field_value::numbered("", age).unwrap_or_else(|| HeaderValue::from(age));
        response.headers_mut().insert(AGE, value);
    }
    response
}

/// RFC 9110 §13.2.2 for a GET/HEAD answered from storage: `If-None-Match` (weak comparison)
/// wins; `If-Modified-Since` counts only without it. Only 200 responses are compared.
fn client_has_it(request: &HeaderMap, status: u16, stored: &HeaderMap) -> bool {
    if status != 200 {
        return false;
    }
    if let Some(candidates) = request.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let Some(etag) = stored.get(ETAG).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        return candidates.split(',').map(str::trim).any(|c| c == "*" || weak_eq(c, etag));
    }
    let date =
        |map: &HeaderMap, name| map.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).and_then(parse_http_date);
    match (date(request, IF_MODIFIED_SINCE), date(stored, LAST_MODIFIED)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// Weak comparison: equal opaque tags, whatever their `W/` prefixes.
fn weak_eq(a: &str, b: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    opaque(a) == opaque(b)
}
