//! RFC 9457 problem details. One table maps every problem kind to its HTTP status, stable
//! `type` URI and title, so clients can branch on `type` and never on prose.

use serde::{Deserialize, Serialize};

/// Base of every problem `type` URI. The pages behind them are part of the docs.
pub const TYPE_BASE: &str = "https://gatehouse.dev/problems/";

/// Declares `ProblemKind` and its `ALL` list from one list of names, so the two cannot drift.
macro_rules! problem_kinds {
    ($($kind:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemKind {
            $($kind),*
        }

        impl ProblemKind {
            /// Every kind, for documentation and for checking the table.
            pub const ALL: &'static [ProblemKind] = &[$(ProblemKind::$kind),*];
        }
    };
}

problem_kinds![
    MissingCredential,
    MalformedKey,
    InvalidKey,
    RevokedKey,
    DisabledKey,
    ExpiredKey,
    Forbidden,
    SensitiveData,
    RateLimited,
    QuotaExceeded,
    ApiRetired,
    NoRoute,
    UpstreamUnavailable,
    UpstreamTimeout,
    ServiceUnavailable,
    BadRequest,
    InvalidJson,
    ValidationFailed,
    InvalidOpenApi,
    PayloadTooLarge,
    Unauthorized,
    NotFound,
    Conflict,
    PreconditionFailed,
    InvalidTransition,
    MethodNotAllowed,
    UnsupportedMediaType,
    HeadersTooLarge,
    UriTooLong,
    RequestTimeout,
    ExpectationFailed,
    NotImplemented,
    NotCached,
    UpstreamInvalid,
    MockNoResponse,
    NotAcceptable,
    BreakingChange,
    InvalidRequest,
    Internal,
];

impl ProblemKind {
    /// (status, slug, title): the single source of truth for problem types.
    pub const fn spec(self) -> (u16, &'static str, &'static str) {
        use ProblemKind::*;
        match self {
            MissingCredential => (401, "missing-credential", "Credential required"),
            MalformedKey => (401, "malformed-key", "Malformed API key"),
            InvalidKey => (401, "invalid-key", "Invalid API key"),
            RevokedKey => (401, "revoked-key", "API key revoked"),
            DisabledKey => (401, "disabled-key", "API key disabled"),
            ExpiredKey => (401, "expired-key", "API key expired"),
            Forbidden => (403, "forbidden", "Not entitled to this operation"),
            SensitiveData => (403, "sensitive-data", "No grant for this class of sensitive data"),
            RateLimited => (429, "rate-limited", "Rate limit exceeded"),
            QuotaExceeded => (429, "quota-exceeded", "Quota exhausted"),
            ApiRetired => (410, "api-retired", "API retired"),
            NoRoute => (404, "no-route", "No such API or operation"),
            UpstreamUnavailable => (502, "upstream-unavailable", "Upstream unavailable"),
            UpstreamTimeout => (504, "upstream-timeout", "Upstream timed out"),
            ServiceUnavailable => (503, "service-unavailable", "Service temporarily unavailable"),
            BadRequest => (400, "bad-request", "Bad request"),
            InvalidJson => (400, "invalid-json", "Body is not valid JSON"),
            ValidationFailed => (422, "validation-failed", "Request failed validation"),
            InvalidOpenApi => (422, "invalid-openapi", "Invalid OpenAPI document"),
            PayloadTooLarge => (413, "payload-too-large", "Request body too large"),
            Unauthorized => (401, "unauthorized", "Authentication required"),
            NotFound => (404, "not-found", "Not found"),
            Conflict => (409, "conflict", "Conflict"),
            PreconditionFailed => (412, "precondition-failed", "The resource changed since it was read"),
            InvalidTransition => (409, "invalid-transition", "Lifecycle transition not allowed"),
            MethodNotAllowed => (405, "method-not-allowed", "Method not allowed"),
            UnsupportedMediaType => (415, "unsupported-media-type", "Unsupported media type"),
            HeadersTooLarge => (431, "headers-too-large", "Request header fields too large"),
            UriTooLong => (414, "uri-too-long", "Request target too long"),
            RequestTimeout => (408, "request-timeout", "Request not received in time"),
            ExpectationFailed => (417, "expectation-failed", "Expectation not supported"),
            NotImplemented => (501, "not-implemented", "Not implemented"),
            NotCached => (504, "not-cached", "Not in the cache"),
            UpstreamInvalid => (502, "upstream-invalid-response", "Upstream answer not usable"),
            // The mock upstream (`crate::mock`): a `Prefer` code or example the operation does
            // not describe, or an `Accept` none of its media types meets.
            MockNoResponse => (400, "mock-no-such-response", "The mock describes no such response"),
            NotAcceptable => (406, "not-acceptable", "No acceptable media type"),
            // Publishing a revision that breaks callers of a live API, without `force`.
            BreakingChange => (409, "breaking-change", "The revision breaks existing callers"),
            // Validation at the gateway (`crate::validation`): the request does not match the
            // operation's OpenAPI description; `errors` lists each place by JSON Pointer.
            InvalidRequest => (400, "invalid-request", "Request does not match the API's description"),
            Internal => (500, "internal", "Internal error"),
        }
    }

    pub fn status(self) -> u16 {
        self.spec().0
    }
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension members, e.g. `outcome`, `retry_after`, `errors`.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// Media type of problem bodies.
pub const CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(kind: ProblemKind) -> Problem {
        let (status, slug, title) = kind.spec();
        Problem {
            type_uri: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status,
            detail: None,
            instance: None,
            extensions: serde_json::Map::new(),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Problem {
        self.extensions.insert(name.to_string(), value.into());
        self
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"title":"Internal error","status":500}"#.to_vec())
    }

    /// An HTTP response carrying this problem.
    pub fn into_response(self) -> http::Response<bytes::Bytes> {
        let mut res = http::Response::new(bytes::Bytes::from(self.to_json()));
        *res.status_mut() = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        res.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(CONTENT_TYPE));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_serialises_per_rfc_9457() {
        let p = Problem::new(ProblemKind::RateLimited).detail("slow down").with("retry_after", 3);
        let v: serde_json::Value = serde_json::from_slice(&p.to_json()).expect("json");
        assert_eq!(v["type"], "https://gatehouse.dev/problems/rate-limited");
        assert_eq!(v["status"], 429);
        assert_eq!(v["retry_after"], 3);
        let res = p.into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["content-type"], CONTENT_TYPE);
    }

    #[test]
    fn every_problem_type_is_distinct() {
        let slugs: std::collections::HashSet<_> = ProblemKind::ALL.iter().map(|k| k.spec().1).collect();
        assert_eq!(slugs.len(), ProblemKind::ALL.len());
    }
}
