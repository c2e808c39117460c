//! WebSocket upgrades (RFC 6455 §4): which requests ask for one, and the fields that must
//! survive the hop-by-hop stripping for the upstream (and then the client) to see it.
//!
//! The pipeline runs authentication, authorization and limits on the upgrade request like on
//! any other, so a refusal is an ordinary problem answer and no connection is switched; once
//! admitted, the runtime relays the upgraded connection both ways (see
//! [`crate::ports::UpstreamCall::upgrade`]).

use http::header::{CONNECTION, UPGRADE};
use http::{HeaderMap, HeaderValue, Method, Request, Version};

/// Whether `request` asks to switch to the WebSocket protocol: an HTTP/1.1 `GET` whose
/// `Connection` lists `upgrade` and whose `Upgrade` names `websocket` (any case).
pub fn is_websocket<B>(request: &Request<B>) -> bool {
    asks(request.method(), request.version(), request.headers())
}

/// [`is_websocket`] from a request's parts, for when its header map has been taken out.
pub fn asks(method: &Method, version: Version, headers: &HeaderMap) -> bool {
    method == Method::GET
        && version == Version::HTTP_11
        && lists(headers, CONNECTION, "upgrade")
        && lists(headers, UPGRADE, "websocket")
}

/// Whether a `101` answer switches to WebSocket, as RFC 6455 §4.1 requires the client to check.
pub fn accepted<B>(response: &http::Response<B>) -> bool {
    response.status() == http::StatusCode::SWITCHING_PROTOCOLS && lists(response.headers(), UPGRADE, "websocket")
}

/// Puts back the two fields that ask for (or agree to) the switch, after the hop-by-hop ones
/// were stripped: nothing else the client sent about its connection goes on.
pub fn restore(headers: &mut HeaderMap) {
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
}

fn lists(headers: &HeaderMap, name: http::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, connection: &str, upgrade: &str) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = method;
        request.headers_mut().insert(CONNECTION, HeaderValue::from_str(connection).expect("value"));
        request.headers_mut().insert(UPGRADE, HeaderValue::from_str(upgrade).expect("value"));
        request
    }

    #[test]
    fn only_a_get_that_lists_upgrade_and_names_websocket_is_an_upgrade() {
        assert!(is_websocket(&request(Method::GET, "keep-alive, Upgrade", "WebSocket")));
        assert!(!is_websocket(&request(Method::POST, "upgrade", "websocket")));
        assert!(!is_websocket(&request(Method::GET, "keep-alive", "websocket")));
        assert!(!is_websocket(&request(Method::GET, "upgrade", "h2c")));
    }

    #[test]
    fn a_switch_is_accepted_only_to_websocket() {
        let mut response = http::Response::new(());
        *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
        assert!(!accepted(&response));
        restore(response.headers_mut());
        assert!(accepted(&response));
    }
}
