//! Validation at the gateway: requests checked against the operation's OpenAPI description
//! before the upstream sees them (path, query and header parameters, JSON bodies), and JSON
//! responses optionally checked and logged. Per API, per operation, off by default
//! ([`ValidationSettings`]; docs/validation.md).
//!
//! Pure: the runtime reads the body (up to [`MAX_VALIDATED_BODY_BYTES`]) and logs; this module
//! only reads the document, compiles and checks. The JSON Schema work is the `jsonschema`
//! crate's (see the workspace Cargo.toml for why): nothing here interprets a schema keyword.

mod check;
mod compile;
mod params;
mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::Response;
use serde::Serialize;

use crate::model::Api;
use crate::problem::{Problem, ProblemKind};

pub use check::SentBody;
pub use compile::{compile, ApiSchemas, Compiled, DOCUMENT_URI};
pub use settings::{Effective, ResponseValidation, ValidationOverride, ValidationSettings};
pub use spec::OperationSpec;

/// The largest request body read to be checked: 1 MiB, the gateway's default body limit
/// (`GATEHOUSE_MAX_BODY_BYTES`). A JSON body that must be checked is held whole in memory,
/// so the bound is per request, not per API; a larger one is refused with 413 naming it,
/// never forwarded unchecked. An API's own lower `max_body_bytes` still applies first.
pub const MAX_VALIDATED_BODY_BYTES: usize = 1 << 20;

/// The most errors one refusal lists: every error of an ordinary request, while a hostile
/// 1 MiB array of wrong items cannot make the answer (or the work) grow with it.
pub const MAX_ERRORS: usize = 50;

/// One place where a request does not match its description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// A JSON Pointer into the request: `/path/id`, `/query/limit`, `/header/X-Trace`,
    /// `/body/items/0/price`.
    pub pointer: String,
    /// What is wrong, without the value that was sent.
    pub detail: String,
}

/// One operation's checks, ready to run. The validators are compiled on first use (or ahead
/// of it, by [`OperationValidator::compiled`] at load) and kept for the life of the route
/// table.
pub struct OperationValidator {
    pub checks: Effective,
    pub spec: OperationSpec,
    schemas: Arc<ApiSchemas>,
    compiled: OnceLock<Compiled>,
}

impl std::fmt::Debug for OperationValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationValidator").field("checks", &self.checks).field("spec", &self.spec).finish()
    }
}

/// Two validators are equal when they are one: they hold compiled code, and are never stored
/// or compared by the control plane (the field is not serialised).
impl PartialEq for OperationValidator {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for OperationValidator {}

impl OperationValidator {
    /// The validators, compiled now if they were not yet.
    pub fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| compile(&self.schemas, &self.spec))
    }
}

/// Gives each operation that [`ValidationSettings`] turns on its [`OperationValidator`], from
/// the API's document (which the runtime may drop afterwards). Nothing is compiled yet; an
/// API with validation off is left untouched. `Err` when the document cannot be read as
/// schemas at all: its operations then stay unchecked, and the runtime logs why.
pub fn prepare(api: &mut Api) -> Result<(), String> {
    if api.validation.is_off() {
        return Ok(());
    }
    let schemas = Arc::new(ApiSchemas::new(&api.openapi)?);
    for operation in &mut api.operations {
        let checks = api.validation.for_operation(&operation.id);
        if !checks.any() {
            continue;
        }
        let spec = spec::read(&api.openapi, &operation.path, &operation.method).unwrap_or_default();
        let compiled = OnceLock::new();
        operation.validator =
            Some(Arc::new(OperationValidator { checks, spec, schemas: Arc::clone(&schemas), compiled }));
    }
    Ok(())
}

/// Compiles every prepared operation of `api` now (natively, when the route table is built),
/// returning the schemas that did not compile as (operation id, pointer, why).
pub fn compile_all(api: &Api) -> Vec<(String, String, String)> {
    let mut notes = Vec::new();
    for operation in &api.operations {
        if let Some(validator) = &operation.validator {
            for (pointer, why) in &validator.compiled().notes {
                notes.push((operation.id.clone(), pointer.clone(), why.clone()));
            }
        }
    }
    notes
}

/// The `400` for a request that does not match: every error with its pointer.
pub fn refusal(violations: &[Violation]) -> Response<Bytes> {
    let count = violations.len();
    let detail = if count == 1 {
        "The request does not match the API's description: 1 error.".to_owned()
    } else {
        format!("The request does not match the API's description: {count} errors.")
    };
    Problem::new(ProblemKind::InvalidRequest)
        .detail(detail)
        .with("outcome", crate::verdict::Outcome::InvalidRequest.code())
        .with("errors", serde_json::to_value(violations).unwrap_or_default())
        .into_response()
}

/// The `413` for a body that must be checked and is larger than the gateway reads.
pub fn too_large(limit: usize) -> Response<Bytes> {
    let detail = format!(
        "This operation's request bodies are checked against its schema, which reads at most {limit} bytes; this body is larger."
    );
    Problem::new(ProblemKind::PayloadTooLarge).detail(detail).with("max_bytes", limit).into_response()
}

/// What a response check found, carried in the response's extensions for the runtime to log
/// (the operation and the pointers only: never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMismatch {
    pub api_id: String,
    pub operation_id: String,
    pub status: u16,
    pub pointers: Vec<String>,
}
