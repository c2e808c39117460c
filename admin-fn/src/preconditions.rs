//! Conditional requests (RFC 9110 §13): every admin resource answers with an `ETag`, and a
//! write that carries `If-Match` applies only to the version the client read (412 otherwise),
//! so two people editing one resource never silently overwrite each other.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::Etag;

use crate::error::AdminError;

/// The request's `If-Match`, if any.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<String>);

impl IfMatch {
    pub fn is_given(&self) -> bool {
        self.0.is_some()
    }

    /// 412 when the client named a version and `current` is not it.
    pub fn check(&self, current: &Etag) -> Result<(), AdminError> {
        match &self.0 {
            Some(wanted) if !current.matches(wanted) => Err(AdminError::problem(
                ProblemKind::PreconditionFailed,
                "the resource changed since you read it (If-Match); read it again and retry",
            )),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        let values: Result<Vec<&str>, _> = parts.headers.get_all(header::IF_MATCH).iter().map(|v| v.to_str()).collect();
        let values = values.map_err(|_| AdminError::problem(ProblemKind::BadRequest, "If-Match must be ASCII"))?;
        Ok(IfMatch((!values.is_empty()).then(|| values.join(", "))))
    }
}

/// A response with the `ETag` of the resource it shows.
pub struct Tagged<T>(pub Etag, pub T);

impl<T> Tagged<T> {
    /// The same tag on another view of the resource (e.g. `Json`, or a key without its hash).
    pub fn map<U>(self, view: impl FnOnce(T) -> U) -> Tagged<U> {
        Tagged(self.0, view(self.1))
    }
}

impl<T: IntoResponse> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        if let Ok(value) = HeaderValue::from_str(&self.0.header_value()) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}
