//! Serialising a request head for HTTP/1.1: origin-form request line, `Host`, the caller's
//! fields, and the framing (`Content-Length`) that this client alone decides.

use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Uri};

use gatehouse_core::decimal;

use crate::http1::has_token;

/// What encoding learned about the request that the exchange needs afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// The request asked for the connection to close after this exchange (`Connection: close`).
    pub close: bool,
}

/// Appends the head of `method uri` with `headers` and a body of `body_len` bytes to `out`
/// (`None`: a streamed body of unknown length, sent chunked).
///
/// The body itself is not copied: the caller writes it after the head (vectored), so a large
/// upload costs no extra copy. `Host` is `host_field` (the connection's, see
/// `Target::host_field`) unless the caller set one.
/// `Content-Length` is computed here and any caller-supplied `Content-Length` or
/// `Transfer-Encoding` is dropped: the framing must describe the bytes actually sent, and a
/// stale or conflicting length would desynchronise the connection (request smuggling).
pub fn encode_head(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    host_field: &[u8],
    body_len: Option<u64>,
    out: &mut Vec<u8>,
) -> Encoded {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    match uri.path_and_query().map(|pq| pq.as_str()) {
        Some(pq) if pq.starts_with('/') => out.extend_from_slice(pq.as_bytes()),
        Some(pq) if !pq.is_empty() => {
            out.push(b'/');
            out.extend_from_slice(pq.as_bytes());
        }
        _ => out.push(b'/'),
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host_field);
        out.extend_from_slice(b"\r\n");
    }
    let mut close = false;
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        if name == CONNECTION && has_token(value.as_bytes(), b"close") {
            close = true;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match body_len {
        None => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Some(len) if len > 0 || matches!(*method, Method::POST | Method::PUT | Method::PATCH) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(decimal::digits(len, &mut [0; 20]));
            out.extend_from_slice(b"\r\n");
        }
        Some(_) => {}
    }
    out.extend_from_slice(b"\r\n");
    Encoded { close }
}
