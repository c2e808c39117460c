//! Converting between HTTP messages and [`CachedResponse`], and the header bookkeeping that
//! goes with it: tags, `Vary` fingerprints, fields a cache must not store.

use bytes::Bytes;
use http::header::{HeaderName, CONNECTION, ETAG, LAST_MODIFIED, VARY};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use sha2::{Digest, Sha256};

use super::directives::CacheControl;
use super::CachedResponse;
use crate::time::{UnixMillis, HOUR};

/// How long a stale entry that carries a validator is kept for revalidation after its
/// freshness ends. Revalidating costs the upstream a 304 instead of a full body; past an hour
/// the odds that it still matches are low and the memory is better spent elsewhere.
pub const REVALIDATION_GRACE_MS: i64 = HOUR;

/// Upstream headers that carry purge tags: Cloudflare's `Cache-Tag` (comma separated) and
/// Fastly's `Surrogate-Key` (space separated). Both are for us, never for the client.
pub const TAG_HEADERS: [HeaderName; 2] =
    [HeaderName::from_static("cache-tag"), HeaderName::from_static("surrogate-key")];

/// Fields never stored: hop-by-hop ones (RFC 9111 §3.1), `Age` (recomputed on every hit) and
/// the tag headers (kept as [`CachedResponse::tags`] instead).
const NOT_STORED: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authentication-info",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "age",
    "set-cookie",
];

impl CachedResponse {
    /// The first value of a stored header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The stored response's `Cache-Control` directives.
    pub fn response_cache_control(&self) -> CacheControl {
        CacheControl::from_headers(&self.headers)
    }

    /// Whether it can be revalidated with a conditional request rather than refetched.
    pub fn has_validators(&self) -> bool {
        self.headers.contains_key(ETAG) || self.headers.contains_key(LAST_MODIFIED)
    }

    /// When the entry stops being worth keeping: at the end of its freshness, or
    /// [`REVALIDATION_GRACE_MS`] later when a validator lets it be revalidated cheaply.
    /// Stores use this as the entry's expiry (e.g. a KV `expiration`); serving never does.
    pub fn useful_until(&self) -> UnixMillis {
        let fresh_until = self.stored_at.saturating_add(self.freshness_ms).saturating_sub(self.initial_age_ms);
        if self.has_validators() {
            fresh_until.saturating_add(REVALIDATION_GRACE_MS)
        } else {
            fresh_until
        }
    }

    /// Approximate memory footprint, for stores bounded by size.
    pub fn size_bytes(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 32).sum();
        let tags: usize = self.tags.iter().map(String::len).sum();
        self.body.len() + headers + tags + self.api_id.len() + self.vary_digest.len() + 128
    }

    /// The stored response as an HTTP response; `head` leaves the body out but keeps its
    /// `Content-Length`, as a HEAD response must.
    pub fn to_response(&self, head: bool) -> Response<Bytes> {
        let mut response = Response::new(if head { Bytes::new() } else { self.body.clone() });
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The headers of `headers` a cache may store. `None` when a value is not visible ASCII:
/// storing it lossily would serve a different response.
pub fn storable_headers(headers: &HeaderMap) -> Option<HeaderMap> {
    let connection_listed: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    // Room for the fields added whenever the entry is served (see `respond::serve`).
    let mut out = HeaderMap::with_capacity(headers.len() + super::respond::SERVED_HEADERS);
    for (name, value) in headers {
        let n = name.as_str();
        if NOT_STORED.contains(&n) || TAG_HEADERS.iter().any(|t| t == n) || connection_listed.iter().any(|c| c == n) {
            continue;
        }
        value.to_str().ok()?;
        out.append(name.clone(), value.clone());
    }
    Some(out)
}

/// Fields of a 304 that never replace the stored ones (RFC 9111 §3.2): they describe the
/// stored bytes themselves (their length, coding, range, checksums and the validator that
/// names them), which the 304 did not send again. Taking a new `Content-Encoding` or digest
/// from a 304 would label the old body with metadata it does not match.
const NOT_UPDATED_BY_304: [&str; 8] = [
    "content-length",
    "content-encoding",
    "content-range",
    "content-md5",
    "content-digest",
    "repr-digest",
    "digest",
    "etag",
];

/// Replaces `stored` headers with those of a 304 (RFC 9111 §3.2), except
/// [`NOT_UPDATED_BY_304`] and the fields a cache never stores (tag headers are taken, for
/// the refresh to read the new tags, and stripped by it).
pub fn merge_headers(stored: &mut HeaderMap, fresh: &HeaderMap) {
    for name in fresh.keys() {
        let n = name.as_str();
        if NOT_UPDATED_BY_304.contains(&n) || NOT_STORED.contains(&n) {
            continue;
        }
        stored.remove(name);
        for value in fresh.get_all(name) {
            stored.append(name.clone(), value.clone());
        }
    }
}

/// Purge tags from `Cache-Tag` and `Surrogate-Key`, split on commas and whitespace, deduplicated.
pub fn tags(headers: &HeaderMap) -> Vec<String> {
    let mut tags: Vec<String> = TAG_HEADERS
        .iter()
        .flat_map(|h| headers.get_all(h))
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

pub fn strip_tag_headers(headers: &mut HeaderMap) {
    for name in &TAG_HEADERS {
        headers.remove(name);
    }
}

/// The request header names a response varies on, lower-case and sorted; `None` for `Vary: *`,
/// which no stored response can ever match.
pub fn vary_names(response_headers: &HeaderMap) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for value in response_headers.get_all(VARY) {
        for name in String::from_utf8_lossy(value.as_bytes()).split(',') {
            let name = name.trim().to_ascii_lowercase();
            if name == "*" {
                return None;
            }
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    Some(names)
}

/// A fingerprint of the request's values for the varied headers. Only a hash is stored, so a
/// response that varies on `Authorization` does not put the credential in the cache.
pub fn vary_digest(names: &[String], request_headers: &HeaderMap) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut hasher = Sha256::new();
    for name in names {
        let values: Vec<String> = request_headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .collect();
        let joined = if values.is_empty() { "\u{0}absent".to_string() } else { values.join(",") };
        for part in [name.as_str(), joined.as_str()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
    }
    crate::hex::encode(&hasher.finalize())
}

/// Whether the stored response answers a request with these headers (same varied values).
pub fn vary_matches(entry: &CachedResponse, request_headers: &HeaderMap) -> bool {
    match vary_names(&entry.headers) {
        Some(names) => vary_digest(&names, request_headers) == entry.vary_digest,
        None => false,
    }
}

/// `ETag`/`Last-Modified` of a stored response, as conditional request headers.
pub fn conditional_headers(entry: &CachedResponse) -> Vec<(HeaderName, HeaderValue)> {
    let pairs = [(http::header::IF_NONE_MATCH, ETAG), (http::header::IF_MODIFIED_SINCE, LAST_MODIFIED)];
    pairs
        .into_iter()
        .filter_map(|(conditional, validator)| {
            let value = HeaderValue::from_str(entry.header(validator.as_str())?).ok()?;
            Some((conditional, value))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn entry_without_validator_is_useless_once_stale_but_one_with_is_kept_for_revalidation() {
        let mut entry =
            CachedResponse { stored_at: 1_000_000, initial_age_ms: 5_000, freshness_ms: 60_000, ..Default::default() };
        assert_eq!(entry.useful_until(), 1_055_000);
        entry.headers.insert(ETAG, HeaderValue::from_static("\"v1\""));
        assert_eq!(entry.useful_until(), 1_055_000 + REVALIDATION_GRACE_MS);
    }

    #[test]
    fn varied_credentials_are_stored_only_as_a_digest() {
        let names = vary_names(&map(&[("vary", "Authorization, accept")])).unwrap();
        assert_eq!(names, ["accept", "authorization"]);
        let digest = vary_digest(&names, &map(&[("authorization", "Bearer gh_live_secret")]));
        assert!(!digest.contains("secret") && digest.len() == 64);
        assert_ne!(digest, vary_digest(&names, &map(&[("authorization", "Bearer gh_live_other")])));
        assert_ne!(digest, vary_digest(&names, &HeaderMap::new()), "absent differs from present");
    }

    #[test]
    fn not_modified_replaces_headers_but_not_the_stored_length() {
        let mut stored = map(&[("content-length", "4"), ("cache-control", "max-age=1"), ("x-keep", "1")]);
        merge_headers(&mut stored, &map(&[("content-length", "0"), ("cache-control", "max-age=9")]));
        assert_eq!(stored["content-length"], "4");
        assert_eq!(stored["cache-control"], "max-age=9");
        assert_eq!(stored["x-keep"], "1");
    }

    #[test]
    fn rfc9111_3_2_not_modified_keeps_the_fields_that_describe_the_stored_body() {
        let kept = [
            ("etag", "\"v1\""),
            ("content-encoding", "gzip"),
            ("content-range", "bytes 0-3/4"),
            ("content-md5", "rL0Y20zC+Fzt72VPzMSk2A=="),
            ("content-digest", "sha-256=:a:"),
        ];
        let mut stored = map(&kept);
        let mut fresh = map(&[
            ("etag", "\"v2\""),
            ("content-encoding", "br"),
            ("content-range", "bytes 0-0/1"),
            ("content-md5", "N7UdGUp1E+RbVvZSTy1R8g=="),
            ("content-digest", "sha-256=:b:"),
            ("content-type", "text/plain"),
            ("x-frame-options", "deny"),
            ("set-cookie", "a=b"),
            ("age", "5"),
        ]);
        fresh.append("transfer-encoding", "chunked".parse().unwrap());
        merge_headers(&mut stored, &fresh);
        for (name, value) in kept {
            assert_eq!(stored[name], value, "{name} must describe the stored body");
        }
        assert_eq!(
            (stored["content-type"].to_str().unwrap(), stored["x-frame-options"].to_str().unwrap()),
            ("text/plain", "deny")
        );
        for never in ["set-cookie", "age", "transfer-encoding"] {
            assert!(!stored.contains_key(never), "{never} is never stored");
        }
    }

    #[test]
    fn tags_split_on_commas_and_spaces_and_are_deduplicated() {
        let headers = map(&[("cache-tag", "a, b,,c"), ("surrogate-key", "c  d")]);
        assert_eq!(tags(&headers), ["a", "b", "c", "d"]);
        let mut headers = headers;
        strip_tag_headers(&mut headers);
        assert!(headers.is_empty());
    }
}
