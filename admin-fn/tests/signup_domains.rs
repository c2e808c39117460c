//! Sign-up limited to verified email domains: an address at a listed domain signs up through
//! the mailed link (which proves it); any other address is refused on the sign-in page, in the
//! same words whether or not it has an account, and gets no account; an account an admin made
//! at another domain still signs in.

mod common;

use common::portal::{ask_for_link, follow, links, mailed};
use common::{Harness, Jar};
use gatehouse_core::model::Developer;
use gatehouse_core::store::{email_unique, Repo};
use serde_json::json;

#[tokio::test]
async fn only_addresses_at_the_listed_domains_sign_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_signup_domains(dir.path(), &["corp.test", "partner.test"]);
    let form = h.browse("GET", "/signin", "", &[]).await;
    assert!(form.html.contains("open to addresses at <strong>corp.test or partner.test</strong>"), "{}", form.html);

    let mut jar = Jar::default();
    let (_, link) = mailed(dir.path(), ask_for_link(&h, &mut jar, "ada@Corp.test")).await;
    assert_eq!(follow(&h, &mut jar, &link).await.status, 303, "a listed domain signs up");

    let refused = ask_for_link(&h, &mut Jar::default(), "mallory@elsewhere.test").await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(refused.html.contains("New accounts are open to addresses at corp.test or partner.test only"));
    assert!(refused.html.contains("role=\"alert\""), "shown on the sign-in form: {}", refused.html);
    assert_eq!(links(dir.path()).len(), 1, "no mail for an address outside the domains");
    let none = h.repo.find::<Developer>(&email_unique("mallory@elsewhere.test")).await.expect("store");
    assert!(none.is_none(), "no account was made");
    let lookalike = ask_for_link(&h, &mut Jar::default(), "eve@corp.test.elsewhere.test").await;
    assert_eq!(lookalike.status, 403, "a domain is compared whole");
}

#[tokio::test]
async fn an_account_an_admin_made_elsewhere_still_signs_in_and_the_refusal_never_tells() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_signup_domains(dir.path(), &["corp.test"]);
    let made = h.call("POST", "/v1/developers", Some(json!({"email": "grace@partner.test", "name": "Grace"}))).await;
    assert_eq!(made.status, 201, "{:?}", made.body);

    let mut jar = Jar::default();
    let (known, link) = mailed(dir.path(), ask_for_link(&h, &mut jar, "grace@partner.test")).await;
    let unknown = ask_for_link(&h, &mut jar, "nobody@partner.test").await;
    let strip = |html: &str, email: &str| html.replace(email, "EMAIL");
    assert_eq!(known.status, unknown.status);
    assert_eq!(strip(&known.html, "grace@partner.test"), strip(&unknown.html, "nobody@partner.test"));
    assert_eq!(follow(&h, &mut jar, &link).await.status, 303, "the known account signs in");
}

#[tokio::test]
async fn without_a_list_anyone_signs_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_signup_domains(dir.path(), &[]);
    let form = h.browse("GET", "/signin", "", &[]).await;
    assert!(!form.html.contains("New accounts are open"), "{}", form.html);
    let (sent, _) = mailed(dir.path(), ask_for_link(&h, &mut Jar::default(), "anyone@anywhere.test")).await;
    assert_eq!(sent.status, 200, "{}", sent.html);
}
