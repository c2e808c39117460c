//! The mock upstream: an API whose upstream is `mock:` is answered from its OpenAPI
//! document's examples, or from values made from its schemas, as Prism does. Only the
//! upstream call is replaced: keys, limits, the cache and usage events all apply as for a
//! real upstream, so consumers can start before the backend exists.
//!
//! [`prepare`] compiles each operation's responses when the API is published; [`answer`]
//! picks one per request from the status (`Prefer: code=…`, else the first 2xx), the media
//! type (`Accept`) and the example (`Prefer: example=…`). Pure: no I/O, no randomness.

mod compile;
mod generate;
mod negotiate;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::problem::{Problem, ProblemKind};

pub use compile::{compile, prepare};
pub use generate::value as generate;
pub use negotiate::{media_type, Preference};

/// One operation's described responses, ready to answer from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockOperation {
    /// In document order.
    pub responses: Vec<MockResponse>,
}

/// One entry of an operation's `responses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockResponse {
    /// The key as written: `200`, `4XX` or `default`.
    pub status: String,
    /// One per described media type, in document order; empty for a response with no body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<MockContent>,
    /// Described headers with a scalar example or schema value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// One media type of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockContent {
    pub media_type: String,
    /// Named examples (`examples.<name>.value`), in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<(String, Value)>,
    /// What to answer when no example is named; `None` when neither an example nor a schema
    /// is described (the body is then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

/// The mock's answer to a request with these headers: the described response, or a problem
/// saying why none fits (an unknown `Prefer` code or example, an `Accept` nothing matches).
pub fn answer(operation: &MockOperation, headers: &HeaderMap) -> Response<Bytes> {
    let prefer = Preference::read(headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()));
    let accept = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok());
    let (status, response) = match pick_response(operation, prefer.code.as_deref()) {
        Ok(picked) => picked,
        Err(problem) => return (*problem).into_response(),
    };
    let mut out = match pick_body(response, accept, prefer.example.as_deref()) {
        Ok((content_type, body)) => {
            let mut out = Response::new(body);
            if let Some(value) = content_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
                out.headers_mut().insert(CONTENT_TYPE, value);
            }
            out
        }
        Err(problem) => return (*problem).into_response(),
    };
    *out.status_mut() = status;
    if matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED) {
        // These never carry content (RFC 9110 §15.3.5, §15.4.5), whatever the document says.
        *out.body_mut() = Bytes::new();
        out.headers_mut().remove(CONTENT_TYPE);
    }
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            out.headers_mut().append(name, value);
        }
    }
    // The answer depends on both: a shared cache must not give one caller's 404 to another.
    out.headers_mut().append(VARY, HeaderValue::from_static("Accept, Prefer"));
    if let Some(applied) = prefer.applied().and_then(|a| HeaderValue::from_str(&a).ok()) {
        out.headers_mut().insert(HeaderName::from_static("preference-applied"), applied);
    }
    out
}

/// The response for `Prefer: code=…` (exact, then its `NXX` range, then `default`), else the
/// first 2xx (or `2XX`), else `default`, else the first described; with the status to send.
fn pick_response<'o>(
    operation: &'o MockOperation,
    code: Option<&str>,
) -> Result<(StatusCode, &'o MockResponse), Box<Problem>> {
    let responses = &operation.responses;
    let Some(code) = code else {
        let success = responses.iter().find(|r| r.status.starts_with('2'));
        let picked = success.or_else(|| responses.iter().find(|r| r.status == "default")).or(responses.first());
        let Some(picked) = picked else {
            let detail = "The operation describes no response, so the mock has nothing to answer with.";
            return Err(Box::new(Problem::new(ProblemKind::MockNoResponse).detail(detail)));
        };
        let final_status = |s: &u16| (200..600).contains(s);
        let status = picked.status.parse::<u16>().ok().filter(final_status).and_then(|s| StatusCode::from_u16(s).ok());
        // `2XX` answers 200; `default` (or any other key) answers 200 too.
        let range = picked.status.chars().next().and_then(|d| d.to_digit(10)).map(|d| d as u16 * 100);
        let status = status.or_else(|| StatusCode::from_u16(range.filter(final_status)?).ok());
        return Ok((status.unwrap_or(StatusCode::OK), picked));
    };
    let status = code.parse::<u16>().ok().filter(|c| (200..600).contains(c)).and_then(|c| StatusCode::from_u16(c).ok());
    let Some(status) = status else {
        let detail = format!("Prefer: code={code:?} is not an HTTP status between 200 and 599.");
        return Err(Box::new(Problem::new(ProblemKind::MockNoResponse).detail(detail)));
    };
    let range = format!("{}XX", code.get(..1).unwrap_or_default());
    let picked = responses
        .iter()
        .find(|r| r.status == code)
        .or_else(|| responses.iter().find(|r| r.status.eq_ignore_ascii_case(&range)))
        .or_else(|| responses.iter().find(|r| r.status == "default"));
    match picked {
        Some(picked) => Ok((status, picked)),
        None => {
            let described: Vec<&str> = responses.iter().map(|r| r.status.as_str()).collect();
            let detail = format!(
                "Prefer: code={code} asks for a response the operation does not describe; it describes {}.",
                list(&described)
            );
            Err(Box::new(Problem::new(ProblemKind::MockNoResponse).detail(detail).with("described", described)))
        }
    }
}

/// The content type and body: the media type `Accept` picks, its example named by `Prefer`
/// or its default one. A string is sent as it is for a non-JSON media type.
fn pick_body(
    response: &MockResponse,
    accept: Option<&str>,
    example: Option<&str>,
) -> Result<(Option<String>, Bytes), Box<Problem>> {
    if response.contents.is_empty() {
        return Ok((None, Bytes::new()));
    }
    let described: Vec<&str> = response.contents.iter().map(|c| c.media_type.as_str()).collect();
    let Some(index) = media_type(accept, &described) else {
        let detail = format!("Accept allows none of the media types this response describes: {}.", list(&described));
        return Err(Box::new(Problem::new(ProblemKind::NotAcceptable).detail(detail).with("described", described)));
    };
    let content = &response.contents[index];
    let value = match example {
        None => content.example.as_ref(),
        Some(name) => match content.examples.iter().find(|(n, _)| n == name) {
            Some((_, value)) => Some(value),
            None => {
                let names: Vec<&str> = content.examples.iter().map(|(n, _)| n.as_str()).collect();
                let detail = format!(
                    "Prefer: example={name} names no example of {} {}; it has {}.",
                    response.status,
                    content.media_type,
                    if names.is_empty() { "none".to_owned() } else { list(&names) }
                );
                return Err(Box::new(Problem::new(ProblemKind::MockNoResponse).detail(detail).with("examples", names)));
            }
        },
    };
    let json = is_json(&content.media_type);
    let content_type = if content.media_type.contains('*') {
        if json || !matches!(value, Some(Value::String(_))) { "application/json" } else { "text/plain" }.to_owned()
    } else {
        content.media_type.clone()
    };
    let body = match value {
        None => Bytes::new(),
        Some(Value::String(text)) if !json => Bytes::from(text.clone()),
        Some(value) => Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
    };
    Ok((Some(content_type), body))
}

fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json") || essence == "*/*"
}

fn list(items: &[&str]) -> String {
    items.join(", ")
}
