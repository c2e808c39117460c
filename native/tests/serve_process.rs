//! `gatehouse serve` as a real process, as an operator runs it: a config file, secrets from
//! the environment, the first owner token from `gatehouse admin bootstrap`, TLS on both
//! listeners, JSON logs with one access line per request, health checks, and a certificate
//! reloaded on SIGHUP while clients keep connecting, with no failed request.
#![allow(clippy::unwrap_used)]

mod tls_support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tls_support::{connector, request, send, tls_connect, Answer, TestCa};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const IDENTITY_SECRET: &str = "serve-test-identity-secret-0123456789";

/// `gatehouse <args>` with a clean `GATEHOUSE_*` environment plus `env`.
fn gatehouse(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GATEHOUSE_")) {
        command.env_remove(name);
    }
    command.env_remove("RUST_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

struct Serve {
    child: Child,
    gateway: SocketAddr,
    admin: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `gatehouse serve --config <config>` and waits for its "serving" log line.
    fn start(config: &Path) -> Serve {
        let mut child = gatehouse(
            &["serve", "--config", config.to_str().unwrap()],
            &[("GATEHOUSE_IDENTITY_SECRET", IDENTITY_SECRET)],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let serving = loop {
            let line = lines.next().expect("gatehouse serve exited before serving").unwrap();
            log.lock().unwrap().push_str(&format!("{line}\n"));
            let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
            if parsed["message"] == "serving" {
                break parsed;
            }
        };
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = |field: &str| serving[field].as_str().unwrap().parse().unwrap();
        Serve { gateway: addr("gateway"), admin: addr("admin"), child, log }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    fn stop(mut self) -> String {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a graceful stop exits 0: {status:?}");
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        log
    }
}

/// A `gatehouse.toml` with TLS on both listeners, ephemeral ports and the store in `dir`.
fn write_config(dir: &Path, cert: &Path, key: &Path) -> std::path::PathBuf {
    let config = format!(
        r#"
[gateway]
addr = "127.0.0.1:0"
threads = 2
tls_cert = "{cert}"
tls_key = "{key}"

[admin]
addr = "127.0.0.1:0"
tls_cert = "{cert}"
tls_key = "{key}"

[store]
dir = "{store}"

[log]
format = "json"
"#,
        cert = cert.display(),
        key = key.display(),
        store = dir.join("store").display(),
    );
    let path = dir.join("gatehouse.toml");
    std::fs::write(&path, config).unwrap();
    path
}

async fn call(ca: &str, addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let tls = tls_connect(&connector(ca, &[b"h2", b"http/1.1"], None), addr, "localhost").await.unwrap();
    send(tls, request(method, "localhost", path, headers, body)).await.unwrap()
}

#[test]
fn config_errors_are_all_reported_at_once_with_their_lines_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.toml");
    std::fs::write(&path, "[gateway]\naddr = \"nowhere\"\nthreads = -1\n\n[log]\ncolour = true\n[caches]\n").unwrap();
    let out =
        gatehouse(&["serve", "--config", path.to_str().unwrap()], &[("GATEHOUSE_IDENTITY_SECRET", IDENTITY_SECRET)])
            .output()
            .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in ["4 problem(s)", "line 2:", "line 3:", "line 6:", "colour", "line 7:", "caches"] {
        assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
    }
    let out = gatehouse(&["serve", "--config", path.to_str().unwrap()], &[("GATEHOUSE_GATEWAY_THREADS", "many")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("GATEHOUSE_GATEWAY_THREADS:"), "the variable is named");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_runs_from_its_config_over_tls_with_a_bootstrapped_token_json_logs_and_sighup_reload() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("ops CA");
    let (cert, key) = ca.leaf(&["localhost"], "gateway-v1").write(dir.path(), "server");
    let config = write_config(dir.path(), &cert, &key);

    // The first owner token: printed once, only its hash stored; a second bootstrap is refused.
    let out = gatehouse(&["admin", "bootstrap", "--config", config.to_str().unwrap()], &[]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("gha_"), "{token}");
    let again = gatehouse(&["admin", "bootstrap", "--config", config.to_str().unwrap()], &[]).output().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("already"));

    let serve = Serve::start(&config);
    let (gateway, admin) = (serve.gateway, serve.admin);
    for file in std::fs::read_dir(dir.path().join("store")).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap_or_default();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the token is on disk");
    }

    // Health checks need no token; the admin API needs the bootstrapped one.
    assert_eq!(call(&ca.pem, admin, "GET", "/healthz", &[], "").await.status, 200);
    let ready = call(&ca.pem, admin, "GET", "/readyz", &[], "").await;
    assert_eq!((ready.status, ready.json()["store"].clone()), (200, json!("ok")));
    assert_eq!(call(&ca.pem, admin, "GET", "/v1/apis", &[], "").await.status, 401);
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let listed = call(&ca.pem, admin, "GET", "/v1/apis", &auth, "").await;
    assert_eq!((listed.status, listed.json()["items"].clone()), (200, json!([])), "no demo data");
    // The bootstrapped token is the owner principal's, listed (never its secret) and audited;
    // a viewer it makes reads but cannot write, and the trail names the peer it came from.
    let tokens = call(&ca.pem, admin, "GET", "/v1/admin-tokens", &auth, "").await.json();
    assert_eq!((&tokens["items"][0]["name"], &tokens["items"][0]["role"]), (&json!("owner"), &json!("owner")));
    let viewer = json!({"name": "vic", "role": "viewer"}).to_string();
    let made = call(&ca.pem, admin, "POST", "/v1/admin-tokens", &auth, &viewer).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let viewer_bearer = format!("Bearer {}", made.json()["secret"].as_str().unwrap());
    let as_viewer = [("authorization", viewer_bearer.as_str()), ("content-type", "application/json")];
    assert_eq!(call(&ca.pem, admin, "POST", "/v1/products", &as_viewer, r#"{"name":"x"}"#).await.status, 403);
    let trail = call(&ca.pem, admin, "GET", "/v1/audit?action=admin_token.create", &as_viewer, "").await.json();
    let (made_by_owner, bootstrapped) = (&trail["items"][0], &trail["items"][1]);
    assert_eq!((&made_by_owner["actor"], &made_by_owner["from"]), (&json!("owner"), &json!("127.0.0.1")));
    assert_eq!(bootstrapped["actor"], "bootstrap");

    // An API whose upstream is a plain HTTP server here, called over TLS.
    let upstream = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/hello"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("hi"))
        .mount(&upstream)
        .await;
    let openapi = "openapi: 3.0.3\ninfo: { title: Hello, version: '1' }\nsecurity: []\npaths:\n  /hello:\n    get: { operationId: hello, responses: { '200': { description: ok } } }\n";
    let body = json!({"openapi": openapi, "base_path": "/h", "upstream": {"url": upstream.uri()}}).to_string();
    let api = call(&ca.pem, admin, "POST", "/v1/apis", &auth, &body).await;
    assert_eq!(api.status, 201, "{:?}", api.body);
    let api_id = api.json()["id"].as_str().unwrap().to_owned();
    let publish = json!({"action": "publish"}).to_string();
    assert!(call(&ca.pem, admin, "POST", &format!("/v1/apis/{api_id}/lifecycle"), &auth, &publish).await.status < 300);
    let hello = call(&ca.pem, gateway, "GET", "/h/hello", &[("x-request-id", "req-serve-1")], "").await;
    assert_eq!((hello.status, hello.version, &hello.body[..]), (200, http::Version::HTTP_2, &b"hi"[..]));
    // Credentials in the query or a header never reach the log.
    let keyed = call(
        &ca.pem,
        gateway,
        "GET",
        "/h/hello?api_key=gh_live_query_secret",
        &[("x-api-key", "gh_live_header_secret")],
        "",
    )
    .await;
    assert_eq!(keyed.status, 200);

    // SIGHUP under load: fresh TLS connections all the time, and one HTTP/2 connection opened
    // before the reload and used after it. No request may fail.
    let kept = tls_connect(&connector(&ca.pem, &[b"h2"], None), gateway, "localhost").await.unwrap();
    let io = hyper_util::rt::TokioIo::new(kept);
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await.unwrap();
    tokio::spawn(conn);
    let (stop, ok, failed) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed, pem) = (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&failed), ca.pem.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let tls = tls_connect(&connector(&pem, &[b"http/1.1"], None), gateway, "localhost").await;
                let answered = match tls {
                    Ok(tls) => send(tls, request("GET", "localhost", "/h/hello", &[], "")).await.ok(),
                    Err(_) => None,
                };
                let counter = if answered.is_some_and(|a| a.status == 200) { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // The load runs by counts, not by a fixed time, so that a slow machine still reloads under
    // it: 20 answers before the reload, and 20 more once new connections get the new certificate.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let answered_at_least = |n: usize| {
        let ok = Arc::clone(&ok);
        async move {
            while ok.load(Ordering::Relaxed) < n {
                assert!(
                    std::time::Instant::now() < deadline,
                    "only {} answered under load",
                    ok.load(Ordering::Relaxed)
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    answered_at_least(20).await;
    ca.leaf(&["localhost"], "gateway-v2").write(dir.path(), "server");
    serve.signal("HUP");
    let fresh = loop {
        let fresh = tls_connect(&connector(&ca.pem, &[b"h2"], None), gateway, "localhost").await.unwrap();
        let presented = fresh.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        if presented.windows(10).any(|w| w == b"gateway-v2") {
            break fresh;
        }
        assert!(std::time::Instant::now() < deadline, "new connections never got the new certificate");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    answered_at_least(ok.load(Ordering::Relaxed) + 20).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok >= 40 && failed == 0, "{ok} answered, {failed} failed during the reload");
    let after = sender.send_request(request("GET", "localhost", "/h/hello", &[], "")).await.unwrap();
    assert_eq!(after.status(), 200, "a connection opened before the reload still serves");
    drop((sender, fresh));

    let log = serve.stop();
    assert!(!log.contains(&token), "the admin token never appears in the log");
    assert!(!log.contains("gh_live_query_secret") && !log.contains("gh_live_header_secret"), "no key in the log");
    let lines: Vec<Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    let access =
        lines.iter().find(|l| l["target"] == "access" && l["request_id"] == "req-serve-1").expect("an access line");
    assert_eq!(access["status"], 200);
    assert_eq!(access["api"], api_id.as_str());
    assert_eq!(access["operation"], "hello");
    assert_eq!(access["outcome"], "public");
    assert_eq!(access["client"], "127.0.0.1", "the client's address, through trusted proxies");
    for field in ["timestamp", "latency_us", "bytes_out", "cache", "app"] {
        assert!(access.get(field).is_some(), "{field} in {access}");
    }
    assert!(lines.iter().any(|l| l["message"] == "TLS certificate reloaded"));
}
