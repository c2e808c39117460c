//! Building the upstream request: target URL, hop-by-hop headers removed, credential removed
//! (unless the API forwards it), and the caller's identity in a signed header.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use sha2::Sha256;

use crate::entitlements::Identity;
use crate::model::Api;
use crate::time::{UnixMillis, SECOND};

/// Header carrying `app=…;dev=…;key=…;ts=…` to the upstream.
pub const IDENTITY_HEADER: &str = "gatehouse-identity";
/// Hex HMAC-SHA256 of the identity header's value under the gateway's identity secret, so an
/// upstream can trust the identity without trusting the network path.
pub const SIGNATURE_HEADER: &str = "gatehouse-signature";

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

/// Removes hop-by-hop headers, including those the `Connection` header names. One pass over
/// the (few) names present rather than a lookup per listed name: most messages carry none.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut doomed: Vec<HeaderName> =
        headers.keys().filter(|name| HOP_BY_HOP.contains(&name.as_str())).cloned().collect();
    doomed.extend(
        headers
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok()),
    );
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
    match query {
        Some(q) if !q.is_empty() => format!("{base}{rest}?{q}"),
        _ => format!("{base}{rest}"),
    }
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
    headers.remove(http::header::HOST);
    headers.remove(IDENTITY_HEADER);
    headers.remove(SIGNATURE_HEADER);
    if let Some(caller) = caller {
        let value = format!(
            "app={};dev={};key={};ts={}",
            caller.identity.app_id,
            caller.identity.developer_id,
            caller.key_id,
            now.div_euclid(SECOND)
        );
        if let (Ok(v), Ok(sig)) = (HeaderValue::from_str(&value), HeaderValue::from_str(&signer.sign(&value))) {
            headers.insert(IDENTITY_HEADER, v);
            headers.insert(SIGNATURE_HEADER, sig);
        }
    }
    let mut req = Request::builder().method(original.method().clone()).uri(url).body(original.body().clone())?;
    *req.headers_mut() = headers;
    Ok(req)
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
    fn identity_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            IdentitySigner::new(b"Jefe").sign("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
