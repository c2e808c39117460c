//! Byte-level codec cases: every response is also fed one byte at a time, so framing never
//! depends on how reads happen to split.

use bytes::BytesMut;
use http::{HeaderMap, HeaderValue, Method, Uri};

use super::response::MAX_HEAD_BYTES;
use super::{encode_head, CodecError, Decoded, ResponseDecoder};

const MAX: usize = 1024;

/// Feeds `raw` whole, then byte by byte, then calls EOF if `close` (the peer hung up after
/// it); both ways must agree. Returns the decoded response and the bytes left unconsumed.
fn decode(raw: &[u8], head_request: bool, close: bool) -> Result<(Decoded, usize), CodecError> {
    let whole = decode_split(raw, raw.len().max(1), head_request, close);
    let bytewise = decode_split(raw, 1, head_request, close);
    match (&whole, &bytewise) {
        (Ok((a, rest_a)), Ok((b, rest_b))) => {
            assert_eq!(a.response.status(), b.response.status());
            assert_eq!(a.response.headers(), b.response.headers());
            assert_eq!(a.response.body(), b.response.body());
            assert_eq!((a.reusable, rest_a), (b.reusable, rest_b));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("whole: {whole:?}, bytewise: {bytewise:?}"),
    }
    whole
}

fn decode_split(raw: &[u8], step: usize, head_request: bool, close: bool) -> Result<(Decoded, usize), CodecError> {
    let mut decoder = ResponseDecoder::new(head_request, MAX);
    let mut buf = BytesMut::new();
    for piece in raw.chunks(step) {
        // Reads land where the decoder asks, as on a real connection.
        decoder.read_target(&mut buf).extend_from_slice(piece);
        if let Some(done) = decoder.decode(&mut buf)? {
            return Ok((done, buf.len()));
        }
    }
    if close {
        return decoder.decode_eof(&mut buf).map(|done| (done, buf.len()));
    }
    Err(CodecError::Incomplete)
}

fn ok(raw: &[u8]) -> Decoded {
    decode(raw, false, false).unwrap().0
}

fn body(d: &Decoded) -> &[u8] {
    d.response.body()
}

#[test]
fn content_length_body_is_read_exactly_and_the_connection_kept() {
    let d = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello");
    assert_eq!(d.response.status(), 200);
    assert_eq!(body(&d), b"hello");
    assert_eq!(d.response.headers()["content-type"], "text/plain");
    assert!(d.reusable);
}

#[test]
fn zero_content_length_completes_without_reading_more() {
    let d = ok(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert!(body(&d).is_empty() && d.reusable);
}

#[test]
fn repeated_equal_content_lengths_are_accepted_and_conflicting_ones_refused() {
    assert_eq!(body(&ok(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab")), b"ab");
    let conflicting = decode(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", false, false);
    assert!(matches!(conflicting, Err(CodecError::Invalid(_))));
    let signed = decode(b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", false, false);
    assert!(matches!(signed, Err(CodecError::Invalid(_))));
}

#[test]
fn chunked_body_is_decoded_and_its_framing_header_removed() {
    let d = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    assert_eq!(body(&d), b"hello, world");
    assert!(!d.response.headers().contains_key("transfer-encoding"));
    assert!(d.reusable);
}

#[test]
fn chunked_body_split_into_two_reads_at_any_byte_decodes_the_same() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\nT: 1\r\n\r\n";
    for at in 1..raw.len() {
        let mut decoder = ResponseDecoder::new(false, MAX);
        let mut buf = BytesMut::new();
        decoder.read_target(&mut buf).extend_from_slice(&raw[..at]);
        assert!(decoder.decode(&mut buf).unwrap().is_none(), "complete after {at} bytes");
        decoder.read_target(&mut buf).extend_from_slice(&raw[at..]);
        let d = decoder.decode(&mut buf).unwrap().unwrap();
        assert_eq!((body(&d), d.reusable, buf.len()), (&b"abcdef"[..], true, 0), "split at {at}");
    }
}

#[test]
fn chunk_extensions_and_upper_case_hex_sizes_are_understood() {
    let d = ok(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nA;name=\"v\";x\r\n0123456789\r\n0;last\r\n\r\n");
    assert_eq!(body(&d), b"0123456789");
}

#[test]
fn chunked_trailers_are_consumed_and_dropped() {
    let raw =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
    let (d, rest) = decode(raw, false, false).unwrap();
    assert_eq!(body(&d), b"abc");
    assert!(!d.response.headers().contains_key("x-checksum"));
    assert_eq!(rest, 0);
    assert!(d.reusable);
}

#[test]
fn chunked_wins_over_content_length_and_retires_the_connection() {
    let d = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    assert_eq!(body(&d), b"ok");
    assert!(!d.response.headers().contains_key("content-length"));
    assert!(!d.reusable);
}

#[test]
fn malformed_chunk_framing_is_refused() {
    for raw in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    ] {
        assert!(matches!(decode(raw, false, false), Err(CodecError::Invalid(_))), "{}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn interim_responses_are_skipped() {
    let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let d = ok(raw);
    assert_eq!(d.response.status(), 201);
    assert!(!d.response.headers().contains_key("link"));
    assert_eq!(body(&d), b"ok");
}

#[test]
fn switching_protocols_is_refused() {
    let raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    assert!(matches!(decode(raw, false, false), Err(CodecError::Invalid(_))));
}

#[test]
fn head_response_has_no_body_whatever_its_length_says() {
    let (d, rest) = decode(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", true, false).unwrap();
    assert!(body(&d).is_empty());
    assert_eq!(d.response.headers()["content-length"], "42");
    assert_eq!(rest, 0);
    assert!(d.reusable);
}

#[test]
fn no_content_and_not_modified_have_no_body() {
    for raw in [&b"HTTP/1.1 204 No Content\r\n\r\n"[..], b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"] {
        let d = ok(raw);
        assert!(body(&d).is_empty() && d.reusable);
    }
}

#[test]
fn body_without_framing_is_read_until_close_and_the_connection_retired() {
    let (d, _) = decode(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", false, true).unwrap();
    assert_eq!(body(&d), b"all of it");
    assert!(!d.reusable);
}

#[test]
fn eof_before_a_length_delimited_body_ends_is_an_error() {
    let cut = decode(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, true);
    assert!(matches!(cut, Err(CodecError::Incomplete)));
    let cut = decode(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, true);
    assert!(matches!(cut, Err(CodecError::Incomplete)));
    assert!(matches!(decode(b"HTTP/1.1 200 O", false, true), Err(CodecError::Incomplete)));
}

#[test]
fn bodies_over_the_limit_are_refused_in_every_framing() {
    let big = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX + 1);
    assert!(matches!(decode(big.as_bytes(), false, false), Err(CodecError::BodyTooLarge(MAX))));
    let chunk = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", MAX + 1);
    assert!(matches!(decode(chunk.as_bytes(), false, false), Err(CodecError::BodyTooLarge(MAX))));
    let mut until_close = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    until_close.resize(until_close.len() + MAX + 1, b'x');
    assert!(matches!(decode(&until_close, false, true), Err(CodecError::BodyTooLarge(MAX))));
}

#[test]
fn connection_close_and_http_1_0_without_keep_alive_retire_the_connection() {
    assert!(!ok(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").reusable);
    assert!(!ok(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable);
    let d = ok(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    assert!(d.reusable);
    assert_eq!(d.response.version(), http::Version::HTTP_10);
}

#[test]
fn stray_bytes_after_the_response_retire_the_connection() {
    let mut decoder = ResponseDecoder::new(false, MAX);
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1"[..]);
    let d = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(body(&d), b"x");
    assert!(!d.reusable);
}

#[test]
fn malformed_heads_are_refused() {
    for raw in [
        &b"HTTP/1.1 abc OK\r\n\r\n"[..],
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
        b"garbage\r\n\r\n",
    ] {
        assert!(matches!(decode(raw, false, false), Err(CodecError::Head(_))), "{}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn a_head_that_never_ends_is_refused_once_over_the_limit() {
    let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
    while raw.len() <= MAX_HEAD_BYTES {
        raw.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let mut decoder = ResponseDecoder::new(false, MAX);
    let mut buf = BytesMut::from(&raw[..]);
    assert!(matches!(decoder.decode(&mut buf), Err(CodecError::Head(_) | CodecError::HeadTooLarge)));
}

#[test]
fn header_values_survive_the_read_buffer_being_reused() {
    let mut decoder = ResponseDecoder::new(false, MAX);
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 0\r\n\r\n"[..]);
    let d = decoder.decode(&mut buf).unwrap().unwrap();
    buf.clear();
    buf.extend_from_slice(&[b'z'; 64]);
    assert_eq!(d.response.headers()["etag"], "\"v1\"");
}

fn head(method: Method, uri: &str, headers: &[(&'static str, &str)], body_len: usize) -> (String, bool) {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    let mut out = Vec::new();
    let uri = uri.parse::<Uri>().unwrap();
    let host_field = crate::adapters::upstream::connection::Target::from_uri(&uri).unwrap().host_field();
    let encoded = encode_head(&method, &uri, &map, &host_field, Some(body_len as u64), &mut out);
    (String::from_utf8(out).unwrap(), encoded.close)
}

#[test]
fn request_uses_origin_form_and_host_from_the_url() {
    let (text, close) = head(Method::GET, "http://api.test:8080/v1/pets?id=1&x=%20", &[("accept", "*/*")], 0);
    assert_eq!(text, "GET /v1/pets?id=1&x=%20 HTTP/1.1\r\nhost: api.test:8080\r\naccept: */*\r\n\r\n");
    assert!(!close);
    let (text, _) = head(Method::GET, "http://api.test:80", &[], 0);
    assert_eq!(text, "GET / HTTP/1.1\r\nhost: api.test\r\n\r\n");
}

#[test]
fn request_content_length_is_ours_and_sent_for_bodies_and_for_post_put_patch() {
    let (text, _) = head(Method::POST, "http://a/", &[("content-length", "999"), ("transfer-encoding", "chunked")], 3);
    assert_eq!(text, "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\n");
    assert!(head(Method::PUT, "http://a/", &[], 0).0.contains("content-length: 0\r\n"));
    assert!(head(Method::PATCH, "http://a/", &[], 0).0.contains("content-length: 0\r\n"));
    assert!(head(Method::DELETE, "http://a/", &[], 12).0.contains("content-length: 12\r\n"));
    assert!(!head(Method::GET, "http://a/", &[], 0).0.contains("content-length"));
}

#[test]
fn caller_headers_pass_as_given_and_connection_close_is_noticed() {
    let (text, close) = head(
        Method::GET,
        "http://a/",
        &[("host", "b.test"), ("x-multi", "1"), ("x-multi", "2"), ("connection", "Close")],
        0,
    );
    assert_eq!(text, "GET / HTTP/1.1\r\nhost: b.test\r\nx-multi: 1\r\nx-multi: 2\r\nconnection: Close\r\n\r\n");
    assert!(close);
}

#[test]
fn connection_fields_about_this_connection_only_are_not_passed_on() {
    let names = |d: &Decoded| {
        let mut names: Vec<String> = d.response.headers().keys().map(|n| n.to_string()).collect();
        names.sort();
        names
    };
    let d = ok(
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(names(&d), ["content-length", "x-a"]);
    assert!(d.reusable);
    let d = ok(b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(names(&d), ["content-length"]);
    assert!(!d.reusable, "still read: close retires the connection");
    // Naming another field keeps `Connection`, so the gateway strips that field as well.
    let d = ok(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-A\r\nKeep-Alive: timeout=5\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(names(&d), ["connection", "content-length", "keep-alive", "x-a"]);
}
