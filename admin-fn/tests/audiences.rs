//! Audiences: an API outside a visitor's audience does not exist for them. Five visitors
//! (anonymous, a registered developer, partners A and B, the provider's staff) walk every
//! portal page and every route of the served admin API, and nothing of an API they may not
//! see (its name, id, base path, operation path, tag, product or plan) shows in any body or
//! redirect; a page about it answers exactly as one about an API that does not exist. The
//! APIs they may see are found, so the walk can fail.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::portal::{admin_session, sign_up};
use common::{text, Harness, Jar};
use serde_json::{json, Value};

/// An API of the test, offered through a product of its own to `audience`.
struct Offered {
    name: &'static str,
    id: String,
    product_id: String,
    plan_id: String,
    /// Strings that would betray it: its name, ids, paths, tag, product and plan names.
    marks: Vec<String>,
}

/// A fake id of the same shape as the real ones: pages about it are the reference answers.
const MISSING: &str = "api_01missingmissingmissing";

async fn offer(h: &Harness, name: &'static str, audience: Option<Value>) -> Offered {
    let slug = name.to_lowercase().replace(' ', "-");
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": name, "version": "1", "description": format!("{name} does things.")},
        "tags": [{"name": format!("tag-{slug}")}],
        "paths": {format!("/op-{slug}"): {"get": {"operationId": format!("op_{}", slug.replace('-', "_")),
            "tags": [format!("tag-{slug}")],
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}, "x-gatehouse-sensitivity": "pii"}],
            "responses": {"200": {"description": "ok"}}}}}
    });
    let body = json!({"openapi": doc, "base_path": format!("/base-{slug}"), "upstream": {"url": "http://127.0.0.1:9"}});
    let created = h.call("POST", "/v1/apis", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = text(&created.body["id"]);
    assert_eq!(
        h.call("POST", &format!("/v1/apis/{id}/lifecycle"), Some(json!({"action": "publish"}))).await.status,
        200
    );
    let mut marks =
        vec![name.to_owned(), id.clone(), format!("/base-{slug}"), format!("/op-{slug}"), format!("tag-{slug}")];
    let Some(audience) = audience else {
        return Offered { name, id, product_id: String::new(), plan_id: String::new(), marks };
    };
    let product = json!({"name": format!("Product {name}"), "items": [{"api_id": id}], "audience": audience});
    let product = h.call("POST", "/v1/products", Some(product)).await;
    assert_eq!(product.status, 201, "{:?}", product.body);
    let product_id = text(&product.body["id"]);
    let plan =
        h.call("POST", "/v1/plans", Some(json!({"product_id": product_id, "name": format!("Plan {name}")}))).await;
    let plan_id = text(&plan.body["id"]);
    marks.extend([format!("Product {name}"), product_id.clone(), format!("Plan {name}"), plan_id.clone()]);
    Offered { name, id, product_id, plan_id, marks }
}

/// A visitor with their cookies and the APIs they may see.
struct Visitor {
    who: &'static str,
    jar: Jar,
    sees: BTreeSet<&'static str>,
}

/// A developer signed up through the portal, then made a member of the organisation named
/// `organisation` by the provider (the organisation is created on first use).
async fn developer(h: &Harness, outbox: &std::path::Path, email: &str, organisation: Option<&str>) -> Jar {
    let jar = sign_up(h, outbox, email).await;
    if let Some(organisation) = organisation {
        let listed = h.call("GET", "/v1/developers", None).await.body;
        let id = listed["items"].as_array().unwrap().iter().find(|d| d["email"] == email).unwrap()["id"].clone();
        let orgs = h.call("GET", "/v1/organisations", None).await.body;
        let org_id = match orgs["items"].as_array().unwrap().iter().find(|o| o["name"] == organisation) {
            Some(org) => text(&org["id"]),
            None => text(&h.call("POST", "/v1/organisations", Some(json!({"name": organisation}))).await.body["id"]),
        };
        let path = format!("/v1/organisations/{org_id}/members/{}", text(&id));
        let added = h.call("PUT", &path, Some(json!({"role": "member"}))).await;
        assert_eq!(added.status, 200, "{:?}", added.body);
    }
    jar
}

/// What a visitor got: the status, the body and where it redirects, with every occurrence
/// of `id` replaced, so the answers about two ids compare.
async fn visit(h: &Harness, jar: &Jar, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let reply = h.browse(method, path, &jar.header(), form).await;
    let location = reply.headers.get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (reply.status.as_u16(), format!("{location}\n{}", reply.html))
}

fn leaks<'a>(answer: &str, hidden: impl Iterator<Item = &'a Offered>) -> Vec<String> {
    hidden.flat_map(|api| api.marks.iter().filter(|m| answer.contains(m.as_str())).cloned()).collect()
}

#[tokio::test]
async fn nothing_of_an_api_outside_a_visitors_audience_leaks_from_any_page_or_route() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let apis = [
        offer(&h, "Weather", Some(json!("public"))).await,
        offer(&h, "Ledger", Some(json!("registered"))).await,
        offer(&h, "Acme Shipping", Some(json!({"organisations": ["org_acme"]}))).await,
        offer(&h, "Bolt Freight", Some(json!({"organisations": ["org_bolt"]}))).await,
        offer(&h, "Payroll", Some(json!("internal"))).await,
        offer(&h, "Orphan", None).await,
    ];
    let everyone = ["Weather", "Ledger", "Acme Shipping", "Bolt Freight", "Payroll", "Orphan"];
    let visitors = [
        Visitor { who: "anonymous", jar: Jar::default(), sees: BTreeSet::from(["Weather"]) },
        Visitor {
            who: "registered",
            jar: developer(&h, dir.path(), "reg@example.com", None).await,
            sees: BTreeSet::from(["Weather", "Ledger"]),
        },
        Visitor {
            who: "partner A",
            jar: developer(&h, dir.path(), "a@acme.example", Some("org_acme")).await,
            sees: BTreeSet::from(["Weather", "Ledger", "Acme Shipping"]),
        },
        Visitor {
            who: "partner B",
            jar: developer(&h, dir.path(), "b@bolt.example", Some("org_bolt")).await,
            sees: BTreeSet::from(["Weather", "Ledger", "Bolt Freight"]),
        },
        Visitor { who: "internal", jar: admin_session(&h).await, sees: everyone.into_iter().collect() },
    ];
    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let mut checked = 0;
    for visitor in &visitors {
        let hidden = || apis.iter().filter(|a| !visitor.sees.contains(a.name));
        let pages = ["/", "/?page=2", "/dashboard", "/usage", "/usage.csv", "/account", "/account/export.json"]
            .into_iter()
            .chain(["/account/activity", "/terms", "/signin", "/admin", "/admin/audit", "/admin/access"]);
        // Lists and searches: the visible APIs are there, the others nowhere.
        let (_, catalog) = visit(&h, &visitor.jar, "GET", "/", &[]).await;
        for seen in &visitor.sees {
            let bundled = *seen != "Orphan";
            assert!(!bundled || catalog.contains(seen), "{} sees {seen} in the catalog", visitor.who);
        }
        for page in pages {
            let (_, answer) = visit(&h, &visitor.jar, "GET", page, &[]).await;
            assert_eq!(leaks(&answer, hidden()), Vec::<String>::new(), "{} on {page}", visitor.who);
            checked += 1;
        }
        // Searching for a hidden API by name or tag finds nothing; the search box repeats
        // only what the visitor typed.
        for api in hidden() {
            for (field, term) in [("q", api.name.to_owned()), ("tag", api.marks[4].clone())] {
                let page = format!("/?{field}={}", term.replace(' ', "+"));
                let (_, answer) = visit(&h, &visitor.jar, "GET", &page, &[]).await;
                assert!(answer.contains("No API matches"), "{} on {page}: {answer}", visitor.who);
                let answer = answer.replace(&format!("value=\"{term}\""), "");
                assert_eq!(leaks(&answer, hidden()), Vec::<String>::new(), "{} on {page}", visitor.who);
                checked += 1;
            }
        }
        // Pages about one API: an invisible one answers as a missing one does.
        for api in &apis {
            let about = [
                ("GET", format!("/apis/{}", api.id)),
                ("GET", format!("/apis/{}/openapi.json", api.id)),
                ("GET", format!("/apis/{}/interactive", api.id)),
                ("GET", format!("/apis/{}/access?class=pii", api.id)),
                ("POST", format!("/apis/{}/keys", api.id)),
                ("POST", format!("/apis/{}/console-key", api.id)),
                ("POST", format!("/apis/{}/access", api.id)),
            ];
            for (method, path) in about {
                let form = [("plan_id", api.plan_id.as_str()), ("app_id", ""), ("class", "pii"), ("csrf", "")];
                let (status, answer) = visit(&h, &visitor.jar, method, &path, &form).await;
                checked += 1;
                if visitor.sees.contains(api.name) {
                    continue;
                }
                let (missing_status, missing) =
                    visit(&h, &visitor.jar, method, &path.replace(&api.id, MISSING), &form).await;
                assert_eq!(status, missing_status, "{} {method} {path}: {answer}", visitor.who);
                assert_eq!(answer, missing.replace(MISSING, &api.id), "{} {method} {path}", visitor.who);
                let others = apis.iter().filter(|a| !visitor.sees.contains(a.name) && a.id != api.id);
                assert_eq!(leaks(&answer.replace(&api.id, ""), others), Vec::<String>::new(), "{} {path}", visitor.who);
            }
        }
        // Every route of the admin API, as the visitor's browser would call it.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|m| *m != "parameters") {
                for api in hidden() {
                    let concrete = path.replace("{id}", &api.id).replace("{name}", api.name);
                    let (_, answer) = visit(&h, &visitor.jar, &method.to_uppercase(), &concrete, &[]).await;
                    let answer = answer.replace(&api.id, "");
                    assert_eq!(leaks(&answer, hidden()), Vec::<String>::new(), "{} {method} {path}", visitor.who);
                    checked += 1;
                }
            }
        }
    }
    // Subscribing to an invisible product's plan is refused; a visible one is granted.
    let partner_a = &visitors[2].jar;
    let bolt = &apis[3];
    let page = h.browse("GET", &format!("/apis/{}", apis[2].id), &partner_a.header(), &[]).await;
    let csrf = common::hidden(&page.html, "csrf");
    let refused = h
        .browse(
            "POST",
            &format!("/apis/{}/keys", bolt.id),
            &partner_a.header(),
            &[("plan_id", &bolt.plan_id), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.html);
    let acme = &apis[2];
    let granted = h
        .browse(
            "POST",
            &format!("/apis/{}/keys", acme.id),
            &partner_a.header(),
            &[("plan_id", &acme.plan_id), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.html);
    assert!(granted.html.contains("new-secret"), "partner A gets a key for their API");
    assert!(!bolt.product_id.is_empty());
    println!("audiences: {checked} (visitor, page or route) pairs checked");
}
