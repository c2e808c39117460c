//! Holds the importer and the router to a corpus of real API descriptions
//! (`scripts/openapi-corpus.sh` installs one and runs this).
//!
//! Each description is sent as `POST /v1/apis` to the real admin router (in process, over
//! `MemoryRepo`): it must come back 201 or a 422 problem whose errors name where the problem
//! is — never a 5xx or a panic. For every imported API, a request for each operation's own
//! path (`routing::probe`, variables filled, discriminators set) goes through the same
//! `RouteTable::resolve_with` the gateway calls, and must reach that operation.
//!
//! Usage: `openapi_corpus DIR[:STEP]...` — every STEP-th description of each DIR (sorted,
//! recursive; `.json`, `.yaml`, `.yml`), default 1. Exits non-zero on a 5xx, a panic, a refusal
//! that names nothing, an operation its own path does not reach, or under 99 % imported in all;
//! prints the counts per version (Swagger 2.0, OpenAPI 3.0, 3.1) either way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use gatehouse_admin::{router, AdminSettings, AdminState, RecordingPublisher};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::Api;
use gatehouse_core::routing::probe::Probe;
use gatehouse_core::routing::{Extras, RouteTable};
use gatehouse_core::store::MemoryRepo;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "corpus-admin-token";

/// One version's descriptions: seen, imported, refused.
#[derive(Default)]
struct Family {
    seen: usize,
    imported: usize,
    refused: usize,
}

#[derive(Default)]
struct Counts {
    seen: usize,
    /// By version as the description states it (`2.0`, `3.0`, `3.1`, `other`).
    families: BTreeMap<&'static str, Family>,
    imported: usize,
    refused: usize,
    failures: Vec<String>,
    operations: usize,
    reached: usize,
    /// First words of each refusal's first problem → how many.
    reasons: BTreeMap<String, usize>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: openapi_corpus DIR[:STEP]...");
        std::process::exit(2);
    }
    let mut sample: Vec<PathBuf> = Vec::new();
    for arg in &dirs {
        let (dir, step) = match arg.rsplit_once(':') {
            Some((dir, step)) if step.parse::<usize>().is_ok() => (dir, step.parse().unwrap_or(1)),
            _ => (arg.as_str(), 1),
        };
        let mut files = Vec::new();
        collect(Path::new(dir), &mut files);
        files.sort();
        sample.extend(files.into_iter().step_by(step.max(1)));
    }
    let state = AdminState::new(
        Arc::new(MemoryRepo::new()),
        Arc::new(RecordingPublisher::default()),
        vec![hash_secret(TOKEN)],
        AdminSettings::default(),
        Arc::new(|| 1_750_000_000_000),
    );
    let app = router(state);
    let mut counts = Counts::default();
    for (n, path) in sample.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        counts.seen += 1;
        let family = version_of(&text);
        counts.families.entry(family).or_default().seen += 1;
        let (imported, refused) = (counts.imported, counts.refused);
        one(&app, n, path, text, &mut counts).await;
        let entry = counts.families.entry(family).or_default();
        entry.imported += counts.imported - imported;
        entry.refused += counts.refused - refused;
    }
    report(&counts);
    let share = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
    for (version, family) in &counts.families {
        if share(family.imported, family.seen) < 0.99 {
            println!(
                "goal missed for {}: {:.1} % imported (goal: 99 %)",
                name_of(version),
                share(family.imported, family.seen) * 100.0
            );
        }
    }
    let imported_share = share(counts.imported, counts.seen);
    if imported_share < 0.99 {
        println!("goal missed: {:.1} % imported in all (goal: 99 %)", imported_share * 100.0);
    }
    if !counts.failures.is_empty() || counts.reached != counts.operations || counts.seen == 0 || imported_share < 0.99 {
        std::process::exit(1);
    }
}

/// The version a description states: `2.0` for Swagger 2.0, `3.0` or `3.1`, else `other`.
fn version_of(text: &str) -> &'static str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let stated = if text.trim_start().starts_with('{') {
        let doc = serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
        let version = doc.get("swagger").or_else(|| doc.get("openapi"));
        version.and_then(Value::as_str).unwrap_or_default().to_owned()
    } else {
        let line = text.lines().find(|l| l.starts_with("swagger:") || l.starts_with("openapi:")).unwrap_or_default();
        line.split_once(':').map_or("", |(_, v)| v).trim().trim_matches(['"', '\'']).to_owned()
    };
    match stated.get(..3) {
        Some("2.0") => "2.0",
        Some("3.0") => "3.0",
        Some("3.1") => "3.1",
        _ => "other",
    }
}

fn name_of(version: &str) -> &'static str {
    match version {
        "2.0" => "Swagger 2.0",
        "3.0" => "OpenAPI 3.0",
        "3.1" => "OpenAPI 3.1",
        _ => "other versions",
    }
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, into);
        } else if path.extension().is_some_and(|e| e == "json" || e == "yaml" || e == "yml") {
            into.push(path);
        }
    }
}

/// Imports one description and routes its operations.
async fn one(app: &axum::Router, n: usize, path: &Path, text: String, counts: &mut Counts) {
    let name = path.display().to_string();
    let body = json!({ "openapi": text, "base_path": format!("/c{n}"), "upstream": { "url": "http://127.0.0.1:9" } });
    let request = Request::post("/v1/apis")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    let response = match tokio::spawn(app.clone().oneshot(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return counts.failures.push(format!("{name}: the router failed: {e}")),
        Err(panic) => return counts.failures.push(format!("{name}: panicked: {panic}")),
    };
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let reply: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    match status {
        201 => {
            counts.imported += 1;
            route_every_operation(&name, reply, counts);
        }
        413 | 422 => {
            counts.refused += 1;
            let first = &reply["errors"][0];
            let (pointer, message) = (first["pointer"].as_str(), first["message"].as_str());
            let detail = reply["detail"].as_str();
            match (pointer, message, detail) {
                (Some(_), Some(message), _) | (_, _, Some(message)) => {
                    let reason: String = message.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
                    *counts.reasons.entry(reason).or_default() += 1;
                    println!("refused {name}: {} {}", pointer.unwrap_or(""), message);
                }
                _ => counts.failures.push(format!("{name}: {status} names no problem: {reply}")),
            }
        }
        other => counts.failures.push(format!("{name}: answered {other}: {reply}")),
    }
}

fn route_every_operation(name: &str, reply: Value, counts: &mut Counts) {
    let Ok(mut api) = serde_json::from_value::<Api>(reply) else {
        return counts.failures.push(format!("{name}: 201 without an API record"));
    };
    api.lifecycle = Lifecycle::Published { published_at: 0 };
    let table = RouteTable::new([api.clone()]);
    for (i, operation) in api.operations.iter().enumerate() {
        counts.operations += 1;
        let Some(probe) = Probe::of(operation) else {
            counts.failures.push(format!("{name}: {} has no request", operation.id));
            continue;
        };
        let path = format!("{}{}", api.base_path, probe.path);
        let extras = Extras { query: probe.query.as_deref(), headers: Some(&probe.headers) };
        match table.resolve_with("corpus", &probe.method, &path, extras) {
            Ok(route) if route.operation_index == i => counts.reached += 1,
            Ok(route) => counts.failures.push(format!(
                "{name}: {} {path} for {:?} reached {:?}",
                probe.method, operation.id, route.operation.id
            )),
            Err(why) => {
                counts.failures.push(format!("{name}: {} {path} for {:?}: {why:?}", probe.method, operation.id))
            }
        }
    }
}

fn report(c: &Counts) {
    println!();
    for failure in c.failures.iter().take(40) {
        println!("FAIL {failure}");
    }
    println!("refusals by reason:");
    let mut reasons: Vec<_> = c.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (reason, count) in reasons.iter().take(15) {
        println!("  {count:5}  {reason}");
    }
    let share = |part: usize, whole: usize| part as f64 * 100.0 / whole.max(1) as f64;
    for (version, f) in &c.families {
        println!(
            "{}: {} descriptions, {} imported ({:.1} %), {} refused with a named problem",
            name_of(version),
            f.seen,
            f.imported,
            share(f.imported, f.seen),
            f.refused
        );
    }
    println!(
        "corpus: {} descriptions, {} imported ({:.1} %), {} refused with a named problem, {} failures (5xx, panics, unnamed refusals, unreachable operations)",
        c.seen,
        c.imported,
        share(c.imported, c.seen),
        c.refused,
        c.failures.len()
    );
    println!(
        "operations: {} of {} reached by a request for their own path ({:.2} %)",
        c.reached,
        c.operations,
        share(c.reached, c.operations)
    );
}
