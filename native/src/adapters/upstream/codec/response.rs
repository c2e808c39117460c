//! Decoding a response: the head with `httparse`, then the body by the framing RFC 9112 §6.3
//! prescribes, and whether the connection may carry another request afterwards.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Response, StatusCode, Version};

use super::stream::BodyFraming;
use super::CodecError;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::{content_length, field_name, has_body, last_token, ConnectionTokens, Span};

/// Fields the gateway may add to a proxied response; see `parse_head`.
const ADDED_BY_GATEWAY: usize = 4;
/// Most header fields accepted in one response head (hyper's default too).
const MAX_HEADERS: usize = 100;
/// Largest response head accepted; beyond it the peer is not speaking sane HTTP.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The read buffer always offers at least this much room, so one read takes a typical response
/// whole (a nearly full buffer would otherwise read a few bytes at a time).
const MIN_READ_ROOM: usize = 4 * 1024;
/// How much the read buffer grows by when it runs short of room.
const READ_GROWTH: usize = 16 * 1024;
/// Most memory reserved ahead for a body from its announced length, so a peer that announces
/// 16 MiB and sends nothing cannot make us allocate it.
const MAX_BODY_PREALLOC: usize = 1024 * 1024;

/// A complete response and whether its connection can be reused.
#[derive(Debug)]
pub struct Decoded {
    pub response: Response<Bytes>,
    /// The peer agreed to keep the connection open, the body had explicit framing, and no
    /// stray bytes followed it.
    pub reusable: bool,
}

/// A response whose body goes on streaming: see [`ResponseDecoder::streaming`].
#[derive(Debug)]
pub struct Streaming {
    pub response: Response<()>,
    pub framing: BodyFraming,
    /// Body data decoded before the switch to streaming (possibly none).
    pub first: Bytes,
    /// The peer keeps the connection open after the body.
    pub keep_alive: bool,
}

/// Decodes one response from the bytes of a connection, as they arrive.
#[derive(Debug)]
pub struct ResponseDecoder {
    /// The request was `HEAD`: the response has no body whatever its headers say.
    head_request: bool,
    max_body: usize,
    /// The request asked to switch to WebSocket: a `101` is then the answer, not an error.
    switch: bool,
    state: State,
}

#[derive(Debug)]
enum State {
    Head,
    Body(Head, Framing),
    Done,
}

#[derive(Debug)]
struct Head {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    keep_alive: bool,
}

#[derive(Debug)]
enum Framing {
    Length { body: BytesMut, total: usize },
    Chunked { body: BytesMut, decoder: ChunkedDecoder },
    UntilClose { body: BytesMut },
}

impl ResponseDecoder {
    pub fn new(head_request: bool, max_body: usize) -> Self {
        ResponseDecoder { head_request, max_body, switch: false, state: State::Head }
    }

    /// Takes a `101 Switching Protocols` as the answer (for a WebSocket upgrade): it completes
    /// the response, and the bytes after its head are the new protocol's.
    pub fn switching(mut self) -> Self {
        self.switch = true;
        self
    }

    /// Once the head is in and the body is not done: the head, how the rest of the body is
    /// framed and what of it was decoded already, so that the body can stream from here on
    /// (see [`super::stream`]). `None` before the head, or when the body is known to be at
    /// most `inline_max` bytes (it is then read whole, as one buffer is cheaper than a stream).
    pub fn streaming(&mut self, inline_max: usize) -> Option<Streaming> {
        let State::Body(_, framing) = &self.state else { return None };
        if matches!(framing, Framing::Length { total, .. } if *total <= inline_max) {
            return None;
        }
        let State::Body(head, framing) = std::mem::replace(&mut self.state, State::Done) else { return None };
        let (first, framing) = match framing {
            Framing::Length { mut body, total } => {
                body.truncate(total);
                let left = (total - body.len()) as u64;
                (body.freeze(), BodyFraming::Length { left })
            }
            Framing::Chunked { body, decoder } => (body.freeze(), BodyFraming::Chunked(decoder)),
            Framing::UntilClose { body } => (body.freeze(), BodyFraming::UntilClose),
        };
        let mut response = Response::new(());
        *response.status_mut() = head.status;
        *response.version_mut() = head.version;
        *response.headers_mut() = head.headers;
        Some(Streaming { response, framing, first, keep_alive: head.keep_alive })
    }

    /// Consumes what it can from `buf`; `Some` once the response is complete.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, CodecError> {
        loop {
            match &mut self.state {
                State::Head => {
                    let room = |status, fields: &Fields| self.body_room(status, fields);
                    let Some(parsed) = parse_head(buf, room)? else { return Ok(None) };
                    buf.advance(parsed.len);
                    if parsed.head.status.is_informational() {
                        // 100 Continue, 103 Early Hints…: interim, a final response follows.
                        // 101 would switch protocols, which this client never asks for.
                        if parsed.head.status == StatusCode::SWITCHING_PROTOCOLS {
                            if self.switch {
                                self.state = State::Done;
                                return Ok(Some(finish(parsed.head, Bytes::new(), true, buf)));
                            }
                            return Err(CodecError::Invalid("unexpected 101 Switching Protocols"));
                        }
                        continue;
                    }
                    match self.framing(parsed)? {
                        (head, None) => return Ok(Some(finish(head, Bytes::new(), false, buf))),
                        (head, Some(framing)) => self.state = State::Body(head, framing),
                    }
                }
                State::Body(_, framing) => {
                    let (done, overrun) = match framing {
                        Framing::Length { body, total } => {
                            let overrun = body.len() > *total;
                            if overrun {
                                body.truncate(*total);
                            }
                            let take = (*total - body.len()).min(buf.len());
                            body.extend_from_slice(&buf[..take]);
                            buf.advance(take);
                            (body.len() == *total, overrun)
                        }
                        Framing::Chunked { body, decoder } => (decoder.decode(buf, body, self.max_body)?, false),
                        Framing::UntilClose { body } => {
                            if body.len() + buf.len() > self.max_body {
                                return Err(CodecError::BodyTooLarge(self.max_body));
                            }
                            body.extend_from_slice(buf);
                            buf.clear();
                            (false, false)
                        }
                    };
                    if !done {
                        return Ok(None);
                    }
                    return Ok(self.take_complete(buf, overrun));
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// The peer closed the connection: that completes a read-until-close body and cuts short
    /// anything else.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Decoded, CodecError> {
        if let Some(done) = self.decode(buf)? {
            return Ok(done);
        }
        match &self.state {
            State::Body(_, Framing::UntilClose { .. }) => self.take_complete(buf, true).ok_or(CodecError::Incomplete),
            _ => Err(CodecError::Incomplete),
        }
    }

    /// Where the next read should land. Bodies are read straight into their own buffer once the
    /// head is parsed, so a large body is copied once, not twice.
    pub fn read_target<'a>(&'a mut self, buf: &'a mut BytesMut) -> &'a mut BytesMut {
        match &mut self.state {
            State::Body(_, Framing::Length { body, total }) if buf.is_empty() => {
                if body.capacity() == body.len() {
                    body.reserve((*total - body.len().min(*total)).clamp(1, MAX_BODY_PREALLOC));
                }
                body
            }
            State::Body(_, Framing::UntilClose { body }) if buf.is_empty() => {
                ensure_room(body);
                body
            }
            _ => {
                ensure_room(buf);
                buf
            }
        }
    }

    /// Chooses the body's framing; `None` when there is no body and the response is complete.
    fn framing(&self, parsed: Parsed) -> Result<(Head, Option<Framing>), CodecError> {
        let Parsed { mut head, fields: Fields { length, transfer_encoding, .. }, body, .. } = parsed;
        let status = head.status;
        if self.bodiless(status) {
            return Ok((head, None));
        }
        let framing = match (transfer_encoding, length) {
            (Some(chunked), length) => {
                if length.is_some() {
                    // Both framings at once can be a smuggling attempt (RFC 9112 §6.3): the
                    // transfer coding wins, the length is dropped and the connection retired.
                    head.headers.remove(CONTENT_LENGTH);
                    head.keep_alive = false;
                }
                if chunked {
                    head.headers.remove(TRANSFER_ENCODING);
                    Framing::Chunked { body: BytesMut::new(), decoder: ChunkedDecoder::default() }
                } else {
                    head.keep_alive = false;
                    Framing::UntilClose { body: BytesMut::new() }
                }
            }
            (None, Some(total)) if total > self.max_body => return Err(CodecError::BodyTooLarge(self.max_body)),
            (None, Some(0)) => return Ok((head, None)),
            // Room for the body was reserved after the head when it was small enough.
            (None, Some(total)) if body.capacity() >= total => Framing::Length { body, total },
            (None, Some(total)) => {
                Framing::Length { body: BytesMut::with_capacity(total.min(MAX_BODY_PREALLOC)), total }
            }
            (None, None) => {
                head.keep_alive = false;
                Framing::UntilClose { body: BytesMut::new() }
            }
        };
        Ok((head, Some(framing)))
    }

    /// The answer to a HEAD request, and 1xx, 204 and 304 answers, have no body whatever their
    /// headers say.
    fn bodiless(&self, status: StatusCode) -> bool {
        self.head_request || !has_body(status)
    }

    /// How much room to leave after the head's copy for the body: its announced length when
    /// that will be its framing and is small enough to reserve ahead, else none (the body then
    /// gets its own buffer, as large bodies and chunked ones always do).
    fn body_room(&self, status: StatusCode, fields: &Fields) -> usize {
        match (self.bodiless(status), fields.transfer_encoding, fields.length) {
            (false, None, Some(total)) if total <= self.max_body.min(MAX_BODY_PREALLOC) => total,
            _ => 0,
        }
    }

    /// The finished response; `retire` forbids reusing the connection.
    fn take_complete(&mut self, buf: &BytesMut, retire: bool) -> Option<Decoded> {
        let State::Body(head, framing) = std::mem::replace(&mut self.state, State::Done) else { return None };
        let body = match framing {
            Framing::Length { body, .. } | Framing::Chunked { body, .. } | Framing::UntilClose { body } => body,
        };
        Some(finish(head, body.freeze(), retire, buf))
    }
}

fn ensure_room(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < MIN_READ_ROOM {
        buf.reserve(READ_GROWTH);
    }
}

/// The response, reusable only if the peer keeps the connection alive and nothing is left over.
fn finish(head: Head, body: Bytes, retire: bool, rest: &BytesMut) -> Decoded {
    let reusable = head.keep_alive && !retire && rest.is_empty();
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    *response.headers_mut() = head.headers;
    Decoded { response, reusable }
}

/// A parsed head and what its fields say about framing.
struct Parsed {
    len: usize,
    head: Head,
    fields: Fields,
    /// Empty, with any room reserved for the body right after the head's bytes.
    body: BytesMut,
}

/// What a head's fields say about framing and persistence.
struct Fields {
    length: Option<usize>,
    /// `Some(true)` when `Transfer-Encoding` is present and ends in `chunked`.
    transfer_encoding: Option<bool>,
    /// HTTP/1.1 is persistent unless told otherwise; HTTP/1.0 only when it says keep-alive.
    keep_alive: bool,
    /// `Connection` says only close or keep-alive (or is absent), so it and `Keep-Alive`, which
    /// describe this connection alone, can be left out of the response's fields.
    connection_fields_are_ours: bool,
}

/// Parses a response head at the start of `buf`; `None` until it is complete.
///
/// The head is copied once out of the connection's read buffer, so a response (which the cache
/// may keep) never pins that buffer, and header values are slices of the copy. The copy is
/// followed by `body_room(status, fields)` bytes of room, so that a body of announced length
/// lands in the same allocation as its head: one allocation per response instead of two.
fn parse_head(buf: &[u8], body_room: impl FnOnce(StatusCode, &Fields) -> usize) -> Result<Option<Parsed>, CodecError> {
    // Uninitialised, as in the server's parser: httparse fills the slots it reports and nothing
    // reads the others, so zeroing all 100 (3.2 KB) for every response would be wasted.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let parser = httparse::ParserConfig::default();
    let len = match parser.parse_response_with_uninit_headers(&mut parsed, buf, &mut slots)? {
        httparse::Status::Complete(len) if len <= MAX_HEAD_BYTES => len,
        httparse::Status::Partial if buf.len() <= MAX_HEAD_BYTES => return Ok(None),
        _ => return Err(CodecError::HeadTooLarge),
    };
    let status = parsed.code.and_then(|c| StatusCode::from_u16(c).ok()).ok_or(CodecError::Invalid("status code"))?;
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let fields = framing_fields(parsed.headers, version)?;
    let mut body = BytesMut::with_capacity(len.saturating_add(body_room(status, &fields)));
    body.extend_from_slice(&buf[..len]);
    let head_bytes = body.split_to(len).freeze();
    // Room for what the gateway adds before sending the response on (`Cache-Status`, the
    // `RateLimit` fields): filling the map up would reallocate and rehash it.
    let mut headers = HeaderMap::with_capacity(parsed.headers.len() + ADDED_BY_GATEWAY);
    for field in parsed.headers.iter() {
        // Fields about this connection only are consumed here, not passed on: the gateway
        // would strip them before answering anyway (hop-by-hop, RFC 9110 §7.6.1). A
        // `Connection` that names other fields is kept, so those are stripped too.
        let own = |word: &[u8]| field.name.as_bytes().eq_ignore_ascii_case(word);
        if fields.connection_fields_are_ours && (own(b"connection") || own(b"keep-alive")) {
            continue;
        }
        let name = field_name(field.name.as_bytes()).map_err(|_| CodecError::Invalid("field name"))?;
        let value = Span::of(field.value, buf).field_value(&head_bytes).ok_or(CodecError::Invalid("field value"))?;
        headers.append(name, value);
    }
    let head = Head { status, version, headers, keep_alive: fields.keep_alive };
    Ok(Some(Parsed { len, head, fields, body }))
}

/// Reads the framing and connection fields, before anything is copied.
fn framing_fields(fields: &[httparse::Header<'_>], version: Version) -> Result<Fields, CodecError> {
    let (mut length, mut transfer_encoding, mut connection) = (None, None, ConnectionTokens::default());
    for field in fields {
        let (name, value) = (field.name.as_bytes(), field.value);
        if name.eq_ignore_ascii_case(CONTENT_LENGTH.as_str().as_bytes()) {
            length = Some(content_length(value, length)?);
        } else if name.eq_ignore_ascii_case(TRANSFER_ENCODING.as_str().as_bytes()) {
            // Only the last coding matters, across all the field's lines.
            transfer_encoding = Some(last_token(value).eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(CONNECTION.as_str().as_bytes()) {
            connection.add(value);
        }
    }
    let connection_fields_are_ours = !connection.names_fields();
    Ok(Fields { length, transfer_encoding, keep_alive: connection.persistent(version), connection_fields_are_ours })
}
