//! HTTP/1.1 message syntax shared by the gateway's server ([`crate::server`]) and its upstream
//! client ([`crate::adapters::upstream`]): field-list tokens, `Content-Length` and chunked
//! framing (RFC 9112). Free of I/O, so every framing case is tested byte by byte.

pub mod chunked;
mod field_name;

pub use field_name::field_name;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, Version};

/// A message body up to this size is copied behind its head and written with it as one buffer,
/// with `send`, which skips the VFS layers `writev` passes through (copying a small body costs
/// less than those); a larger body goes out with `writev` from where it is. The server and the
/// upstream client both write this way.
pub const COPY_BODY_BYTES: usize = 16 * 1024;

/// Why a message's framing is unusable. Either way the connection cannot carry another message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("invalid framing: {0}")]
    Invalid(&'static str),
    #[error("body larger than {0} bytes")]
    BodyTooLarge(usize),
}

/// Where a part of a message head lies, as offsets from the head's start. `httparse` hands out
/// slices of the buffer it parsed; a span carries such a slice over to a `Bytes` holding the
/// same bytes (a copy of the head, or the head split off the buffer), so field values can
/// share that memory instead of each being copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// `part`, a slice of `buf` (as the parser returns them).
    pub fn of(part: &[u8], buf: &[u8]) -> Span {
        let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
        let offset = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        Span { start: offset(start), end: offset(start.saturating_add(part.len())) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The part as a slice of `head`, sharing its memory; `None` if it is not within `head`.
    pub fn slice(self, head: &Bytes) -> Option<Bytes> {
        head.get(self.range()).map(|part| head.slice_ref(part))
    }

    /// The part as a field value sharing `head`'s memory; `None` if it is not a valid value.
    pub fn field_value(self, head: &Bytes) -> Option<HeaderValue> {
        if self.is_empty() {
            return Some(HeaderValue::from_static(""));
        }
        self.slice(head).and_then(|value| HeaderValue::from_maybe_shared(value).ok())
    }
}

/// What a message's `Connection` lines say about persistence, read across all of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectionTokens {
    close: bool,
    keep_alive: bool,
    /// Some token names a header field (anything but `close` and `keep-alive`), which is then
    /// hop-by-hop too.
    names_fields: bool,
}

impl ConnectionTokens {
    /// One pass over the line's tokens for all three: every response carries this field.
    pub fn add(&mut self, line: &[u8]) {
        for token in line.split(|b| *b == b',').map(trim_ows) {
            let (close, keep_alive) = (token.eq_ignore_ascii_case(b"close"), token.eq_ignore_ascii_case(b"keep-alive"));
            self.close |= close;
            self.keep_alive |= keep_alive;
            self.names_fields |= !(close || keep_alive || token.is_empty());
        }
    }

    /// Whether the lines name header fields besides saying close or keep-alive.
    pub fn names_fields(self) -> bool {
        self.names_fields
    }

    /// Whether the connection may carry another message (RFC 9112 §9.3): HTTP/1.1 is
    /// persistent unless told otherwise; HTTP/1.0 only when it says keep-alive.
    pub fn persistent(self, version: Version) -> bool {
        !self.close && (version == Version::HTTP_11 || self.keep_alive)
    }
}

/// Whether a response with this status carries a body at all (RFC 9110 §6.4.1).
pub fn has_body(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

/// Whether a comma-separated field value (`Connection`, `Transfer-Encoding`) lists `token`,
/// compared case-insensitively as RFC 9110 §5.6.1 says.
pub fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|b| *b == b',').any(|item| trim_ows(item).eq_ignore_ascii_case(token))
}

/// The last item of a comma-separated field value.
pub fn last_token(value: &[u8]) -> &[u8] {
    value.rsplit(|b| *b == b',').map(trim_ows).next().unwrap_or_default()
}

/// `value` without optional whitespace (spaces and tabs) at either end.
pub fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &value[start..end]
}

/// The body length from one `Content-Length` line, which may repeat the same value as a list;
/// any disagreement, with this line or an earlier one, is an error (RFC 9110 §8.6). Lengths
/// that differ are how request smuggling starts, so there is no "first one wins".
pub fn content_length(value: &[u8], earlier: Option<usize>) -> Result<usize, FramingError> {
    let mut found = earlier;
    for item in value.split(|b| *b == b',') {
        let item = trim_ows(item);
        if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
            return Err(FramingError::Invalid("content-length"));
        }
        let n = item.iter().fold(0usize, |n, d| n.saturating_mul(10).saturating_add(usize::from(d - b'0')));
        match found {
            Some(seen) if seen != n => return Err(FramingError::Invalid("conflicting content-length")),
            _ => found = Some(n),
        }
    }
    found.ok_or(FramingError::Invalid("content-length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_case_insensitively_between_optional_whitespace() {
        assert!(has_token(b"keep-alive, Close", b"close"));
        assert!(!has_token(b"closed", b"close"));
        assert_eq!(last_token(b"gzip ,\tchunked "), b"chunked");
        assert_eq!(trim_ows(b" \t "), b"");
    }

    #[test]
    fn persistence_follows_the_version_and_every_connection_line() {
        let tokens = |lines: &[&[u8]]| {
            let mut tokens = ConnectionTokens::default();
            lines.iter().for_each(|line| tokens.add(line));
            tokens
        };
        assert!(tokens(&[]).persistent(Version::HTTP_11));
        assert!(!tokens(&[]).persistent(Version::HTTP_10));
        assert!(tokens(&[b"Keep-Alive"]).persistent(Version::HTTP_10));
        assert!(!tokens(&[b"keep-alive", b"upgrade, close"]).persistent(Version::HTTP_11));
    }

    #[test]
    fn content_length_accepts_repeats_of_one_value_only() {
        assert_eq!(content_length(b"42", None), Ok(42));
        assert_eq!(content_length(b"42, 42", None), Ok(42));
        assert_eq!(content_length(b"42", Some(42)), Ok(42));
        for bad in [&b"42, 43"[..], b"-1", b"+1", b"", b"0x10", b"1 2", b"99999999999999999999"] {
            assert!(content_length(bad, None).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(content_length(b"42", Some(41)).is_err());
    }
}
