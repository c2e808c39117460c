//! Writing a response head, with the framing its body needs: an exact `Content-Length` for a
//! body held whole or announced by the upstream, chunked for a stream of unknown length, the
//! connection's close for one to an HTTP/1.0 client, and `Connection: upgrade` for a `101`.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::Response;

use crate::http1::has_body;

/// How the body that follows the head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Known(u64),
    Chunked,
    /// By closing the connection (`exchange.close` must then be set).
    Close,
    /// A `101`: no body, the connection switches protocols.
    Switch,
}

/// What the connection decided about the exchange, which the head must announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// The request was HEAD: headers as for GET, no body.
    pub head_request: bool,
    /// The connection closes after this response.
    pub close: bool,
    /// An HTTP/1.0 client asked to keep the connection; it must hear that we agree.
    pub confirm_keep_alive: bool,
}

/// Appends the status line and header section of `response` to `out`, ready to be followed by
/// the body (when [`crate::http1::has_body`] and not HEAD). Framing and connection fields are ours: any the
/// response carries are dropped and rewritten from the body and `exchange`.
pub fn encode_head<B>(response: &Response<B>, length: Length, exchange: Exchange, out: &mut Vec<u8>) {
    let status = response.status();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.extend_from_slice(b"\r\n");
    let headers = response.headers();
    for (name, value) in headers {
        // A HEAD response may state the length a GET would have had; keep the upstream's.
        let ours = name == CONNECTION
            || name == TRANSFER_ENCODING
            || (name == CONTENT_LENGTH && !(exchange.head_request && has_body(status)));
        if ours {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match length {
        _ if !has_body(status) || exchange.head_request => {}
        Length::Known(len) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(gatehouse_core::decimal::digits(len, &mut [0; 20]));
            out.extend_from_slice(b"\r\n");
        }
        Length::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Length::Close | Length::Switch => {}
    }
    if !headers.contains_key(DATE) {
        out.extend_from_slice(b"date: ");
        push_date(out);
        out.extend_from_slice(b"\r\n");
    }
    if length == Length::Switch {
        out.extend_from_slice(b"connection: upgrade\r\n");
    } else if exchange.close {
        out.extend_from_slice(b"connection: close\r\n");
    } else if exchange.confirm_keep_alive {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the current `Date` (RFC 9110 §6.6.1), formatted at most once a second per thread.
fn push_date(out: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, formatted)| {
        if *at != secs {
            *formatted = gatehouse_core::time::http_date(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000));
            *at = secs;
        }
        out.extend_from_slice(formatted.as_bytes());
    });
}

/// The interim response an `Expect: 100-continue` client waits for before sending its body.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
