//! `FetchUpstream`: the upstream call through the Workers `fetch`, raced against a `Delay`
//! for the API's time-to-first-byte timeout (the loser is aborted). Redirects are passed back
//! to the caller, never followed at the gateway. Bodies stream both ways as the platform's
//! `ReadableStream`s; after the head, the API's idle and maximum-duration timeouts apply to
//! the answer's stream ([`super::guard`]) and to a WebSocket's relay ([`super::relay`]).

use std::time::Duration;

use futures_util::future::{select, Either};
use gatehouse_core::body::Body;
use gatehouse_core::ports::{Collected, Upstream, UpstreamCall, UpstreamError};
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit, RequestRedirect};

use super::convert::{self, EdgeBody};
use super::guard::Timeouts;
use super::stream::{self, EdgeStream};

pub struct FetchUpstream;

fn build(request: http::Request<EdgeBody>) -> worker::Result<Request> {
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method().as_str().to_string()))
        .with_headers(convert::headers_of(request.headers())?)
        .with_redirect(RequestRedirect::Manual);
    let uri = request.uri().to_string();
    match request.into_body() {
        Body::Full(bytes) if bytes.is_empty() => {}
        Body::Full(bytes) => {
            init.with_body(Some(js_sys::Uint8Array::from(bytes.as_ref()).into()));
        }
        Body::Stream(EdgeStream::Body(stream)) => {
            init.with_body(Some(stream.into()));
        }
        Body::Stream(EdgeStream::Socket(..)) => {
            return Err(worker::Error::RustError("a socket is no request body".into()))
        }
    }
    Request::new_with_init(&uri, &init)
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
        let request = build(request).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let call = Box::pin(async move {
            let response = fetch.send_with_signal(&signal).await?;
            convert::from_worker(response, timeouts).await
        });
        let timeout = Delay::from(Duration::from_millis(timeout_ms));
        let raced = select(call, timeout).await;
        match raced {
            Either::Left((Ok(response), _)) => Ok(response),
            Either::Left((Err(e), _)) => Err(UpstreamError::Connect(e.to_string())),
            Either::Right(((), _)) => {
                controller.abort();
                Err(UpstreamError::Timeout)
            }
        }
    }
}
