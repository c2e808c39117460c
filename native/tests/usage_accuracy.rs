//! Usage counts equal what the upstream served: 100,000 requests through the real gateway
//! from 64 keep-alive clients, with a restart of the gateway in the middle, then the same
//! usage delivered as signed edge batches (`POST /v1/usage/batches`) to a second control
//! plane, one batch in ten delivered twice (half of those at the same moment as the first
//! delivery). `/v1/usage` on both must match the upstream's own count within 0.1 % (and in
//! fact exactly): nothing lost at the restart, nothing counted twice.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use gatehouse_admin::{router, AdminSettings, AdminState, RecordingPublisher};
use gatehouse_core::signing::{sign, SIGNATURE_HEADER};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues, UsageBatch};
use gatehouse_native::store::SqliteRepo;
use serde_json::{json, Value};
use support::{onboard, Harness};

const REQUESTS: u64 = 100_000;
const CLIENTS: u64 = 64;
const KEYS: usize = 50;
const SECRET: &[u8] = b"edge-ingest-secret-for-the-test";

/// An upstream that counts every request it answers.
async fn counting_upstream() -> (SocketAddr, Arc<AtomicU64>) {
    let served = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&served);
    let app = axum::Router::new().fallback(move || {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, SeqCst);
            "{}"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, served)
}

/// `n` requests from [`CLIENTS`] concurrent clients over the harness' keep-alive pool, keys
/// taken in turn; returns how many got a 200.
async fn drive(h: &Harness, keys: &Arc<Vec<String>>, n: u64) -> u64 {
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (http, keys, next, ok) = (h.http.clone(), Arc::clone(keys), Arc::clone(&next), Arc::clone(&ok));
        let url = format!("http://{}/acc/items/1", h.app.gateway_addr);
        clients.spawn(async move {
            loop {
                let i = next.fetch_add(1, SeqCst);
                if i >= n {
                    return;
                }
                let key = &keys[i as usize % keys.len()];
                let request = http::Request::get(&url).header("x-api-key", key).body(Default::default()).unwrap();
                let response = http.request(request).await.unwrap();
                let status = response.status();
                http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
                if status == 200 {
                    ok.fetch_add(1, SeqCst);
                }
            }
        });
    }
    while clients.join_next().await.is_some() {}
    ok.load(SeqCst)
}

async fn total(h: &Harness, admin: SocketAddr, query: &str) -> u64 {
    let url = format!("http://{admin}/v1/usage?group_by=total&{query}");
    let auth = format!("Bearer {}", h.app.admin_token);
    let reply = h.send("GET", &url, &[("authorization", &auth)], Bytes::new()).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["items"].as_array().unwrap().iter().map(|r| r["requests"].as_u64().unwrap()).sum()
}

/// Each key's minutes as the gateway stored them, as rollups an edge would send.
async fn rollups(h: &Harness, api_id: &str, keys: &[(String, String)]) -> Vec<Rollup> {
    let mut out = Vec::new();
    for (app_id, key_id) in keys {
        let reply = h.admin("GET", &format!("/v1/usage?group_by=minute&key_id={key_id}"), None).await;
        for row in reply.json()["items"].as_array().unwrap() {
            let minute = chrono_ms(row["bucket"].as_str().unwrap());
            let mut values = RollupValues { requests: row["requests"].as_u64().unwrap(), ..Default::default() };
            for (i, class) in row["status_classes"].as_array().unwrap().iter().enumerate() {
                values.status_classes[i] = class.as_u64().unwrap();
            }
            for (outcome, count) in row["outcomes"].as_object().unwrap() {
                values.outcomes.insert(outcome.clone(), count.as_u64().unwrap());
            }
            let key = RollupKey {
                minute,
                api_id: api_id.into(),
                operation_id: "getItem".into(),
                key_id: key_id.clone(),
                app_id: app_id.clone(),
                developer_id: "dev_edge".into(),
            };
            out.push(Rollup { key, values });
        }
    }
    out
}

/// RFC 3339 (as the admin API writes times) to Unix ms.
fn chrono_ms(text: &str) -> i64 {
    let value: Value = json!({ "t": text });
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(with = "gatehouse_core::time::serde_rfc3339")]
        t: i64,
    }
    serde_json::from_value::<T>(value).unwrap().t
}

/// A control plane with usage ingest on, over a fresh SQLite file, served on 127.0.0.1.
async fn ingesting_control_plane(dir: &std::path::Path, admin_hash: gatehouse_core::keys::KeyHash) -> SocketAddr {
    let repo = Arc::new(SqliteRepo::open(dir.join("control.db")).unwrap());
    let state = AdminState::new(
        repo,
        Arc::new(RecordingPublisher::default()),
        vec![admin_hash],
        AdminSettings::default(),
        Arc::new(gatehouse_native::adapters::clock::now_millis),
    )
    .with_ingest_secret(SECRET.to_vec());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _keep = _stop;
        gatehouse_native::admin_server::serve(
            listener,
            router(state),
            1 << 20,
            std::time::Duration::from_secs(30),
            stop,
        )
        .await;
    });
    addr
}

async fn deliver(h: &Harness, addr: SocketAddr, batch: &UsageBatch) -> u16 {
    let body = serde_json::to_vec(batch).unwrap();
    let signature = sign(SECRET, &body, gatehouse_native::adapters::clock::now_millis());
    let url = format!("http://{addr}/v1/usage/batches");
    let headers = [(SIGNATURE_HEADER, signature.as_str()), ("content-type", "application/json")];
    h.send("POST", &url, &headers, Bytes::from(body)).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_counts_equal_the_upstreams_count_across_a_restart_and_duplicate_batches() {
    let (upstream, served) = counting_upstream().await;
    let h = Harness::start(false).await;
    let doc = "openapi: 3.0.3\ninfo: {title: Acc, version: '1'}\nsecurity: [{key: []}]\npaths:\n  /items/{id}:\n    get: {operationId: getItem, responses: {'200': {description: ok}}}\ncomponents:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-API-Key}\n";
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": doc, "base_path": "/acc", "upstream": {"url": format!("http://{upstream}")}}),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let mut keys = Vec::new();
    let mut secrets = Vec::new();
    for i in 0..KEYS {
        let (app_id, key_id, secret) = onboard(&h, &api_id, &format!("d{i}@example.com"), json!([])).await;
        keys.push((app_id, key_id));
        secrets.push(secret);
    }
    let secrets = Arc::new(secrets);

    let began = Instant::now();
    let first = drive(&h, &secrets, REQUESTS / 2).await;
    let h = h.restart().await;
    let second = drive(&h, &secrets, REQUESTS - REQUESTS / 2).await;
    let took = began.elapsed();
    h.app.flush_usage().await;
    let served = served.load(SeqCst);
    let native = total(&h, h.app.admin_addr, &format!("api_id={api_id}")).await;
    eprintln!(
        "{REQUESTS} requests from {CLIENTS} keep-alive clients in {:.1} s ({:.0} req/s), restart after {}: \
         clients got {} × 200, the upstream served {served}, /v1/usage counts {native}",
        took.as_secs_f64(),
        REQUESTS as f64 / took.as_secs_f64(),
        REQUESTS / 2,
        first + second
    );
    assert_eq!(first + second, REQUESTS, "every request was answered 200");
    assert!(native.abs_diff(served) * 1_000 <= served, "within 0.1 %");
    assert_eq!(native, served, "and in fact exactly");

    // The same usage as an edge would deliver it: one key-minute per batch, every tenth batch
    // delivered twice (every twentieth at the same moment as its first delivery).
    let rollups = rollups(&h, &api_id, &keys).await;
    let dir = tempfile::tempdir().unwrap();
    let admin_hash = gatehouse_core::keys::hash_secret(&h.app.admin_token);
    let control = ingesting_control_plane(dir.path(), admin_hash).await;
    let batches: Vec<UsageBatch> = rollups
        .into_iter()
        .enumerate()
        .map(|(i, r)| UsageBatch {
            batch_id: format!("bat_edge_{i:05}"),
            source: "test-edge".into(),
            sent_at: gatehouse_native::adapters::clock::now_millis(),
            rollups: vec![r],
        })
        .collect();
    let (mut applied, mut duplicates) = (0, 0);
    for (i, batch) in batches.iter().enumerate() {
        let statuses = match i % 20 {
            0 => {
                let (a, b) = tokio::join!(deliver(&h, control, batch), deliver(&h, control, batch));
                vec![a, b]
            }
            10 => vec![deliver(&h, control, batch).await, deliver(&h, control, batch).await],
            _ => vec![deliver(&h, control, batch).await],
        };
        let mut sorted = statuses.clone();
        sorted.sort();
        match sorted.as_slice() {
            [202] => applied += 1,
            [200, 202] => (applied, duplicates) = (applied + 1, duplicates + 1),
            other => panic!("batch {i}: {other:?}"),
        }
    }
    let ingested = total(&h, control, &format!("api_id={api_id}")).await;
    eprintln!(
        "edge path: {} batches, {duplicates} delivered twice ({:.1} %), {applied} applied; /v1/usage counts {ingested} \
         against the upstream's {served}",
        batches.len(),
        duplicates as f64 * 100.0 / batches.len() as f64
    );
    assert!(duplicates * 10 >= batches.len() - 10, "about one batch in ten is a duplicate");
    assert!(ingested.abs_diff(served) * 1_000 <= served, "within 0.1 %");
    assert_eq!(ingested, served, "and in fact exactly");
    h.app.shutdown().await;
}
