//! Building the upstream request: target URL, hop-by-hop headers removed, credential removed
//! (unless the API forwards it), and the caller's identity in a signed header.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::header::{CONNECTION, HOST};
use http::{HeaderMap, HeaderName, Request, Uri};
use sha2::Sha256;

use crate::entitlements::Identity;
use crate::field_value::from_string;
use crate::model::Api;
use crate::time::{UnixMillis, SECOND};

/// Header carrying `app=…;dev=…;key=…;ts=…` to the upstream.
pub const IDENTITY_HEADER: &str = "gatehouse-identity";
/// Hex HMAC-SHA256 of the identity header's value under the gateway's identity secret, so an
/// upstream can trust the identity without trusting the network path.
pub const SIGNATURE_HEADER: &str = "gatehouse-signature";

/// The header names above, made once: a `&str` name is parsed again on every use.
const IDENTITY: HeaderName = HeaderName::from_static(IDENTITY_HEADER);
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
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

/// Removes hop-by-hop headers, including those the `Connection` header names. One pass over
/// the (few) names present rather than a lookup per listed name: most messages carry none,
/// and only a message with a `Connection` header has its list read.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut doomed: Vec<HeaderName> = Vec::new();
    let mut has_connection = false;
    for name in headers.keys().filter(|name| is_hop_by_hop(name.as_str())) {
        has_connection |= name == CONNECTION;
        doomed.push(name.clone());
    }
    if has_connection {
        doomed.extend(
            headers
                .get_all(CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok()),
        );
    }
    for name in doomed {
        headers.remove(name);
    }
}

/// Who is calling, as told to the upstream.
pub struct Caller<'a> {
    pub identity: &'a Identity,
    pub key_id: &'a str,
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
    headers.remove(&IDENTITY);
    headers.remove(&SIGNATURE);
    if let Some(caller) = caller {
        let value = identity_value(&caller, now);
        let signature = signer.sign(&value);
        if let (Some(v), Some(sig)) = (from_string(value), from_string(signature)) {
            headers.insert(IDENTITY, v);
            headers.insert(SIGNATURE, sig);
        }
    }
    let mut req = Request::new(original.body().clone());
    *req.method_mut() = original.method().clone();
    *req.uri_mut() = Uri::try_from(url)?;
    *req.headers_mut() = headers;
    Ok(req)
}

/// `app=…;dev=…;key=…;ts=…` (`ts` in Unix seconds). Built on every proxied call, so with
/// plain pushes rather than the formatting machinery.
fn identity_value(caller: &Caller<'_>, now: UnixMillis) -> String {
    let (identity, key_id) = (caller.identity, caller.key_id);
    let mut value = String::with_capacity(32 + identity.app_id.len() + identity.developer_id.len() + key_id.len());
    for part in ["app=", &identity.app_id, ";dev=", &identity.developer_id, ";key=", key_id, ";ts="] {
        value.push_str(part);
    }
    crate::decimal::push_signed(&mut value, now.div_euclid(SECOND));
    value
}

/// Signs identity headers with the gateway's identity secret. The MAC is keyed once, at
/// start: keying hashes the secret's two pads, which would double the work of every request.
#[derive(Clone)]
pub struct IdentitySigner(Hmac<Sha256>);

impl IdentitySigner {
    pub fn new(secret: &[u8]) -> IdentitySigner {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
        IdentitySigner(mac)
    }

    /// Hex HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(message.as_bytes());
        crate::hex::encode(&mac.finalize().into_bytes())
    }
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
    }

    #[test]
    fn identity_value_and_url_read_as_their_formats_say() {
        let identity = Identity { app_id: "app_1".into(), developer_id: "dev_1".into(), group: None, grants: vec![] };
        let caller = Caller { identity: &identity, key_id: "key_1" };
        for now in [0, 1_800_000_123_456, -1, -1_000, i64::MIN] {
            let expected = format!("app=app_1;dev=dev_1;key=key_1;ts={}", now.div_euclid(SECOND));
            assert_eq!(identity_value(&caller, now), expected);
        }
        let mut api = crate::cache::testkit::api(false);
        api.upstream.url = "http://up.test/base/".into();
        assert_eq!(upstream_url(&api, "/pets/1", Some("a=1")), "http://up.test/base/pets/1?a=1");
        assert_eq!(upstream_url(&api, "/pets/1", Some("")), "http://up.test/base/pets/1");
        assert_eq!(upstream_url(&api, "", None), "http://up.test/base");
    }

    #[test]
    fn identity_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            IdentitySigner::new(b"Jefe").sign("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
