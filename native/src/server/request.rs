//! Reading a request head with `httparse` and deciding its body's framing (RFC 9112 §6.3).
//!
//! Strict on purpose: a gateway that reads a message's length differently from the server
//! behind it lets requests be smuggled past its checks, so anything ambiguous (both
//! `Content-Length` and `Transfer-Encoding`, lengths that disagree, a coding other than
//! `chunked`, more than one `Host`) is refused rather than guessed at.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{Method, Request, Uri, Version};

use crate::http1::{content_length, field_name, trim_ows, ConnectionTokens, Span};

/// Most header fields accepted in one request head (hyper's and nginx's order of magnitude).
pub const MAX_HEADERS: usize = 100;
/// Largest request head accepted; nginx's default `large_client_header_buffers` is 4 × 8 KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest request target accepted (414 beyond): Cloudflare's URL limit, so an API takes the
/// same URLs from this gateway as from the edge one.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Room for the method and version around the target on an unfinished request line.
const REQUEST_LINE_SLACK: usize = 64;

/// What a parsed head says the connection must do around its request.
#[derive(Debug)]
pub struct Head {
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
    /// 414: the request target is longer than [`MAX_URI_BYTES`].
    UriTooLong,
    /// 413.
    BodyTooLarge,
    /// 501, with what is not implemented.
    NotImplemented(&'static str),
    /// 417.
    ExpectationFailed,
    /// 408: the head or body did not arrive in time.
    Timeout,
}

/// Parses the head at the start of `buf` into `request` (method, target, version, fields; its
/// body and extensions are the caller's): `Ok(None)` while it is incomplete (`buf` and
/// `request` are left as they were), else what the head says about framing and persistence.
/// The head is split off the front of `buf`.
///
/// Zero-copy: the URI and header values are slices of the head's bytes where they were read,
/// so they keep that part of the connection's read buffer alive as long as they live. That
/// costs nothing because no request field outlives its exchange: the connection empties its
/// request once answered (the buffer is then reclaimed in place), and the cache stores
/// response fields and only a digest of the request's `Vary` fields
/// (`gatehouse_core::cache::entry::vary_digest`). Anything that keeps a request field for
/// longer must copy it, or it pins the whole buffer.
///
/// A connection parses each of its requests into the same `Request`, so the request is never
/// moved (it is 224 bytes) and its header map keeps the capacity earlier messages allocated.
pub fn parse_head<B>(buf: &mut BytesMut, request: &mut Request<B>) -> Result<Option<Head>, Refusal> {
    let mut fields = [Field::default(); MAX_HEADERS];
    let Some(layout) = locate(buf, &mut fields)? else { return Ok(None) };
    let head = buf.split_to(layout.len).freeze();
    let count = layout.fields;
    build(&head, layout, &fields[..count], request).map(Some)
}

#[derive(Debug, Clone, Copy, Default)]
struct Field {
    name: Span,
    value: Span,
}

/// What [`locate`] learnt about a complete head before it is split off the buffer (the parser
/// borrows the buffer, so parts are kept as offsets until then).
struct Layout {
    len: usize,
    version: Version,
    method: Method,
    path: Span,
    /// How many of the fields were filled in.
    fields: usize,
}

/// Parses the request line and finds the header fields; `None` while the head is incomplete.
fn locate(buf: &[u8], fields: &mut [Field; MAX_HEADERS]) -> Result<Option<Layout>, Refusal> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(_)) if parsed.path.is_some_and(|p| p.len() > MAX_URI_BYTES) => {
            return Err(Refusal::UriTooLong)
        }
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => len,
        Ok(httparse::Status::Partial) if unfinished_target_too_long(buf) => return Err(Refusal::UriTooLong),
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD_BYTES => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(Refusal::HeadTooLarge),
        Err(_) => return Err(Refusal::BadRequest("The request head is not valid HTTP/1.1.")),
    };
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| Refusal::BadRequest("The request method is not a valid token."))?;
    if method == Method::CONNECT {
        return Err(Refusal::NotImplemented("CONNECT tunnels are not offered by this gateway."));
    }
    for (field, header) in fields.iter_mut().zip(parsed.headers.iter()) {
        *field = Field { name: Span::of(header.name.as_bytes(), buf), value: Span::of(header.value, buf) };
    }
    let path = Span::of(parsed.path.unwrap_or_default().as_bytes(), buf);
    Ok(Some(Layout { len, version, method, path, fields: parsed.headers.len() }))
}

/// A request line still unfinished after more bytes than the longest target needs: refused
/// now, rather than once the whole head limit has been read.
fn unfinished_target_too_long(buf: &[u8]) -> bool {
    buf.len() > MAX_URI_BYTES + REQUEST_LINE_SLACK && !buf.contains(&b'\n')
}

/// The request from its head's bytes, into `request`, with the framing decided and checked.
fn build<B>(head: &Bytes, layout: Layout, fields: &[Field], request: &mut Request<B>) -> Result<Head, Refusal> {
    let bad = Refusal::BadRequest;
    let version = layout.version;
    let uri = layout
        .path
        .slice(head)
        .and_then(|path| Uri::from_maybe_shared(path).ok())
        .ok_or(bad("The request target is not a valid URI."))?;

    let headers = request.headers_mut();
    headers.clear();
    headers.reserve(fields.len());
    let (mut length, mut codings, mut hosts) = (None, Codings::Absent, 0);
    let (mut connection, mut expects_continue) = (ConnectionTokens::default(), false);
    for field in fields {
        let name = head
            .get(field.name.range())
            .and_then(|name| field_name(name).ok())
            .ok_or(bad("A header field name is invalid."))?;
        let value = field.value.field_value(head).ok_or(bad("A header field value is invalid."))?;
        let bytes = value.as_bytes();
        if name == CONTENT_LENGTH {
            length = Some(content_length(bytes, length).map_err(|_| bad("Content-Length is invalid or conflicting."))?);
        } else if name == TRANSFER_ENCODING {
            codings = codings.add(bytes);
        } else if name == HOST {
            hosts += 1;
        } else if name == CONNECTION {
            connection.add(bytes);
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
    let keep_alive = connection.persistent(version);

    *request.method_mut() = layout.method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    Ok(Head { framing, keep_alive, expects_continue })
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
