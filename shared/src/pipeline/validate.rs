//! Validation at the gateway in the pipeline: after admission (a caller without a key learns
//! nothing about the API's schemas, and a refused call still counts against its limits),
//! before the cache and the upstream. Only operations with checks on are touched: every other
//! request keeps its body streaming as it came.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Request, Response};

use super::{refuse, Adapters, Admitted, BodyOf, Gateway};
use crate::body::{declared_len, Body};
use crate::model::{Api, Operation};
use crate::ports::{Collected, Upstream};
use crate::problem::{Problem, ProblemKind};
use crate::validation::{self, ResponseMismatch, ResponseValidation, SentBody, MAX_VALIDATED_BODY_BYTES};

impl<A: Adapters> Gateway<A> {
    /// `Err` with the refusal (400 listing every error, or 413 for a JSON body past what the
    /// check reads) when the operation checks requests and this one does not match. A JSON
    /// body that is checked is read whole (at most [`MAX_VALIDATED_BODY_BYTES`]) and left in
    /// the request, whole, for the upstream.
    pub(super) async fn validated(
        &self,
        admitted: &Admitted<'_>,
        request: &mut Request<BodyOf<A>>,
    ) -> Result<(), Response<Bytes>> {
        let Some(validator) = admitted.operation.validator.as_deref().filter(|v| v.checks.requests) else {
            return Ok(());
        };
        let present = match request.body() {
            Body::Full(bytes) => !bytes.is_empty(),
            Body::Stream(_) => declared_len(request.headers()) != Some(0),
        };
        let read = if present && validator.reads_body(request.headers()) {
            let api_limit = admitted.api.upstream.max_body_bytes.unwrap_or(self.config.max_body_bytes as u64);
            let bytes = self.read_whole(request, api_limit).await?;
            *request.body_mut() = Body::Full(bytes.clone());
            Some(bytes)
        } else {
            None
        };
        let body = match (&read, present) {
            (Some(bytes), _) => SentBody::Bytes(bytes),
            (None, true) => SentBody::Unread,
            (None, false) => SentBody::None,
        };
        let path = admitted.rest(request.uri().path());
        let template = admitted.operation.path.as_str();
        let violations = validator.check_request(template, path, request.uri().query(), request.headers(), body);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(validation::refusal(&violations))
        }
    }

    /// The request's body, read whole up to [`MAX_VALIDATED_BODY_BYTES`] (or the API's lower
    /// `api_limit`), or the refusal: 413 naming the bound that was passed, 400 for a body that
    /// broke off.
    async fn read_whole(&self, request: &mut Request<BodyOf<A>>, api_limit: u64) -> Result<Bytes, Response<Bytes>> {
        let bound = usize::try_from(api_limit).unwrap_or(usize::MAX).min(MAX_VALIDATED_BODY_BYTES);
        let too_large = || {
            if bound as u64 == api_limit {
                refuse::too_large(api_limit)
            } else {
                validation::too_large(bound)
            }
        };
        match request.body_mut().take() {
            Body::Full(bytes) => Ok(bytes),
            Body::Stream(_) if declared_len(request.headers()).is_some_and(|n| n > bound as u64) => Err(too_large()),
            Body::Stream(stream) => match self.adapters.upstream().collect(stream, bound).await {
                Collected::Whole(bytes) => Ok(bytes),
                Collected::TooLarge(_) => Err(too_large()),
                Collected::Failed(e) => {
                    let detail = format!("The request body could not be read to be checked ({e}).");
                    Err(Problem::new(ProblemKind::BadRequest).detail(detail).into_response())
                }
            },
        }
    }
}

/// Notes in the response's extensions where a JSON answer held whole does not match its
/// described schema ([`ResponseMismatch`], for the runtime to log), when the operation
/// asks for it. Never changes the response; a streamed answer is not read for it.
pub(super) fn check_response<S>(api: &Api, operation: &Operation, response: &mut Response<Body<S>>) {
    let Some(validator) = operation.validator.as_deref() else { return };
    if validator.checks.responses != ResponseValidation::Log {
        return;
    }
    let Body::Full(bytes) = response.body() else { return };
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let status = response.status().as_u16();
    let pointers = validator.check_response(status, content_type, bytes);
    if !pointers.is_empty() {
        let mismatch =
            ResponseMismatch { api_id: api.id.clone(), operation_id: operation.id.clone(), status, pointers };
        response.extensions_mut().insert(mismatch);
    }
}
