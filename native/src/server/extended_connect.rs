//! WebSockets over HTTP/2 (RFC 8441): an extended CONNECT whose `:protocol` is `websocket`
//! opens one stream of the client's HTTP/2 connection as the WebSocket's byte stream. The
//! gateway turns the CONNECT into the HTTP/1.1 upgrade request (RFC 6455 §4.1) the pipeline
//! already knows — so authentication, authorization and limits run on it, and a refusal is an
//! ordinary problem answer before any tunnel — sends that upstream, and once the upstream has
//! switched, answers the client `200` and relays the stream and the upstream connection.
//!
//! Why translate rather than speak h2 upstream: upstream WebSocket servers speak RFC 6455
//! over HTTP/1.1 almost universally (RFC 8441 servers are rare), and the frames are the same
//! on both (RFC 8441 §5), so the relay passes them untouched, as over HTTP/1.1.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{CONNECTION, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};
use hyper::ext::Protocol;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::tunnel;
use crate::body::{BodyError, Tunnel};

const KEY: HeaderName = HeaderName::from_static("sec-websocket-key");
const ACCEPT: HeaderName = HeaderName::from_static("sec-websocket-accept");
/// RFC 6455 §1.3: appended to the key before hashing, to prove the server read the handshake.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What an HTTP/2 request asks for, seen from its method and `:protocol`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Asks {
    /// An ordinary request (a plain CONNECT included: the pipeline answers it).
    Request,
    /// An extended CONNECT for `websocket`.
    WebSocket,
    /// An extended CONNECT for a protocol the gateway does not relay.
    Other,
}

pub(super) fn asks(method: &Method, extensions: &http::Extensions) -> Asks {
    match extensions.get::<Protocol>() {
        Some(protocol) if method == Method::CONNECT => {
            if protocol.as_str().eq_ignore_ascii_case("websocket") {
                Asks::WebSocket
            } else {
                Asks::Other
            }
        }
        _ => Asks::Request,
    }
}

/// Rewrites an extended CONNECT's parts into the RFC 6455 upgrade request the pipeline and
/// the upstream know (`GET` with `Connection: upgrade`, `Upgrade: websocket` and a fresh
/// `Sec-WebSocket-Key`), keeping the client's `Sec-WebSocket-Version`, `-Protocol` and
/// `-Extensions`. Returns the key, to check the upstream's accept against.
pub(super) fn as_upgrade(parts: &mut http::request::Parts) -> String {
    parts.method = Method::GET;
    parts.version = Version::HTTP_11;
    parts.extensions.remove::<Protocol>();
    let key = STANDARD.encode(rand::random::<[u8; 16]>());
    let headers = &mut parts.headers;
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(value) = HeaderValue::from_str(&key) {
        headers.insert(KEY, value);
    }
    key
}

/// Whether the upstream's `Sec-WebSocket-Accept` answers `key` (RFC 6455 §4.2.2): a server
/// that did not is not speaking WebSocket to us, whatever its `101` says.
pub(super) fn accepts(key: &str, headers: &HeaderMap) -> bool {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, format!("{key}{GUID}").as_bytes());
    headers.get(ACCEPT).is_some_and(|value| value.as_bytes() == STANDARD.encode(digest.as_ref()).as_bytes())
}

/// The `200` that opens the tunnel on the client's stream (RFC 8441 §5): the upstream's
/// fields about the WebSocket (subprotocol, extensions) stay, the HTTP/1.1 handshake's go.
pub(super) fn established<B>(mut response: Response<B>) -> Response<B> {
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    for name in [CONNECTION, UPGRADE, ACCEPT, http::header::CONTENT_LENGTH] {
        headers.remove(name);
    }
    response
}

/// Relays the client's stream, once hyper hands it over, and the upstream until the tunnel
/// ends; `busy` keeps the connection from counting as idle meanwhile.
pub(super) async fn relay<T: Send + 'static>(upgrade: OnUpgrade, tunnel: Tunnel, busy: T) {
    match upgrade.await {
        Ok(upgraded) => {
            let mut client = TokioIo::new(upgraded);
            tunnel::pipe(&mut client, &mut Vec::new(), Bytes::new(), tunnel).await;
        }
        Err(e) => {
            tunnel::abandon(tunnel, BodyError::Broken(format!("the client went away before the tunnel opened: {e}")))
        }
    }
    drop(busy);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §1.3's own example.
    #[test]
    fn the_accept_must_be_the_hash_of_our_key() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        assert!(accepts("dGhlIHNhbXBsZSBub25jZQ==", &headers));
        assert!(!accepts("AQIDBAUGBwgJCgsMDQ4PEC==", &headers));
        assert!(!accepts("dGhlIHNhbXBsZSBub25jZQ==", &HeaderMap::new()));
    }

    #[test]
    fn only_an_extended_connect_for_websocket_is_a_websocket() {
        let mut extensions = http::Extensions::new();
        assert_eq!(asks(&Method::CONNECT, &extensions), Asks::Request);
        extensions.insert(Protocol::from_static("websocket"));
        assert_eq!(asks(&Method::CONNECT, &extensions), Asks::WebSocket);
        assert_eq!(asks(&Method::GET, &extensions), Asks::Request);
        extensions.insert(Protocol::from_static("connect-udp"));
        assert_eq!(asks(&Method::CONNECT, &extensions), Asks::Other);
    }

    #[test]
    fn the_connect_becomes_an_rfc_6455_upgrade_with_a_fresh_key() {
        let request = http::Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
            .uri("https://gw/ws/chat")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "chat")
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        let key = as_upgrade(&mut parts);
        assert_eq!((parts.method.clone(), parts.version), (Method::GET, Version::HTTP_11));
        assert_eq!(STANDARD.decode(&key).map(|k| k.len()).ok(), Some(16));
        let request = http::Request::from_parts(parts, ());
        assert!(gatehouse_core::pipeline::upgrade::is_websocket(&request));
        assert_eq!(request.headers()["sec-websocket-protocol"], "chat");
        assert_eq!(request.headers()[KEY], key.as_str());
    }
}
