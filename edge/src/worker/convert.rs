//! `worker::Request` ⇄ `http::Request<Bytes>` and back. Bodies are buffered: the core bounds
//! request bodies, and API responses are small enough that buffering keeps the cache simple.
//!
//! **No platform call is unwrapped.** `worker`'s `From<Response> for web_sys::Response`
//! unwraps the platform's constructor, which throws for a status outside 200–599 or a body on
//! a null-body status (204, 205, 304): one such upstream answer panicked the isolate and
//! failed every request in flight on it. [`to_worker`] therefore builds the platform's
//! `Response` itself, fallibly, and answers what the platform refuses with a 502 problem that
//! names the cause; the response it hands to `worker` has already been accepted once, so
//! `worker`'s own conversion of it cannot fail.

use bytes::Bytes;
use gatehouse_core::problem::{Problem, ProblemKind};
use wasm_bindgen::JsCast;
use worker::{Headers, Request, Response, Result};

pub async fn to_http(mut req: Request) -> Result<http::Request<Bytes>> {
    let body = req.bytes().await?;
    let url = req.url()?;
    let mut builder = http::Request::builder().method(req.method().as_ref()).uri(url.as_str());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    builder.body(Bytes::from(body)).map_err(|e| worker::Error::RustError(e.to_string()))
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
pub fn to_worker(res: http::Response<Bytes>) -> Result<Response> {
    match platform_response(&res) {
        Ok(response) => Ok(response),
        Err(cause) => {
            let detail = format!("The upstream's answer (status {}) cannot be relayed: {cause}", res.status().as_u16());
            let problem = Problem::new(ProblemKind::UpstreamInvalid).detail(detail).into_response();
            platform_response(&problem).map_err(worker::Error::RustError)
        }
    }
}

/// Builds the platform's `Response` through its own (throwing) constructor, as a `Result`.
fn platform_response(res: &http::Response<Bytes>) -> std::result::Result<Response, String> {
    let headers = headers_of(res.headers()).map_err(|e| format!("a header the platform refuses ({e})"))?;
    let init = web_sys::ResponseInit::new();
    init.set_status(res.status().as_u16());
    init.set_headers(&headers.0);
    let body = res.body();
    let built = if body.is_empty() {
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

/// Reads a fetched `worker::Response` into an `http::Response<Bytes>`.
pub async fn from_worker(mut res: Response) -> Result<http::Response<Bytes>> {
    let body = res.bytes().await?;
    let mut builder = http::Response::builder().status(res.status_code());
    for (name, value) in res.headers().entries() {
        builder = builder.header(name, value);
    }
    builder.body(Bytes::from(body)).map_err(|e| worker::Error::RustError(e.to_string()))
}
