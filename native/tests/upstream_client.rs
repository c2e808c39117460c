//! `PooledUpstream` against real servers on 127.0.0.1: connection reuse, stale keep-alive
//! connections (retried only when that is safe), timeouts, refused connections and framing.
#![allow(clippy::unwrap_used)]

mod raw_upstream;

use std::time::{Duration, Instant};

use bytes::Bytes;
use gatehouse_core::body::Body;
use gatehouse_core::ports::{Upstream, UpstreamCall, UpstreamError};
use gatehouse_native::adapters::upstream::PooledUpstream;
use gatehouse_native::body::{GatewayBody, NativeStream};
use http::{Request, Response};
use http_body_util::BodyExt;
use raw_upstream::{ok, Action, RawUpstream};
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMEOUT_MS: u64 = 5_000;

fn request(method: &str, url: &str, body: &'static str) -> Request<GatewayBody> {
    Request::builder().method(method).uri(url).body(Body::Full(Bytes::from_static(body.as_bytes()))).unwrap()
}

/// A call with `ms` to the response head and between chunks, no other bound.
fn within(ms: u64) -> UpstreamCall {
    UpstreamCall { first_byte_ms: ms, idle_ms: ms, max_duration_ms: None, max_request_bytes: u64::MAX, upgrade: false }
}

/// Sends `request` and reads the answer whole, streamed or not.
async fn call(request: Request<GatewayBody>, ms: u64) -> Result<Response<Bytes>, UpstreamError> {
    let response = PooledUpstream::default().send(request, &within(ms)).await?;
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Full(bytes) => bytes,
        Body::Stream(NativeStream::Body(stream)) => {
            stream.into_inner().collect().await.map_err(|e| UpstreamError::Protocol(e.to_string()))?.to_bytes()
        }
        Body::Stream(NativeStream::Tunnel(_)) => panic!("no upgrade was asked for"),
    };
    Ok(Response::from_parts(parts, body))
}

async fn send(method: &str, url: &str, body: &'static str) -> Result<Response<Bytes>, UpstreamError> {
    call(request(method, url, body), TIMEOUT_MS).await
}

/// Lets the runtime's reactor see what the peer did (a FIN, say) before the next request.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn sequential_requests_reuse_one_keep_alive_connection() {
    let upstream = RawUpstream::start(|_, n, _| Action::Respond(ok(&format!("r{n}")))).await;
    for n in 0..5 {
        let response = send("GET", &upstream.url("/x"), "").await.unwrap();
        assert_eq!(response.body(), format!("r{n}").as_bytes());
    }
    assert_eq!(upstream.accepted(), 1);
}

#[tokio::test]
async fn concurrent_requests_get_their_own_connections_and_all_return_to_the_pool() {
    let upstream = RawUpstream::start(|_, _, _| Action::Respond(ok("x"))).await;
    let url = upstream.url("/x");
    for _ in 0..3 {
        let (a, b, c) = tokio::join!(send("GET", &url, ""), send("GET", &url, ""), send("GET", &url, ""));
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
    }
    assert_eq!(upstream.accepted(), 3);
}

#[tokio::test]
async fn idle_connection_closed_by_the_upstream_is_replaced_without_an_error() {
    let upstream = RawUpstream::start(|conn, _, _| match conn {
        0 => Action::RespondThenClose(ok("first")),
        _ => Action::Respond(ok("second")),
    })
    .await;
    assert_eq!(send("GET", &upstream.url("/"), "").await.unwrap().body(), "first");
    settle().await;
    assert_eq!(send("GET", &upstream.url("/"), "").await.unwrap().body(), "second");
    assert_eq!(upstream.accepted(), 2);
}

/// The race a pool cannot see coming: the upstream drops the connection just as the request
/// goes out. A GET is safe to send again.
async fn get_is_retried_once_when_a_reused_connection_dies_unanswered(dies: fn() -> Action) {
    let upstream = RawUpstream::start(move |conn, n, _| match (conn, n) {
        (0, 0) => Action::Respond(ok("first")),
        (0, _) => dies(),
        _ => Action::Respond(ok("retried")),
    })
    .await;
    assert_eq!(send("GET", &upstream.url("/a"), "").await.unwrap().body(), "first");
    assert_eq!(send("GET", &upstream.url("/b"), "").await.unwrap().body(), "retried");
    let seen: Vec<_> = upstream.seen().iter().map(|s| (s.conn, s.path.clone())).collect();
    assert_eq!(seen, [(0, "/a".into()), (0, "/b".into()), (1, "/b".into())]);
}

#[tokio::test]
async fn get_is_retried_once_when_a_reused_connection_is_closed_unanswered() {
    get_is_retried_once_when_a_reused_connection_dies_unanswered(|| Action::Close).await;
}

#[tokio::test]
async fn get_is_retried_once_when_a_reused_connection_is_reset_unanswered() {
    get_is_retried_once_when_a_reused_connection_dies_unanswered(|| Action::Reset).await;
}

#[tokio::test]
async fn post_that_reached_a_connection_which_then_died_is_never_sent_twice() {
    let upstream = RawUpstream::start(|conn, n, _| match (conn, n) {
        (0, 0) => Action::Respond(ok("first")),
        (0, _) => Action::Close,
        _ => Action::Respond(ok("duplicate")),
    })
    .await;
    send("GET", &upstream.url("/warm"), "").await.unwrap();
    let result = send("POST", &upstream.url("/orders"), "{\"n\":1}").await;
    assert!(matches!(result, Err(UpstreamError::Protocol(_))), "{result:?}");
    settle().await;
    let posts = upstream.seen().into_iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
    assert_eq!(upstream.accepted(), 1);
}

#[tokio::test]
async fn post_after_the_upstream_closed_the_idle_connection_goes_out_once_on_a_fresh_one() {
    let upstream = RawUpstream::start(|conn, _, _| match conn {
        0 => Action::RespondThenClose(ok("first")),
        _ => Action::Respond(ok("created")),
    })
    .await;
    send("GET", &upstream.url("/warm"), "").await.unwrap();
    settle().await;
    assert_eq!(send("POST", &upstream.url("/orders"), "{}").await.unwrap().body(), "created");
    let posts: Vec<_> = upstream.seen().into_iter().filter(|s| s.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!((posts[0].conn, posts[0].body.as_slice()), (1, &b"{}"[..]));
}

#[tokio::test]
async fn fresh_connection_that_dies_unanswered_is_an_error_not_a_retry() {
    let upstream = RawUpstream::start(|_, _, _| Action::Close).await;
    let result = send("GET", &upstream.url("/"), "").await;
    assert!(matches!(result, Err(UpstreamError::Protocol(_))), "{result:?}");
    settle().await;
    assert_eq!(upstream.accepted(), 1);
}

#[tokio::test]
async fn silent_upstream_times_out_within_the_deadline() {
    let upstream = RawUpstream::start(|_, _, _| Action::Hang).await;
    let started = Instant::now();
    let result = call(request("GET", &upstream.url("/"), ""), 200).await;
    assert!(matches!(result, Err(UpstreamError::Timeout)), "{result:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(190) && elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_pooled_connection_honours_each_exchange_deadline_long_then_short() {
    // The first exchange arms the connection's timer 60 s out; the second, on the same pooled
    // connection, must still give up at its own 200 ms.
    let upstream = RawUpstream::start(|_, n, _| if n == 0 { Action::Respond(ok("first")) } else { Action::Hang }).await;
    let first = call(request("GET", &upstream.url("/"), ""), 60_000).await.unwrap();
    assert_eq!(first.body(), "first");
    let started = Instant::now();
    let result = call(request("GET", &upstream.url("/"), ""), 200).await;
    assert!(matches!(result, Err(UpstreamError::Timeout)), "{result:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(190) && elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(upstream.accepted(), 1, "the second exchange reused the pooled connection");
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let result = send("GET", &format!("http://{addr}/"), "").await;
    assert!(matches!(result, Err(UpstreamError::Connect(_))), "{result:?}");
}

#[tokio::test]
async fn chunked_response_split_across_writes_is_decoded_and_its_connection_reused() {
    let upstream = RawUpstream::start(|_, _, _| {
        Action::RespondInPieces(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhel".to_vec(),
            b"lo\r\n7;ext=1\r\n, wor".to_vec(),
            b"ld\r\n0\r\nX-Trailer: t\r\n".to_vec(),
            b"\r\n".to_vec(),
        ])
    })
    .await;
    for _ in 0..2 {
        let response = send("GET", &upstream.url("/stream"), "").await.unwrap();
        assert_eq!(response.body(), "hello, world");
        assert!(!response.headers().contains_key("transfer-encoding"));
        assert_eq!(response.headers()["content-type"], "text/plain");
    }
    assert_eq!(upstream.accepted(), 1);
}

#[tokio::test]
async fn body_delimited_by_close_is_read_whole_and_its_connection_not_reused() {
    let upstream =
        RawUpstream::start(|_, _, _| Action::RespondThenClose(b"HTTP/1.1 200 OK\r\n\r\nuntil close".to_vec())).await;
    for _ in 0..2 {
        assert_eq!(send("GET", &upstream.url("/"), "").await.unwrap().body(), "until close");
    }
    assert_eq!(upstream.accepted(), 2);
}

#[tokio::test]
async fn a_large_response_streams_and_one_cut_short_never_looks_complete() {
    // Announces 20 MiB (past the old 16 MiB buffer) and sends 3 bytes before closing.
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 20971520\r\n\r\nabc".to_owned();
    let upstream = RawUpstream::start(move |_, _, _| Action::RespondThenClose(head.clone().into_bytes())).await;
    let response = PooledUpstream::default().send(request("GET", &upstream.url("/"), ""), &within(TIMEOUT_MS)).await;
    let response = response.expect("the head is an answer, not a refusal");
    assert_eq!(response.status(), 200);
    let Body::Stream(NativeStream::Body(stream)) = response.into_body() else { panic!("a large body streams") };
    let read = stream.into_inner().collect().await;
    assert!(read.is_err(), "a body cut short ends in an error");
}

#[tokio::test]
async fn request_reaches_the_upstream_as_sent() {
    let server = MockServer::start().await;
    let host = format!("127.0.0.1:{}", server.address().port());
    Mock::given(method("POST"))
        .and(path("/pets"))
        .and(query_param("tag", "a b"))
        .and(header("host", host.as_str()))
        .and(header("x-request-id", "r-1"))
        .and(header("content-length", "13"))
        .and(body_string("{\"name\":\"R\"}\n"))
        .respond_with(ResponseTemplate::new(201).insert_header("etag", "\"v1\"").set_body_string("made"))
        .expect(1)
        .mount(&server)
        .await;
    let mut req = request("POST", &format!("{}/pets?tag=a%20b", server.uri()), "{\"name\":\"R\"}\n");
    req.headers_mut().insert("x-request-id", "r-1".parse().unwrap());
    let response = call(req, TIMEOUT_MS).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["etag"], "\"v1\"");
    assert_eq!(response.body(), "made");
}

#[tokio::test]
async fn small_and_large_request_bodies_arrive_whole() {
    // Small bodies are copied behind the head (one send); large ones are written from where
    // they are (writev). Both must reach the upstream byte for byte.
    let server = MockServer::start().await;
    for size in [10, 16 * 1024, 16 * 1024 + 1, 300_000] {
        let body: String = (0..size).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        Mock::given(method("PUT"))
            .and(path(format!("/blob/{size}")))
            .and(header("content-length", size.to_string().as_str()))
            .and(body_string(body.clone()))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let req = Request::builder()
            .method("PUT")
            .uri(format!("{}/blob/{size}", server.uri()))
            .body(Body::Full(Bytes::from(body)))
            .unwrap();
        assert_eq!(call(req, TIMEOUT_MS).await.unwrap().status(), 204, "{size} bytes");
    }
}

#[tokio::test]
async fn head_response_has_no_body_and_leaves_the_connection_usable() {
    let upstream = RawUpstream::start(|_, _, seen| match seen.method.as_str() {
        "HEAD" => Action::Respond(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()),
        _ => Action::Respond(ok("hello")),
    })
    .await;
    let head = send("HEAD", &upstream.url("/"), "").await.unwrap();
    assert!(head.body().is_empty());
    assert_eq!(head.headers()["content-length"], "5");
    assert_eq!(send("GET", &upstream.url("/"), "").await.unwrap().body(), "hello");
    assert_eq!(upstream.accepted(), 1);
}
