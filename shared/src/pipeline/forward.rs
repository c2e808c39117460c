//! Building the upstream request: target URL, hop-by-hop headers removed, credential removed
//! (unless the API forwards it), and the caller's identity in a signed header.

use bytes::Bytes;
use http::header::{CONNECTION, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};

pub use super::identity_header::{Caller, IdentitySigner, IDENTITY_HEADER, SIGNATURE_HEADER};
use super::identity_header::{IDENTITY, SIGNATURE};
use crate::model::Api;
use crate::time::UnixMillis;

/// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether a header name (lower case, as `HeaderName`s are) is one of [`HOP_BY_HOP`]: asked
/// of every field of every request and response, so a `match` on the string, which compiles
/// to a switch on its length, rather than a loop.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Whether a token of a `Connection` field (any case) is one of [`HOP_BY_HOP`].
fn is_hop_by_hop_token(token: &str) -> bool {
    HOP_BY_HOP.iter().any(|hop| hop.eq_ignore_ascii_case(token))
}

/// Removes hop-by-hop headers, including those the `Connection` header names. One pass over
/// the (few) names present rather than a lookup per hop-by-hop name, and nothing allocated
/// unless `Connection` names some other header: an upstream's `Connection: keep-alive` or
/// `close` lists only what goes anyway.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut present: [Option<HeaderName>; HOP_BY_HOP.len()] = Default::default();
    for (slot, name) in present.iter_mut().zip(headers.keys().filter(|name| is_hop_by_hop(name.as_str()))) {
        *slot = Some(name.clone());
    }
    if present[0].is_none() {
        return;
    }
    // The usual `Connection` field names no other header: skip reading its list then.
    let lists_only_itself = |v: &&HeaderValue| {
        let v = v.as_bytes();
        v.eq_ignore_ascii_case(b"keep-alive") || v.eq_ignore_ascii_case(b"close")
    };
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter(|v| !lists_only_itself(v))
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|token| !token.eq_ignore_ascii_case("close") && !is_hop_by_hop_token(token))
        .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok())
        .collect();
    for name in present.iter().flatten().chain(&named) {
        headers.remove(name);
    }
}

/// The upstream URL for `rest` (the path below the API's base path) and `query`.
pub fn upstream_url(api: &Api, rest: &str, query: Option<&str>) -> String {
    let base = api.upstream.url.trim_end_matches('/');
    let query = query.filter(|q| !q.is_empty());
    let mut url = String::with_capacity(base.len() + rest.len() + query.map_or(0, |q| q.len() + 1));
    url.push_str(base);
    url.push_str(rest);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Builds the request to send upstream from the caller's request.
pub fn build(
    original: &Request<Bytes>,
    url: &str,
    mut headers: HeaderMap,
    caller: Option<Caller<'_>>,
    signer: &IdentitySigner,
    now: UnixMillis,
) -> Result<Request<Bytes>, http::Error> {
    strip_hop_by_hop(&mut headers);
    headers.remove(HOST);
    // Whatever identity the client sent is never forwarded: `insert` replaces every value.
    if let Some(signed) = caller.and_then(|caller| signer.headers(&caller, now)) {
        headers.insert(IDENTITY, signed.identity);
        headers.insert(SIGNATURE, signed.signature);
    } else {
        headers.remove(&IDENTITY);
        headers.remove(&SIGNATURE);
    }
    let mut req = Request::new(original.body().clone());
    *req.method_mut() = original.method().clone();
    *req.uri_mut() = Uri::try_from(url)?;
    *req.headers_mut() = headers;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_by_connection_are_removed() {
        let mut h = HeaderMap::new();
        h.insert("connection", "close, x-private".parse().expect("v"));
        h.insert("x-private", "1".parse().expect("v"));
        h.insert("transfer-encoding", "chunked".parse().expect("v"));
        h.insert("accept", "*/*".parse().expect("v"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), vec!["accept"]);

        // Every hop-by-hop name at once, any case in the list; `close` names nothing.
        let mut h = HeaderMap::new();
        for name in HOP_BY_HOP {
            h.insert(name, "x".parse().expect("v"));
        }
        h.insert("connection", "Keep-Alive, CLOSE, X-Private".parse().expect("v"));
        h.insert("x-private", "1".parse().expect("v"));
        h.insert("close", "stays: only a token".parse().expect("v"));
        h.insert("accept", "*/*".parse().expect("v"));
        strip_hop_by_hop(&mut h);
        assert!(HOP_BY_HOP.iter().all(|name| is_hop_by_hop(name)), "the match and the list agree");
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, vec!["accept", "close"]);
    }

    #[test]
    fn upstream_url_joins_base_rest_and_query() {
        let mut api = crate::cache::testkit::api(false);
        api.upstream.url = "http://up.test/base/".into();
        assert_eq!(upstream_url(&api, "/pets/1", Some("a=1")), "http://up.test/base/pets/1?a=1");
        assert_eq!(upstream_url(&api, "/pets/1", Some("")), "http://up.test/base/pets/1");
        assert_eq!(upstream_url(&api, "", None), "http://up.test/base");
    }
}
