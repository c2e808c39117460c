//! The portal's changelog of an API: each published revision, newest first, its breaking
//! changes apart from the rest, the family's other visible versions; never a proposal that
//! was not published, a draft version, or an API outside the visitor's audience.

mod common;

use common::{text, Harness};
use serde_json::{json, Value};

fn document(version: &str, paths: &[&str]) -> Value {
    let mut items = serde_json::Map::new();
    for p in paths {
        items.insert((*p).into(), json!({"get": {"responses": {"200": {"description": "ok"}}}}));
    }
    json!({"openapi": "3.1.0", "info": {"title": "Pets", "version": version}, "paths": items})
}

async fn version(h: &Harness, label: &str, default: bool, publish: bool) -> String {
    let versioning =
        json!({"set": "pets", "label": label, "scheme": {"by": "header", "header": "api-version", "default": default}});
    let body = json!({"name": format!("Pets {label}"), "openapi": document("1.0.0", &["/pets"]), "base_path": "/pets",
        "upstream": {"url": "http://127.0.0.1:9"}, "versioning": versioning});
    let created = h.call("POST", "/v1/apis", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = text(&created.body["id"]);
    if publish {
        let published = h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await;
        assert_eq!(published.status, 200, "{:?}", published.body);
        h.offer(&id).await;
    }
    id
}

#[tokio::test]
async fn the_changelog_lists_published_revisions_newest_first_with_breaking_changes_apart() {
    let h = Harness::new();
    let v1 = version(&h, "v1", true, true).await;
    let v2 = version(&h, "v2", false, true).await;
    let v3 = version(&h, "v3", false, false).await;
    let patch = |doc: Value| json!({"openapi": doc, "note": "Adds owners"});
    let added = h.call("PATCH", &format!("/v1/apis/{v1}"), Some(patch(document("1.1.0", &["/pets", "/owners"])))).await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    let refused =
        h.call("PATCH", &format!("/v1/apis/{v1}"), Some(json!({"openapi": document("2.0.0", &["/owners"])}))).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    let forced = h
        .call("PATCH", &format!("/v1/apis/{v1}?force=true"), Some(json!({"openapi": document("2.0.0", &["/owners"])})))
        .await;
    assert_eq!(forced.status, 200, "{:?}", forced.body);
    let proposal = json!({"openapi": document("9.9.9", &["/owners", "/toys"]), "note": "not yet"});
    assert_eq!(h.call("POST", &format!("/v1/apis/{v1}/revisions"), Some(proposal)).await.status, 201);

    let (status, _, api_page) = h.page(&format!("/apis/{v1}")).await;
    assert_eq!(status, 200);
    assert!(api_page.contains(&format!("href=\"/apis/{v1}/changelog\"")), "the API page links its changelog");

    let (status, headers, html) = h.page(&format!("/apis/{v1}/changelog")).await;
    assert_eq!(status, 200);
    assert!(headers["content-security-policy"].to_str().expect("ascii").contains("script-src 'self'"));
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle:?} in {html}"));
    assert!(at("Revision 3 · version 2.0.0") < at("Revision 2 · version 1.1.0"), "newest first");
    assert!(at("Revision 2 · version 1.1.0") < at("Revision 1 · version 1.0.0"));
    assert!(html.contains("1 change that can break existing callers"), "{html}");
    assert!(html.contains("<code>GET /pets</code>: operation removed"), "{html}");
    assert!(html.contains("<code>GET /owners</code>: operation added"), "{html}");
    assert!(html.contains("Adds owners"));
    assert!(!html.contains("9.9.9") && !html.contains("not yet"), "a proposal is not in the changelog");
    assert!(html.contains(&format!("href=\"/apis/{v2}/changelog\">v2</a> (published)")), "{html}");
    assert!(!html.contains(&v3), "a draft version is not listed");

    let (status, _, _) = h.page(&format!("/apis/{v3}/changelog")).await;
    assert_eq!(status, 404, "a draft has no changelog page");
}
