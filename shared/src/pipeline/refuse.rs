//! Refusals as RFC 9457 problem responses. Each outcome maps to exactly one problem type.

use crate::model::Api;
use crate::ports::{UpstreamError, UpstreamFailure};
use bytes::Bytes;
use http::{HeaderValue, Response};

use crate::problem::{Problem, ProblemKind};
use crate::routing::NoMatch;
use crate::verdict::Outcome;

/// The problem kind for a refused outcome.
pub fn kind_for(outcome: Outcome) -> ProblemKind {
    match outcome {
        Outcome::Missing => ProblemKind::MissingCredential,
        Outcome::Malformed => ProblemKind::MalformedKey,
        Outcome::InvalidToken => ProblemKind::Unauthorized,
        Outcome::NotFound => ProblemKind::InvalidKey,
        Outcome::Revoked => ProblemKind::RevokedKey,
        Outcome::Disabled => ProblemKind::DisabledKey,
        Outcome::Expired => ProblemKind::ExpiredKey,
        Outcome::Forbidden => ProblemKind::Forbidden,
        Outcome::RateLimited => ProblemKind::RateLimited,
        Outcome::QuotaExceeded => ProblemKind::QuotaExceeded,
        Outcome::Retired => ProblemKind::ApiRetired,
        Outcome::NoRoute => ProblemKind::NoRoute,
        Outcome::Unavailable => ProblemKind::ServiceUnavailable,
        Outcome::InvalidRequest => ProblemKind::InvalidRequest,
        Outcome::Valid | Outcome::Public => ProblemKind::Internal,
    }
}

/// A problem response for `outcome`, carrying the outcome code as an extension member.
pub fn outcome(outcome: Outcome, detail: &str) -> Response<Bytes> {
    let mut res = Problem::new(kind_for(outcome)).detail(detail).with("outcome", outcome.code()).into_response();
    if matches!(
        outcome,
        Outcome::Missing
            | Outcome::Malformed
            | Outcome::NotFound
            | Outcome::Revoked
            | Outcome::Disabled
            | Outcome::Expired
    ) {
        res.headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"gatehouse\""));
    }
    res
}

pub fn no_route(why: NoMatch) -> Response<Bytes> {
    match why {
        NoMatch::NoApi => outcome(Outcome::NoRoute, "No published API serves this host and path."),
        NoMatch::NoOperation => outcome(Outcome::NoRoute, "The API has no operation at this path."),
        NoMatch::NoVersion => outcome(
            Outcome::NoRoute,
            "No published version of this API matches the request's version header (and none answers without it).",
        ),
        NoMatch::MethodNotAllowed => Problem::new(ProblemKind::MethodNotAllowed)
            .detail("The API does not allow this method at this path.")
            .with("outcome", Outcome::NoRoute.code())
            .into_response(),
    }
}

pub fn too_large(limit: u64) -> Response<Bytes> {
    Problem::new(ProblemKind::PayloadTooLarge)
        .detail(format!("Request bodies are limited to {limit} bytes."))
        .with("max_bytes", limit)
        .into_response()
}

pub fn retired(successor: Option<&str>) -> Response<Bytes> {
    let mut problem = Problem::new(ProblemKind::ApiRetired)
        .detail("This API has been retired.")
        .with("outcome", Outcome::Retired.code());
    if let Some(url) = successor {
        problem = problem.with("successor", url);
    }
    let mut res = problem.into_response();
    if let Some(link) = successor.and_then(|u| HeaderValue::from_str(&format!("<{u}>; rel=\"successor-version\"")).ok())
    {
        res.headers_mut().insert(http::header::LINK, link);
    }
    res
}

/// The `504` (timeout) or `502` (anything else) for a failed upstream call, whose detail says
/// which kind of failure it was, carrying an [`UpstreamFailure`] for the runtime's log.
pub fn upstream_failed(api: &Api, error: UpstreamError) -> Response<Bytes> {
    // Not the upstream's failure: the client's body went past the API's limit as it streamed.
    if let UpstreamError::RequestTooLarge(limit) = error {
        return too_large(limit);
    }
    let kind =
        if error == UpstreamError::Timeout { ProblemKind::UpstreamTimeout } else { ProblemKind::UpstreamUnavailable };
    let mut response = Problem::new(kind).detail(error.public_detail()).into_response();
    let failure = UpstreamFailure { api_id: api.id.clone(), api_name: api.name.clone(), error };
    response.extensions_mut().insert(failure);
    response
}

/// The upstream answered, but with something that cannot be relayed; `detail` names what.
pub fn upstream_invalid(detail: &str) -> Response<Bytes> {
    Problem::new(ProblemKind::UpstreamInvalid).detail(detail).into_response()
}
