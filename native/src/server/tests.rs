//! Request-head cases, byte-level: what is accepted, and what is refused with which answer.

use http::{Method, Version};

use super::request::{parse_head, Framing, Head, Refusal, MAX_HEAD_BYTES};

/// Parses a complete head; for a valid one, also checks that every prefix of it is merely
/// incomplete, so a head may arrive split anywhere.
fn parse(raw: &str) -> Result<Head, Refusal> {
    let bytes = raw.as_bytes();
    let Some((head, len)) = parse_head(bytes)? else { panic!("incomplete: {raw:?}") };
    assert_eq!(len, bytes.len());
    for cut in 0..bytes.len() {
        assert!(matches!(parse_head(&bytes[..cut]), Ok(None)), "prefix of {cut} bytes: {raw:?}");
    }
    Ok(head)
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
    assert!(matches!(parse_head(b"GET / HTTP/2.0\r\n\r\n"), Err(Refusal::BadRequest(_))));
    assert!(matches!(parse_head(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), Err(Refusal::BadRequest(_))));
    assert!(matches!(parse_head(b"GET /a b HTTP/1.1\r\n\r\n"), Err(Refusal::BadRequest(_))));
}

#[test]
fn oversized_heads_are_refused_with_431() {
    let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n", "a".repeat(MAX_HEAD_BYTES));
    assert!(matches!(parse_head(long.as_bytes()), Err(Refusal::HeadTooLarge)));
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let raw = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
    assert!(matches!(parse_head(raw.as_bytes()), Err(Refusal::HeadTooLarge)));
}

#[test]
fn header_values_do_not_borrow_the_read_buffer() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\nVary-Me: v\r\n\r\n".to_vec();
    let (head, _) = parse_head(&raw).expect("valid").expect("complete");
    let value = head.request.headers()["vary-me"].as_bytes().as_ptr() as usize;
    let range = raw.as_ptr() as usize..raw.as_ptr() as usize + raw.len();
    assert!(!range.contains(&value));
}
