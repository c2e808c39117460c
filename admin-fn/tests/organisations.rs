//! Organisations end to end through the admin router and the portal: invitations by mail
//! (once, until they expire, past sign-up domain limits), roles over the organisation's
//! apps, removal that takes the pages and leaves the keys, and account closing that removes
//! the person and not the organisation's apps.
#![allow(clippy::unwrap_used)]

mod common;

use common::portal::sign_up;
use common::{hidden, text, Harness, Jar};
use serde_json::{json, Value};

/// The invitation links in `outbox`, oldest first by file name order.
fn invitation_links(outbox: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(outbox).map(|d| d.flatten().collect()).unwrap_or_default();
    entries.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    for entry in entries {
        let raw = std::fs::read_to_string(entry.path()).expect("readable");
        let text = raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        let Some(start) = text.find("http://portal.test/invitations/accept?token=") else { continue };
        let link: String =
            text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.?=_-".contains(*c)).collect();
        found.push(link.trim_start_matches("http://portal.test").to_owned());
    }
    found
}

/// Invites `email` as `role`; answers the link mailed.
async fn invite(h: &Harness, outbox: &std::path::Path, org: &str, email: &str, role: &str) -> String {
    let before = invitation_links(outbox);
    let sent = h
        .call("POST", &format!("/v1/organisations/{org}/invitations"), Some(json!({"email": email, "role": role})))
        .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    assert!(!sent.body.to_string().contains("token="), "the answer carries no link");
    let mut new: Vec<String> = invitation_links(outbox).into_iter().filter(|l| !before.contains(l)).collect();
    assert_eq!(new.len(), 1);
    new.remove(0)
}

/// Opens the link and presses "Accept and sign in"; answers the reply and the jar.
async fn accept(h: &Harness, link: &str) -> (common::Browsed, Jar) {
    let mut jar = Jar::default();
    let page = h.browse("GET", link, "", &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    jar.take(&page);
    let form = [("token", hidden(&page.html, "token")), ("csrf", hidden(&page.html, "csrf"))];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = h.browse("POST", "/invitations/accept", &jar.header(), &form).await;
    jar.take(&reply);
    (reply, jar)
}

async fn developer_id(h: &Harness, email: &str) -> String {
    let listed = h.call("GET", "/v1/developers", None).await.body;
    let found = listed["items"].as_array().unwrap().iter().find(|d| d["email"] == email).cloned();
    text(&found.expect("the developer exists")["id"])
}

fn keys_of(reply: &Value) -> Vec<(String, String)> {
    reply["items"].as_array().unwrap().iter().map(|k| (text(&k["id"]), text(&k["status"]))).collect()
}

#[tokio::test]
async fn an_invited_partner_shares_the_organisations_apps_as_their_role_allows() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_outbox(dir.path());
    let org = h.call("POST", "/v1/organisations", Some(json!({"name": "Acme", "tier": "gold"}))).await;
    assert_eq!(org.status, 201, "{:?}", org.body);
    let org_id = text(&org.body["id"]);
    let again = h.call("POST", "/v1/organisations", Some(json!({"name": "ACME"}))).await;
    assert_eq!(again.status, 409, "names are unique without case");

    // The partner's admin accepts: signed up, signed in, on the organisation's page.
    let link = invite(&h, dir.path(), &org_id, "lead@acme.example", "org-admin").await;
    let (accepted, lead) = accept(&h, &link).await;
    assert_eq!(accepted.status, 303, "{}", accepted.html);
    assert_eq!(accepted.headers["location"], format!("/organisations/{org_id}").as_str());
    let page = h.browse("GET", &format!("/organisations/{org_id}"), &lead.header(), &[]).await;
    assert!(page.html.contains("Acme") && page.html.contains("lead@acme.example"), "{}", page.html);
    assert!(page.html.contains("Send invitation"), "an org-admin may invite");
    let (replayed, _) = accept(&h, &link).await;
    assert_eq!(replayed.status, 410, "an invitation admits once");

    // The admin makes an app for the organisation; the app belongs to it.
    let csrf = hidden(&page.html, "csrf");
    let made = h
        .browse(
            "POST",
            &format!("/organisations/{org_id}/apps"),
            &lead.header(),
            &[("name", "Acme ERP"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.html);
    let app_id = made.headers["location"].to_str().unwrap().trim_start_matches("/apps/").to_owned();
    let app = h.call("GET", &format!("/v1/apps/{app_id}"), None).await;
    assert_eq!(app.body["organisation_id"], org_id.as_str());
    let listed = h.call("GET", &format!("/v1/organisations/{org_id}/apps"), None).await;
    assert_eq!(listed.body["items"][0]["id"], app_id.as_str());
    let created = h
        .browse("POST", &format!("/apps/{app_id}/keys"), &lead.header(), &[("name", "lead's key"), ("csrf", &csrf)])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);

    // A member sees the app and makes a key of their own, but may not revoke the admin's.
    let link = invite(&h, dir.path(), &org_id, "dev@acme.example", "member").await;
    let (_, member) = accept(&h, &link).await;
    let app_page = h.browse("GET", &format!("/apps/{app_id}"), &member.header(), &[]).await;
    assert_eq!(app_page.status, 200, "{}", app_page.html);
    let member_csrf = hidden(&app_page.html, "csrf");
    let own = h
        .browse(
            "POST",
            &format!("/apps/{app_id}/keys"),
            &member.header(),
            &[("name", "dev key"), ("csrf", &member_csrf)],
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.html);
    let keys = keys_of(&h.call("GET", &format!("/v1/apps/{app_id}/keys"), None).await.body);
    assert_eq!(keys.len(), 2);
    let revoke =
        h.browse("POST", &format!("/keys/{}/revoke", keys[0].0), &member.header(), &[("csrf", &member_csrf)]).await;
    assert_eq!(revoke.status, 403, "a member does not manage the organisation's keys");
    let invite_as_member = h
        .browse(
            "POST",
            &format!("/organisations/{org_id}/invitations"),
            &member.header(),
            &[("email", "x@acme.example"), ("role", "member"), ("csrf", &member_csrf)],
        )
        .await;
    assert_eq!(invite_as_member.status, 403);

    // Someone outside the organisation finds nothing, exactly as for an unknown id.
    let outsider = sign_up(&h, dir.path(), "eve@elsewhere.example").await;
    for path in [format!("/organisations/{org_id}"), format!("/apps/{app_id}"), "/organisations/org_nothere".into()] {
        let seen = h.browse("GET", &path, &outsider.header(), &[]).await;
        assert_eq!(seen.status, 404, "{path}");
        assert!(!seen.html.contains("Acme"), "{path}");
    }

    // Removing the member takes the pages from them at once; every key keeps working.
    let member_id = developer_id(&h, "dev@acme.example").await;
    let removed = h
        .browse(
            "POST",
            &format!("/organisations/{org_id}/members/{member_id}/remove"),
            &lead.header(),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.html);
    for path in [format!("/organisations/{org_id}"), format!("/apps/{app_id}")] {
        assert_eq!(h.browse("GET", &path, &member.header(), &[]).await.status, 404, "{path}");
    }
    let keys = keys_of(&h.call("GET", &format!("/v1/apps/{app_id}/keys"), None).await.body);
    assert!(keys.iter().all(|(_, status)| status == "active"), "{keys:?}");

    // The lead closes their account: the person goes, the organisation's app and keys stay.
    let lead_id = developer_id(&h, "lead@acme.example").await;
    let export = h.call("GET", &format!("/v1/developers/{lead_id}/export"), None).await;
    assert_eq!(export.body["memberships"][0]["role"], "org-admin", "{:?}", export.body);
    assert_eq!(export.body["apps"], json!([]), "the organisation's app is not the person's data");
    let closed = h.call("POST", &format!("/v1/developers/{lead_id}/close"), None).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let members = h.call("GET", &format!("/v1/organisations/{org_id}/members"), None).await;
    assert_eq!(members.body["items"], json!([]), "{:?}", members.body);
    let keys = keys_of(&h.call("GET", &format!("/v1/apps/{app_id}/keys"), None).await.body);
    assert!(keys.iter().all(|(_, status)| status == "active"), "{keys:?}");
    let app = h.call("GET", &format!("/v1/apps/{app_id}"), None).await;
    assert_eq!(app.body["name"], "Acme ERP", "the organisation's app keeps its name");
    let issued = h.call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "after"}))).await;
    assert_eq!(issued.status, 201, "the organisation's app takes keys after its maker left: {:?}", issued.body);
}

#[tokio::test]
async fn invitations_expire_and_pass_the_sign_up_domain_limit() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_signup_domains(dir.path(), &["provider.example"]);
    let org = text(&h.call("POST", "/v1/organisations", Some(json!({"name": "Bolt"}))).await.body["id"]);

    let late = invite(&h, dir.path(), &org, "late@bolt.example", "member").await;
    let on_time = invite(&h, dir.path(), &org, "ops@bolt.example", "member").await;
    let pending = h.call("GET", &format!("/v1/organisations/{org}/invitations"), None).await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 2);

    // Outside the sign-up domains, yet invited: the invitation vouches for the address.
    let (accepted, jar) = accept(&h, &on_time).await;
    assert_eq!(accepted.status, 303, "{}", accepted.html);
    assert_eq!(h.browse("GET", &format!("/organisations/{org}"), &jar.header(), &[]).await.status, 200);

    h.advance(7 * 24 * 3600 * 1000);
    let (expired, _) = accept(&h, &late).await;
    assert_eq!(expired.status, 410, "{}", expired.html);
    assert!(h.call("GET", "/v1/developers", None).await.body.to_string().contains("ops@bolt.example"));
    assert!(!h.call("GET", "/v1/developers", None).await.body.to_string().contains("late@bolt.example"));
    let pending = h.call("GET", &format!("/v1/organisations/{org}/invitations"), None).await;
    assert_eq!(pending.body["items"], json!([]));
}

#[tokio::test]
async fn organisation_routes_refuse_bad_input_with_problems() {
    let h = Harness::new();
    let blank = h.call("POST", "/v1/organisations", Some(json!({"name": " "}))).await;
    common::assert_problem(&blank, 422, "validation-failed");
    let org = text(&h.call("POST", "/v1/organisations", Some(json!({"name": "Acme"}))).await.body["id"]);
    let nobody =
        h.call("PUT", &format!("/v1/organisations/{org}/members/dev_nobody"), Some(json!({"role": "member"}))).await;
    assert_eq!(nobody.status, 404);
    let role = h.call("PUT", &format!("/v1/organisations/{org}/members/dev_x"), Some(json!({"role": "owner"}))).await;
    assert_eq!(role.status, 422, "{:?}", role.body);
    let no_mailer =
        h.call("POST", &format!("/v1/organisations/{org}/invitations"), Some(json!({"email": "a@b.example"}))).await;
    assert_eq!(no_mailer.status, 409, "{:?}", no_mailer.body);
    let app = h.call("POST", &format!("/v1/organisations/{org}/apps"), Some(json!({"developer_id": "dev_x"}))).await;
    assert_eq!(app.status, 422, "the maker must be a member: {:?}", app.body);
    let tier = h.call("PATCH", &format!("/v1/organisations/{org}"), Some(json!({"tier": "gold"}))).await;
    assert_eq!(tier.body["tier"], "gold");
}
