//! `worker::Request` ⇄ `http::Request<Bytes>` and back. Bodies are buffered: the core bounds
//! request bodies, and API responses are small enough that buffering keeps the cache simple.

use bytes::Bytes;
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

pub fn to_worker(res: http::Response<Bytes>) -> Result<Response> {
    let headers = headers_of(res.headers())?;
    let status = res.status().as_u16();
    let body = res.into_body();
    let response = if body.is_empty() { Response::empty()? } else { Response::from_bytes(body.to_vec())? };
    Ok(response.with_status(status).with_headers(headers))
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
