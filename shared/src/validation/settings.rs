//! What an API's owner turns on: request checks and response logging, per API with
//! per-operation overrides. Kept on the API record rather than read from the document, so
//! re-importing a document never turns checks on or off behind the owner's back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Operation;

/// Validation at the gateway (docs/validation.md). Everything is off by default: a gateway
/// must not start refusing calls an upstream accepts because a document is imprecise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ValidationSettings {
    /// Check each request (path, query and header parameters, JSON body) against the
    /// operation's description before the upstream sees it; a request that does not match is
    /// refused with 400 listing every error.
    #[serde(default)]
    pub requests: bool,
    /// Check JSON responses against the described schema and log what does not match (the
    /// operation and the JSON Pointers, never the values). Never blocks or changes a response.
    #[serde(default)]
    pub responses: ResponseValidation,
    /// Overrides by operation id (`operationId`, or `<METHOD> <path>` when the document has
    /// none); an id the document does not have is refused when the API is written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, ValidationOverride>,
}

/// One operation's departure from the API's [`ValidationSettings`]; an omitted field follows
/// the API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ValidationOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<ResponseValidation>,
}

/// What happens to a response that does not match its schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponseValidation {
    /// Not checked.
    #[default]
    Off,
    /// Checked, and each mismatch logged with the operation and its JSON Pointers.
    Log,
}

/// The checks that apply to one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effective {
    pub requests: bool,
    pub responses: ResponseValidation,
}

impl Effective {
    pub fn any(self) -> bool {
        self.requests || self.responses != ResponseValidation::Off
    }
}

impl ValidationSettings {
    /// Nothing is checked anywhere (the default; left out of the API's JSON).
    pub fn is_off(&self) -> bool {
        *self == ValidationSettings::default()
    }

    /// The checks for the operation with this id: its override, else the API's.
    pub fn for_operation(&self, operation_id: &str) -> Effective {
        let over = self.operations.get(operation_id).copied().unwrap_or_default();
        Effective {
            requests: over.requests.unwrap_or(self.requests),
            responses: over.responses.unwrap_or(self.responses),
        }
    }

    /// Override ids that name no operation of the API, for the admin API's refusal (a typo
    /// would otherwise leave an operation unchecked without a word).
    pub fn unknown_operations<'s>(&'s self, operations: &[Operation]) -> Vec<&'s str> {
        let known = |id: &str| operations.iter().any(|op| op.id == id);
        self.operations.keys().map(String::as_str).filter(|id| !known(id)).collect()
    }
}
