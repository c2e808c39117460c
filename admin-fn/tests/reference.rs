//! The static reference rendered whole: the demo API the native binary serves and a
//! generated 100 KB description come out with every operation, a unique anchor for each,
//! a try-it form per operation and nothing executable from the document.

#[path = "support/big_openapi.rs"]
mod big_openapi;

use std::collections::HashSet;

use askama::Template;
use gatehouse_admin::portal::reference::{Reference, ReferenceFragment};
use serde_json::Value;

fn demo_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../native/src/demo_openapi.yaml");
    let text = std::fs::read_to_string(path).expect("the demo document");
    serde_yaml_ng::from_str(&text).expect("YAML")
}

fn render(reference: &Reference) -> String {
    ReferenceFragment { reference }.render().expect("renders")
}

/// Every `id="…"` in the page.
fn ids(html: &str) -> Vec<&str> {
    html.split(" id=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

/// Every id is unique, and every link inside the page (`href="#…"`, `for="…"`) finds its
/// target.
fn assert_ids_unique_and_links_resolve(html: &str) {
    let all = ids(html);
    let unique: HashSet<&str> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "duplicate ids");
    for (marker, what) in [(" href=\"#", "link"), (" for=\"", "label")] {
        for target in html.split(marker).skip(1).filter_map(|rest| rest.split('"').next()) {
            assert!(unique.contains(target), "{what} to #{target}, which is not in the page");
        }
    }
}

#[test]
fn the_demo_api_reference_lists_every_operation_with_a_form_and_snippets() {
    let reference = Reference::build(&demo_document(), Some("http://127.0.0.1:8080"), "/demo");
    let html = render(&reference);
    for (anchor, method, path) in [
        ("op-get-hello", "GET", "/hello"),
        ("op-get-catalog", "GET", "/catalog"),
        ("op-get-me", "GET", "/me"),
        ("op-post-echo", "POST", "/echo"),
        ("op-get-status", "GET", "/status"),
    ] {
        assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        assert!(html.contains(&format!("href=\"#{anchor}\"")), "the contents link to {anchor}");
        assert!(html.contains(&format!("data-method=\"{method}\" data-path=\"{path}\"")), "{anchor}'s form");
    }
    assert!(html.contains("data-gateway=\"http://127.0.0.1:8080/demo\""));
    assert!(html.contains("data-key-name=\"X-API-Key\""), "the demo's declared key header");
    assert_eq!(html.matches("<label for=\"op-").count(), 4, "an API key field for each keyed operation");
    assert!(html.contains("curl &#34;http://127.0.0.1:8080/demo/status&#34;"), "public: no key in the snippet");
    assert!(html.contains("<code>gatehouse dev</code>"), "info.description's Markdown is rendered");
    assert_eq!(html.matches("<h2").count(), 1);
    assert_ids_unique_and_links_resolve(&html);
}

#[test]
fn a_100_kb_description_renders_every_operation_with_a_unique_anchor() {
    let (document, operations) = big_openapi::document(100_000);
    let size = serde_json::to_string(&document).expect("JSON").len();
    assert!((100_000..130_000).contains(&size), "{size} bytes");
    let reference = Reference::build(&document, Some("https://gw.example.com"), "/big");
    assert_eq!(reference.operation_count, operations);
    let html = render(&reference);
    let forms = html.matches("<form class=\"try-it\"").count();
    assert_eq!(forms, operations);
    for n in [0, operations / 10 - 1] {
        for id in [format!("op-list-resource{n}s"), format!("op-get-resource{n}"), format!("op-delete-resource{n}")] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains(&format!("id=\"schema-Resource{n}\"")));
        assert!(html.contains(&format!("href=\"#schema-Resource{n}\"")), "bodies link to their component");
    }
    assert!(html.contains("recursive: see Audit"), "Audit.previous refers to Audit");
    assert!(!html.contains("<script"), "nothing executable comes from the document");
    assert_ids_unique_and_links_resolve(&html);
}

#[test]
fn hostile_descriptions_render_as_text_or_not_at_all() {
    let mut document = demo_document();
    document["info"]["description"] = "<img src=x onerror=alert(1)> [go](javascript:alert(2))".into();
    document["info"]["title"] = "<script>alert(3)</script>".into();
    document["paths"]["/hello"]["get"]["summary"] = "\"><script>alert(4)</script>".into();
    document["paths"]["/hello"]["get"]["operationId"] = "x\" onmouseover=\"alert(5)".into();
    let html = render(&Reference::build(&document, Some("http://gw.test"), "/"));
    for needle in ["<script", "onerror", "javascript:", "onmouseover=\"alert"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
}

#[test]
fn without_a_gateway_address_the_forms_cannot_send_and_snippets_use_a_placeholder() {
    let reference = Reference::build(&demo_document(), None, "/demo");
    let html = render(&reference);
    assert!(!html.contains("data-send"), "no send button");
    assert!(!html.contains("data-gateway"), "no address for the script");
    assert!(html.contains("no gateway address configured"));
    assert!(html.contains("curl &#34;https://gateway.example.com/demo/hello&#34;"));
    assert_eq!(html.matches("<form class=\"try-it\"").count(), 5, "the forms still show what each call takes");
}
