//! A tiny upstream on 127.0.0.1 that answers with whatever bytes a test scripts, so a test can
//! produce what well-behaved servers never do: closing a kept-alive connection, resetting it,
//! hanging, or splitting a chunked body across writes. It counts accepted connections and
//! records every request it reads.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
pub enum Action {
    /// Writes these bytes and keeps the connection open for the next request.
    Respond(Vec<u8>),
    /// Writes each piece separately, pausing between them, and keeps the connection open.
    RespondInPieces(Vec<Vec<u8>>),
    /// Writes these bytes, then closes the connection (FIN) without saying so in a header.
    RespondThenClose(Vec<u8>),
    /// Closes the connection (FIN) without answering.
    Close,
    /// Resets the connection (RST) without answering.
    Reset,
    /// Never answers.
    Hang,
    /// Writes these bytes (say, a head promising a body), then never writes again.
    RespondThenHang(Vec<u8>),
    /// Writes `head`, then one byte of `drip` every `every`, forever: a body that never ends
    /// although bytes keep coming.
    Drip { head: Vec<u8>, drip: u8, every: Duration },
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Which accepted connection (0-based) carried it.
    pub conn: usize,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Script = dyn Fn(usize, usize, &Seen) -> Action + Send + Sync;

pub struct RawUpstream {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RawUpstream {
    /// Starts a server that answers request `n` on connection `c` with `script(c, n, request)`.
    pub async fn start(script: impl Fn(usize, usize, &Seen) -> Action + Send + Sync + 'static) -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (accepted, seen) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
        let script: Arc<Script> = Arc::new(script);
        let (count, log) = (Arc::clone(&accepted), Arc::clone(&seen));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, conn, Arc::clone(&script), Arc::clone(&log)));
            }
        });
        RawUpstream { addr, accepted, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests read so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// `200 OK` with a `Content-Length` body, kept alive.
pub fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

async fn serve(mut stream: TcpStream, conn: usize, script: Arc<Script>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    for n in 0.. {
        let Some(request) = read_request(&mut stream, &mut buf, conn).await else { return };
        seen.lock().unwrap().push(request.clone());
        match script(conn, n, &request) {
            Action::Respond(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Action::RespondInPieces(pieces) => {
                for piece in pieces {
                    if stream.write_all(&piece).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            Action::RespondThenClose(bytes) => {
                let _ = stream.write_all(&bytes).await;
                return;
            }
            Action::Close => return,
            Action::Reset => {
                let _ = stream.set_zero_linger();
                return;
            }
            Action::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
            Action::RespondThenHang(bytes) => {
                let _ = stream.write_all(&bytes).await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Action::Drip { head, drip, every } => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                while stream.write_all(&[drip]).await.is_ok() {
                    tokio::time::sleep(every).await;
                }
                return;
            }
        }
    }
}

/// Reads one request (head and `Content-Length` body) from `stream`, keeping any bytes past
/// it in `buf`; `None` once the client closes.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, conn: usize) -> Option<Seen> {
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut slots);
        if let httparse::Status::Complete(head_len) = req.parse(buf).ok()? {
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            let mut seen =
                Seen { conn, method: req.method?.to_string(), path: req.path?.to_string(), headers, body: Vec::new() };
            let length: usize = seen.header("content-length").map_or(0, |v| v.parse().unwrap());
            while buf.len() < head_len + length {
                read_more(stream, buf).await?;
            }
            seen.body = buf[head_len..head_len + length].to_vec();
            buf.drain(..head_len + length);
            return Some(seen);
        }
        read_more(stream, buf).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}
