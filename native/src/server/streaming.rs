//! Bodies that stream through a client connection: a request body read from the socket as the
//! handler's side takes it ([`pump`]), and a response body written as it arrives ([`write`]).
//!
//! Both go at the pace of the slower side: the pump waits while its two-chunk channel is
//! full, and the writer asks for the next chunk only once the last one is in the socket. A
//! chunk is written and flushed as soon as it arrives, so an event stream's events reach the
//! client one by one. A body that breaks is never passed off as complete: a chunked one ends
//! without its last chunk and the connection closes; one of announced length closes short.

use std::io::IoSlice;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::Response;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::Sender;

use super::request::Framing;
use super::response::{encode_head, Exchange, Length};
use super::Limits;
use crate::body::BodyError;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::FramingError;

/// Room kept in the read buffer while a body streams in: one read takes up to this much.
const READ_ROOM: usize = 64 * 1024;

/// Reads a request body of `framing` from `stream` (after what `buf` already holds) and sends
/// it on chunk by chunk, each read within `timeout`. `true` once the body was read to its end,
/// so the connection can carry another request; `false` when the client broke off or the
/// receiving side stopped taking it (the call was answered without it).
pub async fn pump<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    framing: Framing,
    tx: Sender<Result<Bytes, BodyError>>,
    timeout: Duration,
) -> bool {
    let mut left = match framing {
        Framing::Length(n) => n,
        Framing::Chunked => usize::MAX,
        Framing::None => return true,
    };
    let mut chunked = (framing == Framing::Chunked).then(ChunkedDecoder::default);
    loop {
        let (chunk, done) = match &mut chunked {
            None => {
                let take = left.min(buf.len());
                left -= take;
                (buf.split_to(take).freeze(), left == 0)
            }
            Some(decoder) => {
                let mut data = BytesMut::new();
                match decoder.decode(buf, &mut data, usize::MAX) {
                    Ok(done) => (data.freeze(), done),
                    Err(e @ (FramingError::Invalid(_) | FramingError::BodyTooLarge(_))) => {
                        let _ = tx
                            .send(Err(BodyError::Broken(format!("the client's chunked body is malformed: {e}"))))
                            .await;
                        return false;
                    }
                }
            }
        };
        if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
            return false;
        }
        if done {
            return true;
        }
        if buf.capacity() - buf.len() < READ_ROOM / 4 {
            buf.reserve(READ_ROOM);
        }
        let why = match tokio::time::timeout(timeout, stream.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => continue,
            Ok(Ok(_)) => "the client closed the connection before the body ended".to_owned(),
            Ok(Err(e)) => format!("reading the client's body failed: {e}"),
            Err(_) => format!("the client sent no body for {timeout:?}"),
        };
        let _ = tx.send(Err(BodyError::Broken(why))).await;
        return false;
    }
}

/// Writes `head` and then `body` as it arrives: by the length the upstream announced, else
/// chunked to an HTTP/1.1 client and by closing to an HTTP/1.0 one. `true` when the body was
/// written whole and the connection may carry another request. Each write must make
/// progress within the body timeout: a client that stops reading does not hold the stream.
pub async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &mut Vec<u8>,
    head: Response<()>,
    mut body: UnsyncBoxBody<Bytes, BodyError>,
    mut exchange: Exchange,
    http11: bool,
    limits: &Limits,
) -> bool {
    let length = match gatehouse_core::body::declared_len(head.headers()) {
        Some(n) => Length::Known(n),
        None if http11 => Length::Chunked,
        None => Length::Close,
    };
    exchange.close |= length == Length::Close;
    out.clear();
    encode_head(&head, length, exchange, out);
    let timeout = limits.body_timeout;
    if exchange.head_request || !crate::http1::has_body(head.status()) {
        return send(stream, &[out], timeout).await && !exchange.close;
    }
    // The head goes out at once: a client waiting on an event stream sees the answer begin.
    if !send(stream, &[out], timeout).await {
        return false;
    }
    let mut sent = 0u64;
    while let Some(frame) = body.frame().await {
        let data = match frame.map(|frame| frame.into_data()) {
            Ok(Ok(data)) if data.is_empty() => continue,
            Ok(Ok(data)) => data,
            Ok(Err(_trailers)) => continue,
            // Broken: stop here. The gateway's glue logs why, with the API.
            Err(_) => return false,
        };
        sent += data.len() as u64;
        if matches!(length, Length::Known(n) if sent > n) {
            // More than the upstream announced: never written, or the client would read the
            // rest as the next response.
            return false;
        }
        let written = match length {
            Length::Chunked => {
                let size = format!("{:x}\r\n", data.len());
                send(stream, &[size.as_bytes(), &data, b"\r\n"], timeout).await
            }
            _ => send(stream, &[&data], timeout).await,
        };
        if !written {
            return false;
        }
    }
    match length {
        Length::Chunked => send(stream, &[b"0\r\n\r\n"], timeout).await && !exchange.close,
        Length::Known(n) => sent == n && !exchange.close,
        Length::Close | Length::Switch => false,
    }
}

/// Writes every part and flushes (TLS holds records back until then), within `timeout` per
/// write; `false` if the client is gone or too slow.
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, parts: &[&[u8]], timeout: Duration) -> bool {
    let io = async {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut written = 0;
        while written < total {
            let mut skip = written;
            let mut slices = Vec::with_capacity(parts.len());
            for part in parts {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                slices.push(IoSlice::new(&part[skip..]));
                skip = 0;
            }
            let n = stream.write_vectored(&slices).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            written += n;
        }
        stream.flush().await
    };
    matches!(tokio::time::timeout(timeout, io).await, Ok(Ok(())))
}
