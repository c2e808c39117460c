//! The copyable snippets work as printed: each one (curl under `sh`, JavaScript under Node,
//! Python with requests) is run as a process against a recording HTTP server on 127.0.0.1,
//! and the server must see the method, path, query, key header, header parameter and body
//! the reference documents, quoting tricks in the example body included.

use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;
use gatehouse_admin::portal::reference::{Reference, KEY_VARIABLE};
use serde_json::{json, Value};

const KEY: &str = "gh_test_k3y";

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn record(State(log): State<Log>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> &'static str {
    log.lock().expect("log").push(Seen { method, uri, headers, body });
    "{\"ok\": true}"
}

/// A recording server on a free port; returns its base URL and what it saw.
async fn server() -> (String, Log) {
    let log: Log = Arc::default();
    let app = Router::new().fallback(record).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), log)
}

fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Snippets", "version": "1"},
        "security": [{"key": []}],
        "paths": {"/pets/{petId}": {"post": {
            "operationId": "addNote",
            "parameters": [
                {"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}, "example": "rex 1"},
                {"name": "mode", "in": "query", "schema": {"type": "string"}, "example": "a&b"},
                {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "example": ["x", "y z"]},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}, "example": "t-1"}
            ],
            "requestBody": {"content": {"application/json": {"example":
                {"note": "it's \"quoted\" $HOME `x`", "n": 1, "ok": true, "none": null}}}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Pet-Key"}}}
    })
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).env(KEY_VARIABLE, KEY).output().expect(program);
    assert!(
        output.status.success(),
        "{program} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_documented_call(seen: &Seen, language: &str) {
    assert_eq!(seen.method, Method::POST, "{language}");
    assert_eq!(seen.uri.path(), "/base/pets/rex%201", "{language}");
    let query = seen.uri.query().unwrap_or("").replace("%20", "+");
    assert_eq!(query, "mode=a%26b&tag=x&tag=y+z", "{language}: an array repeats its name");
    assert_eq!(seen.headers.get("x-pet-key").and_then(|v| v.to_str().ok()), Some(KEY), "{language}");
    assert_eq!(seen.headers.get("x-trace").and_then(|v| v.to_str().ok()), Some("t-1"), "{language}");
    let content_type = seen.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "{language}: {content_type}");
    let body: Value = serde_json::from_slice(&seen.body).expect("JSON body");
    assert_eq!(body, json!({"note": "it's \"quoted\" $HOME `x`", "n": 1, "ok": true, "none": null}), "{language}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_javascript_and_python_snippets_make_the_documented_call() {
    let (base, log) = server().await;
    let reference = Reference::build(&document(), Some(&base), "/base");
    let snippets = reference.groups[0].operations[0].snippets.clone();
    let javascript = snippets.javascript.replace("YOUR_API_KEY", KEY);
    tokio::task::spawn_blocking(move || {
        run("sh", &["-c", &snippets.curl]);
        run("node", &["--input-type=module", "-e", &javascript]);
        run("python3", &["-c", &snippets.python]);
    })
    .await
    .expect("snippets ran");
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.len(), 3, "one call per snippet");
    for (call, language) in seen.iter().zip(["curl", "javascript", "python"]) {
        assert_documented_call(call, language);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_the_query_or_as_a_bearer_token_reaches_the_server_from_every_snippet() {
    let (base, log) = server().await;
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "Keys", "version": "1"},
        "paths": {
            "/q": {"get": {"security": [{"query": []}], "responses": {"200": {"description": "ok"}}}},
            "/b": {"delete": {"security": [{"bearer": []}], "responses": {"204": {"description": "gone"}}}}
        },
        "components": {"securitySchemes": {
            "query": {"type": "apiKey", "in": "query", "name": "api_key"},
            "bearer": {"type": "http", "scheme": "bearer"}
        }}
    });
    let reference = Reference::build(&document, Some(&base), "/base");
    let operations: Vec<_> = reference.groups[0].operations.iter().map(|op| op.snippets.clone()).collect();
    tokio::task::spawn_blocking(move || {
        for snippets in operations {
            run("sh", &["-c", &snippets.curl]);
            run("node", &["--input-type=module", "-e", &snippets.javascript.replace("YOUR_API_KEY", KEY)]);
            run("python3", &["-c", &snippets.python]);
        }
    })
    .await
    .expect("snippets ran");
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.len(), 6, "one call per snippet");
    for call in &seen[..3] {
        assert_eq!((call.method.as_str(), call.uri.path()), ("GET", "/base/q"));
        assert_eq!(call.uri.query(), Some(format!("api_key={KEY}").as_str()));
    }
    for call in &seen[3..] {
        assert_eq!((call.method.as_str(), call.uri.path()), ("DELETE", "/base/b"));
        let authorization = call.headers.get("authorization").and_then(|v| v.to_str().ok());
        assert_eq!(authorization, Some(format!("Bearer {KEY}").as_str()));
    }
}
