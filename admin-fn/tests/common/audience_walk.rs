//! The audience enumeration, over any way of reaching the admin router: five visitors
//! (anonymous, a registered developer, partners A and B — members of two organisations — and
//! the provider's staff) walk every portal page and every route of the served admin API, and
//! nothing of an API they may not see (its name, id, base path, operation path, tag, product
//! or plan) shows in any body or redirect; a page about it answers exactly as one about an API
//! that does not exist. The APIs they may see are found, so the walk can fail.
//!
//! `admin-fn/tests/audiences.rs` runs it in process; `aws/tests/audiences_lambda.rs` through
//! API Gateway events, lambda_http and DynamoDB on moto. Self-contained (no other test
//! module), so both crates can include it.
#![allow(clippy::unwrap_used, dead_code, async_fn_in_trait)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

/// What a browser got back.
pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    /// `name=value` of each `Set-Cookie`.
    pub cookies: Vec<String>,
}

/// How the walk reaches the router.
pub trait Site {
    /// An admin API call with the owner's token.
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value);
    /// A browser request with `cookies` (a `Cookie` header value) and, for a POST, a form.
    async fn browse(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Page;
    /// Where the portal's mail lands.
    fn outbox(&self) -> &Path;
    /// The portal's public URL, as its mail writes links.
    fn public_url(&self) -> &str;
    /// The owner's admin token, for signing in to the admin area.
    fn owner_token(&self) -> &str;
}

/// An answer that may set cookies: its `Set-Cookie` values, whole or `name=value` alone.
pub trait SetsCookies {
    fn set_cookies(&self) -> &[String];
}

impl SetsCookies for Page {
    fn set_cookies(&self) -> &[String] {
        &self.cookies
    }
}

/// A cookie jar as one `Cookie` header value, updated from `Set-Cookie` answers (an empty
/// value clears the cookie). Shared with `common/mod.rs`.
#[derive(Default, Clone)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    pub fn take(&mut self, answer: &impl SetsCookies) {
        for set in answer.set_cookies() {
            let pair = set.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            self.0.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The value of the hidden input `name` in a page (the first one).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[at..html[at..].find('"').map(|end| at + end).expect("closing quote")].to_owned()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The sign-in links in the outbox.
fn links(site: &impl Site) -> BTreeSet<String> {
    let prefix = format!("{}/signin/verify?token=", site.public_url());
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(site.outbox()).into_iter().flatten().flatten() {
        let raw = std::fs::read_to_string(entry.path()).expect("mail");
        let text = raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        if let Some(at) = text.find(&prefix) {
            let link: String =
                text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.?=_-".contains(*c)).collect();
            found.insert(link.trim_start_matches(site.public_url()).to_owned());
        }
    }
    found
}

/// Signs `email` up through the portal's mailed link; answers the cookies.
async fn sign_up(site: &impl Site, email: &str) -> Jar {
    let mut jar = Jar::default();
    let form = site.browse("GET", "/signin", "", &[]).await;
    jar.take(&form);
    let before = links(site);
    let csrf = hidden(&form.body, "csrf");
    let sent = site.browse("POST", "/signin", &jar.header(), &[("email", email), ("csrf", &csrf), ("next", "")]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let link = links(site).difference(&before).next().cloned().expect("a new sign-in link");
    let page = site.browse("GET", &link, &jar.header(), &[]).await;
    jar.take(&page);
    let form = [("token", hidden(&page.body, "token")), ("csrf", hidden(&page.body, "csrf"))];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signed_in = site.browse("POST", "/signin/verify", &jar.header(), &form).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    jar.take(&signed_in);
    jar
}

/// Signs in to the admin area with the owner's token, as staff do.
async fn staff(site: &impl Site) -> Jar {
    let mut jar = Jar::default();
    let form = site.browse("GET", "/admin/signin", "", &[]).await;
    jar.take(&form);
    let csrf = hidden(&form.body, "csrf");
    let reply =
        site.browse("POST", "/admin/signin", &jar.header(), &[("token", site.owner_token()), ("csrf", &csrf)]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    jar.take(&reply);
    jar
}

/// An API of the test, offered through a product of its own to `audience`.
struct Offered {
    name: &'static str,
    id: String,
    plan_id: String,
    /// Strings that would betray it: its name, ids, paths, tag, product and plan names.
    marks: Vec<String>,
}

/// A fake id of the same shape as the real ones: pages about it are the reference answers.
const MISSING: &str = "api_01missingmissingmissing";

async fn ok(site: &impl Site, method: &str, path: &str, body: Value) -> Value {
    let (status, answer) = site.admin(method, path, Some(body)).await;
    assert!(status < 300, "{method} {path}: {status} {answer}");
    answer
}

async fn offer(site: &impl Site, name: &'static str, audience: Option<Value>) -> Offered {
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
    let id = text(&ok(site, "POST", "/v1/apis", body).await["id"]);
    ok(site, "POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    let mut marks =
        vec![name.to_owned(), id.clone(), format!("/base-{slug}"), format!("/op-{slug}"), format!("tag-{slug}")];
    let Some(audience) = audience else { return Offered { name, id, plan_id: String::new(), marks } };
    let product = json!({"name": format!("Product {name}"), "items": [{"api_id": id}], "audience": audience});
    let product_id = text(&ok(site, "POST", "/v1/products", product).await["id"]);
    let plan = json!({"product_id": product_id, "name": format!("Plan {name}")});
    let plan_id = text(&ok(site, "POST", "/v1/plans", plan).await["id"]);
    marks.extend([format!("Product {name}"), product_id, format!("Plan {name}"), plan_id.clone()]);
    Offered { name, id, plan_id, marks }
}

/// A developer signed up through the portal, then made a member of `organisation` (created
/// on first use) by the provider.
async fn developer(site: &impl Site, email: &str, organisation: Option<&str>) -> Jar {
    let jar = sign_up(site, email).await;
    if let Some(organisation) = organisation {
        let (_, listed) = site.admin("GET", "/v1/developers", None).await;
        let id = text(&listed["items"].as_array().unwrap().iter().find(|d| d["email"] == email).unwrap()["id"]);
        let (_, orgs) = site.admin("GET", "/v1/organisations", None).await;
        let org_id = match orgs["items"].as_array().unwrap().iter().find(|o| o["name"] == organisation) {
            Some(org) => text(&org["id"]),
            None => text(&ok(site, "POST", "/v1/organisations", json!({"name": organisation})).await["id"]),
        };
        ok(site, "PUT", &format!("/v1/organisations/{org_id}/members/{id}"), json!({"role": "member"})).await;
    }
    jar
}

/// A visitor with their cookies and the APIs they may see.
struct Visitor {
    who: &'static str,
    jar: Jar,
    sees: BTreeSet<&'static str>,
}

/// What a visitor got: the status, and the body after where it redirects.
async fn visit(site: &impl Site, jar: &Jar, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let page = site.browse(method, path, &jar.header(), form).await;
    (page.status, format!("{}\n{}", page.location.unwrap_or_default(), page.body))
}

fn leaks<'a>(answer: &str, hidden: impl Iterator<Item = &'a Offered>) -> Vec<String> {
    hidden.flat_map(|api| api.marks.iter().filter(|m| answer.contains(m.as_str())).cloned()).collect()
}

/// Walks everything as every visitor; answers the number of (visitor, page or route) pairs
/// checked.
pub async fn walk(site: &impl Site) -> usize {
    let apis = [
        offer(site, "Weather", Some(json!("public"))).await,
        offer(site, "Ledger", Some(json!("registered"))).await,
        offer(site, "Acme Shipping", Some(json!({"organisations": ["Acme"]}))).await,
        offer(site, "Bolt Freight", Some(json!({"organisations": ["Bolt"]}))).await,
        offer(site, "Payroll", Some(json!("internal"))).await,
        offer(site, "Orphan", None).await,
    ];
    let everyone = ["Weather", "Ledger", "Acme Shipping", "Bolt Freight", "Payroll", "Orphan"];
    let visitors = [
        Visitor { who: "anonymous", jar: Jar::default(), sees: BTreeSet::from(["Weather"]) },
        Visitor {
            who: "registered",
            jar: developer(site, "reg@example.com", None).await,
            sees: BTreeSet::from(["Weather", "Ledger"]),
        },
        Visitor {
            who: "partner A",
            jar: developer(site, "a@acme.example", Some("Acme")).await,
            sees: BTreeSet::from(["Weather", "Ledger", "Acme Shipping"]),
        },
        Visitor {
            who: "partner B",
            jar: developer(site, "b@bolt.example", Some("Bolt")).await,
            sees: BTreeSet::from(["Weather", "Ledger", "Bolt Freight"]),
        },
        Visitor { who: "internal", jar: staff(site).await, sees: everyone.into_iter().collect() },
    ];
    let (_, doc) = site.admin("GET", "/v1/openapi.json", None).await;
    let (_, orgs) = site.admin("GET", "/v1/organisations", None).await;
    let org_pages: Vec<String> =
        orgs["items"].as_array().unwrap().iter().map(|o| format!("/organisations/{}", text(&o["id"]))).collect();
    let mut checked = 0;
    for visitor in &visitors {
        let hidden = || apis.iter().filter(|a| !visitor.sees.contains(a.name));
        let pages = ["/", "/?page=2", "/dashboard", "/usage", "/usage.csv", "/account", "/account/export.json"]
            .into_iter()
            .chain(["/account/activity", "/terms", "/signin", "/admin", "/admin/audit", "/admin/access"])
            .map(str::to_owned)
            .chain(org_pages.iter().cloned());
        // Lists and searches: the visible APIs are there, the others nowhere.
        let (_, catalog) = visit(site, &visitor.jar, "GET", "/", &[]).await;
        for seen in &visitor.sees {
            let bundled = *seen != "Orphan";
            assert!(!bundled || catalog.contains(seen), "{} sees {seen} in the catalog", visitor.who);
        }
        for page in pages {
            let (_, answer) = visit(site, &visitor.jar, "GET", &page, &[]).await;
            assert_eq!(leaks(&answer, hidden()), Vec::<String>::new(), "{} on {page}", visitor.who);
            checked += 1;
        }
        // Searching for a hidden API by name or tag finds nothing; the search box repeats
        // only what the visitor typed.
        for api in hidden() {
            for (field, term) in [("q", api.name.to_owned()), ("tag", api.marks[4].clone())] {
                let page = format!("/?{field}={}", term.replace(' ', "+"));
                let (_, answer) = visit(site, &visitor.jar, "GET", &page, &[]).await;
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
                let (status, answer) = visit(site, &visitor.jar, method, &path, &form).await;
                checked += 1;
                if visitor.sees.contains(api.name) {
                    continue;
                }
                let (missing_status, missing) =
                    visit(site, &visitor.jar, method, &path.replace(&api.id, MISSING), &form).await;
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
                    let (_, answer) = visit(site, &visitor.jar, &method.to_uppercase(), &concrete, &[]).await;
                    let answer = answer.replace(&api.id, "");
                    assert_eq!(leaks(&answer, hidden()), Vec::<String>::new(), "{} {method} {path}", visitor.who);
                    checked += 1;
                }
            }
        }
    }
    // Subscribing to an invisible product's plan is refused; a visible one is granted.
    let partner_a = &visitors[2].jar;
    let (acme, bolt) = (&apis[2], &apis[3]);
    let page = site.browse("GET", &format!("/apis/{}", acme.id), &partner_a.header(), &[]).await;
    let csrf = hidden(&page.body, "csrf");
    let bolt_form = [("plan_id", bolt.plan_id.as_str()), ("csrf", csrf.as_str())];
    let refused = site.browse("POST", &format!("/apis/{}/keys", bolt.id), &partner_a.header(), &bolt_form).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let acme_form = [("plan_id", acme.plan_id.as_str()), ("csrf", csrf.as_str())];
    let granted = site.browse("POST", &format!("/apis/{}/keys", acme.id), &partner_a.header(), &acme_form).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert!(granted.body.contains("new-secret"), "partner A gets a key for their API");
    checked
}
