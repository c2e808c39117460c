//! Deciding whether a request may pass: route, credential, key status, entitlement,
//! lifecycle and limits — in that fixed order, ending in one [`Outcome`].

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use super::{append_headers, credential, limit_checks, refuse, Adapters, KnownCaller, Trace};
use crate::entitlements::Identity;
use crate::keys::{self, KeyCheck};
use crate::lifecycle::Lifecycle;
use crate::limits::{self, LimitCheck, LimitDecision};
use crate::model::{Api, Key};
use crate::ports::{Limiter, ReadModel};
use crate::routing;
use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// A request that passed every check, with what the later stages need, borrowed from the
/// request's [`Trace`].
pub struct Admitted<'t> {
    pub api: &'t Api,
    /// Where the path below the API's base path starts in the request's path; see
    /// [`Admitted::rest`].
    rest_start: usize,
    /// `None` for a public operation.
    pub caller: Option<(&'t Key, &'t Identity)>,
    /// The limits' verdict, for the response's `RateLimit-Policy` / `RateLimit` fields;
    /// `None` when no limit applies.
    pub limits: Option<LimitDecision>,
}

/// A refusal, boxed because a response is large and refusals are the uncommon path.
type Refusal = Box<Response<Bytes>>;

/// Runs the checks, recording in `trace` what they find (for the usage event) and the
/// outcome.
pub(super) async fn admit<'t, A: Adapters>(
    adapters: &A,
    request: &Request<Bytes>,
    now: UnixMillis,
    trace: &'t mut Trace,
) -> Result<Admitted<'t>, Refusal> {
    let Trace { outcome, api: matched_api, operation: matched_operation, caller } = trace;
    let routes = adapters.read_model().routes().await.map_err(|_| unavailable(outcome))?;
    // An absolute-form target names its own host, and the `Host` field is then ignored (RFC
    // 9112 §3.2.2): routing by `Host` would let `GET http://a/… Host: b` reach b's API while
    // anything reading the target saw a. (At the edge the URL is always absolute and its host
    // is the `Host` field's.)
    let host = request.uri().host().or_else(|| request.headers().get(http::header::HOST)?.to_str().ok());
    let route = routes.resolve(host.unwrap_or(""), request.method().as_str(), request.uri().path()).map_err(|why| {
        *outcome = Outcome::NoRoute;
        Box::new(refuse::no_route(why))
    })?;
    let rest_start = request.uri().path().len() - route.rest.len();
    let operation = route.operation;
    *matched_operation = route.operation_index;
    let api: &'t Api = matched_api.insert(Arc::clone(route.api));

    if operation.public {
        *outcome = Outcome::Public;
        check_lifecycle(api, outcome)?;
        return Ok(Admitted { api, rest_start, caller: None, limits: None });
    }
    let (key, identity) = authenticate(adapters, request, api, now, outcome, caller).await?;
    let Some(grant) = identity.grant_for(&api.id, &operation.id, &operation.scopes) else {
        return Err(refused(
            outcome,
            Outcome::Forbidden,
            "Your app is not subscribed to a plan that covers this operation.",
        ));
    };
    check_lifecycle(api, outcome)?;
    let checks = limit_checks::for_call(grant, key, identity);
    let limits = enforce_limits(adapters, &checks, now, outcome).await.map_err(|mut refusal| {
        // A deprecated API says so on every answer, refusals included.
        append_headers(&mut refusal, api.lifecycle.response_headers());
        refusal
    })?;
    *outcome = Outcome::Valid;
    Ok(Admitted { api, rest_start, caller: Some((&**key, &**identity)), limits })
}

impl Admitted<'_> {
    /// The request path below the API's base path (`/` when the path is the base path): a
    /// slice of `path`, so routing allocates nothing.
    pub fn rest<'p>(&self, path: &'p str) -> &'p str {
        routing::path_below_base(path.get(self.rest_start..).unwrap_or_default())
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

/// Credential shape and checksum first (no lookup for garbage), then the key record, its
/// status and expiry, then the identity it belongs to. What is found is kept in `caller`
/// even when the call is then refused: the refusal counts as that key's usage.
async fn authenticate<'c, A: Adapters>(
    adapters: &A,
    request: &Request<Bytes>,
    api: &Api,
    now: UnixMillis,
    outcome: &mut Outcome,
    caller: &'c mut KnownCaller,
) -> Result<(&'c Arc<Key>, &'c Arc<Identity>), Refusal> {
    let presented = credential::find(&api.auth, request.headers(), request.uri().query())
        .ok_or_else(|| refused(outcome, Outcome::Missing, "This API needs an API key."))?;
    let hash = keys::checked_hash(presented.value)
        .map_err(|e| refused(outcome, Outcome::Malformed, &format!("The API key was refused before lookup: {e}.")))?;
    let read = adapters.read_model();
    let key = match read.key(&hash).await {
        Ok(Some(key)) => &*caller.key.insert(key),
        Ok(None) => return Err(refused(outcome, Outcome::NotFound, "No such API key.")),
        Err(_) => return Err(unavailable(outcome)),
    };
    match keys::check_key(key, now) {
        KeyCheck::Active => {}
        KeyCheck::Revoked => return Err(refused(outcome, Outcome::Revoked, "This API key has been revoked.")),
        KeyCheck::Disabled => return Err(refused(outcome, Outcome::Disabled, "This API key is disabled.")),
        KeyCheck::Expired => return Err(refused(outcome, Outcome::Expired, "This API key has expired.")),
    }
    let identity = match read.identity(&key.app_id).await {
        Ok(Some(identity)) => &*caller.identity.insert(identity),
        Ok(None) => return Err(refused(outcome, Outcome::Forbidden, "The key's app has no active subscription.")),
        Err(_) => return Err(unavailable(outcome)),
    };
    Ok((key, identity))
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
