//! The core router, in process: `RouteTable::resolve` over a catalogue of 50 published APIs
//! of 40 operations each (2,000 operations), shaped like real descriptions: literal paths,
//! whole-segment parameters, a literal beside a parameter (`/items/search` next to
//! `/items/{id}`), and nested resources three templates deep.
//!
//! - `routing/literal`: a literal path of the last API tried (longest base paths first);
//! - `routing/templated`: `/v3/users/{id}/orders/{order}/lines/{line}` in the same API;
//! - `routing/last_operation`: the last operation of the API (worst case for a linear scan);
//! - `routing/no_operation`: a path under an API that matches none of its operations;
//! - `routing/header_version`: one of three versions sharing a base path, named by a header.
//!
//! Operations and APIs are built from JSON so the bench compiles against every version of the
//! model (fields added later take their defaults). Figures: bench/README.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use gatehouse_core::model::Api;
use gatehouse_core::routing::{Extras, RouteTable};
use serde_json::json;

const APIS: usize = 50;

/// Forty operations: ten resources, each with a list, a literal sibling, an item and a nested
/// item.
fn operations() -> Vec<serde_json::Value> {
    let mut ops = Vec::new();
    for r in ["users", "orders", "items", "carts", "teams", "repos", "files", "jobs", "hooks", "keys"] {
        for (method, path) in [
            ("GET", format!("/{r}")),
            ("GET", format!("/{r}/search")),
            ("GET", format!("/{r}/{{id}}")),
            ("DELETE", format!("/{r}/{{id}}/children/{{child}}")),
        ] {
            ops.push(json!({"id": format!("{method} {path}"), "method": method, "path": path}));
        }
    }
    ops.push(json!({"id": "deep", "method": "GET", "path": "/users/{id}/orders/{order}/lines/{line}"}));
    ops
}

fn api(i: usize) -> Api {
    let value = json!({
        "id": format!("api_{i:03}"), "name": "bench", "version": "1",
        "base_path": format!("/v{i}"), "hosts": [],
        "upstream": {"url": "http://127.0.0.1:1"},
        "lifecycle": {"state": "published", "published_at": "2026-01-01T00:00:00Z"},
        "operations": operations(), "openapi": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    });
    serde_json::from_value(value).expect("a valid API")
}

fn bench(c: &mut Criterion) {
    let table = RouteTable::new((0..APIS).map(api));
    let cases = [
        ("literal", "GET", "/v3/keys/search"),
        ("templated", "GET", "/v3/users/42/orders/7/lines/1"),
        ("last_operation", "DELETE", "/v3/keys/9/children/1"),
        ("no_operation", "GET", "/v3/nothing/here"),
    ];
    for (_, method, path) in cases.iter().take(3) {
        assert!(table.resolve("h", method, path).is_ok(), "{method} {path} routes");
    }
    let mut group = c.benchmark_group("routing");
    for (name, method, path) in cases {
        group.bench_function(name, |b| b.iter(|| table.resolve("h", black_box(method), black_box(path)).is_ok()));
    }
    versions(&mut group);
    group.finish();
}

/// `routing/header_version`: the same catalogue plus three versions of one more API sharing
/// the base path `/versioned`, picked by an `api-version` header; the request names the last.
fn versions(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let versioned = ["v1", "v2", "v3"].into_iter().enumerate().map(|(n, label)| {
        let mut api = api(100 + n);
        api.base_path = "/versioned".into();
        let scheme = json!({"by": "header", "header": "api-version", "default": n == 0});
        let versioning = json!({"set": "versioned", "label": label, "scheme": scheme});
        api.versioning = Some(serde_json::from_value(versioning).expect("versioning"));
        api
    });
    let table = RouteTable::new((0..APIS).map(api).chain(versioned));
    let mut headers = http::HeaderMap::new();
    headers.insert("api-version", http::HeaderValue::from_static("v3"));
    let extras = Extras { query: None, headers: Some(&headers) };
    let path = "/versioned/users/42";
    assert_eq!(table.resolve_with("h", "GET", path, extras).map(|r| r.api.id.clone()).ok(), Some("api_102".into()));
    group.bench_function("header_version", |b| {
        b.iter(|| table.resolve_with("h", black_box("GET"), black_box(path), extras).is_ok())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
