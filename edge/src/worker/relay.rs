//! A WebSocket relayed by the Worker (the Workers WebSocket API): the client's end of a
//! `WebSocketPair` and the upstream's socket, each message passed on as it arrives, until
//! either side closes, both stay silent for the API's idle timeout, or the call reaches its
//! maximum duration. Relaying in the Worker, rather than handing the upstream's socket to the
//! client, is what lets those limits apply and the bytes of the messages be counted.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{Delay, WebSocket, WebsocketEvent};

use super::guard::Timeouts;

/// How a relayed socket ended: message bytes from the client and to it, and why, when it
/// was not one side closing.
pub struct Closed {
    pub from_client: u64,
    pub to_client: u64,
    pub cause: Option<String>,
}

/// Accepts both sockets and relays them until the tunnel ends.
pub async fn relay(client: WebSocket, upstream: WebSocket, timeouts: Timeouts) -> Closed {
    let mut closed = Closed { from_client: 0, to_client: 0, cause: None };
    if let Err(e) = client.accept().and_then(|()| upstream.accept()) {
        closed.cause = Some(format!("accepting the sockets: {e}"));
        return closed;
    }
    let (mut from_client, mut from_upstream) = match (client.events(), upstream.events()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            closed.cause = Some(format!("listening on the sockets: {e}"));
            return closed;
        }
    };
    loop {
        let (wait, expired) = timeouts.next_wait();
        let either = select(from_client.next(), from_upstream.next());
        let next = if wait == 0 {
            None
        } else {
            match select(either, Delay::from(Duration::from_millis(wait))).await {
                Either::Left((Either::Left((event, _)), _)) => Some((true, event)),
                Either::Left((Either::Right((event, _)), _)) => Some((false, event)),
                Either::Right(((), _)) => None,
            }
        };
        let Some((from_the_client, event)) = next else {
            let cause = expired.cause();
            close(&client, 1001, "timeout");
            close(&upstream, 1001, "timeout");
            closed.cause = Some(cause);
            return closed;
        };
        let (to, count) =
            if from_the_client { (&upstream, &mut closed.from_client) } else { (&client, &mut closed.to_client) };
        match event {
            Some(Ok(WebsocketEvent::Message(message))) => {
                let sent = match (message.text(), message.bytes()) {
                    (Some(text), _) => to.send_with_str(&text).map(|()| text.len()),
                    (None, Some(bytes)) => to.send_with_bytes(&bytes).map(|()| bytes.len()),
                    (None, None) => Ok(0),
                };
                match sent {
                    Ok(n) => *count += n as u64,
                    Err(e) => {
                        closed.cause = Some(format!("relaying a message: {e}"));
                        close(&client, 1011, "relay failed");
                        close(&upstream, 1011, "relay failed");
                        return closed;
                    }
                }
            }
            Some(Ok(WebsocketEvent::Close(event))) => {
                close(to, event.code(), &event.reason());
                return closed;
            }
            Some(Err(e)) => {
                let side = if from_the_client { "the client" } else { "the upstream" };
                closed.cause = Some(format!("{side}'s socket broke: {e}"));
                close(to, 1011, "the other side's socket broke");
                return closed;
            }
            None => {
                close(to, 1000, "");
                return closed;
            }
        }
    }
}

/// Closes `socket` with `code`, or with no code when the platform refuses it (1005 and 1006
/// only describe a close, and cannot be sent).
fn close(socket: &WebSocket, code: u16, reason: &str) {
    if socket.close(Some(code), Some(reason)).is_err() {
        let _ = socket.close(None, None::<&str>);
    }
}
