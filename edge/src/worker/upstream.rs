//! `FetchUpstream`: the upstream call through the Workers `fetch`, raced against a `Delay`
//! for the API's timeout (the loser is aborted). Redirects are passed back to the caller,
//! never followed at the gateway.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{select, Either};
use gatehouse_core::ports::{Upstream, UpstreamError};
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit, RequestRedirect};

use super::convert;

pub struct FetchUpstream;

fn build(request: &http::Request<Bytes>) -> worker::Result<Request> {
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method().as_str().to_string()))
        .with_headers(convert::headers_of(request.headers())?)
        .with_redirect(RequestRedirect::Manual);
    if !request.body().is_empty() {
        let body = js_sys::Uint8Array::from(request.body().as_ref());
        init.with_body(Some(body.into()));
    }
    Request::new_with_init(&request.uri().to_string(), &init)
}

impl Upstream for FetchUpstream {
    async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout_ms: u64,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        let request = build(&request).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let call = Box::pin(async move {
            let response = fetch.send_with_signal(&signal).await?;
            convert::from_worker(response).await
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
