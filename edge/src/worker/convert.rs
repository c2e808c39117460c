//! `worker::Request` ⇄ `http::Request<EdgeBody>` and back. A body announced at most 64 KiB
//! is read whole; any other stays the platform's `ReadableStream`, passed on untouched (see
//! [`super::stream`]).
//!
//! **No platform call is unwrapped.** `worker`'s `From<Response> for web_sys::Response`
//! unwraps the platform's constructor, which throws for a status outside 200–599 or a body on
//! a null-body status (204, 205, 304): one such upstream answer panicked the isolate and
//! failed every request in flight on it. [`to_worker`] therefore builds the platform's
//! `Response` itself, fallibly, and answers what the platform refuses with a 502 problem that
//! names the cause; the response it hands to `worker` has already been accepted once, so
//! `worker`'s own conversion of it cannot fail.

use bytes::Bytes;
use gatehouse_core::body::{declared_len, Body};
use gatehouse_core::problem::{Problem, ProblemKind};
use wasm_bindgen::JsCast;
use worker::{Headers, Request, Response, Result};

use super::guard::Timeouts;
use super::stream::{EdgeStream, INLINE_BYTES};

/// A body as it flows through the Worker.
pub type EdgeBody = Body<EdgeStream>;

pub async fn to_http(mut req: Request) -> Result<http::Request<EdgeBody>> {
    let url = req.url()?;
    let mut builder = http::Request::builder().method(req.method().as_ref()).uri(url.as_str());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    let headers = builder.headers_ref().cloned().unwrap_or_default();
    let body = match req.inner().body() {
        None => Body::Full(Bytes::new()),
        Some(stream) if !declared_len(&headers).is_some_and(|n| n <= INLINE_BYTES) => {
            Body::Stream(EdgeStream::Body(stream))
        }
        Some(_) => Body::Full(Bytes::from(req.bytes().await?)),
    };
    builder.body(body).map_err(|e| worker::Error::RustError(e.to_string()))
}

pub fn headers_of(map: &http::HeaderMap) -> Result<Headers> {
    let headers = Headers::new();
    for (name, value) in map {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    Ok(headers)
}

/// The response for the platform, or, when the platform refuses it, a 502 problem naming why.
/// A streamed body is handed over as the stream it is; an accepted WebSocket upgrade becomes
/// the `101` that gives the client the upstream's socket.
pub fn to_worker(res: http::Response<EdgeBody>) -> Result<Response> {
    let (parts, body) = res.into_parts();
    let res = match body {
        Body::Full(bytes) => http::Response::from_parts(parts, bytes),
        Body::Stream(EdgeStream::Socket(socket, _)) => {
            return Ok(Response::from_websocket(socket)?.with_headers(headers_of(&parts.headers)?))
        }
        Body::Stream(EdgeStream::Body(stream)) => {
            let head = http::Response::from_parts(parts, Bytes::new());
            let stream = match declared_len(head.headers()) {
                Some(length) => fixed_length(stream, length)?,
                None => stream,
            };
            return match platform_response(&head, Some(&stream)) {
                Ok(response) => Ok(response),
                Err(cause) => refused(&head, &cause),
            };
        }
    };
    match platform_response(&res, None) {
        Ok(response) => Ok(response),
        Err(cause) => refused(&res, &cause),
    }
}

/// `stream` as a body of exactly `length` bytes (workerd's `FixedLengthStream`). A stream the
/// Worker built (timeouts, counting, the cache's replay, a watched upload) has no length of
/// its own, and the platform would send it chunked, dropping the announced `Content-Length`; with
/// it, a body cut short (an idle timeout, a broken upstream) also closes the client's
/// connection short of the announced length, where a chunked one would end with its last
/// chunk as if complete.
pub fn fixed_length(stream: web_sys::ReadableStream, length: u64) -> Result<web_sys::ReadableStream> {
    let fixed = worker::worker_sys::FixedLengthStream::new_big_int(js_sys::BigInt::from(length))
        .map_err(|e| worker::Error::RustError(js_message(&e)))?;
    let pair: &web_sys::TransformStream = fixed.as_ref();
    let piped = stream.pipe_to(&pair.writable());
    // The pipe's outcome is the body's: an error reaches the client through the readable side.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(piped).await;
    });
    Ok(pair.readable())
}

/// The 502 problem for an answer the platform refuses.
fn refused(res: &http::Response<Bytes>, cause: &str) -> Result<Response> {
    let detail = format!("The upstream's answer (status {}) cannot be relayed: {cause}", res.status().as_u16());
    let problem = Problem::new(ProblemKind::UpstreamInvalid).detail(detail).into_response();
    platform_response(&problem, None).map_err(worker::Error::RustError)
}

/// Builds the platform's `Response` through its own (throwing) constructor, as a `Result`.
fn platform_response(
    res: &http::Response<Bytes>,
    stream: Option<&web_sys::ReadableStream>,
) -> std::result::Result<Response, String> {
    let headers = headers_of(res.headers()).map_err(|e| format!("a header the platform refuses ({e})"))?;
    let init = web_sys::ResponseInit::new();
    init.set_status(res.status().as_u16());
    init.set_headers(&headers.0);
    let body = res.body();
    let built = if let Some(stream) = stream {
        web_sys::Response::new_with_opt_readable_stream_and_init(Some(stream), &init)
    } else if body.is_empty() {
        web_sys::Response::new_with_opt_str_and_init(None, &init)
    } else {
        let array = js_sys::Uint8Array::from(body.as_ref());
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&array), &init)
    };
    let built = built.map_err(|e| js_message(&e))?;
    Ok(Response::from(built))
}

/// The message of a thrown JS error (`RangeError: …`), or its debug form.
fn js_message(error: &wasm_bindgen::JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => format!("{error:?}"),
    }
}

/// A fetched `worker::Response` as an `http::Response`: its body read whole when announced
/// small, else left streaming; a `101` that carries the upstream's WebSocket keeps it, with
/// the API's `timeouts` for the relay.
pub async fn from_worker(mut res: Response, timeouts: Timeouts) -> Result<http::Response<EdgeBody>> {
    let mut builder = http::Response::builder().status(res.status_code());
    for (name, value) in res.headers().entries() {
        builder = builder.header(name, value);
    }
    let headers = builder.headers_ref().cloned().unwrap_or_default();
    let body = match res.body() {
        _ if res.status_code() == 101 => match res.websocket() {
            Some(socket) => {
                // The platform's 101 may not list the fields; the pipeline checks them.
                builder = builder.header("connection", "upgrade").header("upgrade", "websocket");
                Body::Stream(EdgeStream::Socket(socket, timeouts))
            }
            None => Body::Full(Bytes::new()),
        },
        worker::ResponseBody::Stream(stream) if !declared_len(&headers).is_some_and(|n| n <= INLINE_BYTES) => {
            match stream.clone().dyn_into::<web_sys::ReadableStream>() {
                Ok(stream) => Body::Stream(EdgeStream::Body(stream)),
                Err(_) => Body::Full(Bytes::from(res.bytes().await?)),
            }
        }
        _ => Body::Full(Bytes::from(res.bytes().await?)),
    };
    builder.body(body).map_err(|e| worker::Error::RustError(e.to_string()))
}
