//! Deciding whether a request may pass: route, credential, key status, entitlement,
//! lifecycle and limits — in that fixed order, ending in one [`Outcome`].

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, Request, Response};

use super::{append_headers, credential, refuse, Adapters};
use crate::entitlements::{Grant, Identity};
use crate::keys::{self, KeyCheck};
use crate::lifecycle::Lifecycle;
use crate::limits::{self, LimitCheck};
use crate::model::{Api, Key};
use crate::ports::{Limiter, ReadModel};
use crate::time::UnixMillis;
use crate::usage::UsageEvent;
use crate::verdict::Outcome;

/// A request that passed every check, with what the later stages need.
pub struct Admitted {
    pub api: Arc<Api>,
    /// Where the path below the API's base path starts in the request's path; see
    /// [`Admitted::rest`].
    rest_start: usize,
    /// `None` for a public operation.
    pub caller: Option<(Arc<Key>, Arc<Identity>)>,
    /// `RateLimit-Policy` / `RateLimit` headers to add to the response.
    pub limit_headers: Vec<(HeaderName, String)>,
}

/// A refusal, boxed because a response is large and refusals are the uncommon path.
type Refusal = Box<Response<Bytes>>;

pub async fn admit<A: Adapters>(
    adapters: &A,
    request: &Request<Bytes>,
    now: UnixMillis,
    event: &mut UsageEvent,
) -> Result<Admitted, Refusal> {
    let routes = adapters.read_model().routes().await.map_err(|_| unavailable(event))?;
    let host = request.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).or(request.uri().host());
    let route = routes.resolve(host.unwrap_or(""), request.method().as_str(), request.uri().path()).map_err(|why| {
        event.outcome = Outcome::NoRoute;
        Box::new(refuse::no_route(why))
    })?;
    let (api, operation) = (Arc::clone(route.api), route.operation);
    let rest_start = request.uri().path().len() - route.rest.len();
    event.api_id.clone_from(&api.id);
    event.operation_id.clone_from(&operation.id);

    if operation.public {
        event.outcome = Outcome::Public;
        check_lifecycle(&api, event)?;
        return Ok(Admitted { api, rest_start, caller: None, limit_headers: Vec::new() });
    }
    let (key, identity) = authenticate(adapters, request, &api, now, event).await?;
    let Some(grant) = identity.grant_for(&api.id, &operation.id, &operation.scopes) else {
        return Err(refused(
            event,
            Outcome::Forbidden,
            "Your app is not subscribed to a plan that covers this operation.",
        ));
    };
    check_lifecycle(&api, event)?;
    let limit_headers = enforce_limits(adapters, grant, &key, &identity, now, event).await.map_err(|mut refusal| {
        // A deprecated API says so on every answer, refusals included.
        append_headers(&mut refusal, api.lifecycle.response_headers());
        refusal
    })?;
    event.outcome = Outcome::Valid;
    Ok(Admitted { api, rest_start, caller: Some((key, identity)), limit_headers })
}

impl Admitted {
    /// The request path below the API's base path (`/` when the path is the base path): a
    /// slice of `path`, so routing allocates nothing.
    pub fn rest<'p>(&self, path: &'p str) -> &'p str {
        match path.get(self.rest_start..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => "/",
        }
    }
}

fn refused(event: &mut UsageEvent, outcome: Outcome, detail: &str) -> Refusal {
    event.outcome = outcome;
    Box::new(refuse::outcome(outcome, detail))
}

fn unavailable(event: &mut UsageEvent) -> Refusal {
    refused(event, Outcome::Unavailable, "A store the gateway needs is unreachable; the call was refused to stay safe.")
}

/// Credential shape and checksum first (no lookup for garbage), then the key record, its
/// status and expiry, then the identity it belongs to.
async fn authenticate<A: Adapters>(
    adapters: &A,
    request: &Request<Bytes>,
    api: &Api,
    now: UnixMillis,
    event: &mut UsageEvent,
) -> Result<(Arc<Key>, Arc<Identity>), Refusal> {
    let presented = credential::find(&api.auth, request.headers(), request.uri().query())
        .ok_or_else(|| refused(event, Outcome::Missing, "This API needs an API key."))?;
    let parsed = keys::parse(presented.value)
        .map_err(|e| refused(event, Outcome::Malformed, &format!("The API key was refused before lookup: {e}.")))?;
    let read = adapters.read_model();
    let key = match read.key(&keys::hash_secret(parsed.secret())).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(refused(event, Outcome::NotFound, "No such API key.")),
        Err(_) => return Err(unavailable(event)),
    };
    event.key_id = Some(key.id.clone());
    event.app_id = Some(key.app_id.clone());
    match keys::check_key(&key, now) {
        KeyCheck::Active => {}
        KeyCheck::Revoked => return Err(refused(event, Outcome::Revoked, "This API key has been revoked.")),
        KeyCheck::Disabled => return Err(refused(event, Outcome::Disabled, "This API key is disabled.")),
        KeyCheck::Expired => return Err(refused(event, Outcome::Expired, "This API key has expired.")),
    }
    let identity = match read.identity(&key.app_id).await {
        Ok(Some(identity)) => identity,
        Ok(None) => return Err(refused(event, Outcome::Forbidden, "The key's app has no active subscription.")),
        Err(_) => return Err(unavailable(event)),
    };
    event.developer_id = Some(identity.developer_id.clone());
    Ok((key, identity))
}

fn check_lifecycle(api: &Api, event: &mut UsageEvent) -> Result<(), Refusal> {
    if let Lifecycle::Retired { successor, .. } = &api.lifecycle {
        event.outcome = Outcome::Retired;
        return Err(Box::new(refuse::retired(successor.as_deref())));
    }
    Ok(())
}

/// Every policy that applies (the plan's, the key's own) is checked in one all-or-nothing
/// call. When the limiter is unreachable, quotas fail closed and burst limits follow their
/// policy's `on_failure`.
async fn enforce_limits<A: Adapters>(
    adapters: &A,
    grant: &Grant,
    key: &Key,
    identity: &Identity,
    now: UnixMillis,
    event: &mut UsageEvent,
) -> Result<Vec<(HeaderName, String)>, Refusal> {
    let plan = grant.limits.iter().map(|p| (p, Some(grant.since)));
    let checks: Vec<LimitCheck> = plan
        .chain(key.limits.iter().map(|p| (p, None)))
        .filter_map(|(policy, anchor)| {
            let counter = limits::counter_key(
                policy.scope,
                &key.id,
                &identity.app_id,
                &identity.developer_id,
                identity.group.as_deref(),
                &policy.name,
            )?;
            Some(LimitCheck { counter, policy: policy.clone(), anchor })
        })
        .collect();
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let decision = match adapters.limiter().acquire(&checks, now).await {
        Ok(decision) => decision,
        Err(_) if limits::fails_open(&checks) => return Ok(Vec::new()),
        Err(_) => return Err(unavailable(event)),
    };
    let headers = limits::headers(&decision);
    let Some(outcome) = decision.refusal() else {
        return Ok(headers);
    };
    let detail = if outcome == Outcome::QuotaExceeded {
        "The quota for this period is used up."
    } else {
        "Too many requests; slow down."
    };
    let mut res = refused(event, outcome, detail);
    append_headers(&mut res, headers);
    Err(res)
}
