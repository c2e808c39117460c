//! No lost updates on SQLite, over real HTTP (issue 16): concurrent PATCHes of different
//! fields both land, every resource has an `ETag`, and a stale `If-Match` gets 412.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{assert_problem, Harness, Reply};

const ROUNDS: usize = 100;

async fn patch(h: &Harness, path: &str, body: Value, if_match: Option<&str>) -> Reply {
    let url = format!("http://{}{path}", h.app.admin_addr);
    let auth = format!("Bearer {}", h.app.admin_token);
    let mut headers = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    if let Some(tag) = if_match {
        headers.push(("if-match", tag));
    }
    h.send("PATCH", &url, &headers, Bytes::from(body.to_string())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_different_fields_never_lose_an_acknowledged_change() {
    let h = Harness::start(false).await;
    let dev = h.admin_ok("POST", "/v1/developers", json!({"email": "ada@example.com", "name": "Ada"})).await;
    let path = format!("/v1/developers/{}", dev["id"].as_str().unwrap());
    for round in 0..ROUNDS {
        let (name, group) = (format!("name-{round}"), format!("group-{round}"));
        let (a, b) = tokio::join!(
            patch(&h, &path, json!({ "name": name }), None),
            patch(&h, &path, json!({ "group": group }), None),
        );
        assert_eq!((a.status, b.status), (200, 200), "round {round}: {:?} {:?}", a.json(), b.json());
        let now = h.admin("GET", &path, None).await.json();
        assert_eq!((now["name"].as_str(), now["group"].as_str()), (Some(&*name), Some(&*group)), "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_if_match_gets_412_and_writes_nothing() {
    let h = Harness::start(false).await;
    let dev = h.admin_ok("POST", "/v1/developers", json!({"email": "ada@example.com", "name": "Ada"})).await;
    let path = format!("/v1/developers/{}", dev["id"].as_str().unwrap());
    let read = h.admin("GET", &path, None).await;
    let tag = read.header("etag").unwrap().to_string();
    assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34, "a strong tag: {tag}");

    let first = patch(&h, &path, json!({"name": "First"}), Some(&tag)).await;
    assert_eq!(first.status, 200);
    let new_tag = first.header("etag").unwrap().to_string();
    assert_ne!(new_tag, tag, "the tag moves with the record");
    assert_eq!(h.admin("GET", &path, None).await.header("etag"), Some(new_tag.as_str()), "GET agrees with PATCH");

    let stale = patch(&h, &path, json!({"group": "gold"}), Some(&tag)).await;
    assert_problem(&stale, 412, "precondition-failed");
    let now = h.admin("GET", &path, None).await.json();
    assert_eq!((now["name"].as_str(), now["group"].as_str()), (Some("First"), None), "the stale write changed nothing");
    assert_eq!(patch(&h, &path, json!({"group": "gold"}), Some("*")).await.status, 200, "* matches any version");

    // Deletes and actions honour it too.
    let product = h.admin_ok("POST", "/v1/products", json!({"name": "P"})).await;
    let product_path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    let url = format!("http://{}{product_path}", h.app.admin_addr);
    let auth = format!("Bearer {}", h.app.admin_token);
    let stale_delete = h.send("DELETE", &url, &[("authorization", &auth), ("if-match", "\"0\"")], Bytes::new()).await;
    assert_problem(&stale_delete, 412, "precondition-failed");
    assert_eq!(h.admin("GET", &product_path, None).await.status, 200, "still there");
}
