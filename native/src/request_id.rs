//! `X-Request-Id`: the id that ties a client's call, the gateway's access-log line and the
//! upstream's own logs together. A client's id is kept when it looks like one (so a caller's
//! tracing carries through); anything else is replaced by a fresh id.
//!
//! Fresh ids are a random 64-bit prefix drawn once per thread and a counter: unique across
//! threads and restarts without drawing randomness per request.

use std::cell::Cell;

use http::header::HeaderName;
use http::{HeaderMap, HeaderValue};
use rand::RngCore;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client id kept (a UUID is 36, a W3C trace id 32).
const MAX_LEN: usize = 128;

thread_local! {
    static NEXT: Cell<(u64, u64)> = Cell::new((rand::rng().next_u64(), 0));
}

/// The request's id, after making sure `headers` holds exactly that one.
pub fn accept_or_make(headers: &mut HeaderMap) -> HeaderValue {
    let mut given = headers.get_all(&X_REQUEST_ID).iter();
    if let (Some(id), None) = (given.next(), given.next()) {
        if acceptable(id.as_bytes()) {
            return id.clone();
        }
    }
    let id = fresh();
    headers.insert(X_REQUEST_ID, id.clone());
    id
}

/// Letters, digits and `-_.:/+=` only, so an id is safe in any log format and header.
fn acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 24 hex digits: the thread's prefix, then the low 32 bits of its counter.
fn fresh() -> HeaderValue {
    let (prefix, count) = NEXT.with(|next| {
        let (prefix, count) = next.get();
        next.set((prefix, count.wrapping_add(1)));
        (prefix, count)
    });
    let mut text = [0u8; 24];
    let digits = prefix.to_be_bytes().into_iter().chain(u32::to_be_bytes(count as u32));
    for (pair, byte) in text.chunks_exact_mut(2).zip(digits) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plausible_client_id_is_kept_and_anything_else_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("3f2a-trace.01"));
        assert_eq!(accept_or_make(&mut headers), "3f2a-trace.01");
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("a b\"c"));
        let made = accept_or_make(&mut headers);
        assert_ne!(made, "a b\"c");
        assert_eq!(headers.get(X_REQUEST_ID), Some(&made));
        headers.append(X_REQUEST_ID, HeaderValue::from_static("second"));
        accept_or_make(&mut headers);
        assert_eq!(headers.get_all(X_REQUEST_ID).iter().count(), 1, "two ids become one");
    }

    #[test]
    fn fresh_ids_differ() {
        let (mut a, mut b) = (HeaderMap::new(), HeaderMap::new());
        assert_ne!(accept_or_make(&mut a), accept_or_make(&mut b));
    }
}
