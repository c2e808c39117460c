//! The developer portal's pages with 1,000 APIs in the catalog, on the native binary's SQLite
//! store: the server time of the catalog page (goal ≤ 50 ms) and of an API's page with the
//! static reference of a 100 KB description (goal ≤ 100 ms), and what a browser downloads
//! for the catalog page, HTML + CSS + JS gzipped (goal ≤ 60 KB).
//!
//! `cargo bench -p gatehouse --bench portal` (BENCH_APIS, BENCH_SAMPLES to change the sizes).
//! Each API is imported through the admin API (so its catalog card is written as in real
//! use) and published; the figures are wall time through the router, in-process.

#[path = "admin_writes/document.rs"]
mod document;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use gatehouse_admin::{router, AdminSettings, AdminState, PortalSettings, RecordingPublisher};
use gatehouse_core::keys::hash_secret;
use gatehouse_native::store::sqlite::SqliteRepo;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "bench-admin-token";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn send(app: &axum::Router, method: &str, path: &str, body: Option<Value>) -> (u16, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(path).header("accept", "text/html");
    if let Some(body) = &body {
        request = request.header("authorization", format!("Bearer {TOKEN}")).header("content-type", "application/json");
        let _ = body;
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app.clone().oneshot(request.body(body).expect("request")).await.expect("infallible");
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory").len()
}

fn percentiles(mut took: Vec<Duration>) -> (f64, f64) {
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).saturating_sub(1).min(took.len() - 1)];
    (at(0.5).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3)
}

async fn time(app: &axum::Router, path: &str, samples: usize) -> (f64, f64, Vec<u8>) {
    let (status, page) = send(app, "GET", path, None).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&page));
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        std::hint::black_box(send(app, "GET", path, None).await);
        took.push(start.elapsed());
    }
    let (p50, p99) = percentiles(took);
    (p50, p99, page)
}

/// The `href`/`src` of every stylesheet and script the page loads from this site.
fn assets_of(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["<link rel=\"stylesheet\" href=\"", "<script src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            found.push(rest[..rest.find('"').expect("quote")].to_owned());
        }
    }
    found
}

async fn weight(app: &axum::Router, html: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(html);
    let mut assets = 0;
    for url in assets_of(&text) {
        let (status, bytes) = send(app, "GET", &url, None).await;
        assert_eq!(status, 200, "{url}");
        assets += gzip_len(&bytes);
    }
    (gzip_len(html), assets)
}

fn main() {
    let apis = env_or("BENCH_APIS", 1000);
    let samples = env_or("BENCH_SAMPLES", 100);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Arc::new(SqliteRepo::open(dir.path().join("portal.db")).expect("store"));
        let state = AdminState::new(
            repo,
            Arc::new(RecordingPublisher::default()),
            vec![hash_secret(TOKEN)],
            AdminSettings { max_body_bytes: 4 * 1024 * 1024, ..AdminSettings::default() },
            Arc::new(|| 1_796_545_800_000),
        )
        .with_portal(PortalSettings { gateway_url: Some("https://api.example.com".into()), ..PortalSettings::default() });
        let app = router(state);
        let started = Instant::now();
        let mut first = String::new();
        for n in 0..apis {
            let body = json!({"openapi": document::openapi(n), "base_path": format!("/api{n}"), "upstream": {"url": "http://127.0.0.1:9"}});
            let (status, created) = send(&app, "POST", "/v1/apis", Some(body)).await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&created));
            let id = serde_json::from_slice::<Value>(&created).expect("JSON")["id"].as_str().expect("id").to_owned();
            let (status, _) = send(&app, "POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await;
            assert_eq!(status, 200);
            if n == 0 {
                first = id;
            }
        }
        eprintln!("imported and published {apis} APIs in {:.1} s", started.elapsed().as_secs_f64());
        let document_kb = document::openapi(0).to_string().len() as f64 / 1024.0;

        let (catalog_p50, catalog_p99, catalog) = time(&app, "/", samples).await;
        let (search_p50, search_p99, _) = time(&app, "/?q=resource", samples).await;
        let (api_p50, api_p99, api_page) = time(&app, &format!("/apis/{first}"), samples).await;
        let (catalog_html, catalog_assets) = weight(&app, &catalog).await;
        let (api_html, api_assets) = weight(&app, &api_page).await;
        println!("{apis} APIs in the catalog, each description {document_kb:.0} KB; {samples} samples; server time in ms (wall, in-process)\n");
        println!("| page | p50 ms | p99 ms | goal | HTML gzipped | CSS + JS gzipped | total gzipped |");
        println!("|------|-------:|-------:|------|-------------:|-----------------:|--------------:|");
        let kb = |b: usize| format!("{:.1} KB", b as f64 / 1024.0);
        println!("| catalog `/` | {catalog_p50:.2} | {catalog_p99:.2} | ≤ 50 ms, ≤ 60 KB | {} | {} | {} |", kb(catalog_html), kb(catalog_assets), kb(catalog_html + catalog_assets));
        println!("| search `/?q=resource` | {search_p50:.2} | {search_p99:.2} | ≤ 50 ms | | | |");
        println!("| API page `/apis/{{id}}` | {api_p50:.2} | {api_p99:.2} | ≤ 100 ms | {} | {} | {} |", kb(api_html), kb(api_assets), kb(api_html + api_assets));
    });
}
