//! A client connection switched to WebSocket (RFC 6455), relayed to the upstream connection
//! that agreed to the switch: bytes pass both ways as they come, each direction at the pace
//! its reader sets, until either side closes, both stay silent for the API's idle timeout, or
//! the API's maximum duration is reached.
//!
//! Over HTTP/1.1 the client's connection itself is switched (a `101`); over HTTP/2 (RFC 8441)
//! it is one stream that an extended CONNECT opened, which [`pipe`] relays the same way.
//!
//! Why bytes and not frames: the gateway's checks ran on the upgrade request, and once
//! switched it has nothing to decide per message; relaying frames untouched keeps the
//! extensions and masking the two ends negotiated intact, as nginx and Envoy do.

use bytes::{Bytes, BytesMut};
use http::Response;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::response::{encode_head, Exchange, Length};
use crate::body::{BodyError, Tunnel};

const BUFFER: usize = 16 * 1024;

/// Writes the `101` head, then relays `client` and the tunnel's upstream until the tunnel
/// ends. `leftover` is what the client sent behind its upgrade request.
pub async fn relay<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
    out: &mut Vec<u8>,
    head: Response<()>,
    leftover: Bytes,
    tunnel: Tunnel,
) {
    out.clear();
    let exchange = Exchange { head_request: false, close: false, confirm_keep_alive: false };
    encode_head(&head, Length::Switch, exchange, out);
    pipe(client, out, leftover, tunnel).await;
}

/// Relays `client` and the tunnel's upstream until the tunnel ends: first writes what `out`
/// holds (the `101` head over HTTP/1.1, nothing over HTTP/2) and what the upstream sent
/// behind its `101`, and sends `leftover` (what the client sent early) upstream.
pub async fn pipe<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
    out: &mut Vec<u8>,
    leftover: Bytes,
    tunnel: Tunnel,
) {
    let Tunnel { mut upstream, leftover: from_upstream, idle, max_duration, on_close } = tunnel;
    let (mut bytes_in, mut bytes_out) = (leftover.len() as u64, from_upstream.len() as u64);
    out.extend_from_slice(&from_upstream);
    let started = client.write_all(out).await.and(client.flush().await);
    let started = started.and(upstream.write_all(&leftover).await);
    let end = max_duration.map(|max| (Instant::now() + max, max));
    let mut error = started.err().map(|e| BodyError::Broken(format!("starting the tunnel: {e}")));
    let (mut from_client, mut to_client) = (BytesMut::with_capacity(BUFFER), BytesMut::with_capacity(BUFFER));
    while error.is_none() {
        let quiet = Instant::now() + idle;
        let (until, late) = match end {
            Some((end, max)) if end < quiet => (end, BodyError::MaxDuration(max)),
            _ => (quiet, BodyError::Idle(idle)),
        };
        from_client.clear();
        to_client.clear();
        tokio::select! {
            read = client.read_buf(&mut from_client) => match read {
                Ok(0) => break,
                Ok(n) => {
                    bytes_in += n as u64;
                    if let Err(e) = upstream.write_all(&from_client).await {
                        error = Some(BodyError::Broken(format!("writing to the upstream: {e}")));
                    }
                }
                Err(e) => error = Some(BodyError::Broken(format!("reading from the client: {e}"))),
            },
            read = upstream.read_buf(&mut to_client) => match read {
                Ok(0) => break,
                Ok(n) => {
                    bytes_out += n as u64;
                    if let Err(e) = client.write_all(&to_client).await {
                        error = Some(BodyError::Broken(format!("writing to the client: {e}")));
                    }
                }
                Err(e) => error = Some(BodyError::Broken(format!("reading from the upstream: {e}"))),
            },
            () = tokio::time::sleep_until(until) => error = Some(late),
        }
    }
    let _ = tokio::join!(client.shutdown(), upstream.shutdown());
    if let Some(on_close) = on_close {
        on_close(bytes_in, bytes_out, error.as_ref());
    }
}

/// Ends a tunnel that never opened (the client went away before its stream was taken over,
/// or the upstream's handshake was wrong): the upstream connection closes, and the call is
/// still counted, with its cause.
pub fn abandon(tunnel: Tunnel, cause: BodyError) {
    if let Some(on_close) = tunnel.on_close {
        on_close(0, 0, Some(&cause));
    }
}
