//! Decoding a response body as it arrives, chunk by chunk, for a response the gateway passes
//! on while it streams (see `ResponseDecoder::streaming`): each call hands out what the bytes
//! read so far decode to, so an event reaches the client as soon as its bytes reach us.

use bytes::{Bytes, BytesMut};

use super::CodecError;
use crate::http1::chunked::ChunkedDecoder;

/// How a streamed body is delimited, and how much of it is left.
#[derive(Debug)]
pub enum BodyFraming {
    Length {
        left: u64,
    },
    Chunked(ChunkedDecoder),
    /// Until the upstream closes the connection (which then cannot be reused).
    UntilClose,
}

/// What the bytes read so far gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Data(Bytes),
    /// Nothing yet: read more.
    More,
    /// The body is complete; bytes after it stay in the buffer.
    Done,
}

impl BodyFraming {
    /// Takes the body's next data out of `buf`.
    pub fn next(&mut self, buf: &mut BytesMut) -> Result<Step, CodecError> {
        match self {
            BodyFraming::Length { left: 0 } => Ok(Step::Done),
            BodyFraming::Length { left } => {
                if buf.is_empty() {
                    return Ok(Step::More);
                }
                let take = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= take as u64;
                // Split off, not copied: the read buffer's memory goes on as the chunk.
                Ok(Step::Data(buf.split_to(take).freeze()))
            }
            BodyFraming::Chunked(decoder) => {
                let mut data = BytesMut::new();
                let done = decoder.decode(buf, &mut data, usize::MAX)?;
                Ok(match (data.is_empty(), done) {
                    (false, _) => Step::Data(data.freeze()),
                    (true, true) => Step::Done,
                    (true, false) => Step::More,
                })
            }
            BodyFraming::UntilClose if buf.is_empty() => Ok(Step::More),
            BodyFraming::UntilClose => Ok(Step::Data(buf.split().freeze())),
        }
    }

    /// The upstream closed the connection: the end of a read-until-close body, and a body cut
    /// short for any other framing.
    pub fn at_eof(&self) -> Result<Step, CodecError> {
        match self {
            BodyFraming::UntilClose | BodyFraming::Length { left: 0 } => Ok(Step::Done),
            _ => Err(CodecError::Incomplete),
        }
    }

    /// Whether the connection can carry another exchange once this body is done.
    pub fn delimited(&self) -> bool {
        !matches!(self, BodyFraming::UntilClose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(framing: &mut BodyFraming, wire: &[u8]) -> (Vec<u8>, bool) {
        let (mut buf, mut out) = (BytesMut::new(), Vec::new());
        for byte in wire {
            buf.extend_from_slice(&[*byte]);
            loop {
                match framing.next(&mut buf).expect("valid") {
                    Step::Data(data) => out.extend_from_slice(&data),
                    Step::More => break,
                    Step::Done => return (out, true),
                }
            }
        }
        (out, false)
    }

    #[test]
    fn a_chunked_body_split_at_every_byte_decodes_to_its_data_and_ends() {
        let mut framing = BodyFraming::Chunked(ChunkedDecoder::default());
        let (data, done) = drain(&mut framing, b"5\r\nhello\r\n1;x=y\r\n!\r\n0\r\nT: v\r\n\r\n");
        assert_eq!((data.as_slice(), done), (&b"hello!"[..], true));
    }

    #[test]
    fn a_body_of_known_length_ends_at_its_length_and_leaves_what_follows() {
        let mut framing = BodyFraming::Length { left: 3 };
        let mut buf = BytesMut::from(&b"abcHTTP"[..]);
        assert_eq!(framing.next(&mut buf).expect("valid"), Step::Data(Bytes::from_static(b"abc")));
        assert_eq!(framing.next(&mut buf).expect("valid"), Step::Done);
        assert_eq!(&buf[..], b"HTTP");
    }

    #[test]
    fn eof_completes_only_a_body_delimited_by_the_close() {
        assert_eq!(BodyFraming::UntilClose.at_eof().expect("the end"), Step::Done);
        assert!(BodyFraming::Length { left: 1 }.at_eof().is_err(), "a short body is never complete");
        assert!(BodyFraming::Chunked(ChunkedDecoder::default()).at_eof().is_err());
    }
}
