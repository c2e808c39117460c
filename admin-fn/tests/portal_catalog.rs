//! The portal's public pages through the real router: the catalog lists what is published or
//! deprecated, searches and pages on the server, and never shows a draft; every page carries
//! the strict Content-Security-Policy.

mod common;

use common::{text, Harness};
use serde_json::{json, Value};

fn document(title: &str, description: &str, tag: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": "2.0.0", "description": description},
        "tags": [{"name": tag}],
        "paths": {"/items": {"get": {"responses": {"200": {"description": "ok"}}}}}
    })
}

/// Imports an API at `base` and, unless `draft`, publishes it and offers it to everyone;
/// answers its id.
async fn api(h: &Harness, base: &str, doc: Value, draft: bool) -> String {
    let body = json!({"openapi": doc, "base_path": base, "upstream": {"url": "http://127.0.0.1:9"}});
    let created = h.call("POST", "/v1/apis", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = text(&created.body["id"]);
    if !draft {
        let published = h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await;
        assert_eq!(published.status, 200, "{:?}", published.body);
        h.offer(&id).await;
    }
    id
}

#[tokio::test]
async fn the_catalog_lists_published_apis_with_plans_in_words_and_hides_drafts() {
    let h = Harness::new();
    let weather = api(&h, "/weather", document("Weather", "Forecasts for any city. More text.", "geo"), false).await;
    api(&h, "/secret", document("Unreleased", "Not yet.", "geo"), true).await;
    let product =
        h.call("POST", "/v1/products", Some(json!({"name": "Starter", "items": [{"api_id": weather}]}))).await;
    let limits = json!([{"name": "daily", "scope": "key", "type": "quota", "limit": 10000, "window": "day"},
                        {"name": "burst", "scope": "key", "type": "rate", "limit": 10, "period_secs": 1, "burst": 20}]);
    let plan = json!({"product_id": product.body["id"], "name": "Free", "limits": limits});
    assert_eq!(h.call("POST", "/v1/plans", Some(plan)).await.status, 201);

    let (status, headers, html) = h.page("/").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
    assert!(html.contains("Weather") && html.contains("Forecasts for any city."), "{html}");
    assert!(html.contains("10,000 calls a day (per key)"), "{html}");
    assert!(html.contains("10 calls a second, bursts of 20 (per key)"), "{html}");
    assert!(!html.contains("Unreleased"), "a draft is not in the catalog");
    assert!(html.contains("1 API"), "{html}");
}

#[tokio::test]
async fn search_and_tags_filter_on_the_server_and_pages_are_bounded() {
    let h = Harness::new();
    for n in 0..25 {
        let tag = if n % 5 == 0 { "payments" } else { "misc" };
        api(&h, &format!("/a{n}"), document(&format!("Api {n:02}"), &format!("Service number {n}"), tag), false).await;
    }
    let (_, _, first) = h.page("/").await;
    assert!(first.contains("Page 1 of 2") && first.contains("Api 00") && !first.contains("Api 24"), "{first}");
    let (_, _, second) = h.page("/?page=2").await;
    assert!(second.contains("Api 24") && !second.contains("Api 00"), "{second}");
    let (_, _, tagged) = h.page("/?tag=payments").await;
    assert!(tagged.contains("5 APIs found"), "{tagged}");
    let (_, _, searched) = h.page("/?q=number+17").await;
    assert!(searched.contains("1 API found") && searched.contains("Api 17"), "{searched}");
    let (_, _, nothing) = h.page("/?q=%3Cscript%3E").await;
    assert!(nothing.contains("No API matches") && nothing.contains("value=\"&#60;script&#62;\""), "{nothing}");
}

#[tokio::test]
async fn an_api_page_shows_its_lifecycle_and_a_draft_does_not_exist() {
    let h = Harness::new();
    let id = api(&h, "/weather", document("Weather", "Forecasts.", "geo"), false).await;
    let draft = api(&h, "/draft", document("Draft", "Hidden.", "geo"), true).await;
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Weather</h1>") && html.contains("published"), "{html}");
    let (status, _, html) = h.page(&format!("/apis/{draft}")).await;
    assert_eq!(status, 404);
    assert!(html.contains("API not found"), "{html}");
    assert_eq!(h.page(&format!("/apis/{draft}/openapi.json")).await.0, 404);
    let (status, _, doc) = h.page(&format!("/apis/{id}/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&doc).expect("json")["info"]["title"], "Weather");

    let deprecate =
        json!({"action": "deprecate", "sunset_at": "2027-06-30T00:00:00Z", "successor": "https://example.com/v3"});
    assert_eq!(h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(deprecate)).await.status, 200);
    let (_, _, html) = h.page(&format!("/apis/{id}")).await;
    assert!(html.contains("This API is deprecated") && html.contains("2027-06-30"), "{html}");
    assert!(html.contains("href=\"https://example.com/v3\""), "{html}");
    let retire = json!({"action": "retire", "successor": "https://example.com/v3"});
    assert_eq!(h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(retire)).await.status, 200);
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert!(status == 200 && html.contains("This API is retired"), "{html}");
    let (_, _, catalog) = h.page("/").await;
    assert!(!catalog.contains("Weather"), "a retired API leaves the catalog: {catalog}");
}

#[tokio::test]
async fn unknown_pages_are_html_for_browsers_and_problems_for_the_api() {
    let h = Harness::new();
    let (status, headers, html) = h.page("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
    assert!(headers.contains_key("content-security-policy"));
    let (status, headers, _) = h.page("/v1/nothing-here").await;
    assert_eq!((status.as_u16(), headers["content-type"].to_str().expect("ascii")), (404, "application/problem+json"));
    let (status, headers, css) = h.page("/assets/portal.css").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert!(css.contains(":root"));
}

#[tokio::test]
async fn the_terms_page_shows_the_providers_text_or_says_there_is_none() {
    let (_, _, none) = Harness::new().page("/terms").await;
    assert!(none.contains("has not published terms of use"), "{none}");
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, _, terms) = Harness::with_outbox(dir.path()).page("/terms").await;
    assert_eq!(status, 200);
    assert!(
        terms.contains("<p>Use the APIs fairly. Keep keys secret.</p>")
            && terms.contains("<p>We may change these terms.</p>"),
        "{terms}"
    );
}

#[tokio::test]
async fn an_api_page_lists_its_sensitive_fields_and_the_admin_api_their_pointers() {
    let h = Harness::new();
    let mut doc = document("People", "Who is who.", "crm");
    doc["paths"]["/items"]["get"]["responses"]["200"]["content"] = json!({"application/json": {"schema": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "x-gatehouse-sensitivity": "pii"},
            "card": {"type": "string", "x-gatehouse-sensitivity": {"class": "financial", "mask": "last4"}},
            "phone": {"type": "string"}
        }
    }}});
    let id = api(&h, "/people", doc, false).await;
    let (status, _, html) = h.page(&format!("/apis/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Sensitive data"), "{html}");
    assert!(html.contains("property email") && html.contains(">pii<") && html.contains("left out"), "{html}");
    assert!(html.contains("property card") && html.contains("only its last 4 characters"), "{html}");
    let listed = h.call("GET", &format!("/v1/apis/{id}/sensitivity"), None).await;
    assert_eq!(listed.status, 200);
    let pointer = "/paths/~1items/get/responses/200/content/application~1json/schema/properties/email";
    assert_eq!(listed.body["fields"][0]["pointer"], pointer);
    assert_eq!(listed.body["warnings"][0]["pointer"], pointer.replace("email", "phone"));
    // An API without annotations has no such section.
    let plain = api(&h, "/plain", document("Plain", "Nothing to hide.", "geo"), false).await;
    assert!(!h.page(&format!("/apis/{plain}")).await.2.contains("Sensitive data"));
}
