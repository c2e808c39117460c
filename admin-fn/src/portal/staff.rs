//! Staff sign-in pages: "Sign in with <provider>" on `/admin/signin` sends the browser to the
//! company's identity provider with a fresh `state`, `nonce` and PKCE challenge; the provider
//! sends it back to the callback, which spends the attempt once, trades the code for an ID
//! token, checks it, maps its groups claim to a role and opens an admin-area session.
//!
//! The `state` travels twice: to the provider and back in the URL, and in a cookie of this
//! browser. A return whose `state` is not the cookie's did not start here (login CSRF); one
//! whose attempt is spent or expired is a replay. Every refusal is a page that says what to do,
//! or problem+json for a client that asks for JSON.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{StaffSignIn, Subject};
use gatehouse_core::problem::{Problem, ProblemKind, CONTENT_TYPE};
use gatehouse_core::store::{AuditEntry, EntityKind, Etag, Record, Repo, StoreError, Write};
use serde::Deserialize;

use super::apps::failed;
use super::session::{self, cookie, equal, set_cookie};
use super::throttle::{self, Limit};
use super::{html_error, not_found_page};
use crate::auth::Actor;
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::staff::{claim_values, principal, StaffProvider, StaffRefusal, CALLBACK_PATH};
use crate::state::{random, AdminState};

/// The cookie that binds a sign-in's `state` to the browser that started it. `Lax`, not
/// `Strict`: the provider's redirect back is a cross-site navigation.
const STATE_COOKIE: &str = "__Host-gatehouse-oidc";
/// Sign-ins one client address may start per hour (an office behind one NAT).
const PER_ADDRESS: Limit = Limit { limit: 60, window: 3600 * 1000 };

/// 32 random bytes, base64url: a `state`, a `nonce` or a PKCE verifier (43 characters, the
/// shortest RFC 7636 allows, with 256 bits of entropy).
fn fresh_secret() -> Result<String, AdminError> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// Where the provider sends the browser back: the configured URL, or the portal's own.
fn redirect_url<R, P>(s: &AdminState<R, P>, provider: &StaffProvider) -> Option<String> {
    let portal = s.portal.public_url.as_deref().map(|base| format!("{}{CALLBACK_PATH}", base.trim_end_matches('/')));
    provider.settings.redirect_url.clone().or(portal)
}

/// `GET /admin/signin/oidc`: off to the identity provider. A link, not a form: the portal's
/// CSP (`form-action 'self'`) rightly stops a form from redirecting to another origin, and
/// starting a sign-in changes nothing a forged request could abuse (the return is bound to the
/// browser that started it, so a victim would only sign in as themselves). Throttled per
/// client address, since each start stores an attempt.
pub(crate) async fn start<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
) -> Response {
    let Some(provider) = s.staff.clone() else { return not_found_page(&s) };
    let address = client.map_or_else(|| "unknown".to_owned(), |c| c.0 .0.to_string());
    match throttle::allow(&s, &format!("staff-signin-address:{address}"), PER_ADDRESS).await {
        Ok(true) => {}
        Ok(false) => {
            let detail = "Too many sign-ins from this address. Wait a while, then try again.";
            return html_error(StatusCode::TOO_MANY_REQUESTS, "Please wait", detail);
        }
        Err(e) => return failed(e),
    }
    match leave_for(&s, &provider).await {
        Ok(Ok((url, state))) => {
            let mut response = Redirect::to(&url).into_response();
            let lifetime = StaffSignIn::LIFETIME / 1000;
            response.headers_mut().append(header::SET_COOKIE, set_cookie(STATE_COOKIE, &state, lifetime, "Lax"));
            response
        }
        Ok(Err(refusal)) => refuse(&headers, &refusal),
        Err(e) => failed(e),
    }
}

/// Records a new attempt; answers the provider's URL and the attempt's `state`.
async fn leave_for<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    provider: &StaffProvider,
) -> Result<Result<(String, String), StaffRefusal>, AdminError> {
    let Some(redirect) = redirect_url(s, provider) else {
        return Err(AdminError::Internal("staff sign-in needs a redirect URL or the portal's public URL".into()));
    };
    let (state, nonce, verifier) = (fresh_secret()?, fresh_secret()?, fresh_secret()?);
    let now = s.now();
    let url = match provider.authorization_url(&redirect, (&state, &nonce, &verifier), now).await {
        Ok(url) => url,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let attempt = StaffSignIn {
        id: hash_secret(&state).as_hex().to_owned(),
        nonce,
        code_verifier: verifier,
        created_at: now,
        expires_at: now + StaffSignIn::LIFETIME,
        used_at: None,
    };
    s.repo.transact(vec![Write::insert(&attempt)?]).await?;
    Ok(Ok((url, state)))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    /// The issuer that answered (RFC 9207), sent by providers that support it: a mismatch
    /// means the answer came from another provider (a mix-up attack).
    #[serde(default)]
    iss: String,
}

/// `GET /admin/signin/oidc/callback`: back from the identity provider.
pub(crate) async fn callback<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::ClientAddr>>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(provider) = s.staff.clone() else { return not_found_page(&s) };
    let from = client.map(|c| c.0 .0);
    let mut response = match finish(&s, &provider, &headers, &query).await {
        Ok(Ok(actor)) => {
            let subject = Subject::Admin { actor: actor.name.clone(), role: actor.role };
            let signed_in = session::signed_in(&s, subject, &actor.at(from), Vec::new(), "/admin").await;
            signed_in.unwrap_or_else(failed)
        }
        Ok(Err((refusal, spent))) => {
            tracing::info!(reason = refusal.code(), "a staff sign-in was refused");
            if spent {
                audit_refusal(&s, &refusal, from).await;
            }
            refuse(&headers, &refusal)
        }
        Err(e) => failed(e),
    };
    response.headers_mut().append(header::SET_COOKIE, set_cookie(STATE_COOKIE, "", 0, "Lax"));
    response
}

/// A refusal, and whether it came after the attempt was spent (and so is worth auditing:
/// before that, anyone can make up a return).
type Refused = (StaffRefusal, bool);

/// The staff member the provider's answer proves, or why not.
async fn finish<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    provider: &Arc<StaffProvider>,
    headers: &HeaderMap,
    query: &CallbackQuery,
) -> Result<Result<Actor, Refused>, AdminError> {
    let started_here = cookie(headers, STATE_COOKIE).is_some_and(|expected| equal(expected, &query.state));
    if !started_here {
        return Ok(Err((StaffRefusal::NotStartedHere, false)));
    }
    let Some(attempt) = spend(s, &query.state).await? else {
        return Ok(Err((StaffRefusal::Replayed, false)));
    };
    let refused = |refusal| Ok(Err((refusal, true)));
    if !query.error.is_empty() || query.code.is_empty() {
        let error = if query.error.is_empty() { "no code".to_owned() } else { query.error.chars().take(64).collect() };
        return refused(StaffRefusal::ProviderDeclined { error });
    }
    if !query.iss.is_empty() && query.iss != provider.settings.issuer {
        return refused(StaffRefusal::Token(gatehouse_core::jwt::Refusal::WrongIssuer));
    }
    let redirect = redirect_url(s, provider).unwrap_or_default();
    let now = s.now();
    let token = match provider.exchange(&query.code, &attempt.code_verifier, &redirect, now).await {
        Ok(token) => token,
        Err(refusal) => return refused(refusal),
    };
    let claims = match provider.verify(&token, &attempt.nonce, now).await {
        Ok(claims) => claims,
        Err(refusal) => return refused(refusal),
    };
    let who = principal(&claims);
    match provider.settings.role_for(&claim_values(&claims, &provider.settings.role_claim)) {
        Some(role) => Ok(Ok(Actor::new(who, role))),
        None => refused(StaffRefusal::NoRole { who: who.trim_start_matches("staff:").to_owned() }),
    }
}

/// Marks the attempt named by `state` used, atomically: of two returns with the same state,
/// one wins. `None` when it is unknown, used or expired.
async fn spend<R: Repo, P: Publisher>(s: &AdminState<R, P>, state: &str) -> Result<Option<StaffSignIn>, AdminError> {
    let record = match s.repo.get_record(EntityKind::StaffSignIn, hash_secret(state).as_hex()).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut attempt: StaffSignIn = record.decode()?;
    if !attempt.usable(s.now()) {
        return Ok(None);
    }
    attempt.used_at = Some(s.now());
    let write = Write::UpdateIf { record: Record::of(&attempt)?, expected: Etag::of_body(&record.body) };
    match s.repo.transact(vec![write]).await {
        Ok(()) => Ok(Some(attempt)),
        Err(StoreError::Changed | StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A refused staff sign-in in the audit trail, with its reason code.
async fn audit_refusal<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    refusal: &StaffRefusal,
    from: Option<std::net::IpAddr>,
) {
    let actor = match refusal {
        StaffRefusal::NoRole { who } => format!("staff:{who}"),
        _ => "staff:unknown".to_owned(),
    };
    let mut entry = AuditEntry::new(s.now(), &actor, "session.sign_in_refused", Vec::new());
    entry.reason = Some(refusal.code().to_owned());
    entry.from = from.map(|ip| ip.to_string());
    if let Err(e) = s.repo.append_audit(&entry).await {
        tracing::warn!(error = %e, "audit entry not written");
    }
}

/// Whether the client asked for JSON rather than a page.
fn wants_problem(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.contains("json") && !accept.contains("text/html")
}

/// The refusal as a page (problem+json for a client that asks for JSON), with its code.
fn refuse(headers: &HeaderMap, refusal: &StaffRefusal) -> Response {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let (heading, detail) = refusal.words();
    if wants_problem(headers) {
        let kind = match refusal.status() {
            400 => ProblemKind::BadRequest,
            403 => ProblemKind::Forbidden,
            503 => ProblemKind::ServiceUnavailable,
            _ => ProblemKind::Unauthorized,
        };
        let mut problem = Problem::new(kind).detail(detail).with("reason", refusal.code());
        problem.title = heading.to_owned();
        problem.status = status.as_u16();
        return (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], problem.to_json()).into_response();
    }
    html_error(status, heading, &format!("{detail} (Reason: {}.)", refusal.code()))
}
