//! An API's page carries its static reference through the real router: every operation with
//! its anchor and try-it form aimed at the configured gateway, the reference's stylesheet and
//! script served from the embedded assets, unique ids on the whole page; a retired API's
//! page has no try-it, and without a gateway address the forms cannot send.

mod common;

use std::collections::HashSet;

use common::{text, Harness};
use serde_json::{json, Value};

fn demo_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../native/src/demo_openapi.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).expect("the demo document")).expect("YAML")
}

async fn published_demo(h: &Harness) -> String {
    let body = json!({"openapi": demo_document(), "base_path": "/demo", "upstream": {"url": "http://127.0.0.1:9"}});
    let created = h.call("POST", "/v1/apis", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = text(&created.body["id"]);
    let published = h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    h.offer(&id).await;
    id
}

/// The `src`/`href` of the first element naming `asset`.
fn asset_url(html: &str, asset: &str) -> String {
    let at = html.find(&format!("/assets/{asset}?v=")).unwrap_or_else(|| panic!("{asset} not linked"));
    html[at..].split('"').next().expect("quoted").to_owned()
}

#[tokio::test]
async fn an_api_page_shows_its_reference_with_try_it_aimed_at_the_gateway() {
    let outbox = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(outbox.path());
    let id = published_demo(&h).await;
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-gateway=\"http://gateway.test/demo\""), "{html}");
    for anchor in ["op-get-hello", "op-get-catalog", "op-get-me", "op-post-echo", "op-get-status"] {
        assert!(html.contains(&format!("<article class=\"operation\" id=\"{anchor}\"")), "{anchor}");
    }
    assert_eq!(html.matches("<button type=\"submit\" data-send disabled>Send request</button>").count(), 5);
    assert_eq!(html.matches("<h1").count(), 1, "the page's own h1 only");
    let ids: Vec<&str> = html.split(" id=\"").skip(1).filter_map(|r| r.split('"').next()).collect();
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len(), "ids are unique on the whole page");

    for (asset, content_type, needle) in [
        ("try-it.js", "text/javascript; charset=utf-8", "form[data-try-it]"),
        ("reference.css", "text/css; charset=utf-8", ".try-it"),
    ] {
        let url = asset_url(&html, asset);
        let (status, headers, body) = h.page(&url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(headers["content-type"], content_type, "{url}");
        assert!(body.contains(needle), "{url} is the reference's own file");
    }
}

#[tokio::test]
async fn a_retired_api_keeps_its_page_without_try_it() {
    let outbox = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(outbox.path());
    let id = published_demo(&h).await;
    let retire = json!({"action": "retire", "successor": "https://example.com/v2"});
    assert_eq!(h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(retire)).await.status, 200);
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("This API is retired"), "{html}");
    assert!(!html.contains("data-try-it") && !html.contains("try-it.js"), "{html}");
}

#[tokio::test]
async fn without_a_gateway_address_the_page_documents_calls_but_cannot_send() {
    let h = Harness::new();
    let id = published_demo(&h).await;
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"op-post-echo\""), "{html}");
    assert!(!html.contains("data-send"), "{html}");
    assert!(html.contains("https://gateway.example.com/demo/hello"), "{html}");
}
