//! The HTTP/1.1 client codec, free of I/O: request heads are serialised into a buffer, and
//! responses are decoded from whatever bytes have arrived so far, so every framing case can be
//! tested byte by byte (and split at any point) without a socket.

mod chunked;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use request::encode_head;
use response::MAX_HEAD_BYTES;
pub use response::{Decoded, ResponseDecoder};

/// Why a response could not be decoded. Every case means the connection is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("malformed response head: {0}")]
    Head(#[from] httparse::Error),
    #[error("response head larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("invalid response: {0}")]
    Invalid(&'static str),
    #[error("response body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("connection closed before the response was complete")]
    Incomplete,
}

/// Whether a comma-separated field value (`Connection`, `Transfer-Encoding`) lists `token`,
/// compared case-insensitively as RFC 9110 §5.6.1 says.
pub(crate) fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|b| *b == b',').any(|item| trim_ows(item).eq_ignore_ascii_case(token))
}

/// The last item of a comma-separated field value.
pub(crate) fn last_token(value: &[u8]) -> &[u8] {
    value.rsplit(|b| *b == b',').map(trim_ows).next().unwrap_or_default()
}

/// `value` without optional whitespace (spaces and tabs) at either end.
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &value[start..end]
}
