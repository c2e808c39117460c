//! Access to sensitive data through the portal, as browsers use it: a developer asks on the
//! page a withheld field links to, an admin approves (or denies) in the admin area, and the
//! developer's dashboard and mail show the outcome.
#![allow(clippy::unwrap_used)]

mod common;

use common::portal::{admin_session, sign_up};
use common::{hidden, text, Harness};
use serde_json::json;

/// A published API; answers its id.
async fn published_api(h: &Harness) -> String {
    let api = h.pets_api().await;
    let api_id = text(&api.body["id"]);
    h.call("POST", &format!("/v1/apis/{api_id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    h.offer(&api_id).await;
    api_id
}

fn mail_text(outbox: &std::path::Path) -> String {
    std::fs::read_dir(outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_developer_asks_for_a_class_an_admin_approves_and_the_dashboard_shows_until_when() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let api_id = published_api(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    let created = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    let csrf = hidden(&created.html, "csrf");
    assert_eq!(h.browse("POST", "/apps", &ada.header(), &[("csrf", &csrf), ("name", "Helpdesk")]).await.status, 303);

    let form = h.browse("GET", &format!("/apis/{api_id}/access?class=pii"), &ada.header(), &[]).await;
    assert_eq!(form.status, 200);
    assert!(form.html.contains("value=\"pii\"") && form.html.contains("Helpdesk"), "{}", form.html);
    let at = form.html.find("<option value=\"").unwrap();
    let app_id: String = form.html[at + 15..].chars().take_while(|c| *c != '"').collect();
    let csrf = hidden(&form.html, "csrf");
    let asked = [
        ("csrf", csrf.as_str()),
        ("app_id", &app_id),
        ("class", "pii"),
        ("reason", "Tickets need emails."),
        ("days", "14"),
    ];
    let filed = h.browse("POST", &format!("/apis/{api_id}/access"), &ada.header(), &asked).await;
    assert_eq!((filed.status.as_u16(), filed.headers["location"].to_str().unwrap()), (303, "/dashboard#access"));
    let forged = [("csrf", "x"), ("app_id", app_id.as_str()), ("class", "pii"), ("reason", "r"), ("days", "1")];
    assert_eq!(h.browse("POST", &format!("/apis/{api_id}/access"), &ada.header(), &forged).await.status, 403);
    let dashboard = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    assert!(
        dashboard.html.contains("<strong>pii</strong>") && dashboard.html.contains("pending"),
        "{}",
        dashboard.html
    );

    let jar = admin_session(&h).await;
    let page = h.browse("GET", "/admin/access", &jar.header(), &[]).await;
    assert!(
        page.html.contains("ada@example.com, Helpdesk") && page.html.contains("Tickets need emails."),
        "{}",
        page.html
    );
    assert_eq!(h.browse("GET", "/admin/access", &ada.header(), &[]).await.status, 403, "admins only");
    let at = page.html.find("action=\"/admin/access/").unwrap() + "action=\"/admin/access/".len();
    let id: String = page.html[at..].chars().take_while(|c| *c != '"').collect();
    let csrf = hidden(&page.html, "csrf");
    let approve = [("csrf", csrf.as_str()), ("decision", "approve"), ("days", "7")];
    assert_eq!(h.browse("POST", &format!("/admin/access/{id}"), &jar.header(), &approve).await.status, 303);

    let dashboard = h.browse("GET", "/dashboard", &ada.header(), &[]).await;
    let until = gatehouse_core::time::rfc3339(common::START + 7 * 86_400_000);
    assert!(dashboard.html.contains(&format!("approved, until {}", &until[..10])), "{}", dashboard.html);
    assert!(mail_text(dir.path()).contains("Access to pii data approved"));
    let granted = h.browse("GET", "/admin/access", &jar.header(), &[]).await;
    assert!(granted.html.contains("Revoke pii for Helpdesk"), "{}", granted.html);
}

#[tokio::test]
async fn another_developers_app_cannot_be_named_in_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let api_id = published_api(&h).await;
    let someone_else = h.app("bob@example.com").await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    let form = h.browse("GET", &format!("/apis/{api_id}/access?class=pii"), &ada.header(), &[]).await;
    let csrf = hidden(&form.html, "csrf");
    let asked = [("csrf", csrf.as_str()), ("app_id", &someone_else), ("class", "pii"), ("reason", "r"), ("days", "1")];
    assert_eq!(h.browse("POST", &format!("/apis/{api_id}/access"), &ada.header(), &asked).await.status, 404);
    let anonymous = h.browse("GET", &format!("/apis/{api_id}/access?class=pii"), "", &[]).await;
    assert_eq!(anonymous.status, 303, "sign in first");
    assert!(anonymous.headers["location"].to_str().unwrap().starts_with("/signin?next="));
}
