//! Signing in without a password: the portal mails a one-time link (15 minutes, single use,
//! stored only as a hash); following it and pressing Continue opens a session. The same
//! steps sign a new developer up, recording when they accepted the terms of use. Only tests
//! shorten the lifetime (`PortalSettings::signin_link_lifetime`), to see a link expire.
//!
//! The link opens a page with a button rather than signing in on the GET: mail scanners
//! fetch links in messages, and a GET that signed in would spend the link before its owner
//! ever clicked it. The answer to "send me a link" never says whether the address is known.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::hex;
use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{Developer, SignInLink, Subject};
use gatehouse_core::store::{email_unique, Etag, Record, Repo, StoreError, Write};
use serde::Deserialize;

use super::domains::{in_words, signup_allowed};
use super::session::{self, anonymous_form_token, anonymous_form_token_matches, CsrfForm};
use super::throttle::{self, Limit};
use super::{expired_form, html_error, render, Chrome};
use crate::auth::Actor;
use crate::error::AdminError;
use crate::mail::Mail;
use crate::publisher::Publisher;
use crate::routes::developers;
use crate::state::{fresh_id, random, AdminState};

/// Links one address may ask for per hour: enough for typos and a lost mail, too few to
/// flood an inbox.
const PER_EMAIL: Limit = Limit { limit: 5, window: 3600 * 1000 };
/// Sign-in requests one client address may make per hour (an office behind one NAT signs in
/// many people).
const PER_ADDRESS: Limit = Limit { limit: 30, window: 3600 * 1000 };

#[derive(Template)]
#[template(path = "signin.html")]
pub(super) struct SignInPage {
    pub chrome: Chrome,
    pub form_token: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
    /// The domains sign-up is limited to, in words; empty: none.
    pub domains: String,
}

#[derive(Template)]
#[template(path = "signin_sent.html")]
struct SentPage {
    chrome: Chrome,
    email: String,
    lifetime: String,
}

#[derive(Template)]
#[template(path = "signin_verify.html")]
struct VerifyPage {
    chrome: Chrome,
    form_token: String,
    token: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only a path on this site may be returned to (no `//host` or `https://…`): an open
/// redirect after sign-in would make the portal's own mail a phishing tool.
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains("://");
    ok.then_some(next).filter(|n| n.len() <= 512 && !n.chars().any(char::is_control))
}

pub(crate) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub(super) fn failed(e: AdminError) -> Response {
    tracing::error!(error = %e, "sign-in failed");
    html_error(StatusCode::SERVICE_UNAVAILABLE, "Sign-in is unavailable", "Please try again in a moment.")
}

/// `GET /signin`.
pub(crate) async fn form<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let (form_token, cookie) = match anonymous_form_token(&headers) {
        Ok(token) => token,
        Err(e) => return failed(e),
    };
    let next = local_path(&query.next).unwrap_or("").to_owned();
    let domains = in_words(&s.portal.signup_domains);
    let page =
        SignInPage { chrome: Chrome::new(&s.portal), form_token, next, email: String::new(), error: None, domains };
    with_cookie(render(&page), cookie)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /signin`: mails a link, whether or not the address has an account.
pub(crate) async fn send_link<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
    Form(form): Form<SignInForm>,
) -> Response {
    if !anonymous_form_token_matches(&headers, &form.csrf) {
        return html_error(StatusCode::FORBIDDEN, "Form expired", "Reload the sign-in page and try again.");
    }
    let email = form.email.trim().to_owned();
    let mut errors = Vec::new();
    crate::routes::validate::email(&email, &mut errors);
    if !errors.is_empty() || email.len() > 254 {
        let (form_token, _) = anonymous_form_token(&headers).unwrap_or_default();
        let error = Some("Enter an email address, like name@example.com.".to_owned());
        let domains = in_words(&s.portal.signup_domains);
        let page = SignInPage { chrome: Chrome::new(&s.portal), form_token, next: form.next, email, error, domains };
        let mut response = render(&page);
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return response;
    }
    let address = client.map_or_else(|| "unknown".to_owned(), |c| c.0 .0.to_string());
    match throttled(&s, &email, &address).await {
        Ok(true) => {
            let detail = "Too many sign-in requests. Wait a while, then try again.";
            return html_error(StatusCode::TOO_MANY_REQUESTS, "Please wait", detail);
        }
        Ok(false) => {}
        Err(e) => return failed(e),
    }
    if !signup_allowed(&s.portal.signup_domains, &email) {
        return super::domains::outside_domains(&s, &headers, form.next, email).await;
    }
    if let Err(e) = mail_link(&s, &email, local_path(&form.next)).await {
        return failed(e);
    }
    render(&SentPage { chrome: Chrome::new(&s.portal), email, lifetime: s.portal.signin_link_lifetime_words() })
}

async fn throttled<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    email: &str,
    address: &str,
) -> Result<bool, AdminError> {
    let by_address = throttle::allow(s, &format!("signin-address:{address}"), PER_ADDRESS).await?;
    let by_email =
        by_address && throttle::allow(s, &format!("signin-email:{}", email.to_lowercase()), PER_EMAIL).await?;
    Ok(!by_email)
}

pub(super) async fn mail_link<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    email: &str,
    next: Option<&str>,
) -> Result<(), AdminError> {
    let (Some(mailer), Some(base)) = (s.mailer.as_ref(), s.portal.public_url.as_deref()) else {
        return Err(AdminError::Internal("no mailer or public URL is configured for the portal".into()));
    };
    let token = hex::encode(&random::<32>()?);
    let now = s.now();
    let link = SignInLink {
        id: hash_secret(&token).as_hex().to_owned(),
        email: email.to_owned(),
        next: next.map(str::to_owned),
        created_at: now,
        expires_at: now + s.portal.signin_link_lifetime,
        used_at: None,
    };
    s.repo.transact(vec![Write::insert(&link)?]).await?;
    let url = format!("{}/signin/verify?token={token}", base.trim_end_matches('/'));
    let text = format!(
        "Hello,\n\nSomeone (we hope you) asked to sign in to {site} with this address. To continue, open this \
         link within {lifetime}:\n\n{url}\n\nThe link works once. If you did not ask for it, ignore this message; \
         nothing happens without the link.\n",
        site = s.portal.site_name,
        lifetime = s.portal.signin_link_lifetime_words()
    );
    let mail = Mail { to: email.to_owned(), subject: format!("Sign in to {}", s.portal.site_name), text };
    mailer.send(mail).await.map_err(|e| AdminError::Internal(e.to_string()))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    pub(crate) token: String,
}

/// `GET /signin/verify?token=…`: a page with one button; nothing is spent yet.
pub(crate) async fn confirm<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Response {
    let (form_token, cookie) = match anonymous_form_token(&headers) {
        Ok(token) => token,
        Err(e) => return failed(e),
    };
    with_cookie(render(&VerifyPage { chrome: Chrome::new(&s.portal), form_token, token: query.token }), cookie)
}

#[derive(Debug, Deserialize)]
pub(crate) struct VerifyForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /signin/verify`: spends the link and opens a session, signing a new address up.
pub(crate) async fn verify<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
    Form(form): Form<VerifyForm>,
) -> Response {
    if !anonymous_form_token_matches(&headers, &form.csrf) {
        return html_error(StatusCode::FORBIDDEN, "Form expired", "Open the link from your email again.");
    }
    let link = match spend(&s, &form.token).await {
        Ok(Some(link)) => link,
        Ok(None) => {
            let detail = "This sign-in link has expired or was already used. Ask for a new one.";
            return html_error(StatusCode::GONE, "Link expired", detail);
        }
        Err(e) => return failed(e),
    };
    let developer = match developer_for(&s, &link.email, false).await {
        Ok(Some(developer)) => developer,
        Ok(None) => {
            let detail = "New accounts are open to other email domains only, and this address has no account.";
            return html_error(StatusCode::FORBIDDEN, "Sign-up is limited", detail);
        }
        Err(e) => return failed(e),
    };
    let actor = Actor::developer(&developer.id).at(client.map(|c| c.0 .0));
    let subject = Subject::Developer { developer_id: developer.id.clone() };
    let next = link.next.as_deref().and_then(local_path).unwrap_or("/dashboard");
    session::signed_in(&s, subject, &actor, vec![developer.id], next).await.unwrap_or_else(failed)
}

/// Marks the link used, atomically: of two concurrent uses, one wins and the other finds it
/// used. `None` when the link is unknown, used or expired.
async fn spend<R: Repo, P: Publisher>(s: &AdminState<R, P>, token: &str) -> Result<Option<SignInLink>, AdminError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let record =
        match s.repo.get_record(gatehouse_core::store::EntityKind::SignInLink, hash_secret(token).as_hex()).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    let mut link: SignInLink = record.decode()?;
    if !link.usable(s.now()) {
        return Ok(None);
    }
    link.used_at = Some(s.now());
    let write = Write::UpdateIf { record: Record::of(&link)?, expected: Etag::of_body(&record.body) };
    match s.repo.transact(vec![write]).await {
        Ok(()) => Ok(Some(link)),
        Err(StoreError::Changed | StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The developer with this email, or a new one who accepts the terms of use now; `None`
/// when there is none and the address is outside the sign-up domains (unless `invited`: an
/// organisation's invitation vouches for the address).
pub(crate) async fn developer_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    email: &str,
    invited: bool,
) -> Result<Option<Developer>, AdminError> {
    if let Some(found) = s.repo.find::<Developer>(&email_unique(email)).await? {
        return Ok(Some(found));
    }
    if !invited && !signup_allowed(&s.portal.signup_domains, email) {
        return Ok(None);
    }
    let name = email.split('@').next().unwrap_or(email).to_owned();
    let developer = Developer {
        id: fresh_id(IdKind::Developer)?,
        email: email.to_owned(),
        name,
        group: None,
        organisation: None,
        created_at: s.now(),
        terms_accepted_at: Some(s.now()),
        closed_at: None,
    };
    let actor = Actor::developer(&developer.id);
    match developers::create(s, &actor, developer).await {
        Ok(created) => Ok(Some(created)),
        // Signed up a moment ago by a concurrent verify of another link: use that account.
        Err(AdminError::Store(StoreError::Conflict(_))) => s
            .repo
            .find::<Developer>(&email_unique(email))
            .await?
            .ok_or_else(|| AdminError::Internal("a developer conflicted but is not found".into()))
            .map(Some),
        Err(e) => Err(e),
    }
}

/// `POST /signout`.
pub(crate) async fn sign_out<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    match session::current(&s, &headers).await {
        Ok(Some(current)) if current.form_token_matches(&form.csrf) => match session::close(&s, &current).await {
            Ok(cookie) => {
                s.record(&current.actor(), "session.sign_out", current.subject_ids()).await;
                with_cookie(Redirect::to("/").into_response(), Some(cookie))
            }
            Err(e) => failed(e),
        },
        Ok(Some(_)) => expired_form(),
        Ok(None) => Redirect::to("/").into_response(),
        Err(e) => failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path("/apis/api_1"), Some("/apis/api_1"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil", "", "/a\nb", "/x?u=http://e"] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
