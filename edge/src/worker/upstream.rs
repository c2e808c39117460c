//! `FetchUpstream`: the upstream call through the Workers `fetch`, raced against a `Delay`
//! for the API's time-to-first-byte timeout, counted from the end of a streamed upload (the
//! loser is aborted). Redirects are passed back
//! to the caller, never followed at the gateway. Bodies stream both ways as the platform's
//! `ReadableStream`s; after the head, the API's idle and maximum-duration timeouts apply to
//! the answer's stream ([`super::guard`]) and to a WebSocket's relay ([`super::relay`]). A
//! streamed request body is counted as it goes, cut off past the API's limit (the call then
//! answers the `413` that names it) and after the idle timeout when the client stalls
//! ([`super::upload`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either};
use gatehouse_core::body::Body;
use gatehouse_core::ports::{Collected, Upstream, UpstreamCall, UpstreamError};
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit, RequestRedirect};

use super::convert::{self, EdgeBody};
use super::guard::Timeouts;
use super::metered::{self, Counter, Tapped};
use super::stream::{self, EdgeStream};
use super::upload::{self, Progress};

/// Built per request (with the other adapters), so its count is this request's.
#[derive(Default)]
pub struct FetchUpstream {
    /// Bytes of a streamed request body of unannounced length, as `fetch` read them, for the
    /// call's usage (an announced length is what the pipeline counts).
    pub uploaded: Counter,
    /// The answer's body as tapped here, for the usage glue to count with ([`metered`]).
    pub guarded: RefCell<Option<Tapped>>,
}

/// The call's `AbortController`, shared by the timeout and the upload limit (aborting takes it).
type Controller = Rc<RefCell<Option<AbortController>>>;

fn abort(controller: &Controller) {
    if let Some(controller) = controller.borrow_mut().take() {
        controller.abort();
    }
}

/// The platform's request, and how its body's upload goes when it streams.
fn build(
    request: http::Request<EdgeBody>,
    call: &UpstreamCall,
    uploaded: &Counter,
    controller: &Controller,
) -> worker::Result<(Request, Option<Rc<Progress>>)> {
    let mut progress = None;
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method().as_str().to_string()))
        .with_headers(convert::headers_of(request.headers())?)
        .with_redirect(RequestRedirect::Manual);
    let uri = request.uri().to_string();
    let announced = gatehouse_core::body::declared_len(request.headers());
    match request.into_body() {
        Body::Full(bytes) if bytes.is_empty() => {}
        Body::Full(bytes) => {
            init.with_body(Some(js_sys::Uint8Array::from(bytes.as_ref()).into()));
        }
        Body::Stream(EdgeStream::Body(stream)) => {
            let controller = Rc::clone(controller);
            let abort = Box::new(move || abort(&controller));
            let watching = Rc::new(Progress::default());
            watching.last.set(super::clock::now());
            let limit = call.max_request_bytes;
            let watched = upload::watch(stream, limit, Rc::clone(uploaded), Rc::clone(&watching), abort);
            // An announced length (already checked against the limit) goes upstream as such.
            let body = match announced {
                Some(length) => convert::fixed_length(watched, length)?,
                None => watched,
            };
            init.with_body(Some(body.into()));
            progress = Some(watching);
        }
        Body::Stream(EdgeStream::Socket(..)) => {
            return Err(worker::Error::RustError("a socket is no request body".into()))
        }
    }
    Ok((Request::new_with_init(&uri, &init)?, progress))
}

/// When the wait for the answer's head runs out, and what that is: `first_byte_ms` from the
/// start, or from the end of a streamed upload; while the upload goes on, the idle timeout
/// since its last chunk; never past the call's maximum duration.
fn deadline(started: i64, call: &UpstreamCall, timeouts: &Timeouts, upload: Option<&Progress>) -> (i64, UpstreamError) {
    let first_byte = call.first_byte_ms as i64;
    let (at, error) = match upload {
        None => (started + first_byte, UpstreamError::Timeout),
        Some(p) if p.exceeded.get() => {
            (p.last.get() + call.idle_ms as i64, UpstreamError::RequestTooLarge(call.max_request_bytes))
        }
        Some(p) => match p.ended.get() {
            Some(ended) => (ended + first_byte, UpstreamError::Timeout),
            None => {
                let why = format!("the client's body stalled for {} ms", call.idle_ms);
                (p.last.get() + call.idle_ms as i64, UpstreamError::Protocol(why))
            }
        },
    };
    match timeouts.deadline {
        Some((end, _)) if end < at => (end, UpstreamError::Timeout),
        _ => (at, error),
    }
}

impl Upstream for FetchUpstream {
    type Stream = EdgeStream;

    async fn collect(&self, stream: EdgeStream, limit: usize) -> Collected<EdgeStream> {
        stream::collect(stream, limit).await
    }

    async fn send(
        &self,
        request: http::Request<EdgeBody>,
        call: &UpstreamCall,
    ) -> Result<http::Response<EdgeBody>, UpstreamError> {
        let started = super::clock::now();
        let timeouts = Timeouts::of(call, started);
        let aborter = AbortController::default();
        let signal = aborter.signal();
        let controller: Controller = Rc::new(RefCell::new(Some(aborter)));
        let (request, upload) =
            build(request, call, &self.uploaded, &controller).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let fetch = Fetch::Request(request);
        let mut answer = Box::pin(async move {
            let response = fetch.send_with_signal(&signal).await?;
            convert::from_worker(response, timeouts).await
        });
        loop {
            // Recomputed after each wait: an upload that moved meanwhile pushed it further.
            let (at, expired) = deadline(started, call, &timeouts, upload.as_deref());
            let wait = at - super::clock::now();
            if wait <= 0 {
                abort(&controller);
                return Err(expired);
            }
            match select(answer.as_mut(), Delay::from(Duration::from_millis(wait as u64))).await {
                Either::Left((Ok(mut response), _)) => {
                    // The API's timeouts after the head, in a tap that also counts the bytes
                    // for usage when the body reaches the client as it is.
                    if let Body::Stream(EdgeStream::Body(raw)) = response.body_mut() {
                        let tap = metered::tapped(raw, Some(timeouts));
                        *raw = tap.stream.clone();
                        *self.guarded.borrow_mut() = Some(tap);
                    }
                    return Ok(response);
                }
                // The client's body went past the API's limit as it streamed: the 413 names it.
                Either::Left((Err(_), _)) if upload.as_ref().is_some_and(|p| p.exceeded.get()) => {
                    return Err(UpstreamError::RequestTooLarge(call.max_request_bytes))
                }
                Either::Left((Err(e), _)) => return Err(UpstreamError::Connect(e.to_string())),
                Either::Right(((), _)) => {}
            }
        }
    }
}
