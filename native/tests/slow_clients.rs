//! Slow and greedy clients over real sockets: a slowloris holding 5,000 half-sent requests
//! from one address does not stop another client from being served, a head that does not
//! arrive in time is cut off, and idle keep-alive connections are closed.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::Harness;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SLOWLORIS_SOCKETS: usize = 5_000;
const PER_IP: usize = 64;
/// The slowloris test's header timeout.
const HEAD_TIMEOUT: Duration = Duration::from_secs(4);

/// A connection from `from` (any 127.x address is this machine's) to `to`.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(to).await
}

/// What arrives before the server closes or `wait` passes.
async fn read_all(stream: &mut TcpStream, wait: Duration) -> String {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

async fn get(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /nothing HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    read_all(&mut stream, Duration::from_secs(5)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_of_5000_sockets_from_one_address_does_not_stop_others_being_served() {
    let h = Harness::start_with(|config| {
        config.serving.header_timeout = HEAD_TIMEOUT;
        config.serving.max_connections_per_ip = PER_IP;
        config.serving.max_connections = 10_000;
    })
    .await;
    let gateway = h.app.gateway_addr;

    // 5,000 connections from 127.0.0.2, each sending half a request head and then nothing.
    let mut held = Vec::with_capacity(SLOWLORIS_SOCKETS);
    for _ in 0..SLOWLORIS_SOCKETS {
        if let Ok(mut stream) = connect_from([127, 0, 0, 2], gateway).await {
            let _ = stream.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\nx-a: ").await;
            held.push(stream);
        }
    }
    assert!(held.len() > SLOWLORIS_SOCKETS / 2, "the attack got its sockets: {}", held.len());

    // Everyone else is still served, without waiting for the attack's heads to time out (the
    // bound is that wait halved, loose enough for a loaded machine).
    for _ in 0..20 {
        let started = Instant::now();
        let answer = get(gateway).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        assert!(started.elapsed() < HEAD_TIMEOUT / 2, "answered in {:?}", started.elapsed());
    }

    // The attacker's connections beyond its share were closed at once; the ones it holds get
    // 408 once the head is overdue, and are closed too.
    let (mut timed_out, mut closed, attacking) = (0, 0, held.len());
    for mut stream in held {
        let answer = read_all(&mut stream, HEAD_TIMEOUT * 2).await;
        if answer.starts_with("HTTP/1.1 408") {
            timed_out += 1;
        } else if answer.is_empty() {
            closed += 1;
        }
    }
    assert!(timed_out <= PER_IP, "no more than {PER_IP} held at once, {timed_out} were");
    assert_eq!(timed_out + closed, attacking, "every socket was answered 408 or closed, none left hanging");
    assert!(timed_out > 0, "the held connections were answered 408 when their head was overdue");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_is_bounded_from_its_first_byte_and_idle_keep_alive_separately() {
    let h = Harness::start_with(|config| {
        config.serving.header_timeout = Duration::from_millis(500);
        config.serving.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let gateway = h.app.gateway_addr;

    // A byte every 200 ms never finishes the head: cut off with 408 after ~0.5 s.
    let mut slow = TcpStream::connect(gateway).await.unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    for byte in b"GET /nothing HTTP/1.1\r\nhost: x\r\n".iter() {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut buf = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await {
            answer.push_str(&String::from_utf8_lossy(&buf[..n]));
            break;
        }
    }
    answer.push_str(&read_all(&mut slow, Duration::from_secs(3)).await);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_millis(1_500), "cut off after {:?}", started.elapsed());

    // An idle keep-alive connection lives past the header timeout, until the idle timeout.
    let mut idle = TcpStream::connect(gateway).await.unwrap();
    idle.write_all(b"GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 404"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    idle.write_all(b"GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 404"), "still open after 1 s idle");
    let started = Instant::now();
    let rest = read_all(&mut idle, Duration::from_secs(5)).await;
    assert!(rest.is_empty(), "closed without an answer: {rest:?}");
    let waited = started.elapsed();
    assert!(waited > Duration::from_millis(1_500) && waited < Duration::from_secs(4), "closed after {waited:?} idle");
    h.app.shutdown().await;
}
