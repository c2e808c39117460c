//! Lint: advice about an OpenAPI document that import accepts or not — missing operation ids,
//! summaries, error answers and examples, unsecured operations, unclassified personal data and
//! inconsistent naming. Pure: the document comes in as text, findings go out as values, so the
//! CLI (`gatehouse lint`, offline) and the admin API (`POST /v1/apis/lint`) answer the same.
//!
//! Each finding carries a stable rule id (scripts and docs/lint.md name rules by it), a
//! severity and an RFC 6901 pointer into the document as parsed (a Swagger 2.0 document is
//! converted to OpenAPI 3.0 first, exactly as import does, and pointers refer to that form).

mod naming;
mod operations;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{parse, sensitivity, swagger2, ImportProblem};

/// How much a finding matters. Ordered from worst to mildest, so sorting puts errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document misleads its readers or callers; `gatehouse lint` exits non-zero.
    Error,
    /// Worth fixing; fails `gatehouse lint --strict`.
    Warning,
    /// A suggestion; never fails.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One rule: its stable id, its severity and what it checks, in words (docs/lint.md lists
/// the same table, and a test keeps the two equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

pub const OPERATION_ID: Rule =
    Rule { id: "operation-id", severity: Severity::Warning, summary: "an operation has no operationId" };
pub const OPERATION_SUMMARY: Rule =
    Rule { id: "operation-summary", severity: Severity::Warning, summary: "an operation has no summary" };
pub const OPERATION_ERROR_RESPONSE: Rule = Rule {
    id: "operation-error-response",
    severity: Severity::Warning,
    summary: "an operation declares no 4xx, 5xx or default response",
};
pub const OPERATION_SECURITY: Rule = Rule {
    id: "operation-security",
    severity: Severity::Error,
    summary: "an operation has no security requirement, neither its own nor the document's",
};
pub const OPERATION_PUBLIC: Rule = Rule {
    id: "operation-public",
    severity: Severity::Warning,
    summary: "an operation is open to anyone (security: [] or an empty {} alternative)",
};
pub const MEDIA_EXAMPLE: Rule = Rule {
    id: "media-example",
    severity: Severity::Info,
    summary: "a request or response body has no example (on the media type or its schema)",
};
pub const SENSITIVE_UNCLASSIFIED: Rule = Rule {
    id: "sensitive-unclassified",
    severity: Severity::Warning,
    summary: "a property or parameter looks like personal data but has no x-gatehouse-sensitivity",
};
pub const NAMING_OPERATION_ID: Rule = Rule {
    id: "naming-operation-id",
    severity: Severity::Warning,
    summary: "operationIds mix naming styles (camelCase, snake_case, kebab-case, PascalCase)",
};
pub const NAMING_PATH_SEGMENT: Rule =
    Rule { id: "naming-path-segment", severity: Severity::Info, summary: "literal path segments mix naming styles" };

/// Every rule, in the order docs/lint.md lists them.
pub const RULES: [Rule; 9] = [
    OPERATION_ID,
    OPERATION_SUMMARY,
    OPERATION_ERROR_RESPONSE,
    OPERATION_SECURITY,
    OPERATION_PUBLIC,
    MEDIA_EXAMPLE,
    SENSITIVE_UNCLASSIFIED,
    NAMING_OPERATION_ID,
    NAMING_PATH_SEGMENT,
];

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The rule's stable id, e.g. `operation-summary`.
    pub rule: String,
    pub severity: Severity,
    /// RFC 6901 pointer into the (converted) document.
    pub pointer: String,
    pub message: String,
}

impl Finding {
    fn new(rule: Rule, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { rule: rule.id.into(), severity: rule.severity, pointer: pointer.into(), message: message.into() }
    }
}

/// Everything lint found, worst first (document order within a severity), with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// The text was Swagger 2.0, converted to OpenAPI 3.0.3 first: pointers refer to that form.
    pub converted_from_swagger2: bool,
}

impl LintReport {
    /// The worst severity found, `None` for a clean document.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

/// Parses `text` the way import does (JSON or YAML, under the same bounds; Swagger 2.0
/// converted) and lints it. Only a document that cannot be parsed at all is an `Err`: lint
/// is for documents that import may still refuse.
pub fn lint(text: &str) -> Result<LintReport, ImportProblem> {
    let mut document = parse::parse(text)?;
    let converted = swagger2::is_swagger2(&document);
    if converted {
        document = swagger2::convert(&document);
    }
    if !document.is_object() {
        let message = "an OpenAPI document must be an object at the top level";
        return Err(ImportProblem { pointer: String::new(), message: message.into() });
    }
    let mut report = lint_document(&document);
    report.converted_from_swagger2 = converted;
    Ok(report)
}

/// Lints a parsed OpenAPI 3.x document.
pub fn lint_document(doc: &Value) -> LintReport {
    let mut findings = operations::check(doc);
    for warning in sensitivity::report(doc).warnings {
        findings.push(Finding::new(SENSITIVE_UNCLASSIFIED, warning.pointer, warning.message));
    }
    findings.extend(naming::check(doc));
    // A response or body shared through `$ref` is reported once, not once per operation.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.rule.clone(), f.pointer.clone())));
    findings.sort_by_key(|f| f.severity);
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    LintReport { findings, errors, warnings, infos, converted_from_swagger2: false }
}
