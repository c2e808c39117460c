//! Fuzz entry points for the HTTP/1.1 code that reads bytes from strangers: the request head
//! parser ([`crate::server::request::parse_head`]), the chunked body decoder
//! ([`crate::http1::chunked`]) and the upstream response decoder
//! ([`crate::adapters::upstream::ResponseDecoder`]).
//!
//! Each takes arbitrary bytes and checks more than "no panic": it reads the input whole, then
//! again as it might arrive from a socket (split at a point the input chooses, and for the
//! chunked decoder also one byte at a time), and asserts that both readings agree. A parser
//! that kept state wrongly across reads (the classic source of smuggling bugs) disagrees with
//! itself. The libFuzzer targets in `fuzz/` call these (`scripts/fuzz.sh`), and
//! `native/tests/fuzz_corpus.rs` replays every saved corpus input through them on stable Rust.

use bytes::{Bytes, BytesMut};
use http::Request;

use crate::adapters::upstream::ResponseDecoder;
use crate::http1::chunked::ChunkedDecoder;
use crate::server::request::parse_head;

/// Bodies the targets accept, small so a fuzzer spends its time on framing, not on copying.
const MAX_BODY: usize = 64 * 1024;

/// The first byte picks where to split the rest; the rest is the input.
fn split(data: &[u8]) -> (&[u8], usize) {
    match data.split_first() {
        Some((choice, rest)) if !rest.is_empty() => (rest, usize::from(*choice) % rest.len()),
        Some((_, rest)) => (rest, 0),
        None => (data, 0),
    }
}

/// Appends the pieces not yet read: what follows a complete message, whatever the split.
fn rest(buf: &mut BytesMut, pieces: &[&[u8]]) {
    for piece in pieces {
        buf.extend_from_slice(piece);
    }
}

/// The request head parser: whole and split readings give the same request or refusal.
pub fn request_head(data: &[u8]) {
    let (input, at) = split(data);
    let whole = parse_request(&[input]);
    let pieces = parse_request(&[&input[..at], &input[at..]]);
    assert_eq!(whole, pieces, "request head read whole vs split at {at}");
}

/// What a request head parse came to, comparable across readings.
fn parse_request(pieces: &[&[u8]]) -> String {
    let (mut buf, mut request) = (BytesMut::new(), Request::new(Bytes::new()));
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        match parse_head(&mut buf, &mut request) {
            Ok(None) => continue,
            Err(refusal) => return format!("refused {refusal:?}"),
            Ok(Some(head)) => {
                rest(&mut buf, &pieces[i + 1..]);
                let (framing, keep_alive, expects) = (head.framing, head.keep_alive, head.expects_continue);
                return format!(
                    "{} {} {:?} {:?} framing={framing:?} keep_alive={keep_alive} continue={expects} rest={:?}",
                    request.method(),
                    request.uri(),
                    request.version(),
                    request.headers(),
                    &buf[..],
                );
            }
        }
    }
    "incomplete".to_owned()
}

/// The chunked decoder: whole, split and byte-at-a-time readings decode the same body, stop
/// at the same place and fail the same way.
pub fn chunked(data: &[u8]) {
    let (input, at) = split(data);
    let whole = decode_chunked(&[input]);
    let pieces = decode_chunked(&[&input[..at], &input[at..]]);
    assert_eq!(whole, pieces, "chunked body read whole vs split at {at}");
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(whole, decode_chunked(&bytes), "chunked body read whole vs byte by byte");
}

fn decode_chunked(pieces: &[&[u8]]) -> String {
    let (mut decoder, mut buf, mut body) = (ChunkedDecoder::default(), BytesMut::new(), BytesMut::new());
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        match decoder.decode(&mut buf, &mut body, MAX_BODY) {
            Ok(false) => continue,
            Ok(true) => {
                rest(&mut buf, &pieces[i + 1..]);
                return format!("done body={:?} rest={:?}", &body[..], &buf[..]);
            }
            Err(e) => return format!("error {e:?}"),
        }
    }
    format!("incomplete body={:?}", &body[..])
}

/// The upstream response decoder (for a GET and a HEAD, as the input's first byte says):
/// whole and split readings give the same response, or the same failure, also when the
/// connection closes after the last byte.
pub fn response(data: &[u8]) {
    let head_request = data.first().is_some_and(|b| b & 0x80 != 0);
    let (input, at) = split(data);
    let whole = decode_response(&[input], head_request);
    let pieces = decode_response(&[&input[..at], &input[at..]], head_request);
    assert_eq!(whole, pieces, "response read whole vs split at {at}");
}

fn decode_response(pieces: &[&[u8]], head_request: bool) -> String {
    let (mut decoder, mut buf) = (ResponseDecoder::new(head_request, MAX_BODY), BytesMut::new());
    // `reusable` is judged on the bytes that have arrived: stray bytes that come after a
    // complete response are caught when the pool takes the connection again
    // (`Conn::looks_usable`), so only "reusable with nothing after it" must not depend on
    // how the bytes were split (the fuzzer found exactly that difference).
    let show = |d: crate::adapters::upstream::Decoded, buf: &BytesMut| {
        let (parts, body) = d.response.into_parts();
        let reusable = d.reusable && buf.is_empty();
        format!("{} {:?} body={:?} reusable={reusable} rest={:?}", parts.status, parts.headers, body, &buf[..])
    };
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        match decoder.decode(&mut buf) {
            Ok(None) => continue,
            Ok(Some(decoded)) => {
                rest(&mut buf, &pieces[i + 1..]);
                return show(decoded, &buf);
            }
            Err(e) => return format!("error {e}"),
        }
    }
    match decoder.decode_eof(&mut buf) {
        Ok(decoded) => format!("at close: {}", show(decoded, &buf)),
        Err(e) => format!("at close: error {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_points_accept_anything_small() {
        for input in [&b""[..], b"\x00", b"\x05GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"\x03\x00HTTP/1.1 200 OK\r\n\r\n"] {
            request_head(input);
            chunked(input);
            response(input);
        }
    }
}
