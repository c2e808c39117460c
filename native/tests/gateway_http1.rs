//! The gateway's HTTP/1.1 server over real sockets on 127.0.0.1, driven with raw bytes so that
//! every framing case is exactly what a client (or an attacker) would send: persistence,
//! pipelining, bodies by length and chunked, `100-continue`, refusals that close the
//! connection, timeouts and graceful shutdown.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gatehouse_native::server::{serve, Handler, Limits};
use http::{Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const MAX_BODY: usize = 1024;

/// Echoes what it got: method, target and body length in headers, the body as the body.
/// `/status/<n>` answers with that status; `/slow` takes 300 ms.
struct Echo;

impl Handler for Echo {
    type Body = Bytes;

    async fn respond(&self, request: &mut Request<Bytes>, _peer: std::net::SocketAddr) -> Response<Bytes> {
        let path = request.uri().path().to_string();
        if path == "/slow" {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if let Some(size) = path.strip_prefix("/big/").and_then(|s| s.parse::<usize>().ok()) {
            let body: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
            return Response::new(Bytes::from(body));
        }
        let status = path.strip_prefix("/status/").and_then(|s| s.parse().ok()).unwrap_or(200);
        let mut response = Response::new(request.body().clone());
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        let headers = response.headers_mut();
        headers.insert("x-method", request.method().as_str().parse().unwrap());
        headers.insert("x-target", request.uri().to_string().parse().unwrap());
        headers.insert("x-body-bytes", request.body().len().into());
        if let Some(len) = request.headers().get("x-claim-length") {
            headers.insert("content-length", len.clone());
        }
        response
    }
}

struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(read_timeout: Duration) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, rx) = watch::channel(false);
    let limits = Limits::new(MAX_BODY, read_timeout);
    let done = tokio::spawn(serve(listener, Arc::new(Echo), limits, rx));
    Server { addr, shutdown, done }
}

async fn server() -> Server {
    start(Duration::from_secs(10)).await
}

/// A parsed response as the client saw it.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A raw client connection that reads responses framed by `Content-Length` (all this server
/// sends), keeping any bytes after one response for the next.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(server: &Server) -> Client {
        Client { stream: TcpStream::connect(server.addr).await.unwrap(), buf: Vec::new() }
    }

    async fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).await.unwrap();
    }

    /// The next response; `head_request` means no body follows whatever the headers say.
    async fn read(&mut self, head_request: bool) -> Reply {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await;
        };
        let head = String::from_utf8(self.buf.drain(..end).collect()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        let mut reply = Reply { status, headers, body: Vec::new() };
        let len = if head_request || status == 204 || status == 304 || status < 200 {
            0
        } else {
            reply.header("content-length").expect("every response with a body has a length").parse().unwrap()
        };
        while self.buf.len() < len {
            self.fill().await;
        }
        reply.body = self.buf.drain(..len).collect();
        reply
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "connection closed; had {:?}", String::from_utf8_lossy(&self.buf));
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// True if the server closed the connection (EOF or reset) within 2 s, with nothing unread.
    async fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        match tokio::time::timeout(Duration::from_secs(2), self.stream.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => self.buf.is_empty(),
            Ok(Ok(_)) | Err(_) => false,
        }
    }
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection_and_adds_date() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    for i in 0..3 {
        client.send(&get(&format!("/n/{i}?q=1"))).await;
        let reply = client.read(false).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-target"), Some(format!("/n/{i}?q=1").as_str()));
        assert_eq!(reply.header("content-length"), Some("0"));
        assert!(reply.header("date").is_some_and(|d| d.ends_with(" GMT")));
        assert_eq!(reply.header("connection"), None);
    }
}

#[tokio::test]
async fn small_and_large_response_bodies_arrive_whole_on_one_connection() {
    // Small bodies are copied behind the head (one send); large ones are written from where
    // they are (writev), possibly over several writes.
    let server = server().await;
    let mut client = Client::connect(&server).await;
    for size in [0, 43, 16 * 1024, 16 * 1024 + 1, 3_000_000] {
        client.send(&get(&format!("/big/{size}"))).await;
        let reply = client.read(false).await;
        assert_eq!(reply.body.len(), size);
        assert!(reply.body.iter().enumerate().all(|(i, b)| *b == b'a' + (i % 26) as u8), "{size} bytes intact");
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    let mut burst = Vec::new();
    for i in 0..5 {
        burst.extend_from_slice(&get(&format!("/p/{i}")));
    }
    burst.extend_from_slice(b"POST /p/body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    burst.extend_from_slice(&get("/p/last"));
    client.send(&burst).await;
    for i in 0..5 {
        assert_eq!(client.read(false).await.header("x-target"), Some(format!("/p/{i}").as_str()));
    }
    let post = client.read(false).await;
    assert_eq!((post.header("x-target"), post.body.as_slice()), (Some("/p/body"), &b"hello"[..]));
    assert_eq!(client.read(false).await.header("x-target"), Some("/p/last"));
}

#[tokio::test]
async fn bodies_arrive_whole_by_length_or_chunked_however_they_are_split() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    client.send(b"POST /len HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.send(b" world").await;
    let reply = client.read(false).await;
    assert_eq!((reply.header("x-body-bytes"), reply.body.as_slice()), (Some("11"), &b"hello world"[..]));

    let chunked = b"PUT /chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for piece in chunked.chunks(7) {
        client.send(piece).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let reply = client.read(false).await;
    assert_eq!((reply.header("x-method"), reply.body.as_slice()), (Some("PUT"), &b"hello world"[..]));
}

#[tokio::test]
async fn expect_100_continue_gets_an_interim_answer_before_the_body_is_sent() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    client.send(b"POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n").await;
    let interim = client.read(false).await;
    assert_eq!(interim.status, 100);
    client.send(b"data").await;
    let reply = client.read(false).await;
    assert_eq!((reply.status, reply.body.as_slice()), (200, &b"data"[..]));
}

#[tokio::test]
async fn an_announced_body_over_the_limit_is_refused_without_reading_it() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    let too_big = MAX_BODY + 1;
    let raw = format!("POST /big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {too_big}\r\n\r\n");
    client.send(raw.as_bytes()).await;
    let reply = client.read(false).await;
    assert_eq!(reply.status, 413, "no 100 Continue first: the client must not send the body");
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    assert_eq!(reply.header("connection"), Some("close"));
    let problem: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(problem["type"], "https://gatehouse.dev/problems/payload-too-large");
    assert!(client.closed().await);
}

#[tokio::test]
async fn a_refused_connection_lingers_briefly_not_for_the_whole_read_timeout() {
    // After a refusal the server reads and discards for a short while (2 s) so the client
    // sees the answer; that must not stretch to the read timeout, which is far longer here.
    let server = start(Duration::from_secs(30)).await;
    let mut client = Client::connect(&server).await;
    let raw = format!("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
    client.send(raw.as_bytes()).await;
    assert_eq!(client.read(false).await.status, 413);
    // The client keeps its side open and sends nothing; shutdown waits for the lingering
    // connection, so the server's end shows how long it lingers.
    server.shutdown.send(true).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(6), server.done).await;
    assert!(ended.is_ok(), "the refused connection lingered for the read timeout");
    drop(client);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_and_the_connection_closed() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    let raw = format!("POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", MAX_BODY + 1);
    client.send(raw.as_bytes()).await;
    let reply = client.read(false).await;
    assert_eq!((reply.status, reply.header("connection")), (413, Some("close")));
    assert!(client.closed().await);
}

#[tokio::test]
async fn smuggling_shapes_get_400_and_nothing_after_them_is_served() {
    let server = server().await;
    let cases: [&[u8]; 6] = [
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // A malformed trailer section (RFC 9112 §7.1.2): refused, not read into the next request.
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Ok: 1\r\nGET /in-trailer HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n folded: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for raw in cases {
        let mut client = Client::connect(&server).await;
        let mut attack = raw.to_vec();
        attack.extend_from_slice(&get("/smuggled"));
        client.send(&attack).await;
        let reply = client.read(false).await;
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(raw));
        let problem: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(problem["type"], "https://gatehouse.dev/problems/bad-request");
        assert!(client.closed().await, "the smuggled request must not be answered");
    }
}

#[tokio::test]
async fn oversized_heads_get_431() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    let raw = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(70 * 1024));
    let _ = client.stream.write_all(raw.as_bytes()).await; // the server may close mid-write
    let reply = client.read(false).await;
    assert_eq!(reply.status, 431);
    let problem: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(problem["type"], "https://gatehouse.dev/problems/headers-too-large");
}

#[tokio::test]
async fn connection_close_and_http_1_0_end_the_connection_after_the_answer() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    client.send(b"GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await;
    assert_eq!(client.read(false).await.header("connection"), Some("close"));
    assert!(client.closed().await);

    let mut old = Client::connect(&server).await;
    old.send(b"GET /old HTTP/1.0\r\n\r\n").await;
    assert_eq!(old.read(false).await.header("connection"), Some("close"));
    assert!(old.closed().await);

    let mut kept = Client::connect(&server).await;
    for _ in 0..2 {
        kept.send(b"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
        assert_eq!(kept.read(false).await.header("connection"), Some("keep-alive"));
    }
}

#[tokio::test]
async fn head_and_bodiless_statuses_send_no_body() {
    let server = server().await;
    let mut client = Client::connect(&server).await;
    client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\nX-Claim-Length: 1234\r\n\r\n").await;
    let head = client.read(true).await;
    assert_eq!((head.status, head.header("content-length")), (200, Some("1234")));
    for status in [204, 304] {
        client
            .send(format!("POST /status/{status} HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc").as_bytes())
            .await;
        let reply = client.read(false).await;
        assert_eq!((reply.status, reply.header("content-length")), (status, None));
    }
    // Nothing stray was written: the connection still frames the next answer correctly.
    client.send(&get("/after")).await;
    assert_eq!(client.read(false).await.header("x-target"), Some("/after"));
}

#[tokio::test]
async fn idle_connections_time_out_quietly_and_slow_heads_get_408() {
    let server = start(Duration::from_millis(300)).await;
    let mut idle = Client::connect(&server).await;
    idle.send(&get("/once")).await;
    idle.read(false).await;
    let waited = Instant::now();
    assert!(idle.closed().await);
    assert!(waited.elapsed() >= Duration::from_millis(250), "closed after {:?}", waited.elapsed());

    let mut slow = Client::connect(&server).await;
    slow.send(b"GET /slow-head HTTP/1.1\r\nHo").await;
    assert_eq!(slow.read(false).await.status, 408);
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_closes_idle_connections() {
    let server = server().await;
    let mut idle = Client::connect(&server).await;
    idle.send(&get("/warm")).await;
    idle.read(false).await;
    let mut busy = Client::connect(&server).await;
    busy.send(&get("/slow")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    server.shutdown.send(true).unwrap();
    assert!(idle.closed().await, "an idle connection closes at shutdown");
    let reply = busy.read(false).await;
    assert_eq!((reply.status, reply.header("connection")), (200, Some("close")));
    assert!(busy.closed().await);
    tokio::time::timeout(Duration::from_secs(2), server.done).await.unwrap().unwrap();
    assert!(TcpStream::connect(server.addr).await.is_err(), "no longer accepting");
}
