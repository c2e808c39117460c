//! A small client for the admin API, used by every CLI command. Problem+json answers become
//! one-line errors: `<title>: <detail>`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// What went wrong talking to the admin API, ready to print on one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot reach the admin API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{0}")]
    Refused(String),
    /// A problem+json answer: `line` to print, `problem` for callers that show more of it
    /// (`apply` prints each of its `errors` on a line of its own).
    #[error("{line}")]
    Rejected { line: String, problem: Value },
    #[error("{0}")]
    Usage(String),
    /// A file that cannot be read or parsed (`gatehouse lint`): exit status 2.
    #[error("{0}")]
    Input(String),
    /// Findings at a failing severity (`gatehouse lint`): exit status 1.
    #[error("{0}")]
    Findings(String),
}

impl CliError {
    /// The process's exit status: 2 for input that could not be read (as linters do, so a
    /// script can tell "the document has problems" from "there was no document"), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            _ => 1,
        }
    }
}

pub struct AdminClient {
    base: String,
    token: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    pub fn new(base: &str, token: String) -> AdminClient {
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        AdminClient { base: base.trim_end_matches('/').to_string(), token, http }
    }

    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(http::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(http::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(http::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(http::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, CliError> {
        self.call(http::Method::DELETE, path, None).await
    }

    /// A GET whose answer is text, not JSON (a CSV export).
    pub async fn get_text(&self, path: &str) -> Result<String, CliError> {
        let (status, bytes) = self.send(http::Method::GET, path, None, "text/csv").await?;
        if status.is_success() {
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Err(CliError::Rejected { line: problem_line(status, &value), problem: value })
    }

    async fn call(&self, method: http::Method, path: &str, body: Option<&Value>) -> Result<Value, CliError> {
        let (status, bytes) = self.send(method, path, body, "application/json").await?;
        let value: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(value);
        }
        Err(CliError::Rejected { line: problem_line(status, &value), problem: value })
    }

    async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<(http::StatusCode, Bytes), CliError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |reason: String| CliError::Unreachable { url: self.base.clone(), reason };
        let payload = body.filter(|b| !b.is_null()).map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(Full::new(payload))
            .map_err(|e| CliError::Usage(format!("invalid admin URL {url}: {e}")))?;
        let response = self.http.request(request).await.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| unreachable(e.to_string()))?.to_bytes();
        Ok((status, bytes))
    }
}

/// `id` made safe as one path segment (ids are plain, but a typo must not reach another route).
pub fn seg(id: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// `"<title>: <detail>"` from a problem body, falling back to the status line.
fn problem_line(status: http::StatusCode, problem: &Value) -> String {
    let title = problem["title"].as_str().unwrap_or(status.canonical_reason().unwrap_or("request failed"));
    let mut line = match problem["detail"].as_str() {
        Some(detail) => format!("{title}: {detail}"),
        None => format!("{title} (HTTP {})", status.as_u16()),
    };
    if let Some(errors) = problem["errors"].as_array() {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| match (e["pointer"].as_str(), e["message"].as_str()) {
                (Some(p), Some(m)) if !p.is_empty() => format!("{p}: {m}"),
                (_, Some(m)) => m.to_string(),
                _ => e.to_string(),
            })
            .collect();
        line.push_str(&format!(" [{}]", parts.join("; ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_becomes_one_line_with_every_error() {
        let p = serde_json::json!({"title": "Invalid OpenAPI document", "detail": "2 problems",
            "errors": [{"pointer": "/info/title", "message": "missing"}, {"pointer": "", "message": "bad"}]});
        let line = problem_line(http::StatusCode::UNPROCESSABLE_ENTITY, &p);
        assert_eq!(line, "Invalid OpenAPI document: 2 problems [/info/title: missing; bad]");
        assert!(!line.contains('\n'));
        assert_eq!(problem_line(http::StatusCode::NOT_FOUND, &Value::Null), "Not Found (HTTP 404)");
    }

    #[test]
    fn an_id_stays_one_path_segment() {
        assert_eq!(seg("key_Ab9-x.y~z"), "key_Ab9-x.y~z");
        assert_eq!(seg("../v1/config?x"), "..%2Fv1%2Fconfig%3Fx");
    }
}
