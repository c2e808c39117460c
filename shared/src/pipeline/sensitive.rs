//! Sensitive data at the gateway (`x-gatehouse-sensitivity`): a request that needs a class
//! the caller lacks is refused before anything is counted or sent upstream, and a response
//! is rewritten for the caller after the cache, where it comes back.
//!
//! The cache holds what the upstream sent and every answer, fresh or cached, is filtered for
//! its own caller: a filtered body is never stored, so it can never reach a caller who holds
//! the class, and an unfiltered one never leaves without the filter (tests:
//! `native/tests/sensitive_data.rs`). A filtered response's `ETag` is made weak and tagged
//! with what was withheld, so a caller who later gains the class never revalidates a
//! filtered copy into a `304`.

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, RANGE};
use http::{Request, Response};

use super::{Adapters, BodyOf, Gateway};
use crate::body::Body;
use crate::entitlements::Identity;
use crate::model::{Api, Operation};
use crate::ports::{Collected, Upstream};
use crate::problem::{Problem, ProblemKind};
use crate::sensitivity::decide::{self, ResponsePlan};
use crate::sensitivity::{self, FilterError, ResponseFilter, Withheld, MAX_FILTERED_BODY_BYTES};
use crate::time::UnixMillis;

/// Who is calling which operation, for both checks. A public operation has no identity,
/// which holds no class.
#[derive(Clone, Copy)]
pub(super) struct Guard<'t> {
    pub api: &'t Api,
    pub operation: &'t Operation,
    pub identity: Option<&'t Identity>,
    pub now: UnixMillis,
    pub portal_origin: Option<&'t str>,
}

impl<'t> Guard<'t> {
    fn holds(&self, class: &str) -> bool {
        self.identity.is_some_and(|identity| identity.holds_class(&self.api.id, class, self.now))
    }

    /// `403` naming the class when the operation, or a parameter the request sends, needs a
    /// class the caller lacks.
    pub(super) fn check_request<B>(&self, request: &Request<B>) -> Result<(), Box<Response<Bytes>>> {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return Ok(()) };
        match decide::check_request(spec, |class| self.holds(class), request.uri().query(), request.headers()) {
            None => Ok(()),
            Some(needed) => Err(Box::new(self.not_granted(needed.class(), &needed.detail()))),
        }
    }

    /// The classes the request asks for by its shape ([`decide::asked_classes`]), read
    /// before it goes upstream, which may take its headers.
    pub(super) fn asked<B>(&self, request: &Request<B>) -> Vec<&'t str> {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return Vec::new() };
        decide::asked_classes(spec, request.uri().query(), request.headers())
    }

    /// The classes whose data `response` carried to this caller, owned for the usage event:
    /// the audit trail counts them per app, API, class and hour (`data.class_access`).
    pub(super) fn reached<B>(&self, asked: &[&'t str], response: &Response<B>) -> Vec<String> {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return Vec::new() };
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let status = response.status().as_u16();
        let reached = decide::reached_classes(spec, asked, status, content_type, |class| self.holds(class));
        reached.into_iter().map(str::to_owned).collect()
    }

    /// Asks the upstream for a body the filter can read: whole (no `Range`) and not
    /// compressed, when the caller lacks a class some response of the operation withholds.
    pub(super) fn prepare<B>(&self, request: &mut Request<B>) {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return };
        if spec.responses.iter().any(|filter| filter.lacking(|class| self.holds(class)) != 0) {
            let headers = request.headers_mut();
            headers.remove(RANGE);
            headers.remove(http::header::IF_RANGE);
            headers.remove(ACCEPT_ENCODING);
        }
    }

    /// Whether this caller's response needs the filter (or its refusal): the operation has
    /// fields to withhold for this status and content type that the caller holds no class for.
    /// Only then is a streamed body read whole.
    pub(super) fn touches<B>(&self, response: &Response<B>) -> bool {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return false };
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let plan = decide::response_plan(spec, response.status().as_u16(), content_type, |class| self.holds(class));
        !matches!(plan, ResponsePlan::Relay)
    }

    /// The response as this caller may see it.
    pub(super) fn filter_response(&self, response: Response<Bytes>) -> Response<Bytes> {
        let Some(spec) = self.operation.sensitivity.as_deref() else { return response };
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let plan = decide::response_plan(spec, response.status().as_u16(), content_type, |class| self.holds(class));
        let (filter, lacking) = match plan {
            ResponsePlan::Relay => return response,
            ResponsePlan::Unfilterable { filter, lacking } => {
                let detail = format!(
                    "The upstream's answer holds {} data your app may not see, and is not JSON, so the gateway cannot withhold it.",
                    filter.class_names(lacking).join(", ")
                );
                return unfilterable(&detail, None);
            }
            ResponsePlan::Filter { filter, lacking } => (filter, lacking),
        };
        if response.body().is_empty() {
            return response; // a HEAD, a 204: nothing to withhold
        }
        if response.headers().get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes() != b"identity") {
            return unfilterable(
                "The upstream compressed a body that holds data to withhold; the gateway cannot read it.",
                None,
            );
        }
        match sensitivity::filter(filter, lacking, response.body()) {
            Ok(filtered) => rewritten(response, filter, filtered),
            Err(FilterError::TooLarge) => too_large(),
            Err(FilterError::Malformed(why)) => unfilterable(
                &format!("The answer holds data to withhold but is not valid JSON ({why}); it was not passed on."),
                None,
            ),
            Err(FilterError::WholeBody(class)) => {
                let class = filter.classes.get(class as usize).map_or("", String::as_str);
                let detail = format!("This answer is {class} data; your app holds no grant for the class {class:?}.");
                self.not_granted(class, &detail)
            }
        }
    }

    fn not_granted(&self, class: &str, detail: &str) -> Response<Bytes> {
        Problem::new(ProblemKind::SensitiveData)
            .detail(detail)
            .with("outcome", crate::verdict::Outcome::Forbidden.code())
            .with("class", class)
            .with("request_access", sensitivity::access_url(self.portal_origin, &self.api.id, class))
            .into_response()
    }
}

/// The response with its body replaced, its length and validators fixed, and the classes
/// withheld listed.
fn rewritten(
    mut response: Response<Bytes>,
    filter: &ResponseFilter,
    filtered: sensitivity::Filtered,
) -> Response<Bytes> {
    let classes = filter.class_names(filtered.withheld);
    let headers = response.headers_mut();
    if headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(filtered.body.len()));
    }
    for digest in ["content-digest", "repr-digest", "digest", "content-md5"] {
        headers.remove(digest);
    }
    if !classes.is_empty() {
        let list = classes.join(", ");
        if let Ok(value) = HeaderValue::from_str(&list) {
            headers.insert(sensitivity::WITHHELD_HEADER, value);
        }
        if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
            let opaque = etag.trim_start_matches("W/").trim_matches('"');
            let weak = format!("W/\"{opaque}-withheld-{}\"", classes.join("-"));
            match HeaderValue::from_str(&weak) {
                Ok(value) => drop(headers.insert(ETAG, value)),
                Err(_) => drop(headers.remove(ETAG)),
            }
        }
        let owned = classes.iter().map(|c| (*c).to_owned()).collect();
        response.extensions_mut().insert(Withheld(owned));
    }
    *response.body_mut() = Bytes::from(filtered.body);
    response
}

impl<A: Adapters> Gateway<A> {
    /// The response as the guard's caller may see it. A streamed body is read whole first,
    /// up to the filter's limit, and only when the filter has something to do: every other
    /// response streams on untouched.
    pub(super) async fn guarded(&self, guard: &Guard<'_>, response: Response<BodyOf<A>>) -> Response<BodyOf<A>> {
        if !guard.touches(&response) {
            return response;
        }
        let (parts, body) = response.into_parts();
        let bytes = match body {
            Body::Full(bytes) => bytes,
            Body::Stream(stream) => match self.adapters.upstream().collect(stream, MAX_FILTERED_BODY_BYTES).await {
                Collected::Whole(bytes) => bytes,
                Collected::TooLarge(_) => return too_large().map(Body::Full),
                Collected::Failed(e) => {
                    let detail = format!("The answer holds data to withhold and broke before its end ({e}).");
                    return unfilterable(&detail, None).map(Body::Full);
                }
            },
        };
        guard.filter_response(Response::from_parts(parts, bytes)).map(Body::Full)
    }
}

fn too_large() -> Response<Bytes> {
    unfilterable(
        &format!("The answer holds data to withhold and is larger than the {MAX_FILTERED_BODY_BYTES} bytes the filter reads."),
        Some(MAX_FILTERED_BODY_BYTES),
    )
}

/// `502`: the upstream's answer holds data to withhold and cannot be filtered.
fn unfilterable(detail: &str, limit: Option<usize>) -> Response<Bytes> {
    let mut problem = Problem::new(ProblemKind::UpstreamInvalid).detail(detail);
    if let Some(limit) = limit {
        problem = problem.with("max_bytes", limit);
    }
    problem.into_response()
}
