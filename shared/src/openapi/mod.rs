//! Importing OpenAPI 3.0 and 3.1 documents (JSON or YAML) into Gatehouse's API model.
//! STUB SIGNATURES — being written (helper: openapi).

use serde::{Deserialize, Serialize};

use crate::model::{AuthSettings, Operation};

/// What an OpenAPI document tells Gatehouse about an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedApi {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    pub description: Option<String>,
    /// `servers[*].url`, as written.
    pub servers: Vec<String>,
    pub operations: Vec<Operation>,
    /// Derived from `components.securitySchemes` + top-level `security`: apiKey in header/query,
    /// http bearer. `key_locations` empty when the document declares no security at all.
    pub auth: AuthSettings,
    /// The whole document as JSON (YAML input converted).
    pub document: serde_json::Value,
}

/// One thing wrong with a document, located by JSON Pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    pub pointer: String,
    pub message: String,
}

/// Parses and validates a document (JSON or YAML, detected from the text). Reports every
/// problem found, not just the first.
pub fn import(text: &str) -> Result<ImportedApi, Vec<ImportProblem>> {
    let _ = text;
    unimplemented!()
}
