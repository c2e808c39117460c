//! What validation at the gateway costs a request: a 2 KB JSON body (an order of 26 items,
//! each a `$ref`d component with a pattern, an enum, bounds and a nullable note) checked with
//! its path, query and header parameters, as the pipeline checks it. Goal: ≤ 20 µs natively.
//!
//! - `validation/check_request_2kb`: the whole check, parsing the body included;
//! - `validation/schema_only_2kb`: the body's compiled validator on the parsed value;
//! - `validation/peer_serde_parse_2kb`: the peer, `serde_json` parsing the same bytes into a
//!   `Value` (what any JSON-aware gateway pays before it can look at a body).
//!
//! After criterion, `cargo bench` prints the median of timed batches of each in the same run
//! and the ratio of the check to the parse. Figures: bench/README.md.
// A bench measures wall time on the host; the core's ban on reading the clock is for the
// gateway's code, which this is not.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use gatehouse_core::model::Api;
use gatehouse_core::validation::{prepare, OperationValidator, SentBody};
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

/// The native binary's allocator (native/src/main.rs): parsing a body makes a few hundred
/// small allocations, and the figure should be the gateway's, not the system allocator's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn api() -> Api {
    let doc = json!({
        "openapi": "3.0.3", "info": {"title": "Bench", "version": "1"},
        "paths": {"/orders/{id}": {"put": {
            "operationId": "putOrder",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
                {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}},
                {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[a-f0-9]{8}$"}}
            ],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"schemas": {
            "Order": {"type": "object", "required": ["customer", "items"], "additionalProperties": false, "properties": {
                "customer": {"type": "string", "minLength": 1, "maxLength": 64},
                "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
                "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/Item"}},
                "note": {"type": "string", "nullable": true}
            }},
            "Item": {"type": "object", "required": ["sku", "price", "quantity"], "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                "price": {"type": "number", "minimum": 0},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                "gift": {"type": "boolean"},
                "note": {"type": "string", "nullable": true, "maxLength": 200}
            }}
        }}
    });
    let mut api: Api = serde_json::from_value(json!({
        "id": "api_bench", "name": "bench", "version": "1", "base_path": "/b",
        "upstream": {"url": "http://127.0.0.1:1"}, "lifecycle": {"state": "published", "published_at": "2026-01-01T00:00:00Z"},
        "operations": [{"id": "putOrder", "method": "PUT", "path": "/orders/{id}"}],
        "openapi": doc, "validation": {"requests": true},
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    }))
    .expect("api");
    prepare(&mut api).expect("prepared");
    api
}

/// An order of 26 items: 2 KB of JSON, valid.
fn body() -> Vec<u8> {
    let items: Vec<Value> = (0..26)
        .map(|i| {
            json!({"sku": format!("ABC-{:04}", 1000 + i), "price": 12.5 + f64::from(i), "quantity": i + 1,
                         "gift": i % 2 == 0, "note": if i % 3 == 0 { Value::Null } else { json!("leave at door") }})
        })
        .collect();
    let order = json!({"customer": "cus_0123456789", "currency": "EUR", "items": items, "note": "deliver before noon"});
    serde_json::to_vec(&order).expect("json")
}

struct Case {
    validator: std::sync::Arc<OperationValidator>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Case {
    fn new() -> Case {
        let api = api();
        let validator = api.operations[0].validator.clone().expect("validator");
        validator.compiled();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("x-trace", HeaderValue::from_static("0123abcd"));
        Case { validator, headers, body: body() }
    }

    fn check(&self) -> usize {
        let sent = SentBody::Bytes(&self.body);
        self.validator.check_request("/orders/{id}", "/orders/42", Some("dry_run=false"), &self.headers, sent).len()
    }
}

fn bench(c: &mut Criterion) {
    let case = Case::new();
    assert!((1900..=2300).contains(&case.body.len()), "a 2 KB body: {}", case.body.len());
    assert_eq!(case.check(), 0, "the bench body is valid");
    let parsed: Value = serde_json::from_slice(&case.body).expect("json");
    let schema = case.validator.compiled().body[0].as_ref().expect("body validator");
    c.bench_function("validation/check_request_2kb", |b| b.iter(|| black_box(&case).check()));
    c.bench_function("validation/schema_only_2kb", |b| b.iter(|| schema.is_valid(black_box(&parsed))));
    c.bench_function("validation/peer_serde_parse_2kb", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&case.body)).map(|v| v.is_object()))
    });
}

/// Median (wall, on-CPU) nanoseconds per call over timed batches: a direct ratio in the same
/// run. On-CPU time is the thread's own (Linux `schedstat`), which other processes on a
/// shared machine do not inflate the way they inflate wall time; 0 where it cannot be read.
fn median_ns(mut f: impl FnMut()) -> (f64, f64) {
    const BATCH: u32 = 2_000;
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..15 {
        let (started, on_cpu) = (Instant::now(), thread_cpu_ns());
        for _ in 0..BATCH {
            f();
        }
        wall.push(started.elapsed().as_nanos() as f64 / f64::from(BATCH));
        cpu.push(thread_cpu_ns().saturating_sub(on_cpu) as f64 / f64::from(BATCH));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(wall), median(cpu))
}

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`'s first field).
fn thread_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn print_ratio() {
    let case = Case::new();
    let check = median_ns(|| {
        black_box(black_box(&case).check());
    });
    let parse = median_ns(|| {
        black_box(serde_json::from_slice::<Value>(black_box(&case.body)).is_ok());
    });
    // The machine's load, printed beside the figures: on a shared VM it moves them more
    // than anything measured here.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("load average {load} on {cores} cores; a {} B JSON body with its parameters:", case.body.len());
    for (what, (checked, parsed)) in [("wall", (check.0, parse.0)), ("on-CPU", (check.1, parse.1))] {
        println!(
            "  {what:>6}: validated in {:.2} µs (goal ≤ 20 µs); serde_json parsing it: {:.2} µs; ratio {:.2}",
            checked / 1e3,
            parsed / 1e3,
            checked / parsed
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratio();
}
