//! Decoding `Transfer-Encoding: chunked` (RFC 9112 §7.1) incrementally: each call consumes what
//! it can from the read buffer and remembers where it stopped, so a chunk may be split across
//! reads at any byte. Extensions and trailer fields are read and dropped, but every trailer
//! line must be a well-formed field line (`name: value`): a malformed trailer section is
//! refused rather than skipped, or the lines of a request smuggled behind the body would be
//! read as trailers (or, after a lenient reader, as the next request).

use bytes::{Buf, BytesMut};

use super::FramingError;

/// Longest chunk-size line (size plus extensions) or trailer line accepted. Without a bound a
/// peer could make the read buffer grow forever by never ending a line.
const MAX_LINE_BYTES: usize = 4 * 1024;
/// Total trailer section accepted, for the same reason.
const MAX_TRAILER_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting `chunk-size [; ext] CRLF`.
    Size,
    /// Inside chunk data; this many bytes are left.
    Data(usize),
    /// Expecting the CRLF that ends chunk data.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailer {
        seen: usize,
    },
    Done,
}

/// Where a chunked body's decoding stands.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder { state: State::Size }
    }
}

impl ChunkedDecoder {
    /// Moves decoded data from `buf` to `body`, consuming the framing. Returns `true` once the
    /// last chunk and the trailers are consumed; bytes after that stay in `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut, body: &mut BytesMut, max_body: usize) -> Result<bool, FramingError> {
        loop {
            match self.state {
                State::Size => {
                    let Some((len, consumed)) = line(buf)? else { return Ok(false) };
                    let size = chunk_size(&buf[..len])?;
                    buf.advance(consumed);
                    if size > max_body.saturating_sub(body.len()) {
                        return Err(FramingError::BodyTooLarge(max_body));
                    }
                    self.state = if size == 0 { State::Trailer { seen: 0 } } else { State::Data(size) };
                }
                State::Data(left) => {
                    if buf.is_empty() {
                        return Ok(false);
                    }
                    let take = left.min(buf.len());
                    body.extend_from_slice(&buf[..take]);
                    buf.advance(take);
                    self.state = if take == left { State::DataEnd } else { State::Data(left - take) };
                }
                State::DataEnd => match buf.first() {
                    None => return Ok(false),
                    Some(b'\n') => {
                        buf.advance(1);
                        self.state = State::Size;
                    }
                    Some(b'\r') => match buf.get(1) {
                        None => return Ok(false),
                        Some(b'\n') => {
                            buf.advance(2);
                            self.state = State::Size;
                        }
                        Some(_) => return Err(FramingError::Invalid("chunk data not followed by CRLF")),
                    },
                    Some(_) => return Err(FramingError::Invalid("chunk data longer than its size")),
                },
                State::Trailer { seen } => {
                    let Some((len, consumed)) = line(buf)? else { return Ok(false) };
                    if len == 0 {
                        buf.advance(consumed);
                        self.state = State::Done;
                    } else if seen + consumed > MAX_TRAILER_BYTES {
                        return Err(FramingError::Invalid("chunked trailers too large"));
                    } else {
                        trailer_field(&buf[..len])?;
                        buf.advance(consumed);
                        self.state = State::Trailer { seen: seen + consumed };
                    }
                }
                State::Done => return Ok(true),
            }
        }
    }
}

/// The next line in `buf`: (length without its terminator, bytes to consume). A bare LF is
/// accepted as a line end, as RFC 9112 §2.2 allows a recipient to.
fn line(buf: &[u8]) -> Result<Option<(usize, usize)>, FramingError> {
    match buf.iter().take(MAX_LINE_BYTES + 1).position(|b| *b == b'\n') {
        Some(lf) => {
            let len = if lf > 0 && buf[lf - 1] == b'\r' { lf - 1 } else { lf };
            Ok(Some((len, lf + 1)))
        }
        None if buf.len() > MAX_LINE_BYTES => Err(FramingError::Invalid("chunk line too long")),
        None => Ok(None),
    }
}

/// Checks one trailer line is a field line (RFC 9112 §7.1.2, §5): a token name, a colon, and
/// a value of visible characters, spaces and tabs. A line that starts with whitespace
/// (obs-fold), lacks the colon or holds control characters is refused.
fn trailer_field(line: &[u8]) -> Result<(), FramingError> {
    let colon = line.iter().position(|b| *b == b':').ok_or(FramingError::Invalid("trailer line without a colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
        return Err(FramingError::Invalid("trailer field name is not a token"));
    }
    if value.iter().any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f) {
        return Err(FramingError::Invalid("control character in a trailer field"));
    }
    Ok(())
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The hexadecimal size at the start of a chunk-size line; extensions after `;` are ignored.
fn chunk_size(line: &[u8]) -> Result<usize, FramingError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(FramingError::Invalid("chunk size is not hexadecimal"));
    }
    let rest = super::trim_ows(&line[digits..]);
    if !(rest.is_empty() || rest.starts_with(b";")) {
        return Err(FramingError::Invalid("junk after chunk size"));
    }
    let mut size: usize = 0;
    for digit in &line[..digits] {
        let value = (*digit as char).to_digit(16).unwrap_or(0) as usize;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(value))
            .ok_or(FramingError::Invalid("chunk size overflows"))?;
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> Result<(bool, Vec<u8>, Vec<u8>), FramingError> {
        let (mut buf, mut body) = (BytesMut::from(input), BytesMut::new());
        let done = ChunkedDecoder::default().decode(&mut buf, &mut body, 1024)?;
        Ok((done, body.to_vec(), buf.to_vec()))
    }

    #[test]
    fn well_formed_trailers_are_read_and_dropped() {
        let (done, body, rest) = decode(b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nEmpty:\r\nTab:\tv v\r\n\r\nNEXT").unwrap();
        assert!(done);
        assert_eq!((body.as_slice(), rest.as_slice()), (b"abc".as_ref(), b"NEXT".as_ref()));
    }

    #[test]
    fn rfc9112_7_1_2_a_malformed_trailer_section_is_refused() {
        for bad in [
            &b"0\r\nGET /admin HTTP/1.1\r\n\r\n"[..],
            b"0\r\n: no name\r\n\r\n",
            b"0\r\nX-A: 1\r\n folded\r\n\r\n",
            b"0\r\nBad Name: 1\r\n\r\n",
            b"0\r\nX-A: a\x00b\r\n\r\n",
            b"0\r\nX-A: a\rb\r\n\r\n",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_trailer_split_across_reads_is_judged_whole() {
        let mut decoder = ChunkedDecoder::default();
        let (mut buf, mut body) = (BytesMut::from(&b"0\r\nX-A"[..]), BytesMut::new());
        assert_eq!(decoder.decode(&mut buf, &mut body, 1024), Ok(false));
        buf.extend_from_slice(b": 1\r\n\r\n");
        assert_eq!(decoder.decode(&mut buf, &mut body, 1024), Ok(true));
    }
}
