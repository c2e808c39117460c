//! The mock upstream's two costs: `mock::prepare` when a mock API is published (per
//! operation, once), and `mock::answer` per request (picking a prepared response and writing
//! its body).
//!
//! - `mock/prepare_200_operations`: 100 paths × (GET with named examples, POST whose body is
//!   made from a `$ref`d, recursive schema of 12 properties and an array);
//! - `mock/answer_example`: a GET answered with its first named example;
//! - `mock/answer_prefer_404`: `Prefer: code=404, example=gone` with an `Accept` list;
//! - `mock/answer_schema_value`: the POST's schema-made body (written out as JSON).
//!
//! Figures: bench/README.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use gatehouse_core::mock::{answer, prepare};
use gatehouse_core::model::{Api, Operation, UpstreamSettings};
use http::HeaderMap;
use serde_json::{json, Map, Value};

const PATHS: usize = 100;

fn document() -> Value {
    let mut paths = Map::new();
    for i in 0..PATHS {
        let get = json!({"operationId": format!("get{i}"), "responses": {
            "200": {"description": "ok", "content": {"application/json": {"examples": {
                "first": {"value": {"id": i, "name": "Tom", "tags": ["a", "b"]}},
                "second": {"value": {"id": i + 1, "name": "Rex"}}
            }}}},
            "404": {"description": "gone", "content": {"application/problem+json": {"examples": {
                "gone": {"value": {"title": "Gone", "status": 404}}
            }}}}
        }});
        let post = json!({"operationId": format!("post{i}"), "responses": {
            "201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
        }});
        paths.insert(format!("/things{i}/{{id}}"), json!({"get": get, "post": post}));
    }
    let mut properties = Map::new();
    for (i, format) in ["date-time", "email", "uuid", "uri", "date", "ipv4"].iter().enumerate() {
        properties.insert(format!("s{i}"), json!({"type": "string", "format": format}));
        properties.insert(format!("n{i}"), json!({"type": "integer", "minimum": i}));
    }
    properties.insert("children".into(), json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}));
    properties.insert("kind".into(), json!({"enum": ["a", "b"]}));
    json!({"openapi": "3.1.0", "info": {"title": "Bench", "version": "1"}, "paths": paths,
        "components": {"schemas": {"Thing": {"type": "object", "properties": properties}}}})
}

fn api() -> Api {
    let operations: Vec<Value> = (0..PATHS)
        .flat_map(|i| {
            let path = format!("/things{i}/{{id}}");
            [
                json!({"id": format!("get{i}"), "method": "GET", "path": path}),
                json!({"id": format!("post{i}"), "method": "POST", "path": path}),
            ]
        })
        .collect();
    let mut api: Api = serde_json::from_value(json!({
        "id": "api_bench", "name": "bench", "version": "1", "base_path": "/b",
        "upstream": {"url": UpstreamSettings::MOCK}, "lifecycle": {"state": "published", "published_at": "2026-01-01T00:00:00Z"},
        "operations": operations, "openapi": Value::Null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    }))
    .expect("api");
    api.openapi = document();
    api
}

fn mocked<'a>(api: &'a Api, id: &str) -> &'a gatehouse_core::mock::MockOperation {
    let op: &Operation = api.operations.iter().find(|op| op.id == id).expect("operation");
    op.mock.as_deref().expect("prepared")
}

fn bench(c: &mut Criterion) {
    let fresh = api();
    c.bench_function("mock/prepare_200_operations", |b| {
        b.iter_batched(|| fresh.clone(), |mut api| prepare(black_box(&mut api)), criterion::BatchSize::LargeInput)
    });
    let mut api = api();
    prepare(&mut api);
    let none = HeaderMap::new();
    let get = mocked(&api, "get50");
    c.bench_function("mock/answer_example", |b| b.iter(|| answer(black_box(get), black_box(&none))));
    let mut prefer = HeaderMap::new();
    prefer.insert("prefer", "code=404, example=gone".parse().expect("v"));
    prefer.insert("accept", "text/html;q=0.9, application/problem+json, */*;q=0.1".parse().expect("v"));
    c.bench_function("mock/answer_prefer_404", |b| b.iter(|| answer(black_box(get), black_box(&prefer))));
    let post = mocked(&api, "post50");
    c.bench_function("mock/answer_schema_value", |b| b.iter(|| answer(black_box(post), black_box(&none))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
