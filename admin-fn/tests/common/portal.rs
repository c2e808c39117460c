//! Signing in through the portal as a browser does: ask for a link, read it from the outbox,
//! follow it and press Continue.

use serde_json::json;

use super::{hidden, text, Browsed, Harness, Jar};

/// The sign-in link of every message in `outbox` that has one.
pub fn links(outbox: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(outbox) else { return Vec::new() };
    let mut links = Vec::new();
    for entry in entries {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("readable");
        // The body is quoted-printable (its link line is longer than 76 characters): undo the
        // soft line breaks and the one escape an ASCII link needs.
        let text = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        // Other mail (a deprecation notice) holds no link.
        let Some(start) = text.find("http://portal.test/signin/verify?token=") else { continue };
        let link: String =
            text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.?=_-".contains(*c)).collect();
        links.push(link.trim_start_matches("http://portal.test").to_owned());
    }
    links
}

/// Runs `ask` and answers the one link it made arrive in `outbox`.
pub async fn mailed<F: std::future::Future<Output = Browsed>>(outbox: &std::path::Path, ask: F) -> (Browsed, String) {
    let before = links(outbox);
    let reply = ask.await;
    let mut new: Vec<String> = links(outbox).into_iter().filter(|l| !before.contains(l)).collect();
    assert_eq!(new.len(), 1, "one new message: {}", reply.html);
    (reply, new.remove(0))
}

/// Asks for a link for `email` with the form's token; answers the reply.
pub async fn ask_for_link(h: &Harness, jar: &mut Jar, email: &str) -> Browsed {
    let form = h.browse("GET", "/signin", &jar.header(), &[]).await;
    jar.take(&form);
    let token = hidden(&form.html, "csrf");
    h.browse("POST", "/signin", &jar.header(), &[("email", email), ("csrf", &token), ("next", "")]).await
}

/// Follows the link and presses Continue; answers the reply.
pub async fn follow(h: &Harness, jar: &mut Jar, link: &str) -> Browsed {
    let page = h.browse("GET", link, &jar.header(), &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    jar.take(&page);
    let (token, csrf) = (hidden(&page.html, "token"), hidden(&page.html, "csrf"));
    let reply = h.browse("POST", "/signin/verify", &jar.header(), &[("token", &token), ("csrf", &csrf)]).await;
    jar.take(&reply);
    reply
}

pub async fn sign_up(h: &Harness, outbox: &std::path::Path, email: &str) -> Jar {
    let mut jar = Jar::default();
    let (sent, link) = mailed(outbox, ask_for_link(h, &mut jar, email)).await;
    assert_eq!(sent.status, 200, "{}", sent.html);
    let signed_in = follow(h, &mut jar, &link).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    jar
}

/// Signs in to the admin pages with `token`; answers the jar and the reply.
pub async fn admin(h: &Harness, token: &str) -> (Jar, Browsed) {
    let mut jar = Jar::default();
    let form = h.browse("GET", "/admin/signin", "", &[]).await;
    jar.take(&form);
    let reply = h
        .browse("POST", "/admin/signin", &jar.header(), &[("token", token), ("csrf", &hidden(&form.html, "csrf"))])
        .await;
    jar.take(&reply);
    (jar, reply)
}

/// A published API in a product with an approval plan; answers (api id, plan id).
pub async fn catalogue(h: &Harness) -> (String, String) {
    let doc = json!({"openapi": "3.1.0", "info": {"title": "Pets", "version": "1"},
                     "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}});
    let api = h
        .call(
            "POST",
            "/v1/apis",
            Some(json!({"openapi": doc, "base_path": "/pets", "upstream": {"url": "http://127.0.0.1:9"}})),
        )
        .await;
    let api_id = text(&api.body["id"]);
    h.call("POST", &format!("/v1/apis/{api_id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    let product = h.call("POST", "/v1/products", Some(json!({"name": "Pets", "items": [{"api_id": api_id}]}))).await;
    let plan = h
        .call(
            "POST",
            "/v1/plans",
            Some(json!({"product_id": product.body["id"], "name": "Gold", "requires_approval": true})),
        )
        .await;
    (api_id, text(&plan.body["id"]))
}

/// The developer's "Get a key" on `api_id`'s `plan_id`.
pub async fn get_key(h: &Harness, jar: &Jar, api_id: &str, plan_id: &str) {
    let page = h.browse("GET", &format!("/apis/{api_id}"), &jar.header(), &[]).await;
    let form = [("plan_id", plan_id), ("csrf", &hidden(&page.html, "csrf"))];
    assert_eq!(h.browse("POST", &format!("/apis/{api_id}/keys"), &jar.header(), &form).await.status, 200);
}

/// Signs in to the admin area with the owner's token, as staff do; answers the cookies.
pub async fn admin_session(h: &Harness) -> Jar {
    let mut jar = Jar::default();
    let form = h.browse("GET", "/admin/signin", "", &[]).await;
    jar.take(&form);
    let csrf = hidden(&form.html, "csrf");
    let reply = h.browse("POST", "/admin/signin", &jar.header(), &[("token", super::TOKEN), ("csrf", &csrf)]).await;
    assert_eq!(reply.status, 303, "{}", reply.html);
    jar.take(&reply);
    jar
}
