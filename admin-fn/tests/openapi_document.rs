//! The admin API describes itself, completely.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use common::Harness;
use gatehouse_admin::route_list;

#[tokio::test]
async fn every_route_is_documented_and_the_document_parses() {
    let h = Harness::new();
    let reply = h.send(Request::get("/v1/openapi.json").body(Body::empty()).expect("request")).await;
    assert_eq!(reply.status, 200, "served without a token");
    let doc = reply.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().expect("operations").keys().map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> =
        route_list().into_iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served, not documented"
    );
    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented, not served"
    );
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            assert!(op["summary"].is_string() && op["responses"].is_object(), "{method} {path}");
        }
    }
}

/// Every body is described by a named schema generated from its Rust type, and every `$ref`
/// in the document resolves: a client generator gets types, not `{"type": "object"}`.
#[tokio::test]
async fn every_body_has_a_real_schema_and_every_reference_resolves() {
    let h = Harness::new();
    let doc = h.send(Request::get("/v1/openapi.json").body(Body::empty()).expect("request")).await.body;
    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let mut bodies: Vec<&serde_json::Value> = Vec::new();
            if let Some(content) = op["requestBody"]["content"].as_object() {
                bodies.extend(content.values().map(|c| &c["schema"]));
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                assert_ne!(status, "default", "{method} {path}: every status is listed, none is a catch-all");
                if let Some(content) = response["content"].as_object() {
                    // JSON bodies only: a CSV export's body is text, with no schema to name.
                    bodies
                        .extend(content.iter().filter(|(media, _)| media.contains("json")).map(|(_, c)| &c["schema"]));
                }
            }
            for schema in bodies {
                let name = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/"));
                assert!(name.is_some(), "{method} {path}: body schema {schema} is not a named component");
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 100, "{} references", refs.len());
    for target in refs {
        let node = target.strip_prefix('#').and_then(|pointer| doc.pointer(pointer));
        assert!(node.is_some(), "{target} does not resolve");
    }
    for name in ["Api", "Developer", "KeyView", "IssuedKey", "Problem", "ConfigDocument", "UsageRow", "Lifecycle"] {
        assert!(schemas.contains_key(name), "{name} is described");
    }
    let created_at = &schemas["Developer"]["properties"]["created_at"];
    assert_eq!((created_at["type"].as_str(), created_at["format"].as_str()), (Some("string"), Some("date-time")));
    assert_eq!(schemas["NewKey"]["additionalProperties"], false, "deny_unknown_fields is stated");
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            out.extend(map.get("$ref").and_then(|r| r.as_str()).map(str::to_owned));
            map.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
