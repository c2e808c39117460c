//! Reading a request head with `httparse` and deciding its body's framing (RFC 9112 §6.3).
//!
//! Strict on purpose: a gateway that reads a message's length differently from the server
//! behind it lets requests be smuggled past its checks, so anything ambiguous (both
//! `Content-Length` and `Transfer-Encoding`, lengths that disagree, a coding other than
//! `chunked`, more than one `Host`) is refused rather than guessed at.

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};

use crate::http1::{content_length, has_token, trim_ows};

/// Most header fields accepted in one request head (hyper's and nginx's order of magnitude).
pub const MAX_HEADERS: usize = 100;
/// Largest request head accepted; nginx's default `large_client_header_buffers` is 4 × 8 KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A parsed head: the request without its body, and what the connection must do around it.
#[derive(Debug)]
pub struct Head {
    pub request: Request<()>,
    pub framing: Framing,
    /// The client will keep the connection open after this exchange if we do.
    pub keep_alive: bool,
    /// `Expect: 100-continue` from an HTTP/1.1 client: it waits for a `100 Continue`.
    pub expects_continue: bool,
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// A request the server answers itself, before the gateway sees it. The connection is closed
/// afterwards: once framing is in doubt, nothing after it on the wire can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 400, with the reason.
    BadRequest(&'static str),
    /// 431.
    HeadTooLarge,
    /// 413.
    BodyTooLarge,
    /// 501, with what is not implemented.
    NotImplemented(&'static str),
    /// 417.
    ExpectationFailed,
    /// 408: the head or body did not arrive in time.
    Timeout,
}

/// Parses the head at the start of `buf`: `Ok(None)` until it is complete, else the head and
/// its length in bytes.
///
/// The head is copied once into its own allocation and header values are slices of it, so
/// nothing the gateway keeps (a cache entry's `Vary` values) pins the connection's buffer.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, Refusal> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => len,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD_BYTES => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(Refusal::HeadTooLarge),
        Err(_) => return Err(Refusal::BadRequest("The request head is not valid HTTP/1.1.")),
    };
    let bad = Refusal::BadRequest;
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| bad("The request method is not a valid token."))?;
    if method == Method::CONNECT {
        return Err(Refusal::NotImplemented("CONNECT tunnels are not offered by this gateway."));
    }
    let head_bytes = Bytes::copy_from_slice(&buf[..len]);
    let slice = |part: &[u8]| {
        let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
        head_bytes.slice(start..start + part.len())
    };
    let uri = Uri::from_maybe_shared(slice(parsed.path.unwrap_or_default().as_bytes()))
        .map_err(|_| bad("The request target is not a valid URI."))?;

    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    let (mut length, mut codings, mut hosts) = (None, Codings::Absent, 0);
    let (mut close, mut keep_alive, mut expects_continue) = (false, false, false);
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| bad("A header field name is invalid."))?;
        let value = if field.value.is_empty() {
            HeaderValue::from_static("")
        } else {
            HeaderValue::from_maybe_shared(slice(field.value)).map_err(|_| bad("A header field value is invalid."))?
        };
        let bytes = value.as_bytes();
        if name == CONTENT_LENGTH {
            length = Some(content_length(bytes, length).map_err(|_| bad("Content-Length is invalid or conflicting."))?);
        } else if name == TRANSFER_ENCODING {
            codings = codings.add(bytes);
        } else if name == HOST {
            hosts += 1;
        } else if name == CONNECTION {
            close |= has_token(bytes, b"close");
            keep_alive |= has_token(bytes, b"keep-alive");
        } else if name == EXPECT {
            if !trim_ows(bytes).eq_ignore_ascii_case(b"100-continue") {
                return Err(Refusal::ExpectationFailed);
            }
            // RFC 9110 §10.1.1: an HTTP/1.0 client never waits for 100 Continue.
            expects_continue = version == Version::HTTP_11;
        }
        headers.append(name, value);
    }
    if hosts > 1 || (hosts == 0 && version == Version::HTTP_11) {
        return Err(bad("An HTTP/1.1 request needs exactly one Host header (RFC 9112 §3.2)."));
    }
    let framing = match (codings, length) {
        (Codings::Absent, None | Some(0)) => Framing::None,
        (Codings::Absent, Some(n)) => Framing::Length(n),
        (_, Some(_)) => return Err(bad("Content-Length and Transfer-Encoding must not both be sent.")),
        (_, None) if version == Version::HTTP_10 => return Err(bad("HTTP/1.0 has no Transfer-Encoding.")),
        (Codings::Chunked, None) => Framing::Chunked,
        (Codings::EndsChunked, None) => {
            return Err(Refusal::NotImplemented("Only the chunked transfer coding is supported."))
        }
        (Codings::NotChunked | Codings::Invalid, None) => {
            return Err(bad("Transfer-Encoding must end in chunked, applied once (RFC 9112 §6.3)."))
        }
    };
    let keep_alive = !close && (version == Version::HTTP_11 || keep_alive);

    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some((Head { request, framing, keep_alive, expects_continue }, len)))
}

/// What the `Transfer-Encoding` lines say, read as one list across all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codings {
    Absent,
    /// Exactly `chunked`.
    Chunked,
    /// Other codings, then a final `chunked` (e.g. `gzip, chunked`): valid, but not supported.
    EndsChunked,
    /// Codings without a final `chunked`: the length cannot be known.
    NotChunked,
    /// `chunked` followed by anything (a sender must apply it once, last), or an empty line.
    Invalid,
}

impl Codings {
    fn add(self, line: &[u8]) -> Codings {
        let mut state = self;
        let mut tokens = 0;
        for token in line.split(|b| *b == b',').map(trim_ows).filter(|t| !t.is_empty()) {
            tokens += 1;
            let chunked = token.eq_ignore_ascii_case(b"chunked");
            state = match (state, chunked) {
                (Codings::Absent, true) => Codings::Chunked,
                (Codings::Absent | Codings::NotChunked, false) => Codings::NotChunked,
                (Codings::NotChunked, true) => Codings::EndsChunked,
                (Codings::Chunked | Codings::EndsChunked | Codings::Invalid, _) => Codings::Invalid,
            };
        }
        if tokens == 0 {
            Codings::Invalid
        } else {
            state
        }
    }
}
