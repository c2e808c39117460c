//! The provider's admin pages and a developer's own data, through the real router: admin
//! sign-in by token, reject with a reason the developer reads, deprecation with a notice
//! mailed once to recent callers and a banner on their dashboard, export and closing.

mod common;

use common::portal::{admin, catalogue, get_key, links, sign_up};
use common::{hidden, text, Harness, TOKEN};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::{json, Value};

#[tokio::test]
async fn only_an_admin_token_opens_the_admin_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    assert_eq!(h.browse("GET", "/admin", "", &[]).await.headers["location"], "/admin/signin");
    let (_, wrong) = admin(&h, "not-the-token").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("That is not an admin token"));
    let developer = sign_up(&h, dir.path(), "ada@example.com").await;
    assert_eq!(h.browse("GET", "/admin", &developer.header(), &[]).await.status, 403);
    let (jar, right) = admin(&h, TOKEN).await;
    assert_eq!(right.status, 303);
    let page = h.browse("GET", "/admin", &jar.header(), &[]).await;
    assert!(page.status == 200 && page.html.contains("ada@example.com"), "{}", page.html);
}

#[tokio::test]
async fn a_rejection_reaches_the_developer_in_the_admins_words() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;

    let (jar, _) = admin(&h, TOKEN).await;
    let page = h.browse("GET", "/admin", &jar.header(), &[]).await;
    let at = page.html.find("action=\"/admin/subscriptions/").expect("a pending subscription");
    let action: String = page.html[at + 8..].chars().take_while(|c| *c != '"').collect();
    let form = [
        ("csrf", hidden(&page.html, "csrf")),
        ("decision", "reject".into()),
        ("reason", "Partners only, sorry.".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let forged = h.browse("POST", &action, &jar.header(), &[("csrf", "x"), ("decision", "approve")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(h.browse("POST", &action, &jar.header(), &form).await.status, 303);
    let dashboard = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    assert!(
        dashboard.html.contains("badge rejected") && dashboard.html.contains("Partners only, sorry."),
        "{}",
        dashboard.html
    );
}

fn calls(minute: i64, api: &str, app: &str, developer: &str, requests: u64) -> Rollup {
    let mut values = RollupValues { requests, ..RollupValues::default() };
    values.status_classes[1] = requests;
    let key = RollupKey {
        minute: minute - minute.rem_euclid(60_000),
        api_id: api.into(),
        operation_id: "get".into(),
        key_id: "key_x".into(),
        app_id: app.into(),
        developer_id: developer.into(),
    };
    Rollup { key, values }
}

#[tokio::test]
async fn deprecating_mails_recent_callers_once_and_shows_them_a_banner() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = dir.path().join("outbox");
    let h = Harness::with_outbox(&outbox);
    let (api_id, _) = catalogue(&h).await;
    let ada = sign_up(&h, &outbox, "ada@example.com").await;
    let _bob = sign_up(&h, &outbox, "bob@example.com").await;
    let developer: gatehouse_core::model::Developer =
        h.repo.find(&gatehouse_core::store::email_unique("ada@example.com")).await.expect("store").expect("ada");
    let app = h.call("POST", "/v1/apps", Some(json!({"developer_id": developer.id, "name": "Shop"}))).await;
    let app_id = text(&app.body["id"]);
    h.repo.add_rollups(&[calls(common::START - 60_000, &api_id, &app_id, &developer.id, 1234)]).await.expect("usage");
    let before = links(&outbox).len();
    let files = || std::fs::read_dir(&outbox).expect("outbox").count();
    let mails_before = files();

    let (jar, _) = admin(&h, TOKEN).await;
    let page = h.browse("GET", "/admin", &jar.header(), &[]).await;
    let csrf = hidden(&page.html, "csrf");
    let action = format!("/admin/apis/{api_id}/lifecycle");
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "deprecate"),
        ("sunset", "2030-01-31"),
        ("successor", "https://example.com/v2"),
    ];
    assert_eq!(h.browse("POST", &action, &jar.header(), &form).await.status, 303);
    assert_eq!(files(), mails_before + 1, "one notice: Ada called it, Bob did not");
    assert_eq!(links(&outbox).len(), before, "a notice holds no sign-in link");
    let again = [("csrf", csrf.as_str()), ("action", "deprecate"), ("sunset", "2030-02-28"), ("successor", "")];
    assert_eq!(h.browse("POST", &action, &jar.header(), &again).await.status, 303);
    assert_eq!(files(), mails_before + 1, "a new sunset date sends nothing more");
    let api = h.call("GET", &format!("/v1/apis/{api_id}"), None).await;
    assert_eq!(api.body["lifecycle"]["state"], "deprecated");

    let dashboard = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    assert!(dashboard.html.contains("Your app Shop called this API 1,234 times this week."), "{}", dashboard.html);
    assert!(dashboard.html.contains("2030-02-28"), "{}", dashboard.html);
}

#[tokio::test]
async fn a_developer_downloads_their_data_and_closes_their_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;

    let export = h.browse("GET", "/account/export.json", &ada.header(), &[]).await;
    assert_eq!(export.status, 200);
    assert!(export.headers["content-disposition"].to_str().expect("ascii").starts_with("attachment"));
    let data: Value = serde_json::from_str(&export.html).expect("JSON");
    assert_eq!(data["developer"]["email"], "ada@example.com");
    assert_eq!(data["keys"].as_array().map(Vec::len), Some(1));
    assert!(!export.html.contains("\"hash\""), "no key hash in an export");

    let page = h.browse("GET", "/account", &ada.header(), &[]).await;
    let csrf = hidden(&page.html, "csrf");
    let typo =
        h.browse("POST", "/account/close", &ada.header(), &[("csrf", &csrf), ("confirm", "ada@example.org")]).await;
    assert_eq!(typo.status, 422, "nothing closes without the email typed");
    let closed =
        h.browse("POST", "/account/close", &ada.header(), &[("csrf", &csrf), ("confirm", "ada@example.com")]).await;
    assert!(closed.status == 200 && closed.html.contains("Your account is closed"), "{}", closed.html);
    let key_id = data["keys"][0]["id"].as_str().expect("key id");
    assert_eq!(h.call("GET", &format!("/v1/keys/{key_id}"), None).await.body["status"], "revoked");
    assert_eq!(h.browse("GET", "/dashboard", &ada.header(), &[]).await.status, 303, "the session is gone");
}

#[tokio::test]
async fn an_admin_registers_an_oauth_client_that_the_developer_sees_on_the_app_and_can_revoke() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;
    let (jar, _) = admin(&h, TOKEN).await;
    let page = h.browse("GET", "/admin", &jar.header(), &[]).await;
    let at = page.html.find("<option value=\"").expect("an app to choose");
    let app_id: String = page.html[at + 15..].chars().take_while(|c| *c != '"').collect();
    let csrf = hidden(&page.html, "csrf");
    let form =
        [("csrf", csrf.as_str()), ("app_id", &app_id), ("issuer", "https://idp.test/"), ("client_id", "billing")];
    assert_eq!(h.browse("POST", "/admin/oauth-clients", &jar.header(), &form).await.status, 303);
    let again = h.browse("POST", "/admin/oauth-clients", &jar.header(), &form).await;
    assert_eq!(again.status, 409, "once per issuer");
    let forged = [("csrf", "x"), ("app_id", &app_id), ("issuer", "https://idp.test/"), ("client_id", "other")];
    assert_eq!(h.browse("POST", "/admin/oauth-clients", &jar.header(), &forged).await.status, 403);

    let app_page = h.browse("GET", &format!("/apps/{app_id}"), &ada.header(), &[]).await;
    let listed = app_page.html.find("OAuth client billing of https://idp.test/").expect("the client is listed");
    let row_end = app_page.html[listed..].find("</tr>").map_or(app_page.html.len(), |end| listed + end);
    let row = &app_page.html[listed..row_end];
    assert!(!row.contains("Rotate") && row.contains("Revoke"), "a registration is revoked, never rotated: {row}");
}

#[tokio::test]
async fn an_admin_registers_a_client_certificate_that_the_developer_sees_on_the_app_and_can_revoke() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;
    let (jar, _) = admin(&h, TOKEN).await;
    let page = h.browse("GET", "/admin", &jar.header(), &[]).await;
    let at = page.html.find("id=\"certificate-app\"").expect("the certificate form");
    let at = at + page.html[at..].find("<option value=\"").expect("an app to choose");
    let app_id: String = page.html[at + 15..].chars().take_while(|c| *c != '"').collect();
    let csrf = hidden(&page.html, "csrf");
    let form = [("csrf", csrf.as_str()), ("app_id", &app_id), ("subject", " CN=billing,O=Partner A ")];
    assert_eq!(h.browse("POST", "/admin/client-certificates", &jar.header(), &form).await.status, 303);
    assert_eq!(h.browse("POST", "/admin/client-certificates", &jar.header(), &form).await.status, 409, "once");
    let malformed = [("csrf", csrf.as_str()), ("app_id", &app_id), ("subject", "billing")];
    assert_eq!(h.browse("POST", "/admin/client-certificates", &jar.header(), &malformed).await.status, 422);
    let forged = [("csrf", "x"), ("app_id", &app_id), ("subject", "CN=other")];
    assert_eq!(h.browse("POST", "/admin/client-certificates", &jar.header(), &forged).await.status, 403);

    let app_page = h.browse("GET", &format!("/apps/{app_id}"), &ada.header(), &[]).await;
    let listed = app_page.html.find("client certificate CN=billing,O=Partner A").expect("the subject is listed");
    let row_end = app_page.html[listed..].find("</tr>").map_or(app_page.html.len(), |end| listed + end);
    let row = &app_page.html[listed..row_end];
    assert!(!row.contains("Rotate") && row.contains("Revoke"), "a registration is revoked, never rotated: {row}");
}
