//! The sensitive-data filter (`gatehouse_core::sensitivity::filter`) against a plain
//! `serde_json` parse into a `Value` and serialise of the same body: the goal is at most 2×.
//!
//! The body is the worst case for the filter: a list of customers where every object is on an
//! annotated path (each has an `email` of class `pii`, a `card` masked `last4`, and
//! `referrals` that recurse through `$ref`), for a caller who holds neither class, so every
//! object is opened and rewritten. Bodies of about 10 KB and 1 MB. After criterion's figures
//! the bench prints the ratio of the medians.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion};
use gatehouse_core::openapi;
use gatehouse_core::sensitivity::decide::{response_plan, ResponsePlan};
use gatehouse_core::sensitivity::{filter, OperationSensitivity};
use serde_json::{json, Value};

const DOCUMENT: &str = r##"
openapi: 3.1.0
info: { title: CRM, version: "1" }
paths:
  /customers:
    get:
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { type: object, properties: { items: { type: array, items: { $ref: "#/components/schemas/Customer" } } } } } }
components:
  schemas:
    Customer:
      type: object
      properties:
        id: { type: string }
        name: { type: string }
        email: { type: string, x-gatehouse-sensitivity: pii }
        card: { type: string, x-gatehouse-sensitivity: { class: financial, mask: last4 } }
        referrals: { type: array, items: { $ref: "#/components/schemas/Customer" } }
"##;

fn spec() -> OperationSensitivity {
    let imported = openapi::import(DOCUMENT).expect("imports");
    imported.operations[0].sensitivity.as_deref().cloned().expect("sensitive")
}

/// A body of about `bytes` bytes.
fn body(bytes: usize) -> Vec<u8> {
    let customer = |i: usize| {
        json!({"id": format!("cus_{i}"), "name": "Ann Example", "email": format!("ann{i}@example.com"),
               "card": "4111111111111111", "since": "2024-01-01T00:00:00Z", "score": 0.75, "tags": ["gold", "eu"],
               "referrals": [{"id": "cus_r", "name": "Bob", "email": "bob@example.com", "score": 1}]})
    };
    let one = customer(0).to_string().len() + 1;
    let items: Vec<Value> = (0..bytes.div_ceil(one)).map(customer).collect();
    serde_json::to_vec(&json!({ "items": items, "next": null })).expect("json")
}

fn plain(body: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(body).expect("json");
    serde_json::to_vec(&value).expect("json")
}

fn filtered(spec: &OperationSensitivity, body: &[u8]) -> Vec<u8> {
    let ResponsePlan::Filter { filter: f, lacking } = response_plan(spec, 200, Some("application/json"), |_| false)
    else {
        panic!("a caller without grants filters")
    };
    filter(f, lacking, body).expect("filters").body
}

fn bench(c: &mut Criterion) {
    let spec = spec();
    let mut group = c.benchmark_group("sensitivity");
    for (label, size) in [("10KB", 10 * 1024), ("1MB", 1024 * 1024)] {
        let body = body(size);
        group.bench_with_input(BenchmarkId::new("serde_parse_serialise", label), &body, |b, body| {
            b.iter(|| plain(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("filter", label), &body, |b, body| {
            b.iter(|| filtered(&spec, black_box(body)))
        });
    }
    group.finish();
}

/// Median of `runs` timings of `f`, each over enough iterations to last about 20 ms.
fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    let start = Instant::now();
    let mut per_batch = 0u32;
    while start.elapsed() < Duration::from_millis(20) {
        f();
        per_batch += 1;
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            (0..per_batch).for_each(|_| f());
            t.elapsed() / per_batch
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ratios() {
    let spec = spec();
    for (label, size) in [("10KB", 10 * 1024), ("1MB", 1024 * 1024)] {
        let body = body(size);
        let base = median(|| drop(black_box(plain(black_box(&body)))), 21);
        let ours = median(|| drop(black_box(filtered(&spec, black_box(&body)))), 21);
        let ratio = ours.as_secs_f64() / base.as_secs_f64();
        println!(
            "sensitivity {label} ({} bytes): filter {ours:?}, serde_json parse+serialise {base:?}, ratio {ratio:.2}x (goal <= 2x)",
            body.len()
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
