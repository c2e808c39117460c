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
