//! Building the upstream request: target URL, hop-by-hop headers removed, credential removed
//! (unless the API forwards it), and the caller's identity in a signed header.

use std::cell::RefCell;

use bytes::Bytes;
use http::header::{CONNECTION, HOST};
use http::{HeaderMap, HeaderName, Request, Uri};

pub use super::identity_header::{Caller, IdentitySigner, IDENTITY_HEADER, SIGNATURE_HEADER};
use super::identity_header::{IDENTITY, SIGNATURE};
use crate::model::Api;
use crate::recent::Recent;
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
/// unless `Connection` names some other header: `keep-alive` and `close` name only what goes
/// anyway.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut present: [Option<HeaderName>; HOP_BY_HOP.len()] = Default::default();
    for (slot, name) in present.iter_mut().zip(headers.keys().filter(|name| is_hop_by_hop(name.as_str()))) {
        *slot = Some(name.clone());
    }
    if present[0].is_none() {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
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

/// Removes request fields whose names contain `_`, as nginx does by default
/// (`underscores_in_headers off`): a framework that maps `_` to `-` (CGI, WSGI, Rack) would
/// read `Content_Length` or `Transfer_Encoding` as a second framing field the gateway never
/// checked. Nothing is allocated unless such a name is present.
pub fn drop_underscore_names(headers: &mut HeaderMap) {
    if !headers.keys().any(|name| name.as_str().contains('_')) {
        return;
    }
    let doomed: Vec<HeaderName> = headers.keys().filter(|name| name.as_str().contains('_')).cloned().collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// The upstream URL for `rest` (the path below the API's base path) and `query`, as text.
pub fn upstream_url(api: &Api, rest: &str, query: Option<&str>) -> String {
    let base = api.upstream.url.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + rest.len() + query.map_or(0, |q| q.len() + 1));
    url.push_str(base);
    push_path_and_query(&mut url, rest, query);
    url
}

/// [`upstream_url`] as a `Uri`. The upstream URL's scheme and authority are parsed once per
/// thread for each recent upstream ([`Recent`]) and only the path is parsed per call: parsing
/// the whole URL again was a tenth of the pipeline's own work on a proxied call. The last URI
/// built for each upstream is kept too, and a call for the same path and query (a client
/// polling one resource) clones it instead of building it again.
pub fn upstream_uri(api: &Api, rest: &str, query: Option<&str>) -> Result<Uri, http::Error> {
    let base_url = api.upstream.url.as_str();
    let from_recent = RECENT_UPSTREAMS.try_with(|recent| {
        let mut recent = recent.borrow_mut();
        let slot = recent.slot(base_url);
        if let Some(base) = recent.find_mut(slot, |base| base.url == base_url) {
            return Some(base.uri(rest, query));
        }
        let mut base = UpstreamBase::parse(base_url)?;
        let uri = base.uri(rest, query);
        recent.remember(slot, base);
        Some(uri)
    });
    match from_recent {
        Ok(Some(uri)) => uri,
        // Not `scheme://authority[/path]`, or a thread shutting down: joined and parsed whole.
        _ => Ok(Uri::try_from(upstream_url(api, rest, query))?),
    }
}

fn push_path_and_query(out: &mut String, rest: &str, query: Option<&str>) {
    out.push_str(rest);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
}

/// An upstream URL's parts that every call to it shares.
struct UpstreamBase {
    /// The URL as configured, to tell whether this is still it.
    url: String,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    /// The URL's path without its trailing `/` (empty for none).
    path: String,
    /// The URI built last, for the next call to the same path and query.
    last: Option<Uri>,
}

impl UpstreamBase {
    /// `None` for a URL that is not `scheme://authority[/path]`: such a URL is joined and
    /// parsed whole, as it always was, to fail (or not) the same way.
    fn parse(url: &str) -> Option<UpstreamBase> {
        let parts = Uri::try_from(url).ok()?.into_parts();
        let (scheme, authority) = (parts.scheme?, parts.authority?);
        let path = match &parts.path_and_query {
            Some(pq) if pq.query().is_some() => return None,
            Some(pq) => pq.path().trim_end_matches('/').to_owned(),
            None => String::new(),
        };
        Some(UpstreamBase { url: url.to_owned(), scheme, authority, path, last: None })
    }

    /// The URI for `rest` and `query`: the last one when it was for the same, else joined.
    fn uri(&mut self, rest: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        if let Some(last) = self.last.as_ref().filter(|last| self.is_joined(last, rest, query)) {
            return Ok(last.clone());
        }
        let uri = self.join(rest, query)?;
        self.last = Some(uri.clone());
        Ok(uri)
    }

    /// Whether `uri`'s path and query are what [`UpstreamBase::join`] makes of `rest` and
    /// `query`, compared piece by piece rather than by joining them again.
    fn is_joined(&self, uri: &Uri, rest: &str, query: Option<&str>) -> bool {
        let Some(joined) = uri.path_and_query().map(|pq| pq.as_str()) else { return false };
        let query = query.filter(|q| !q.is_empty());
        if self.path.is_empty() && rest.is_empty() && query.is_none() {
            return joined == "/";
        }
        let Some(after_path) = joined.strip_prefix(self.path.as_str()).and_then(|r| r.strip_prefix(rest)) else {
            return false;
        };
        match query {
            None => after_path.is_empty(),
            Some(query) => after_path.strip_prefix('?') == Some(query),
        }
    }

    fn join(&self, rest: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        let mut path = String::with_capacity(self.path.len() + rest.len() + query.map_or(0, |q| q.len() + 1));
        path.push_str(&self.path);
        push_path_and_query(&mut path, rest, query);
        if path.is_empty() {
            path.push('/');
        }
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(http::uri::PathAndQuery::from_maybe_shared(Bytes::from(path))?);
        Ok(Uri::from_parts(parts)?)
    }
}

/// Upstreams a thread has called lately, by URL.
const UPSTREAM_SLOTS: usize = 16;

thread_local! {
    static RECENT_UPSTREAMS: RefCell<Recent<UpstreamBase>> = RefCell::new(Recent::with_slots(UPSTREAM_SLOTS));
}

/// Builds the request to send upstream from the caller's request.
pub fn build<B>(
    original: &Request<B>,
    body: B,
    uri: Uri,
    mut headers: HeaderMap,
    caller: Option<Caller<'_>>,
    signer: &IdentitySigner,
    now: UnixMillis,
) -> Request<B> {
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
    let mut req = Request::new(body);
    *req.method_mut() = original.method().clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    req
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

    #[test]
    fn upstream_uri_is_the_url_parsed_whole_however_often_it_is_asked_for() {
        let mut api = crate::cache::testkit::api(false);
        let cases = [
            ("http://up.test/base/", "/pets/1", Some("a=1&b=%20")),
            ("http://up.test/base/", "/", None),
            ("http://up.test/base", "", None),
            ("http://up.test:8080", "/pets", Some("")),
            ("http://up.test", "", None),
            ("https://user@up.test/a/b//", "/c", None),
            ("http://[::1]:9/x", "/y", Some("z")),
            // The same upstream for other paths and queries.
            ("http://up.test/base/", "/pets/1", Some("a=2")),
            ("http://up.test/base/", "/pets/1", None),
            ("http://up.test/base/", "/pets", Some("1")),
            ("http://up.test", "/", None),
            ("http://up.test", "", Some("q")),
            ("http://up.test", "/", Some("q")),
        ];
        // Twice over, and each case right after every other: a remembered URI is only reused
        // for the same path and query.
        let pairs = cases.iter().flat_map(|a| cases.iter().flat_map(move |b| [a, b]));
        for _ in 0..2 {
            for &(url, rest, query) in cases.iter().chain(pairs.clone()) {
                api.upstream.url = url.into();
                let whole = Uri::try_from(upstream_url(&api, rest, query)).expect("valid");
                let uri = upstream_uri(&api, rest, query).expect("valid");
                assert_eq!(
                    (uri.to_string(), uri.authority(), uri.path_and_query()),
                    (whole.to_string(), whole.authority(), whole.path_and_query().or(Some(&"/".parse().expect("pq")))),
                    "{url} {rest}"
                );
            }
        }
        // Not an absolute URL, or one with a query: joined and parsed whole, as before.
        api.upstream.url = "/relative".into();
        assert_eq!(upstream_uri(&api, "/x", None).expect("a path is a URI").to_string(), "/relative/x");
        api.upstream.url = "http://up.test/?k=v".into();
        assert_eq!(upstream_uri(&api, "/x", None).expect("valid").to_string(), "http://up.test/?k=v/x");
        api.upstream.url = "http://up test".into();
        assert!(upstream_uri(&api, "/x", None).is_err());
    }

    proptest::proptest! {
        /// Whatever was asked for before, on the same upstream, the URI is the URL parsed whole.
        #[test]
        fn upstream_uri_after_any_calls_is_the_url_parsed_whole(
            base in "(/[a-z]{0,2}){0,2}/?",
            calls in proptest::collection::vec(("(/[a-z#%]{0,2}){0,3}", proptest::option::of("[a-z=&#/?]{0,4}")), 1..6),
        ) {
            let mut api = crate::cache::testkit::api(false);
            api.upstream.url = format!("http://up.test{base}");
            for (rest, query) in &calls {
                let whole = Uri::try_from(upstream_url(&api, rest, query.as_deref()));
                let uri = upstream_uri(&api, rest, query.as_deref());
                match (uri, whole) {
                    (Ok(uri), Ok(whole)) => proptest::prop_assert_eq!(
                        (uri.to_string(), uri.path_and_query().map(|pq| pq.as_str().to_owned())),
                        (whole.to_string(), Some(whole.path_and_query().map_or("/", |pq| pq.as_str()).to_owned()))
                    ),
                    (uri, whole) => proptest::prop_assert_eq!(uri.is_err(), whole.is_err()),
                }
            }
        }
    }
}
