//! Importing OpenAPI 3.0 and 3.1 documents, and Swagger 2.0 ones converted to 3.0 first (JSON
//! or YAML), into Gatehouse's API model.
//!
//! The import is a pure function of the text: it parses under size, depth and expansion
//! bounds (documents arrive from API owners and must not be able to exhaust the admin
//! service), validates what the gateway relies on, and reports every problem at once with an
//! RFC 6901 JSON Pointer, so an owner fixes a document in one round trip rather than many.
//!
//! Security is read conservatively: an import never makes an operation public unless the
//! document says so explicitly (see [`import`]).

pub mod diff;
mod document;
mod lint;
mod operations;
mod parse;
mod paths;
pub(crate) mod pointer;
mod refs;
mod security;
mod sensitivity;
mod swagger2;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::model::{AuthSettings, ImportNote, Operation};

pub use lint::{lint, lint_document, Finding, LintReport, Rule, Severity, RULES};
pub use parse::{MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_EXPANDED_BYTES};
pub use sensitivity::{report as sensitivity_report, AnnotatedField, SensitivityReport};

/// What an OpenAPI document tells Gatehouse about an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedApi {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`, when given.
    pub description: Option<String>,
    /// `servers[*].url`, as written.
    pub servers: Vec<String>,
    /// The first server as an absolute `http(s)` URL, server variables set to their defaults:
    /// the upstream when the API's owner names none.
    pub default_upstream: Option<String>,
    /// One per method of each path item (a path item `$ref` into the same document is
    /// followed), in the iteration order of the parsed document.
    pub operations: Vec<Operation>,
    /// Credential locations of the `components.securitySchemes` that the effective security
    /// requirements use: apiKey in a header (name lower-cased) or query, and http bearer.
    /// Cookie keys, OAuth2, OpenID Connect and mutual TLS add nothing. When nothing usable is
    /// declared this is [`AuthSettings::default`], the gateway's default credential locations
    /// (`x-api-key` header, then bearer) — never empty, so an import cannot open an API.
    pub auth: AuthSettings,
    /// The whole document as JSON (YAML input converted; YAML scalar keys become strings).
    pub document: serde_json::Value,
    /// What the import ignored and why.
    pub report: Vec<ImportNote>,
    /// Every `x-gatehouse-sensitivity` annotation, and names that look sensitive without one
    /// (each operation's compiled enforcement is in its [`Operation::sensitivity`]).
    pub sensitivity: SensitivityReport,
}

/// One thing wrong with a document, located by JSON Pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    /// Where the problem is: `""` for the whole document, else e.g. `/paths/~1pets~1{id}/get`.
    pub pointer: String,
    /// What is wrong, written for the API owner.
    pub message: String,
}

/// Parses and validates a document (JSON or YAML, detected from the text). Reports every
/// problem found, not just the first.
///
/// An operation is `public` only when its effective security is an explicit "no credential"
/// statement: `security: []` (or a list of only empty requirements, `[{}]`) on the operation,
/// or the same at the top level with no operation-level override. A document that declares
/// no security at all yields operations that are *not* public — the gateway still requires a
/// key by default, because an import must never open an API by accident. Optional security
/// (`[{}, {api_key: []}]`) is also not public.
///
/// `scopes` is the union of the scopes (3.1: roles) listed in the effective requirements, over
/// all alternatives: stricter than OpenAPI's "any one requirement", never looser.
pub fn import(text: &str) -> Result<ImportedApi, Vec<ImportProblem>> {
    let mut document = parse::parse(text).map_err(|problem| vec![problem])?;
    let mut report = Vec::new();
    if swagger2::is_swagger2(&document) {
        document = swagger2::convert(&document);
        let message = "converted from Swagger 2.0 to OpenAPI 3.0.3: the stored document and any problem's pointer \
                       refer to the converted form";
        report.push(ImportNote { pointer: "/swagger".into(), message: message.into() });
    }
    let mut problems = Problems::default();
    let Some(root) = document.as_object() else {
        problems.push("", "an OpenAPI document must be an object at the top level");
        return Err(problems.0);
    };
    let dialect = document::dialect(root, &mut problems);
    if dialect == document::Dialect::Swagger2 {
        // 2.0 has a different shape; checking it against 3.x rules would only add noise.
        return Err(problems.0);
    }
    refs::check(&document, &mut problems);
    let info = document::info(root, &mut problems);
    let servers = document::servers(root, &mut problems);
    let default_upstream = document::default_upstream(root);
    let mut security = security::Security::read(&document, &mut problems);
    let mut operations = paths::read(&document, dialect, &mut security, &mut problems);
    let sensitivity = sensitivity::annotate(&document, &mut operations, &mut problems);
    let auth = security.auth(&mut problems);
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    report.extend(security.notes);
    Ok(ImportedApi {
        title: info.title,
        version: info.version,
        description: info.description,
        servers,
        default_upstream,
        operations,
        auth,
        document,
        report,
        sensitivity,
    })
}

/// The document as JSON, parsed as [`import`] parses it (JSON or YAML, merge keys applied,
/// under the same size, depth and expansion bounds) but not checked: for tools that rewrite a
/// document before importing it (`gatehouse apply` inlining files that `$ref`s name).
pub fn parse_document(text: &str) -> Result<serde_json::Value, ImportProblem> {
    parse::parse(text)
}

/// Every problem found so far; validation keeps going after each one.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<ImportProblem>);

impl Problems {
    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(ImportProblem { pointer: pointer.into(), message: message.into() });
    }
}
