//! Deciding whether a request may pass: route, credential, key status, entitlement,
//! lifecycle and limits — in that fixed order, ending in one [`Outcome`].

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};

use super::client_certificate::{certificate_hash, PresentedCertificate};
use super::sensitive::Guard;
use super::{append_headers, bearer, credential, limit_checks, refuse, Adapters, KnownCaller, Trace};
use crate::entitlements::Identity;
use crate::jwt::{self, JwtSettings};
use crate::keys::{self, KeyCheck};
use crate::lifecycle::Lifecycle;
use crate::limits::{self, LimitCheck, LimitDecision};
use crate::model::{Api, Key, Operation, Requirement};
use crate::ports::{Limiter, ReadModel};
use crate::routing::{self, Extras};
use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// A request that passed every check, with what the later stages need, borrowed from the
/// request's [`Trace`].
pub struct Admitted<'t> {
    pub api: &'t Api,
    pub operation: &'t Operation,
    /// Where the path below the API's base path starts in the request's path; see
    /// [`Admitted::rest`].
    rest_start: usize,
    /// `None` for a public operation.
    pub caller: Option<(&'t Key, &'t Identity)>,
    /// The end user a bearer token names (`sub`), when the caller came with one.
    pub subject: Option<&'t str>,
    /// The limits' verdict, for the response's `RateLimit-Policy` / `RateLimit` fields;
    /// `None` when no limit applies.
    pub limits: Option<LimitDecision>,
}

/// A refusal, boxed because a response is large and refusals are the uncommon path.
type Refusal = Box<Response<Bytes>>;

/// Runs the checks, recording in `trace` what they find (for the usage event) and the
/// outcome.
pub(super) async fn admit<'t, A: Adapters, B>(
    adapters: &A,
    request: &Request<B>,
    client: Option<IpAddr>,
    now: UnixMillis,
    portal_origin: Option<&str>,
    trace: &'t mut Trace,
) -> Result<Admitted<'t>, Refusal> {
    let Trace { outcome, api: matched_api, operation: matched_operation, caller } = trace;
    let routes = adapters.read_model().routes().await.map_err(|_| unavailable(outcome))?;
    // An absolute-form target names its own host, and the `Host` field is then ignored (RFC
    // 9112 §3.2.2): routing by `Host` would let `GET http://a/… Host: b` reach b's API while
    // anything reading the target saw a. (At the edge the URL is always absolute and its host
    // is the `Host` field's.)
    let host = request.uri().host().or_else(|| request.headers().get(http::header::HOST)?.to_str().ok());
    let extras = Extras { query: request.uri().query(), headers: Some(request.headers()) };
    let route = routes.resolve_with(host.unwrap_or(""), request.method().as_str(), request.uri().path(), extras);
    let route = route.map_err(|why| {
        *outcome = Outcome::NoRoute;
        Box::new(refuse::no_route(why))
    })?;
    let rest_start = request.uri().path().len() - route.rest.len();
    *matched_operation = route.operation_index;
    let api: &'t Api = matched_api.insert(Arc::clone(route.api));
    if !reachable_from(api, client) {
        // Outside the API's networks it does not exist: the answer of a path no API serves,
        // before anything (lifecycle headers, CORS of the API) could tell otherwise.
        *outcome = Outcome::NoRoute;
        return Err(Box::new(refuse::no_route(routing::NoMatch::NoApi)));
    }
    // The route's operation, borrowed from the API the trace keeps rather than the table.
    let Some(operation) = api.operations.get(route.operation_index) else {
        return Err(unavailable(outcome)); // a route table out of step with its API: never built so
    };

    if operation.refused.is_some() {
        // The reason is for the API's owner (the import report); a caller learns only that
        // no credential opens this operation.
        let detail = "No credential opens this operation: the API declares a security scheme the gateway cannot check.";
        return Err(refused(outcome, Outcome::Forbidden, detail));
    }
    if operation.public {
        *outcome = Outcome::Public;
        check_lifecycle(api, outcome)?;
        let guard = Guard { api, operation, identity: None, now, portal_origin };
        guard.check_request(request).map_err(|refusal| forbidden(outcome, refusal))?;
        return Ok(Admitted { api, operation, rest_start, caller: None, subject: None, limits: None });
    }
    let Authenticated { key, identity, subject, by_token } =
        authenticate(adapters, request, api, operation, now, outcome, caller).await?;
    // A token's scopes were checked against the operation's token requirements; the plan's
    // scopes are a key's.
    let plan_scopes: &[String] = if by_token { &[] } else { &operation.scopes };
    let Some(grant) = identity.grant_for(&api.id, &operation.id, plan_scopes) else {
        return Err(refused(
            outcome,
            Outcome::Forbidden,
            "Your app is not subscribed to a plan that covers this operation.",
        ));
    };
    check_lifecycle(api, outcome)?;
    // Before the limits: a call refused for its data uses none of the caller's quota.
    let guard = Guard { api, operation, identity: Some(identity), now, portal_origin };
    guard.check_request(request).map_err(|refusal| forbidden(outcome, refusal))?;
    let checks = limit_checks::for_call(grant, key, identity);
    let limits = enforce_limits(adapters, &checks, now, outcome).await.map_err(|mut refusal| {
        // A deprecated API says so on every answer, refusals included.
        append_headers(&mut refusal, api.lifecycle.response_headers());
        refusal
    })?;
    *outcome = Outcome::Valid;
    Ok(Admitted { api, operation, rest_start, caller: Some((&**key, &**identity)), subject, limits })
}

/// Whether a client at `client` may reach `api`: every client when the API names no
/// networks, else only a known address inside one of them.
fn reachable_from(api: &Api, client: Option<IpAddr>) -> bool {
    api.client_networks.is_empty() || client.is_some_and(|ip| api.client_networks.iter().any(|net| net.contains(&ip)))
}

fn forbidden(outcome: &mut Outcome, refusal: Refusal) -> Refusal {
    *outcome = Outcome::Forbidden;
    refusal
}

impl<'t> Admitted<'t> {
    /// The request path below the API's base path (`/` when the path is the base path): a
    /// slice of `path`, so routing allocates nothing.
    pub fn rest<'p>(&self, path: &'p str) -> &'p str {
        routing::path_below_base(path.get(self.rest_start..).unwrap_or_default())
    }

    /// The sensitive-data guard for this call's response.
    pub(super) fn guard<'g>(&self, now: UnixMillis, portal_origin: Option<&'g str>) -> Guard<'g>
    where
        't: 'g,
    {
        Guard { api: self.api, operation: self.operation, identity: self.caller.map(|(_, i)| i), now, portal_origin }
    }
}

fn refused(outcome: &mut Outcome, refusal: Outcome, detail: &str) -> Refusal {
    *outcome = refusal;
    Box::new(refuse::outcome(refusal, detail))
}

fn unavailable(outcome: &mut Outcome) -> Refusal {
    refused(
        outcome,
        Outcome::Unavailable,
        "A store the gateway needs is unreachable; the call was refused to stay safe.",
    )
}

/// The operation's ways in when its record names none: a key.
const KEY_ONLY: &[Requirement] = &[Requirement::KEY];

/// Who authenticated, borrowed from the request's [`KnownCaller`].
struct Authenticated<'c> {
    /// The key, the OAuth client record a token was issued to, or the registered certificate.
    key: &'c Arc<Key>,
    identity: &'c Arc<Identity>,
    subject: Option<&'c str>,
    /// A token (not a key) admitted the call.
    by_token: bool,
}

/// A bearer JWT when the operation takes one and one is presented; else the client
/// certificate, when an alternative takes it alone and the connection has one (unless a key
/// that the operation takes is presented too); else an API key. An alternative that needs a
/// certificate is out of reach without one.
async fn authenticate<'c, A: Adapters, B>(
    adapters: &A,
    request: &Request<B>,
    api: &Api,
    operation: &Operation,
    now: UnixMillis,
    outcome: &mut Outcome,
    caller: &'c mut KnownCaller,
) -> Result<Authenticated<'c>, Refusal> {
    let declared = if operation.requirements.is_empty() { KEY_ONLY } else { &operation.requirements };
    let certificate = request.extensions().get::<PresentedCertificate>();
    let alternatives = reachable(declared, certificate.is_some())
        .ok_or_else(|| refused(outcome, Outcome::Missing, "This operation needs a client certificate (mutual TLS)."))?;
    let takes_tokens = alternatives.iter().any(|r| r.jwt.is_some());
    let token = takes_tokens.then(|| bearer::presented(request.headers())).flatten();
    let by_token = match (token, api.auth.jwt.as_ref(), certificate) {
        (Some(raw), Some(settings), _) => {
            let requirement = authenticate_token(adapters, settings, &alternatives, raw, now, outcome, caller).await?;
            if requirement.key {
                // Both credentials: the key names the caller; the token only had to hold.
                authenticate_key(adapters, request, api, now, outcome, caller).await?;
            }
            !requirement.key
        }
        // A key sent beside the certificate is the caller's choice, where a key is taken.
        (_, _, Some(certificate))
            if alternatives.iter().any(Requirement::names_caller_by_certificate)
                && !(alternatives.iter().any(|r| r.key) && key_presented(api, request)) =>
        {
            authenticate_certificate(adapters, certificate, now, outcome, caller).await?;
            false
        }
        _ if alternatives.iter().any(|r| r.key) => {
            authenticate_key(adapters, request, api, now, outcome, caller).await?;
            false
        }
        _ => {
            let mut refusal = refused(outcome, Outcome::Missing, "This operation needs a bearer token (a JWT).");
            refusal.headers_mut().insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(refusal);
        }
    };
    let caller: &'c KnownCaller = caller;
    let (Some(key), Some(identity)) = (&caller.key, &caller.identity) else {
        return Err(unavailable(outcome));
    };
    Ok(Authenticated { key, identity, subject: caller.subject.as_deref(), by_token })
}

fn key_presented<B>(api: &Api, request: &Request<B>) -> bool {
    credential::find(&api.auth, request.headers(), request.uri().query()).is_some()
}

/// The alternatives a request can meet: all of them with a client certificate, those that
/// need none without one (`None` when that leaves nothing). Borrowed unless an alternative
/// has to be dropped, so operations without mTLS allocate nothing here.
fn reachable(declared: &[Requirement], has_certificate: bool) -> Option<Cow<'_, [Requirement]>> {
    if has_certificate || !declared.iter().any(|r| r.client_certificate) {
        return Some(Cow::Borrowed(declared));
    }
    let without: Vec<Requirement> = declared.iter().filter(|r| !r.client_certificate).cloned().collect();
    (!without.is_empty()).then_some(Cow::Owned(without))
}

/// The app that registered the certificate's subject; its record and identity land in
/// `caller`. The certificate itself was verified by the TLS layer.
async fn authenticate_certificate<A: Adapters>(
    adapters: &A,
    certificate: &PresentedCertificate,
    now: UnixMillis,
    outcome: &mut Outcome,
    caller: &mut KnownCaller,
) -> Result<(), Refusal> {
    let key = match adapters.read_model().key(&certificate_hash(&certificate.subject)).await {
        Ok(Some(key)) => &*caller.key.insert(key),
        // The subject is no secret (the CA vouched for it), and naming it is what its owner
        // needs to register it.
        Ok(None) => {
            let detail = format!("No app has registered the client certificate subject {:?}.", &*certificate.subject);
            return Err(refused(outcome, Outcome::Forbidden, &detail));
        }
        Err(_) => return Err(unavailable(outcome)),
    };
    check_status(key, now, outcome, "client certificate registration")?;
    caller.identity = Some(identity_of(adapters, &key.app_id, outcome).await?);
    Ok(())
}

/// The token's checks, then the scopes of an alternative that takes it, then the OAuth
/// client registered for its issuer and client id (or the issuer's anonymous client, `*`).
/// The client record and its identity land in `caller`.
async fn authenticate_token<'r, A: Adapters>(
    adapters: &A,
    settings: &JwtSettings,
    alternatives: &'r [Requirement],
    raw: &str,
    now: UnixMillis,
    outcome: &mut Outcome,
    caller: &mut KnownCaller,
) -> Result<&'r Requirement, Refusal> {
    let token_refused = |outcome: &mut Outcome, refusal: jwt::Refusal| {
        *outcome = bearer::outcome_of(&refusal);
        Box::new(bearer::refusal(&refusal))
    };
    let checked = match bearer::check(adapters, settings, raw, now).await {
        Ok(checked) => checked,
        Err(bearer::Failure::Refused(refusal)) => return Err(token_refused(outcome, refusal)),
        Err(bearer::Failure::Unavailable) => return Err(unavailable(outcome)),
    };
    // Known before the scopes are: a refused call still counts as its end user's.
    caller.subject.clone_from(&checked.verified.subject);
    let requirement =
        bearer::chosen_requirement(alternatives, &checked.verified.scopes).map_err(|r| token_refused(outcome, r))?;
    if requirement.key {
        return Ok(requirement);
    }
    let client =
        checked.verified.client.as_deref().ok_or_else(|| token_refused(outcome, jwt::Refusal::UnknownClient))?;
    let read = adapters.read_model();
    let mut record = read.key(&jwt::client_hash(&checked.issuer, client)).await.map_err(|_| unavailable(outcome))?;
    if record.is_none() {
        record =
            read.key(&jwt::client_hash(&checked.issuer, jwt::ANY_CLIENT)).await.map_err(|_| unavailable(outcome))?;
    }
    let key = &*caller.key.insert(record.ok_or_else(|| token_refused(outcome, jwt::Refusal::UnknownClient))?);
    check_status(key, now, outcome, "OAuth client registration")?;
    caller.identity = Some(identity_of(adapters, &key.app_id, outcome).await?);
    Ok(requirement)
}

/// Credential shape and checksum first (no lookup for garbage), then the key record, its
/// status and expiry, then the identity it belongs to. What is found is kept in `caller`
/// even when the call is then refused: the refusal counts as that key's usage.
async fn authenticate_key<A: Adapters, B>(
    adapters: &A,
    request: &Request<B>,
    api: &Api,
    now: UnixMillis,
    outcome: &mut Outcome,
    caller: &mut KnownCaller,
) -> Result<(), Refusal> {
    let presented = credential::find(&api.auth, request.headers(), request.uri().query())
        .ok_or_else(|| refused(outcome, Outcome::Missing, "This API needs an API key."))?;
    let hash = keys::checked_hash(presented.value)
        .map_err(|e| refused(outcome, Outcome::Malformed, &format!("The API key was refused before lookup: {e}.")))?;
    let key = match adapters.read_model().key(&hash).await {
        Ok(Some(key)) => &*caller.key.insert(key),
        Ok(None) => return Err(refused(outcome, Outcome::NotFound, "No such API key.")),
        Err(_) => return Err(unavailable(outcome)),
    };
    check_status(key, now, outcome, "API key")?;
    caller.identity = Some(identity_of(adapters, &key.app_id, outcome).await?);
    Ok(())
}

/// Refuses a revoked, disabled or expired credential record (`what` names it in the detail).
fn check_status(key: &Key, now: UnixMillis, outcome: &mut Outcome, what: &str) -> Result<(), Refusal> {
    let (refusal, state) = match keys::check_key(key, now) {
        KeyCheck::Active => return Ok(()),
        KeyCheck::Revoked => (Outcome::Revoked, "revoked"),
        KeyCheck::Disabled => (Outcome::Disabled, "disabled"),
        KeyCheck::Expired => (Outcome::Expired, "expired"),
    };
    Err(refused(outcome, refusal, &format!("This {what} has been {state}.")))
}

async fn identity_of<A: Adapters>(adapters: &A, app_id: &str, outcome: &mut Outcome) -> Result<Arc<Identity>, Refusal> {
    match adapters.read_model().identity(app_id).await {
        Ok(Some(identity)) => Ok(identity),
        Ok(None) => Err(refused(outcome, Outcome::Forbidden, "The caller's app has no active subscription.")),
        Err(_) => Err(unavailable(outcome)),
    }
}

fn check_lifecycle(api: &Api, outcome: &mut Outcome) -> Result<(), Refusal> {
    if let Lifecycle::Retired { successor, .. } = &api.lifecycle {
        *outcome = Outcome::Retired;
        return Err(Box::new(refuse::retired(successor.as_deref())));
    }
    Ok(())
}

/// Every policy that applies (the plan's, the key's own) is checked in one all-or-nothing
/// call. When the limiter is unreachable, quotas fail closed and burst limits follow their
/// policy's `on_failure`.
async fn enforce_limits<A: Adapters>(
    adapters: &A,
    checks: &[LimitCheck],
    now: UnixMillis,
    outcome: &mut Outcome,
) -> Result<Option<LimitDecision>, Refusal> {
    if checks.is_empty() {
        return Ok(None);
    }
    let decision = match adapters.limiter().acquire(checks, now).await {
        Ok(decision) => decision,
        Err(_) if limits::fails_open(checks) => return Ok(None),
        Err(_) => return Err(unavailable(outcome)),
    };
    let Some(refusal) = decision.refusal() else {
        return Ok(Some(decision));
    };
    let detail = if refusal == Outcome::QuotaExceeded {
        "The quota for this period is used up."
    } else {
        "Too many requests; slow down."
    };
    let mut res = refused(outcome, refusal, detail);
    limits::append_headers(&decision, res.headers_mut());
    Err(res)
}
