//! One keep-alive connection to an upstream and one request/response exchange on it, done in
//! the calling task: write the request, then read until the codec has a whole response.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use gatehouse_core::body::Body;
use gatehouse_core::decimal;
use gatehouse_core::ports::UpstreamCall;
use gatehouse_core::ports::UpstreamError;
use http::uri::Authority;
use http::{Method, Request};
use hyper::body::Body as _;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::codec::{encode_head, Decoded, ResponseDecoder, Streaming};
use super::stream::UpstreamStream;
use super::tls::UpstreamTls;
use crate::body::{GatewayBody, NativeStream};
use crate::deadline::Deadline;
use crate::http1::COPY_BODY_BYTES;

/// Connecting (name resolution included) gives up after this, whatever the exchange's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A fresh connection's read buffer; most API responses fit in one read.
const READ_BUFFER: usize = 8 * 1024;
/// A pooled connection whose read buffer grew past this gets a fresh one, so a rare large
/// response does not keep its memory on an idle connection.
const MAX_IDLE_READ_BUFFER: usize = 64 * 1024;
/// A response body of known length up to this is read whole: one buffer costs less than a
/// stream, and at this size it adds no latency that matters. Anything larger, or of unknown
/// length and not complete in the first reads, streams.
pub const INLINE_RESPONSE_BYTES: usize = 64 * 1024;
/// Room kept in the read buffer while a body streams: one read takes up to this much.
pub(super) const STREAM_READ_ROOM: usize = 64 * 1024;

mod streaming;

/// Where to connect, from the request's URL. Only the authority is read per request (it is
/// the pool's key); host and port are parsed when a connection is opened.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    authority: &'a Authority,
    /// `https://`: TLS, verified, with SNI.
    pub tls: bool,
}

impl<'a> Target<'a> {
    /// `http://` and `https://` URLs.
    pub fn from_uri(uri: &'a http::Uri) -> Result<Self, UpstreamError> {
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(UpstreamError::Connect("only http:// and https:// upstream URLs are supported".into())),
        };
        let Some(authority) = uri.authority() else {
            return Err(UpstreamError::Connect("upstream URL has no host".into()));
        };
        Ok(Target { authority, tls })
    }

    fn default_port(&self) -> u16 {
        if self.tls {
            443
        } else {
            80
        }
    }

    /// The URL's authority as written; the pool's key.
    pub fn authority(&self) -> &'a str {
        self.authority.as_str()
    }

    /// The host to resolve: `Uri` keeps an IPv6 literal's brackets, the resolver wants the bare
    /// address.
    pub fn host(&self) -> &'a str {
        let host = self.authority.host();
        host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
    }

    pub fn port(&self) -> u16 {
        self.authority.port_u16().unwrap_or(self.default_port())
    }

    /// The `Host` field's value for requests to this target: the authority without userinfo,
    /// and without the port when it is the scheme's default, as browsers and hyper do (some
    /// virtual hosts compare the field literally).
    pub fn host_field(&self) -> Vec<u8> {
        let mut field = self.authority.host().as_bytes().to_vec();
        if let Some(port) = self.authority.port_u16().filter(|p| *p != self.default_port()) {
            field.push(b':');
            field.extend_from_slice(decimal::digits(u64::from(port), &mut [0; 20]));
        }
        field
    }
}

/// An exchange that failed, and whether it may be retried elsewhere.
#[derive(Debug)]
pub enum Failure {
    /// The connection failed before any byte of a response arrived (closed, reset, broken
    /// pipe). On a reused connection this is the classic stale keep-alive race.
    Unanswered {
        /// Some of the request reached the socket, so the upstream may have acted on it.
        written: bool,
        error: io::Error,
    },
    Failed(UpstreamError),
}

impl Failure {
    pub fn into_error(self) -> UpstreamError {
        match self {
            Failure::Unanswered { error, .. } => {
                UpstreamError::Protocol(format!("connection closed before a response: {error}"))
            }
            Failure::Failed(error) => error,
        }
    }
}

/// A connection with its buffers, which live as long as it does and are reused by every
/// exchange on it.
#[derive(Debug)]
pub struct Conn {
    stream: UpstreamStream,
    read: BytesMut,
    write: Vec<u8>,
    /// Each exchange's deadline, on one timer for the connection's life.
    timer: Deadline,
    /// The `Host` field for requests that carry none, made once per connection: every request
    /// on it goes to the same authority.
    host_field: Vec<u8>,
}

impl Conn {
    /// Opens a connection with Nagle off (a request is written whole, so delaying it only adds
    /// latency) within [`CONNECT_TIMEOUT`]. Boxed for its whole life: every request takes it
    /// from the pool and puts it back, and moving the box is cheaper than moving the 136-byte
    /// connection through both (five copies each way).
    pub async fn connect(target: &Target<'_>, tls: &UpstreamTls) -> Result<Box<Conn>, UpstreamError> {
        // Host and port only: the authority could carry userinfo, which must never be logged.
        let (host, port) = (target.host(), target.port());
        let stream =
            tokio::time::timeout(CONNECT_TIMEOUT, open(host, port, target.tls.then_some(tls))).await.map_err(
                |_| UpstreamError::Connect(format!("{host}:{port}: no connection within {CONNECT_TIMEOUT:?}")),
            )??;
        let timer = Deadline::new(Instant::now() + CONNECT_TIMEOUT);
        let (read, write) = (BytesMut::with_capacity(READ_BUFFER), Vec::with_capacity(512));
        Ok(Box::new(Conn { stream, read, write, timer, host_field: target.host_field() }))
    }

    /// Whether an idle connection still looks open. An idle connection has nothing to read, so
    /// readable means the peer closed it (or sent something unasked, such as a 408): either
    /// way it is done. This costs no system call unless the reactor has seen the socket become
    /// readable.
    pub fn looks_usable(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.tcp().try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Gets the connection ready to sit idle in the pool.
    pub fn idle(mut self: Box<Self>) -> Box<Conn> {
        if self.read.capacity() > MAX_IDLE_READ_BUFFER {
            self.read = BytesMut::with_capacity(READ_BUFFER);
        }
        self
    }

    /// Sends `request` and reads its response head, unless `deadline` passes first. The head
    /// and a small body go out in one `send` (see [`COPY_BODY_BYTES`]), a large body in one
    /// vectored write with the head, and a streamed body chunk by chunk after it (see
    /// [`Conn::send_stream`]). A response whose body is small and complete is read whole;
    /// any other is handed back to stream from here on.
    pub async fn exchange(
        &mut self,
        request: &mut Request<GatewayBody>,
        call: &UpstreamCall,
        mut deadline: Instant,
    ) -> Result<Answer, Failure> {
        let timed_out = || Failure::Failed(UpstreamError::Timeout);
        self.write.clear();
        let (body, length) = match request.body_mut() {
            Body::Full(bytes) => (bytes.clone(), Some(bytes.len() as u64)),
            Body::Stream(NativeStream::Body(stream)) => (Bytes::new(), stream.get_mut().size_hint().exact()),
            Body::Stream(NativeStream::Tunnel(_)) => {
                return Err(Failure::Failed(UpstreamError::Protocol("a tunnel is no request body".into())))
            }
        };
        let streamed = request.body().is_stream();
        let (method, uri, headers) = (request.method(), request.uri(), request.headers());
        let encoded = encode_head(method, uri, headers, &self.host_field, length, &mut self.write);
        let body: &[u8] = if body.len() <= COPY_BODY_BYTES {
            self.write.extend_from_slice(&body);
            &[]
        } else {
            &body
        };
        let total = self.write.len() + body.len();
        let mut data = Buf::chain(&self.write[..], body);
        while data.has_remaining() {
            let written = if body.is_empty() {
                let sent = self.timer.wait(deadline, self.stream.write(data.chunk())).await;
                if let Some(Ok(n)) = sent {
                    data.advance(n);
                }
                sent
            } else {
                self.timer.wait(deadline, self.stream.write_buf(&mut data)).await
            };
            let error = match written.ok_or_else(timed_out)? {
                Ok(0) => io::Error::from(io::ErrorKind::WriteZero),
                Ok(_) => continue,
                Err(e) => e,
            };
            return Err(Failure::Unanswered { written: data.remaining() < total, error });
        }
        if streamed {
            let Body::Stream(NativeStream::Body(stream)) = request.body_mut().take() else {
                return Err(Failure::Failed(UpstreamError::Protocol("the request body went missing".into())));
            };
            self.send_stream(stream.into_inner(), length, call).await?;
            // The time to the first byte of the answer counts from the end of the upload.
            deadline = deadline.max(Instant::now() + Duration::from_millis(call.first_byte_ms));
        }
        // TLS may hold the last record back until flushed (a no-op on plain TCP).
        if let Some(Err(error)) = self.timer.wait(deadline, self.stream.flush()).await {
            return Err(Failure::Unanswered { written: true, error });
        }
        self.read_answer(request.method() == Method::HEAD, call.upgrade, encoded.close, deadline).await
    }

    /// Reads until the response is complete (small bodies), its head is in and its body must
    /// stream, or the upstream switched protocols.
    async fn read_answer(
        &mut self,
        head_request: bool,
        upgrade: bool,
        close: bool,
        deadline: Instant,
    ) -> Result<Answer, Failure> {
        let timed_out = || Failure::Failed(UpstreamError::Timeout);
        let decoder = ResponseDecoder::new(head_request, usize::MAX);
        let mut decoder = if upgrade { decoder.switching() } else { decoder };
        let mut answered = false;
        loop {
            let target = decoder.read_target(&mut self.read);
            let read = self.timer.wait(deadline, self.stream.read_buf(target)).await.ok_or_else(timed_out)?;
            let decoded = match read {
                Ok(0) if !answered => {
                    let error = io::Error::from(io::ErrorKind::UnexpectedEof);
                    return Err(Failure::Unanswered { written: true, error });
                }
                Ok(0) => Some(decoder.decode_eof(&mut self.read)),
                Ok(_) => {
                    answered = true;
                    decoder.decode(&mut self.read).transpose()
                }
                Err(error) if !answered => return Err(Failure::Unanswered { written: true, error }),
                Err(e) => return Err(Failure::Failed(UpstreamError::Protocol(format!("reading the response: {e}")))),
            };
            if let Some(decoded) = decoded {
                let mut decoded = decoded.map_err(|e| Failure::Failed(UpstreamError::Protocol(e.to_string())))?;
                decoded.reusable &= !close;
                if upgrade && decoded.response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                    return Ok(Answer::Switched(decoded.response.map(drop)));
                }
                return Ok(Answer::Whole(decoded));
            }
            if let Some(mut streaming) = decoder.streaming(INLINE_RESPONSE_BYTES) {
                streaming.keep_alive &= !close;
                return Ok(Answer::Streaming(streaming));
            }
        }
    }
}

/// What the upstream answered.
#[derive(Debug)]
pub enum Answer {
    Whole(Decoded),
    Streaming(Streaming),
    /// `101`: the connection now speaks the protocol the request asked for.
    Switched(http::Response<()>),
}

/// Resolves `host`, connects to the first address that answers (Nagle off), and with `tls`
/// makes the handshake, with the failure of each step told apart.
async fn open(host: &str, port: u16, tls: Option<&UpstreamTls>) -> Result<UpstreamStream, UpstreamError> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| UpstreamError::Resolve(format!("{host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(UpstreamError::Resolve(format!("{host}: no address")));
    }
    let mut last = None;
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(tcp) = tcp else {
        let why = last.map_or_else(|| "no address answered".to_owned(), |e| e.to_string());
        return Err(UpstreamError::Connect(format!("{host}:{port}: {why}")));
    };
    tcp.set_nodelay(true).map_err(|e| UpstreamError::Connect(format!("{host}:{port}: {e}")))?;
    let Some(tls) = tls else { return Ok(UpstreamStream::Plain(tcp)) };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| UpstreamError::Tls(format!("{host}: not a name a certificate can hold: {e}")))?;
    let authority = format!("{}:{port}", host.to_ascii_lowercase());
    match tls.connector(&authority).connect(name, tcp).await {
        Ok(stream) => Ok(UpstreamStream::Tls(Box::new(stream))),
        // rustls reports a refused certificate as an `InvalidData` I/O error carrying its reason.
        Err(e) => Err(UpstreamError::Tls(format!("{host}:{port}: {e}"))),
    }
}
