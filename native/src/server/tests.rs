//! Request-head cases, byte-level: what is accepted, and what is refused with which answer.

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Version};

use super::request::{parse_head, Framing, Head, Refusal, MAX_HEAD_BYTES, MAX_URI_BYTES};

/// A parsed head and the request it was parsed into.
struct Parsed {
    request: Request<Bytes>,
    head: Head,
}

impl std::ops::Deref for Parsed {
    type Target = Head;
    fn deref(&self) -> &Head {
        &self.head
    }
}

/// [`parse_head`] into a new request.
fn parse_from(buf: &mut BytesMut) -> Result<Option<Parsed>, Refusal> {
    let mut request = Request::new(Bytes::new());
    Ok(parse_head(buf, &mut request)?.map(|head| Parsed { request, head }))
}

/// Parses a complete head; for a valid one, also checks that every prefix of it is merely
/// incomplete and left in the buffer, so a head may arrive split anywhere.
fn parse(raw: &str) -> Result<Parsed, Refusal> {
    let bytes = raw.as_bytes();
    let mut buf = BytesMut::from(bytes);
    let Some(head) = parse_from(&mut buf)? else { panic!("incomplete: {raw:?}") };
    assert!(buf.is_empty(), "the whole head is taken from the buffer: {raw:?}");
    for cut in 0..bytes.len() {
        let mut prefix = BytesMut::from(&bytes[..cut]);
        assert!(matches!(parse_from(&mut prefix), Ok(None)), "prefix of {cut} bytes: {raw:?}");
        assert_eq!(prefix, &bytes[..cut], "an incomplete head stays in the buffer");
    }
    Ok(head)
}

fn parse_bytes(raw: &[u8]) -> Result<Option<Parsed>, Refusal> {
    parse_from(&mut BytesMut::from(raw))
}

#[test]
fn a_simple_get_parses_into_a_request_without_body() {
    let head = parse("GET /v1/things?x=1 HTTP/1.1\r\nHost: api.example\r\nX-API-Key: k\r\n\r\n").expect("valid");
    assert_eq!(head.request.method(), Method::GET);
    assert_eq!(head.request.uri(), "/v1/things?x=1");
    assert_eq!(head.request.version(), Version::HTTP_11);
    assert_eq!(head.request.headers()["x-api-key"], "k");
    assert_eq!(head.framing, Framing::None);
    assert!(head.keep_alive && !head.expects_continue);
}

#[test]
fn persistence_follows_the_version_and_connection_tokens() {
    let close = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").expect("valid");
    assert!(!close.keep_alive);
    let old = parse("GET / HTTP/1.0\r\n\r\n").expect("an HTTP/1.0 request needs no Host");
    assert!(!old.keep_alive);
    let old_kept = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").expect("valid");
    assert!(old_kept.keep_alive);
}

#[test]
fn body_framing_comes_from_content_length_or_chunked() {
    let post = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").expect("valid");
    assert_eq!(post.framing, Framing::Length(12));
    let repeated = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n");
    assert_eq!(repeated.expect("equal lengths agree").framing, Framing::Length(5));
    let chunked = parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n").expect("valid");
    assert_eq!(chunked.framing, Framing::Chunked);
    let zero = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").expect("valid");
    assert_eq!(zero.framing, Framing::None);
}

#[test]
fn ambiguous_framing_is_refused_never_guessed() {
    let bad = |raw: &str| assert!(matches!(parse(raw), Err(Refusal::BadRequest(_))), "{raw:?}");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n");
    bad("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    // A space before the colon (RFC 9112 §5.1), and obsolete line folding, are syntax errors.
    bad("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n");
    bad("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n");
    let unsupported = parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert!(matches!(unsupported, Err(Refusal::NotImplemented(_))));
}

#[test]
fn host_must_appear_exactly_once_in_http_1_1() {
    let bad = |raw: &str| assert!(matches!(parse(raw), Err(Refusal::BadRequest(_))), "{raw:?}");
    bad("GET / HTTP/1.1\r\n\r\n");
    bad("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
}

#[test]
fn expectations_other_than_100_continue_fail_and_http_1_0_never_waits() {
    let waits = parse("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
    assert!(waits.expect("valid").expects_continue);
    let old = parse("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").expect("valid");
    assert!(!old.expects_continue);
    let other = parse("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n");
    assert!(matches!(other, Err(Refusal::ExpectationFailed)));
}

#[test]
fn connect_and_garbage_are_refused() {
    assert!(matches!(parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), Err(Refusal::NotImplemented(_))));
    assert!(matches!(parse_bytes(b"GET / HTTP/2.0\r\n\r\n"), Err(Refusal::BadRequest(_))));
    assert!(matches!(parse_bytes(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), Err(Refusal::BadRequest(_))));
    assert!(matches!(parse_bytes(b"GET /a b HTTP/1.1\r\n\r\n"), Err(Refusal::BadRequest(_))));
}

#[test]
fn oversized_heads_are_refused_with_431() {
    let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n", "a".repeat(MAX_HEAD_BYTES));
    assert!(matches!(parse_bytes(long.as_bytes()), Err(Refusal::HeadTooLarge)));
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let raw = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
    assert!(matches!(parse_bytes(raw.as_bytes()), Err(Refusal::HeadTooLarge)));
}

#[test]
fn overlong_targets_are_refused_with_414_whole_or_still_arriving() {
    let at_limit = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(MAX_URI_BYTES - 1));
    assert!(parse_bytes(at_limit.as_bytes()).is_ok());
    let whole = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(MAX_URI_BYTES));
    assert!(matches!(parse_bytes(whole.as_bytes()), Err(Refusal::UriTooLong)));
    let arriving = format!("GET /{}", "a".repeat(MAX_URI_BYTES + 100));
    assert!(matches!(parse_bytes(arriving.as_bytes()), Err(Refusal::UriTooLong)));
}

#[test]
fn only_the_head_is_taken_and_pipelined_bytes_stay_in_the_buffer() {
    let first = "GET /a HTTP/1.1\r\nHost: a\r\nX-Key: k\r\n\r\n";
    let mut buf = BytesMut::from(format!("{first}GET /b HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    let head = parse_from(&mut buf).expect("valid").expect("complete");
    assert_eq!(head.request.uri(), "/a");
    assert_eq!(head.request.headers()["x-key"], "k");
    let next = parse_from(&mut buf).expect("valid").expect("complete");
    assert_eq!(next.request.uri(), "/b");
    assert!(buf.is_empty());
    assert_eq!(head.request.headers()["x-key"], "k", "values outlive later reads of the buffer");
}

#[test]
fn a_request_parsed_into_a_used_one_keeps_nothing_of_it() {
    let mut request = Request::new(Bytes::new());
    let mut buf = BytesMut::from(&b"POST /a?q HTTP/1.0\r\nHost: a\r\nX-Old: 1\r\nContent-Length: 0\r\n\r\n"[..]);
    parse_head(&mut buf, &mut request).expect("valid").expect("complete");
    let mut buf = BytesMut::from(&b"GET /b HTTP/1.1\r\nHost: b\r\n\r\n"[..]);
    parse_head(&mut buf, &mut request).expect("valid").expect("complete");
    assert_eq!(
        (request.method(), request.uri().to_string(), request.version()),
        (&Method::GET, "/b".into(), Version::HTTP_11)
    );
    assert_eq!(request.headers().len(), 1, "only the second request's fields");
    assert_eq!(request.headers()["host"], "b");
}
