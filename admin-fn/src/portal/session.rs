//! Portal sessions: a random token in an HttpOnly cookie, kept in the store only as its
//! SHA-256, and a form token (CSRF) that every form of the session carries.
//!
//! Forms shown before anyone signs in (the sign-in form itself) use a double-submit token
//! instead: a random value in a `SameSite=Strict` cookie that the form must repeat.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_core::hex;
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{Developer, Membership, Organisation, Session, Subject};
use gatehouse_core::store::{Repo, StoreError, Write};
use subtle::ConstantTimeEq;

use crate::auth::Actor;
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::{random, AdminState};

/// The session cookie. `__Host-` makes the browser refuse it unless it is `Secure`, has
/// `Path=/` and no `Domain`: no sibling host can set or overwrite it.
const SESSION_COOKIE: &str = "__Host-gatehouse-session";
/// The double-submit form token of anonymous forms.
const FORM_COOKIE: &str = "__Host-gatehouse-form";

/// A live session, with the developer it belongs to (if it is a developer's) and the
/// organisations they are a member of.
pub(crate) struct Current {
    pub session: Session,
    pub developer: Option<Developer>,
    pub memberships: Vec<(Membership, Organisation)>,
    /// What partner audiences match: each organisation's id and name, and the developer's
    /// own `organisation` label.
    pub organisation_names: Vec<String>,
}

impl Current {
    /// Who acts, with their role: `developer:dev_…`, or the admin principal who signed in.
    pub(crate) fn actor(&self) -> Actor {
        match &self.session.subject {
            Subject::Developer { developer_id } => Actor::developer(developer_id),
            Subject::Admin { actor, role } => Actor::new(actor.clone(), *role),
        }
    }

    /// The record ids a sign-in or sign-out is about: the developer's id (an admin principal
    /// is named by the entry's actor).
    pub(crate) fn subject_ids(&self) -> Vec<String> {
        match &self.session.subject {
            Subject::Developer { developer_id } => vec![developer_id.clone()],
            Subject::Admin { .. } => Vec::new(),
        }
    }

    pub(crate) fn is_admin(&self) -> bool {
        matches!(self.session.subject, Subject::Admin { .. })
    }

    /// Whether `given` is this session's form token.
    pub(crate) fn form_token_matches(&self, given: &str) -> bool {
        equal(&self.session.csrf, given)
    }
}

/// Whether `a` (never empty) equals `b`, in constant time.
pub(crate) fn equal(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A form whose only field is the session's form token (sign out, revoke, console key).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: i64, same_site: &str) -> HeaderValue {
    let cookie = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite={same_site}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session the request's cookie opens, if it is live.
pub(crate) async fn current<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
) -> Result<Option<Current>, AdminError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let session = match s.repo.get::<Session>(hash_secret(token).as_hex()).await {
        Ok(session) if session.live(s.now()) => session,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let developer = match &session.subject {
        Subject::Developer { developer_id } => match s.repo.get::<Developer>(developer_id).await {
            Ok(d) => Some(d),
            // The account is gone (closed): the session opens nothing.
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        },
        Subject::Admin { .. } => None,
    };
    let memberships = match &developer {
        Some(d) => crate::organisations::of_developer(s, &d.id).await?,
        None => Vec::new(),
    };
    let mut organisation_names: Vec<String> =
        memberships.iter().flat_map(|(_, org)| [org.id.clone(), org.name.clone()]).collect();
    organisation_names.extend(developer.as_ref().and_then(|d| d.organisation.clone()));
    Ok(Some(Current { session, developer, memberships, organisation_names }))
}

/// Opens a session for `subject`; answers the `Set-Cookie` value that carries it.
pub(crate) async fn open<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    subject: Subject,
) -> Result<HeaderValue, AdminError> {
    let token = hex::encode(&random::<32>()?);
    let lifetime = match subject {
        Subject::Developer { .. } => Session::DEVELOPER_LIFETIME,
        Subject::Admin { .. } => Session::ADMIN_LIFETIME,
    };
    let now = s.now();
    let session = Session {
        id: hash_secret(&token).as_hex().to_owned(),
        subject,
        csrf: hex::encode(&random::<16>()?),
        created_at: now,
        expires_at: now + lifetime,
    };
    s.repo.transact(vec![Write::insert(&session)?]).await?;
    Ok(set_cookie(SESSION_COOKIE, &token, lifetime / 1000, "Lax"))
}

/// Ends the request's session, if any; answers the `Set-Cookie` value that clears it.
pub(crate) async fn close<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
) -> Result<HeaderValue, AdminError> {
    let delete = Write::Remove { kind: gatehouse_core::store::EntityKind::Session, id: current.session.id.clone() };
    s.repo.transact(vec![delete]).await?;
    Ok(set_cookie(SESSION_COOKIE, "", 0, "Lax"))
}

/// The anonymous form token: the request's, or a fresh one with the cookie to set.
pub(crate) fn anonymous_form_token(headers: &HeaderMap) -> Result<(String, Option<HeaderValue>), AdminError> {
    match cookie(headers, FORM_COOKIE).filter(|v| v.len() == 32) {
        Some(token) => Ok((token.to_owned(), None)),
        None => {
            let token = hex::encode(&random::<16>()?);
            let cookie = set_cookie(FORM_COOKIE, &token, 24 * 3600, "Strict");
            Ok((token, Some(cookie)))
        }
    }
}

/// Whether an anonymous form repeated its cookie's token.
pub(crate) fn anonymous_form_token_matches(headers: &HeaderMap, given: &str) -> bool {
    cookie(headers, FORM_COOKIE).is_some_and(|expected| equal(expected, given))
}

/// Ends every sign-in the same way: opens a session for `subject`, records `session.sign_in`
/// by `actor` (on `targets`), and sends the browser to `to` with the session's cookie.
pub(crate) async fn signed_in<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    subject: Subject,
    actor: &Actor,
    targets: Vec<String>,
    to: &str,
) -> Result<Response, AdminError> {
    let cookie = open(s, subject).await?;
    s.record(actor, "session.sign_in", targets).await;
    Ok(super::signin::with_cookie(Redirect::to(to).into_response(), Some(cookie)))
}

/// Whoever is visiting a page: their live session, or `None` when signed out. An extractor so
/// that every page reads the session the same way, and a store failure is the portal's
/// "temporarily unavailable" page rather than a page shown as if signed out.
pub(crate) struct Visitor(pub Option<Current>);

impl<R: Repo, P: Publisher> axum::extract::FromRequestParts<AdminState<R, P>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &AdminState<R, P>,
    ) -> Result<Self, Self::Rejection> {
        current(s, &parts.headers).await.map(Visitor).map_err(super::apps::failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_among_many() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; __Host-gatehouse-session-x=no"));
        headers.append(header::COOKIE, HeaderValue::from_static("__Host-gatehouse-session=tok"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn form_tokens_must_match_exactly_and_never_when_empty() {
        assert!(equal("abc", "abc"));
        assert!(!equal("abc", "abd"));
        assert!(!equal("", ""));
    }
}
