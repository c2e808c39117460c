//! Staff sign in to the admin area with the company's identity provider — a real OpenID
//! provider (`oidc-provider` under node on 127.0.0.1), through the real router: the groups
//! claim gives the role, and every answer that does not prove a live sign-in of this browser
//! is refused with a page that says so: a replayed or foreign state, an expired or used code,
//! an ID token for another audience, with another nonce, signed by another key, or expired.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::oidc::IdentityProvider;
use common::{hidden, Browsed, Harness, Jar};
use gatehouse_core::model::Role;
use gatehouse_core::store::Repo;
use serde_json::json;

/// Presses "Sign in with Corp SSO"; answers the provider's URL the browser is sent to.
async fn leave(h: &Harness, jar: &mut Jar) -> String {
    let form = h.browse("GET", "/admin/signin", &jar.header(), &[]).await;
    assert!(form.html.contains("Sign in with Corp SSO"), "{}", form.html);
    jar.take(&form);
    assert!(form.html.contains("href=\"/admin/signin/oidc\""), "{}", form.html);
    let left = h.browse("GET", "/admin/signin/oidc", &jar.header(), &[]).await;
    assert_eq!(left.status, 303, "{}", left.html);
    jar.take(&left);
    let state = left.set_cookies.iter().find(|c| c.starts_with("__Host-gatehouse-oidc=")).expect("state cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(state.contains(attribute), "{state}");
    }
    let url = left.headers["location"].to_str().expect("ascii").to_owned();
    for part in ["code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "response_type=code"] {
        assert!(url.contains(part), "{url}");
    }
    url
}

/// A whole sign-in as `login`; answers the jar and Gatehouse's answer to the provider's return.
async fn sign_in(h: &Harness, idp: &IdentityProvider, login: &str) -> (Jar, Browsed) {
    let mut jar = Jar::default();
    let back = idp.sign_in(&leave(h, &mut jar).await, login).await;
    let reply = h.browse("GET", &back, &jar.header(), &[]).await;
    jar.take(&reply);
    (jar, reply)
}

fn refused(reply: &Browsed, status: u16, reason: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.html);
    assert!(reply.html.contains(&format!("(Reason: {reason}.)")), "{reason}: {}", reply.html);
    assert!(!reply.set_cookies.iter().any(|c| c.starts_with("__Host-gatehouse-session=")), "no session");
}

#[tokio::test]
async fn staff_sign_in_through_the_provider_and_get_the_role_their_groups_map_to() {
    let (idp, dir) = (IdentityProvider::start(60), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    for (login, email, role) in [("alice", "alice@corp.test", "owner"), ("bob", "bob@corp.test", "approver")] {
        let (jar, reply) = sign_in(&h, &idp, login).await;
        assert_eq!((reply.status.as_u16(), &reply.headers["location"]), (303, &"/admin".parse().expect("value")));
        assert!(reply.set_cookies.iter().any(|c| c.starts_with("__Host-gatehouse-oidc=;")), "state cookie cleared");
        let admin = h.browse("GET", "/admin", &jar.header(), &[]).await;
        assert_eq!(admin.status, 200, "{}", admin.html);
        let named = format!("Signed in as <strong>staff:{email}</strong>, role <span class=\"badge\">{role}</span>");
        assert!(admin.html.contains(&named), "{}", admin.html);
    }
    let entries = h.repo.recent_audit(100).await.expect("audit");
    let sign_ins: Vec<_> = entries.iter().filter(|e| e.action == "session.sign_in").collect();
    assert_eq!(sign_ins.len(), 2, "{entries:?}");
    assert!(sign_ins.iter().any(|e| e.actor == "staff:alice@corp.test" && e.role == Some(Role::Owner)));
    assert!(sign_ins.iter().any(|e| e.actor == "staff:bob@corp.test" && e.role == Some(Role::Approver)));

    // An approver's session may not do what only owners and API admins may.
    let (jar, _) = sign_in(&h, &idp, "bob").await;
    let admin = h.browse("GET", "/admin", &jar.header(), &[]).await;
    let csrf = hidden(&admin.html, "csrf");
    let lifecycle =
        h.browse("POST", "/admin/apis/api_x/lifecycle", &jar.header(), &[("csrf", &csrf), ("action", "publish")]).await;
    assert_eq!(lifecycle.status, 403, "{}", lifecycle.html);
}

#[tokio::test]
async fn staff_whose_groups_map_to_no_role_are_refused_with_a_clear_page() {
    let (idp, dir) = (IdentityProvider::start(60), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    let (_, reply) = sign_in(&h, &idp, "eve").await;
    refused(&reply, 403, "no-role");
    assert!(reply.html.contains("No Gatehouse role for your account") && reply.html.contains("eve@corp.test"));
    let entries = h.repo.recent_audit(100).await.expect("audit");
    assert!(entries.iter().any(|e| e.action == "session.sign_in_refused"
        && e.actor == "staff:eve@corp.test"
        && e.reason.as_deref() == Some("no-role")));
}

#[tokio::test]
async fn a_replayed_or_foreign_state_opens_nothing() {
    let (idp, dir) = (IdentityProvider::start(60), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    let mut jar = Jar::default();
    let back = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
    let captured = jar.clone();
    let first = h.browse("GET", &back, &jar.header(), &[]).await;
    assert_eq!(first.status, 303, "{}", first.html);

    // The same return again, even with the state cookie it had: the attempt is spent.
    refused(&h.browse("GET", &back, &captured.header(), &[]).await, 400, "replayed-state");
    // In another browser (a login CSRF: an attacker's return, a victim's browser).
    refused(&h.browse("GET", &back, "", &[]).await, 400, "state-mismatch");
    let mut other = Jar::default();
    let _ = leave(&h, &mut other).await;
    refused(&h.browse("GET", &back, &other.header(), &[]).await, 400, "state-mismatch");

    // A client that asks for JSON gets problem+json with the same reason.
    let request = Request::builder()
        .uri(&back)
        .header("accept", "application/json")
        .header("cookie", captured.header())
        .body(Body::empty())
        .expect("request");
    let reply = h.send(request).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!((reply.body["reason"].as_str(), reply.body["status"].as_u64()), (Some("replayed-state"), Some(400)));
}

#[tokio::test]
async fn an_expired_code_is_refused_by_the_provider() {
    let (idp, dir) = (IdentityProvider::start(1), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    let mut jar = Jar::default();
    let back = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    refused(&h.browse("GET", &back, &jar.header(), &[]).await, 401, "code-refused");
}

/// On a provider whose codes live a minute, so that a loaded machine cannot expire the control
/// sign-in's code before it is traded (a one-second provider did, once, in CI).
#[tokio::test]
async fn a_code_already_traded_is_refused_by_the_provider_and_the_page_says_so() {
    let (idp, dir) = (IdentityProvider::start(60), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    // A code already traded, brought back with a fresh, valid state of this browser.
    let (_, used) = {
        let mut jar = Jar::default();
        let back = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
        let reply = h.browse("GET", &back, &jar.header(), &[]).await;
        assert_eq!(reply.status, 303, "the control sign-in works: {}", reply.html);
        (jar, back)
    };
    let code = used.split("code=").nth(1).and_then(|c| c.split('&').next()).expect("a code");
    let mut jar = Jar::default();
    let fresh = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
    let state = fresh.split("state=").nth(1).and_then(|s| s.split('&').next()).expect("a state");
    let forged = format!("/admin/signin/oidc/callback?code={code}&state={state}");
    let reply = h.browse("GET", &forged, &jar.header(), &[]).await;
    refused(&reply, 401, "code-refused");
    assert!(reply.html.contains("expired or was already used"), "{}", reply.html);
}

#[tokio::test]
async fn id_tokens_for_another_audience_nonce_or_key_are_refused() {
    let (idp, dir) = (IdentityProvider::start(60), tempfile::tempdir().expect("dir"));
    let h = Harness::with_staff(dir.path(), idp.settings());
    let past = h.clock.load(std::sync::atomic::Ordering::SeqCst) / 1000 - 3_600;
    let cases = [
        (json!({"aud": "another-client"}), false, "wrong-audience"),
        (json!({"aud": ["another-client", common::oidc::CLIENT_ID]}), false, "wrong-audience"),
        (json!({"nonce": "not-the-one-sent"}), false, "wrong-nonce"),
        (json!({"exp": past}), false, "id-token-expired"),
        (json!({"iss": "http://127.0.0.1:1"}), false, "wrong-issuer"),
        (json!({}), true, "bad-signature"),
    ];
    for (claims, foreign_key, reason) in cases {
        let mut jar = Jar::default();
        let back = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
        idp.tamper(claims, foreign_key).await;
        refused(&h.browse("GET", &back, &jar.header(), &[]).await, 401, reason);
    }
    // An answer that says another issuer sent it (RFC 9207 mix-up defence).
    let mut jar = Jar::default();
    let back = idp.sign_in(&leave(&h, &mut jar).await, "alice").await;
    assert!(back.contains("iss="), "the provider names itself: {back}");
    let issuer = form_urlencoded::byte_serialize(idp.issuer.as_bytes()).collect::<String>();
    let mixed = back.replace(&format!("iss={issuer}"), "iss=http%3A%2F%2Fevil.test");
    assert_ne!(mixed, back);
    refused(&h.browse("GET", &mixed, &jar.header(), &[]).await, 401, "wrong-issuer");

    // The same provider, untampered, signs in: the refusals above were the checks' doing.
    let (_, reply) = sign_in(&h, &idp, "alice").await;
    assert_eq!(reply.status, 303, "{}", reply.html);
}

#[tokio::test]
async fn an_unreachable_provider_gets_a_page_that_says_so_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let env = [
        ("GATEHOUSE_OIDC_ISSUER", "http://127.0.0.1:1"),
        ("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse"),
        ("GATEHOUSE_OIDC_CLIENT_SECRET", "secret"),
        ("GATEHOUSE_OIDC_ROLES", "admins=owner"),
    ];
    let settings = gatehouse_admin::staff::StaffSignInSettings::from_lookup(|name| {
        env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    })
    .expect("valid")
    .expect("configured");
    let h = Harness::with_staff(dir.path(), settings);
    let left = h.browse("GET", "/admin/signin/oidc", "", &[]).await;
    refused(&left, 503, "provider-unavailable");
    assert!(left.html.contains("Identity provider unavailable"), "{}", left.html);
    assert!(!left.set_cookies.iter().any(|c| c.starts_with("__Host-gatehouse-oidc=")), "no attempt was started");
    let attempts = h.repo.list_records(gatehouse_core::store::EntityKind::StaffSignIn, None).await.expect("store");
    assert!(attempts.is_empty(), "{attempts:?}");
}
