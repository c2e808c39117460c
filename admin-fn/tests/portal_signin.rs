//! Signing up and in through the portal, through the real router, with mail written by a real
//! lettre transport into a folder: the link is single use and short-lived, forms without
//! their token are refused, the answer never tells whether an address is known, requests are
//! throttled, and one developer never reaches another's apps or keys.

mod common;

use common::portal::{ask_for_link, catalogue, follow, mailed, sign_up};
use common::{hidden, text, Harness, Jar};
use gatehouse_core::model::Developer;
use gatehouse_core::store::{email_unique, Repo};
use serde_json::json;

#[tokio::test]
async fn a_new_address_signs_up_through_the_mailed_link_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let mut jar = Jar::default();
    let (sent, link) = mailed(dir.path(), ask_for_link(&h, &mut jar, "ada@example.com")).await;
    assert!(sent.html.contains("Check your email"), "{}", sent.html);

    let signed_in = follow(&h, &mut jar, &link).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.headers["location"], "/dashboard");
    let cookie = signed_in.set_cookies.iter().find(|c| c.starts_with("__Host-gatehouse-session=")).expect("session");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let dashboard = h.browse("GET", "/dashboard", &jar.header(), &[]).await;
    assert!(dashboard.status == 200 && dashboard.html.contains("ada@example.com"), "{}", dashboard.html);
    let developer: Developer = h.repo.find(&email_unique("ada@example.com")).await.expect("store").expect("signed up");
    assert_eq!(developer.terms_accepted_at, Some(common::START), "the terms' acceptance is recorded");

    let mut other = Jar::default();
    let reused = follow(&h, &mut other, &link).await;
    assert_eq!(reused.status, 410, "a used link opens nothing: {}", reused.html);

    let signed_out = h.browse("POST", "/signout", &jar.header(), &[("csrf", &hidden(&dashboard.html, "csrf"))]).await;
    assert_eq!(signed_out.status, 303);
    let after = h.browse("GET", "/dashboard", &jar.header(), &[]).await;
    assert_eq!(after.status, 303, "the old cookie no longer opens the session");
    assert!(after.headers["location"].to_str().expect("ascii").starts_with("/signin?next="));
}

#[tokio::test]
async fn an_expired_link_is_refused_and_the_answer_never_reveals_an_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    h.call("POST", "/v1/developers", Some(json!({"email": "known@example.com", "name": "Known"}))).await;
    let (known, known_link) = mailed(dir.path(), ask_for_link(&h, &mut Jar::default(), "known@example.com")).await;
    h.advance(1);
    let (unknown, unknown_link) = mailed(dir.path(), ask_for_link(&h, &mut Jar::default(), "nobody@example.com")).await;
    let strip = |html: &str, email: &str| html.replace(email, "EMAIL");
    assert_eq!(strip(&known.html, "known@example.com"), strip(&unknown.html, "nobody@example.com"));
    assert_eq!(known.status, unknown.status);

    // The second link is a millisecond younger: at the first one's expiry, it still works.
    h.advance(15 * 60 * 1000 - 1);
    assert_eq!(follow(&h, &mut Jar::default(), &unknown_link).await.status, 303, "valid until its last millisecond");
    let expired = follow(&h, &mut Jar::default(), &known_link).await;
    assert_eq!(expired.status, 410, "{}", expired.html);
}

#[tokio::test]
async fn forms_without_their_token_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let forged =
        h.browse("POST", "/signin", "", &[("email", "a@example.com"), ("csrf", "0".repeat(32).as_str())]).await;
    assert_eq!(forged.status, 403);
    assert!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0) == 0, "no mail was sent");

    let jar = sign_up(&h, dir.path(), "ada@example.com").await;
    let forged = h.browse("POST", "/apps", &jar.header(), &[("name", "x"), ("csrf", "wrong")]).await;
    assert_eq!(forged.status, 403);
    let dashboard = h.browse("GET", "/dashboard", &jar.header(), &[]).await;
    assert!(!dashboard.html.contains("<a href=\"/apps/"), "no app was made: {}", dashboard.html);
}

#[tokio::test]
async fn sign_in_requests_are_throttled_per_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let mut jar = Jar::default();
    for _ in 0..5 {
        assert_eq!(ask_for_link(&h, &mut jar, "ada@example.com").await.status, 200);
    }
    let sixth = ask_for_link(&h, &mut jar, "ADA@example.com").await;
    assert_eq!(sixth.status, 429, "{}", sixth.html);
    assert_eq!(std::fs::read_dir(dir.path()).expect("outbox").count(), 5);
    h.advance(3600 * 1000);
    assert_eq!(ask_for_link(&h, &mut jar, "ada@example.com").await.status, 200, "a new hour, a new allowance");
}

#[tokio::test]
async fn one_developer_never_reaches_anothers_apps_or_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    let eve = sign_up(&h, dir.path(), "eve@example.com").await;

    let dashboard = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    let made = h
        .browse("POST", "/apps", &ada.header(), &[("name", "Ada's app"), ("csrf", &hidden(&dashboard.html, "csrf"))])
        .await;
    assert_eq!(made.status, 303);
    let app_path = made.headers["location"].to_str().expect("ascii").to_owned();
    let app_page = h.browse("GET", &app_path, &ada.header(), &[]).await;
    let issued = h
        .browse(
            "POST",
            &format!("{app_path}/keys"),
            &ada.header(),
            &[("name", "prod"), ("csrf", &hidden(&app_page.html, "csrf"))],
        )
        .await;
    assert!(issued.html.contains("data-secret"), "{}", issued.html);
    let app_id = app_path.trim_start_matches("/apps/");
    let keys = h.call("GET", &format!("/v1/apps/{app_id}/keys"), None).await;
    let key_id = text(&keys.body["items"][0]["id"]);

    let eve_page = h.browse("GET", "/dashboard", &eve.header(), &[]).await;
    assert!(!eve_page.html.contains(app_id) && !eve_page.html.contains("Ada's app"));
    assert_eq!(h.browse("GET", &app_path, &eve.header(), &[]).await.status, 404);
    let eve_csrf = hidden(&eve_page.html, "csrf");
    let revoke = h.browse("POST", &format!("/keys/{key_id}/revoke"), &eve.header(), &[("csrf", &eve_csrf)]).await;
    assert_eq!(revoke.status, 404, "{}", revoke.html);
    let rotate = h
        .browse("POST", &format!("/keys/{key_id}/rotate"), &eve.header(), &[("csrf", &eve_csrf), ("grace_hours", "1")])
        .await;
    assert_eq!(rotate.status, 404);
    let key_then = h.call("GET", &format!("/v1/keys/{key_id}"), None).await;
    assert_eq!(key_then.body["status"], "active", "Eve's attempts changed nothing");
    let eve_into_ada =
        h.browse("POST", &format!("{app_path}/keys"), &eve.header(), &[("name", "x"), ("csrf", &eve_csrf)]).await;
    assert_eq!(eve_into_ada.status, 404);
}

#[tokio::test]
async fn get_a_key_subscribes_the_developers_app_and_shows_the_secret_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, gold_plan) = catalogue(&h).await;

    let anonymous = h.browse("GET", &format!("/apis/{api_id}"), "", &[]).await;
    // Signed out, the page itself asks for the email, and its form token is the cookie's.
    assert!(anonymous.html.contains(&format!("name=\"next\" value=\"/apis/{api_id}\"")), "{}", anonymous.html);
    let token = hidden(&anonymous.html, "csrf");
    let cookie = format!("__Host-gatehouse-form={token};");
    assert!(anonymous.set_cookies.iter().any(|c| c.starts_with(&cookie)), "{:?}", anonymous.set_cookies);

    let jar = sign_up(&h, dir.path(), "ada@example.com").await;
    let page = h.browse("GET", &format!("/apis/{api_id}"), &jar.header(), &[]).await;
    let csrf = hidden(&page.html, "csrf");
    let got = h
        .browse("POST", &format!("/apis/{api_id}/keys"), &jar.header(), &[("plan_id", &gold_plan), ("csrf", &csrf)])
        .await;
    assert_eq!(got.status, 200, "{}", got.html);
    assert!(got.html.contains("data-secret>gh_"), "the secret is shown: {}", got.html);
    assert!(got.html.contains("needs the provider&#39;s approval"), "pending is explained: {}", got.html);
    let dashboard = h.browse("GET", "/dashboard", &jar.header(), &[]).await;
    assert!(dashboard.html.contains("badge pending"), "{}", dashboard.html);
    assert!(!dashboard.html.contains("data-secret"), "the secret is shown only once");
}

#[tokio::test]
async fn a_console_key_works_for_an_hour_and_only_with_a_subscription() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let doc = json!({"openapi": "3.1.0", "info": {"title": "Pets", "version": "1"},
                     "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}});
    let body = json!({"openapi": doc, "base_path": "/pets", "upstream": {"url": "http://127.0.0.1:9"}});
    let api_id = text(&h.call("POST", "/v1/apis", Some(body)).await.body["id"]);
    h.call("POST", &format!("/v1/apis/{api_id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    let product = h.call("POST", "/v1/products", Some(json!({"name": "Pets", "items": [{"api_id": api_id}]}))).await;
    let plan = h.call("POST", "/v1/plans", Some(json!({"product_id": product.body["id"], "name": "Free"}))).await;

    let jar = sign_up(&h, dir.path(), "ada@example.com").await;
    let page = h.browse("GET", &format!("/apis/{api_id}"), &jar.header(), &[]).await;
    let csrf = hidden(&page.html, "csrf");
    let path = format!("/apis/{api_id}/console-key");
    assert_eq!(h.browse("POST", &path, &jar.header(), &[("csrf", &csrf)]).await.status, 409, "no subscription yet");
    let form = [("plan_id", text(&plan.body["id"])), ("csrf", csrf.clone())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(h.browse("POST", &format!("/apis/{api_id}/keys"), &jar.header(), &form).await.status, 200);
    let console = h.browse("POST", &path, &jar.header(), &[("csrf", &csrf)]).await;
    assert!(console.status == 200 && console.html.contains("data-secret>gh_"), "{}", console.html);
    let developer: Developer = h.repo.find(&email_unique("ada@example.com")).await.expect("store").expect("ada");
    let app = h.call("GET", &format!("/v1/developers/{}/apps", developer.id), None).await;
    let keys = h.call("GET", &format!("/v1/apps/{}/keys", text(&app.body["items"][0]["id"])), None).await;
    let console_key = keys.body["items"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"].as_str().is_some_and(|n| n.starts_with("Console key")))
        .expect("a console key")
        .clone();
    let expires =
        gatehouse_core::time::parse_rfc3339(console_key["expires_at"].as_str().expect("expires")).expect("time");
    assert_eq!(expires, common::START + 3_600_000);
}
