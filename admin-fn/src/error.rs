//! `AdminError`: every way an admin call can fail, mapped in one place to an RFC 9457 problem.
//! Internal detail is logged; the response carries only the public message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::problem::{Problem, ProblemKind, CONTENT_TYPE};
use gatehouse_core::store::StoreError;
use serde::Serialize;

use crate::publisher::PublishError;

/// One thing wrong with a request, located by JSON Pointer (RFC 6901) into the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { pointer: pointer.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A refusal with a public explanation (bad input, missing record, conflict…).
    #[error("{0:?}")]
    Problem(Box<Problem>),
    /// No or wrong admin token; answered with `WWW-Authenticate: Bearer`.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The write is in the store of record but the edge was not told.
    #[error("publish failed: {0}")]
    Publish(#[from] PublishError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn problem(kind: ProblemKind, detail: impl Into<String>) -> AdminError {
        AdminError::Problem(Box::new(Problem::new(kind).detail(detail)))
    }

    pub fn not_found(what: &str, id: &str) -> AdminError {
        AdminError::problem(ProblemKind::NotFound, format!("no {what} with id {id}"))
    }

    pub fn conflict(detail: impl Into<String>) -> AdminError {
        AdminError::problem(ProblemKind::Conflict, detail)
    }

    /// 422 listing every problem found, so a client fixes them all in one round trip.
    pub fn invalid(kind: ProblemKind, errors: Vec<FieldError>) -> AdminError {
        let detail = match errors.len() {
            1 => "1 problem was found in the request".to_string(),
            n => format!("{n} problems were found in the request"),
        };
        let errors = serde_json::to_value(errors).unwrap_or_default();
        AdminError::Problem(Box::new(Problem::new(kind).detail(detail).with("errors", errors)))
    }

    pub fn validation(errors: Vec<FieldError>) -> AdminError {
        AdminError::invalid(ProblemKind::ValidationFailed, errors)
    }

    /// Fails with 422 when `errors` is not empty.
    pub fn check(errors: Vec<FieldError>) -> Result<(), AdminError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AdminError::validation(errors))
        }
    }

    fn to_problem(&self) -> Problem {
        match self {
            AdminError::Problem(p) => (**p).clone(),
            AdminError::Unauthorized(detail) => Problem::new(ProblemKind::Unauthorized).detail(*detail),
            AdminError::Store(StoreError::NotFound) => Problem::new(ProblemKind::NotFound),
            AdminError::Store(StoreError::Conflict(what)) => Problem::new(ProblemKind::Conflict).detail(what.clone()),
            AdminError::Store(StoreError::Changed) => Problem::new(ProblemKind::PreconditionFailed)
                .detail("the resource changed since you read it (If-Match); read it again and retry"),
            AdminError::Store(StoreError::Unavailable(_)) => {
                Problem::new(ProblemKind::ServiceUnavailable).detail("the store is unavailable; try again shortly")
            }
            AdminError::Publish(_) => Problem::new(ProblemKind::ServiceUnavailable)
                .detail("the change was saved but could not be published to the gateway yet; retry the same change")
                .with("saved", true),
            AdminError::Internal(_) => Problem::new(ProblemKind::Internal),
        }
    }
}

impl From<Problem> for AdminError {
    fn from(p: Problem) -> AdminError {
        AdminError::Problem(Box::new(p))
    }
}

/// Writes `problem` as an `application/problem+json` response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, problem.to_json()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match &self {
            AdminError::Store(StoreError::Unavailable(_)) | AdminError::Publish(_) | AdminError::Internal(_) => {
                tracing::error!(error = %self, "admin call failed");
            }
            _ => tracing::debug!(error = %self, "admin call refused"),
        }
        let mut response = problem_response(&self.to_problem());
        if let AdminError::Unauthorized(_) = self {
            let challenge = HeaderValue::from_static("Bearer realm=\"gatehouse-admin\"");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
