//! Message bodies as the pipeline sees them: bytes it holds whole, or a runtime's stream that
//! it never reads.
//!
//! Why an enum and not a stream everywhere: almost every API answer is small and arrives in
//! one read, and the gateway's own answers (problems, cache hits) are built whole; keeping them
//! as `Bytes` keeps the common path free of any per-chunk machinery. A body that is large or
//! still arriving stays the runtime's own stream type (`http-body` natively, a
//! `ReadableStream` at the edge), so the core decides what happens to it (forward, cache within
//! a size, refuse past a limit) without doing the I/O itself.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::HeaderMap;

/// A request or response body: whole, or streamed by the runtime (`S`).
#[derive(Debug)]
pub enum Body<S> {
    Full(Bytes),
    Stream(S),
}

impl<S> Default for Body<S> {
    fn default() -> Self {
        Body::Full(Bytes::new())
    }
}

impl<S> From<Bytes> for Body<S> {
    fn from(bytes: Bytes) -> Self {
        Body::Full(bytes)
    }
}

impl<S> Body<S> {
    /// The body's length when it is held whole.
    pub fn full_len(&self) -> Option<u64> {
        match self {
            Body::Full(bytes) => Some(bytes.len() as u64),
            Body::Stream(_) => None,
        }
    }

    /// The body's length: held whole, or as a streamed message announces it.
    pub fn known_len(&self, headers: &HeaderMap) -> Option<u64> {
        self.full_len().or_else(|| declared_len(headers))
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, Body::Stream(_))
    }

    /// Takes the body out, leaving an empty one.
    pub fn take(&mut self) -> Body<S> {
        std::mem::take(self)
    }
}

/// The length a message's `Content-Length` announces, when it is one valid number.
pub fn declared_len(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Why a request body is refused before it goes upstream: it is larger than the API's limit,
/// known from its length before a byte of it is forwarded.
pub fn over_limit(length: Option<u64>, limit: u64) -> bool {
    length.is_some_and(|length| length > limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_body_is_measured_by_what_its_message_announces() {
        let mut headers = HeaderMap::new();
        let stream: Body<()> = Body::Stream(());
        assert_eq!(stream.known_len(&headers), None);
        headers.insert(CONTENT_LENGTH, http::HeaderValue::from_static("2048"));
        assert_eq!(stream.known_len(&headers), Some(2048));
        let full: Body<()> = Body::Full(Bytes::from_static(b"abc"));
        assert_eq!(full.known_len(&headers), Some(3), "a whole body's own length wins");
    }

    #[test]
    fn only_a_known_length_past_the_limit_is_refused_up_front() {
        assert!(over_limit(Some(11), 10));
        assert!(!over_limit(Some(10), 10));
        assert!(!over_limit(None, 10), "an unannounced length is counted as it streams");
    }
}
