//! The streaming half of an upstream connection: a request body written as the client sends
//! it, a response body read as the upstream sends it, and the connection handed over whole
//! when it switches to WebSocket.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes};
use gatehouse_core::ports::{UpstreamCall, UpstreamError};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::{Conn, Failure, STREAM_READ_ROOM};
use crate::adapters::upstream::codec::{BodyFraming, Step};
use crate::adapters::upstream::stream::UpstreamStream;
use crate::body::BodyError;

impl Conn {
    /// Writes a streamed request body as it arrives: by its announced `length` when known
    /// (and held to it), else chunked. Each chunk must come from the client within the API's
    /// idle timeout, and the whole within its body limit.
    pub(super) async fn send_stream(
        &mut self,
        mut stream: UnsyncBoxBody<Bytes, BodyError>,
        length: Option<u64>,
        call: &UpstreamCall,
    ) -> Result<(), Failure> {
        let idle = Duration::from_millis(call.idle_ms);
        let broken = |why: String| Failure::Failed(UpstreamError::Protocol(why));
        let mut sent: u64 = 0;
        loop {
            let frame = match tokio::time::timeout(idle, stream.frame()).await {
                Err(_) => return Err(broken(format!("the client's body stalled for {idle:?}"))),
                Ok(None) => break,
                Ok(Some(Err(BodyError::TooLarge(limit)))) => {
                    return Err(Failure::Failed(UpstreamError::RequestTooLarge(limit)))
                }
                Ok(Some(Err(e))) => return Err(broken(format!("the client's body broke: {e}"))),
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else { continue };
            sent += data.len() as u64;
            if sent > call.max_request_bytes {
                return Err(Failure::Failed(UpstreamError::RequestTooLarge(call.max_request_bytes)));
            }
            if length.is_some_and(|length| sent > length) {
                return Err(broken("the client's body is longer than its Content-Length".into()));
            }
            let written = match length {
                Some(_) => self.write_idle(&data, idle).await,
                None => self.write_chunk(&data, idle).await,
            };
            written.map_err(|e| broken(format!("writing the request body: {e}")))?;
        }
        if length.is_some_and(|length| sent != length) {
            return Err(broken("the client's body is shorter than its Content-Length".into()));
        }
        if length.is_none() {
            self.write_idle(b"0\r\n\r\n", idle).await.map_err(|e| broken(format!("ending the request body: {e}")))?;
        }
        Ok(())
    }

    /// One chunk of a chunked body: size line, data, CRLF, in one vectored write.
    async fn write_chunk(&mut self, data: &[u8], idle: Duration) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.write.clear();
        self.write.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        let mut all = Buf::chain(Buf::chain(&self.write[..], data), &b"\r\n"[..]);
        while all.has_remaining() {
            let write = self.stream.write_buf(&mut all);
            match tokio::time::timeout(idle, write).await {
                Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(result) => result.map(drop)?,
            }
        }
        Ok(())
    }

    async fn write_idle(&mut self, data: &[u8], idle: Duration) -> io::Result<()> {
        tokio::time::timeout(idle, self.stream.write_all(data)).await.unwrap_or(Err(io::ErrorKind::TimedOut.into()))
    }

    /// The body's next data, read as it arrives, within `idle` of the last (and before `until`
    /// when the call has a maximum duration). `None` at its end.
    pub async fn next_data(
        &mut self,
        framing: &mut BodyFraming,
        idle: Duration,
        until: Option<(Instant, Duration)>,
    ) -> Option<Result<Bytes, BodyError>> {
        loop {
            match framing.next(&mut self.read) {
                Ok(Step::Data(data)) => return Some(Ok(data)),
                Ok(Step::Done) => return None,
                Ok(Step::More) => {}
                Err(e) => return Some(Err(BodyError::Broken(format!("invalid body: {e}")))),
            }
            if self.read.capacity() - self.read.len() < STREAM_READ_ROOM / 4 {
                self.read.reserve(STREAM_READ_ROOM);
            }
            let deadline = Instant::now() + idle;
            let (deadline, late) = match until {
                Some((end, max)) if end < deadline => (end, BodyError::MaxDuration(max)),
                _ => (deadline, BodyError::Idle(idle)),
            };
            match self.timer.wait(deadline, self.stream.read_buf(&mut self.read)).await {
                None => return Some(Err(late)),
                Some(Ok(0)) => match framing.at_eof() {
                    Ok(_) => return None,
                    Err(_) => {
                        return Some(Err(BodyError::Broken("the upstream closed the connection mid-body".into())))
                    }
                },
                Some(Ok(_)) => {}
                Some(Err(e)) => return Some(Err(BodyError::Broken(format!("the upstream connection failed: {e}")))),
            }
        }
    }

    /// Whether the connection can be pooled after a streamed body: nothing was left over.
    pub fn clean(&self) -> bool {
        self.read.is_empty()
    }

    /// The connection as a byte stream, for a tunnel, with what was read beyond the `101`.
    pub fn into_tunnel(self) -> (UpstreamStream, Bytes) {
        (self.stream, self.read.freeze())
    }
}
