//! TLS both ways, in process over real sockets: the gateway terminates TLS (certificates from
//! a CA made in the test) and speaks HTTP/2 or HTTP/1.1 as ALPN chose, through the same
//! pipeline; HTTPS upstreams are verified against their own CA, and each way an upstream call
//! can fail gets a 502 that says which; mTLS listeners refuse clients without a certificate.
#![allow(clippy::unwrap_used)]

mod support;
mod tls_support;

use std::time::Duration;

use gatehouse_native::adapters::upstream::UpstreamTls;
use gatehouse_native::tls::{ServerTls, TlsFiles};
use serde_json::json;
use support::Harness;
use tls_support::{connector, request, send, tls_connect, HttpsUpstream, TestCa};

/// Every operation public, so the calls need no key.
const OPEN_API: &str = r#"
openapi: 3.0.3
info: { title: Open, version: 1.0.0 }
security: []
paths:
  /hello:
    get: { operationId: hello, responses: { "200": { description: ok } } }
    post: { operationId: postHello, responses: { "200": { description: ok } } }
"#;

/// Publishes an open API at `base` whose upstream is `url`.
async fn publish(h: &Harness, name: &str, base: &str, url: &str) {
    let openapi = OPEN_API.replace("title: Open", &format!("title: {name}"));
    let api =
        h.admin_ok("POST", "/v1/apis", json!({"openapi": openapi, "base_path": base, "upstream": {"url": url}})).await;
    let id = api["id"].as_str().unwrap();
    h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
}

/// The gateway's TLS from a fresh leaf of `ca` for localhost, written into `dir`.
fn gateway_tls(ca: &TestCa, dir: &std::path::Path, client_ca: Option<std::path::PathBuf>) -> ServerTls {
    let (cert, key) = ca.leaf(&["localhost", "127.0.0.1"], "gateway").write(dir, "gateway");
    ServerTls::load(&TlsFiles { tls_cert: Some(cert), tls_key: Some(key), client_ca, ..TlsFiles::default() })
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_clients_get_http2_or_http1_by_alpn_through_the_same_pipeline_to_an_https_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let (client_ca, upstream_ca) = (TestCa::new("clients' view"), TestCa::new("upstream's own CA"));
    let upstream = HttpsUpstream::start(&upstream_ca.leaf(&["localhost"], "upstream")).await;
    let mut trust = UpstreamTls::default();
    trust.add_ca_pem(&format!("localhost:{}", upstream.addr.port()), upstream_ca.pem.as_bytes()).unwrap();
    let tls = gateway_tls(&client_ca, dir.path(), None);
    let h = Harness::start_with(|config| {
        config.serving.gateway_tls = Some(tls);
        config.serving.upstream_tls = trust;
    })
    .await;
    publish(&h, "Open", "/open", &format!("https://localhost:{}", upstream.addr.port())).await;
    let gateway = h.app.gateway_addr;

    for (alpn, version) in [(&b"h2"[..], http::Version::HTTP_2), (&b"http/1.1"[..], http::Version::HTTP_11)] {
        let tls = tls_connect(&connector(&client_ca.pem, &[alpn], None), gateway, "localhost").await.unwrap();
        let answer =
            send(tls, request("GET", "localhost", "/open/hello", &[("x-request-id", "trace-42")], "")).await.unwrap();
        assert_eq!((answer.status, answer.version), (200, version), "{answer:?}");
        assert_eq!(&answer.body[..], b"/hello", "the upstream's answer comes back");
        assert_eq!(answer.header("x-request-id"), Some("trace-42"), "the client's request id is echoed");
    }
    // A body over HTTP/2 reaches the pipeline whole, too.
    let tls = tls_connect(&connector(&client_ca.pem, &[b"h2"], None), gateway, "localhost").await.unwrap();
    let posted = send(tls, request("POST", "localhost", "/open/hello", &[], "{\"a\":1}")).await.unwrap();
    assert_eq!(posted.status, 200);
    let generated = posted.header("x-request-id").unwrap().to_owned();
    assert_eq!(generated.len(), 24, "a fresh id when the client sent none: {generated}");

    let heads = upstream.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 3);
    assert!(heads[..2].iter().all(|head| head.to_ascii_lowercase().contains("x-request-id: trace-42")), "{heads:?}");
    assert!(heads[2].to_ascii_lowercase().contains(&format!("x-request-id: {generated}")), "{heads:?}");
    assert!(heads[2].to_ascii_lowercase().contains("content-length: 7"), "{heads:?}");
    // Pools are per gateway thread (two here): three calls, at most two handshakes.
    let handshakes = upstream.handshakes.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&handshakes), "TLS connections to the upstream are pooled: {handshakes} handshakes");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_way_an_upstream_call_fails_gets_a_502_whose_detail_names_it() {
    let (right, wrong) = (TestCa::new("right"), TestCa::new("wrong"));
    let upstream = HttpsUpstream::start(&right.leaf(&["localhost"], "upstream")).await;
    let mut trust = UpstreamTls::default();
    trust.add_ca_pem(&format!("localhost:{}", upstream.addr.port()), wrong.pem.as_bytes()).unwrap();
    let h = Harness::start_with(|config| config.serving.upstream_tls = trust).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cases = [
        (
            "Untrusted",
            "/untrusted",
            format!("https://localhost:{}", upstream.addr.port()),
            "TLS certificate could not be verified",
        ),
        ("Unresolved", "/unresolved", "https://no-such-host.invalid".to_owned(), "host name could not be resolved"),
        ("Refused", "/refused", format!("http://127.0.0.1:{closed}"), "could not be reached"),
    ];
    for (name, base, url, _) in &cases {
        publish(&h, name, base, url).await;
    }
    for (_, base, _, detail) in &cases {
        let answer = h.call("GET", &format!("{base}/hello"), None).await;
        let problem = support::assert_problem(&answer, 502, "upstream-unavailable");
        assert!(problem["detail"].as_str().unwrap().contains(detail), "{base}: {problem}");
    }
    assert_eq!(upstream.handshakes.load(std::sync::atomic::Ordering::SeqCst), 0, "no handshake was completed");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mtls_listener_serves_only_clients_with_a_certificate_from_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (server_ca, partners, strangers) = (TestCa::new("server"), TestCa::new("partners"), TestCa::new("strangers"));
    let tls = gateway_tls(&server_ca, dir.path(), Some(partners.write(dir.path(), "partners.pem")));
    let h = Harness::start_with(|config| config.serving.gateway_tls = Some(tls)).await;
    let gateway = h.app.gateway_addr;
    let partner = partners.leaf(&["partner.example"], "partner-one");
    let stranger = strangers.leaf(&["stranger.example"], "stranger");

    let tls = tls_connect(&connector(&server_ca.pem, &[b"h2"], Some(&partner)), gateway, "localhost").await.unwrap();
    let answer = send(tls, request("GET", "localhost", "/nothing/here", &[], "")).await.unwrap();
    assert_eq!(answer.status, 404, "a partner's certificate gets through to the pipeline");

    for client in [None, Some(&stranger)] {
        // TLS 1.3 finishes the client's side before the server checks its certificate, so the
        // refusal shows on the first exchange, if not at the handshake.
        let refused = match tls_connect(&connector(&server_ca.pem, &[b"http/1.1"], client), gateway, "localhost").await
        {
            Err(_) => true,
            Ok(tls) => send(tls, request("GET", "localhost", "/", &[], "")).await.is_err(),
        };
        assert!(refused, "a client without a partner certificate is refused");
    }
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_handshake_that_never_comes_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let tls = gateway_tls(&TestCa::new("ca"), dir.path(), None);
    let h = Harness::start_with(|config| {
        config.serving.gateway_tls = Some(tls);
        config.serving.handshake_timeout = Duration::from_millis(300);
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(h.app.gateway_addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read(&mut silent, &mut buf)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "closed after the handshake timeout: {read:?}");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("ca");
    let tls = gateway_tls(&ca, dir.path(), None);
    let h = Harness::start_with(|config| {
        config.serving.gateway_tls = Some(tls);
        config.serving.idle_timeout = Duration::from_millis(600);
    })
    .await;
    let stream = tls_connect(&connector(&ca.pem, &[b"h2"], None), h.app.gateway_addr, "localhost").await.unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await.unwrap();
    let conn = tokio::spawn(conn);
    let started = std::time::Instant::now();
    let answer = sender.send_request(request("GET", "localhost", "/none", &[], "")).await.unwrap();
    assert_eq!(answer.status(), 404);
    let ended = tokio::time::timeout(Duration::from_secs(5), conn).await;
    assert!(ended.is_ok(), "the server closed the idle connection");
    let lived = started.elapsed();
    assert!(lived >= Duration::from_millis(500), "not before the idle timeout: {lived:?}");
    h.app.shutdown().await;
}
