//! `FetchUpstream`: the upstream call through the Workers `fetch`, raced against a `Delay`
//! for the API's time-to-first-byte timeout (the loser is aborted). Redirects are passed back
//! to the caller, never followed at the gateway. Bodies stream both ways as the platform's
//! `ReadableStream`s; after the head, the API's idle and maximum-duration timeouts apply to
//! the answer's stream ([`super::guard`]) and to a WebSocket's relay ([`super::relay`]). A
//! request body of unannounced length is counted as it goes and cut off past the API's limit
//! (the call then answers the `413` that names it).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either};
use gatehouse_core::body::Body;
use gatehouse_core::ports::{Collected, Upstream, UpstreamCall, UpstreamError};
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit, RequestRedirect};

use super::convert::{self, EdgeBody};
use super::guard::Timeouts;
use super::metered::Counter;
use super::stream::{self, EdgeStream};
use super::upload;

/// Built per request (with the other adapters), so its count is this request's.
#[derive(Default)]
pub struct FetchUpstream {
    /// Bytes of a streamed request body of unannounced length, as `fetch` read them, for the
    /// call's usage (an announced length is what the pipeline counts).
    pub uploaded: Counter,
}

/// The call's `AbortController`, shared by the timeout and the upload limit (aborting takes it).
type Controller = Rc<RefCell<Option<AbortController>>>;

fn abort(controller: &Controller) {
    if let Some(controller) = controller.borrow_mut().take() {
        controller.abort();
    }
}

/// The platform's request, and the flag a streamed body of unannounced length sets when it
/// went past the API's limit.
fn build(
    request: http::Request<EdgeBody>,
    call: &UpstreamCall,
    uploaded: &Counter,
    controller: &Controller,
) -> worker::Result<(Request, Option<Rc<Cell<bool>>>)> {
    let mut exceeded = None;
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method().as_str().to_string()))
        .with_headers(convert::headers_of(request.headers())?)
        .with_redirect(RequestRedirect::Manual);
    let uri = request.uri().to_string();
    let announced = gatehouse_core::body::declared_len(request.headers()).is_some();
    match request.into_body() {
        Body::Full(bytes) if bytes.is_empty() => {}
        Body::Full(bytes) => {
            init.with_body(Some(js_sys::Uint8Array::from(bytes.as_ref()).into()));
        }
        // An announced length was checked against the limit before any byte was sent, and
        // the platform's own stream keeps it for the upstream.
        Body::Stream(EdgeStream::Body(stream)) if announced => {
            init.with_body(Some(stream.into()));
        }
        Body::Stream(EdgeStream::Body(stream)) => {
            let controller = Rc::clone(controller);
            let abort = Box::new(move || abort(&controller));
            let (limited, flag) = upload::limit(stream, call.max_request_bytes, Rc::clone(uploaded), abort);
            exceeded = Some(flag);
            init.with_body(Some(limited.into()));
        }
        Body::Stream(EdgeStream::Socket(..)) => {
            return Err(worker::Error::RustError("a socket is no request body".into()))
        }
    }
    Ok((Request::new_with_init(&uri, &init)?, exceeded))
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
        let timeout_ms = call.first_byte_ms;
        let timeouts = Timeouts::of(call, super::clock::now());
        let aborter = AbortController::default();
        let signal = aborter.signal();
        let controller: Controller = Rc::new(RefCell::new(Some(aborter)));
        let (request, exceeded) =
            build(request, call, &self.uploaded, &controller).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let limit = call.max_request_bytes;
        let over_limit = move || exceeded.as_ref().is_some_and(|flag| flag.get());
        let fetch = Fetch::Request(request);
        let call = Box::pin(async move {
            let response = fetch.send_with_signal(&signal).await?;
            convert::from_worker(response, timeouts).await
        });
        let timeout = Delay::from(Duration::from_millis(timeout_ms));
        let raced = select(call, timeout).await;
        match raced {
            Either::Left((Ok(response), _)) => Ok(response),
            // The client's body went past the API's limit as it streamed: the 413 names it.
            Either::Left((Err(_), _)) if over_limit() => {
                Err(UpstreamError::RequestTooLarge(limit))
            }
            Either::Left((Err(e), _)) => Err(UpstreamError::Connect(e.to_string())),
            Either::Right(((), _)) => {
                abort(&controller);
                if over_limit() {
                    return Err(UpstreamError::RequestTooLarge(limit));
                }
                Err(UpstreamError::Timeout)
            }
        }
    }
}
