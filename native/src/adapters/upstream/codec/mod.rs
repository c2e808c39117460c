//! The HTTP/1.1 client codec, free of I/O: request heads are serialised into a buffer, and
//! responses are decoded from whatever bytes have arrived so far, so every framing case can be
//! tested byte by byte (and split at any point) without a socket.

mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

use crate::http1::FramingError;
pub use request::encode_head;
use response::MAX_HEAD_BYTES;
pub use response::{Decoded, ResponseDecoder, Streaming};
pub use stream::{BodyFraming, Step};

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

impl From<FramingError> for CodecError {
    fn from(e: FramingError) -> Self {
        match e {
            FramingError::Invalid(why) => CodecError::Invalid(why),
            FramingError::BodyTooLarge(max) => CodecError::BodyTooLarge(max),
        }
    }
}
