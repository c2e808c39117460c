use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A developer's request for a sensitivity class on one API, for one of their apps, and what
/// became of it. Approved and not yet expired or revoked, it grants the class to the app (see
/// [`crate::entitlements::compile_identity`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AccessRequest {
    pub id: String,
    pub app_id: String,
    pub developer_id: String,
    pub api_id: String,
    /// The sensitivity class asked for (`pii`, …).
    pub class: String,
    /// Why the developer needs it, in their words: what the approver decides on.
    pub reason: String,
    /// How long the developer asks for, in days; the approver sets the actual expiry.
    pub wanted_days: u32,
    pub state: AccessState,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

/// Where a request stands. Each decision carries who made it and when; only an approval
/// grants anything, and only until its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AccessState {
    Pending,
    Approved {
        by: String,
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        at: UnixMillis,
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        expires_at: UnixMillis,
    },
    Denied {
        by: String,
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        at: UnixMillis,
        reason: String,
    },
    /// An approval taken back before it expired.
    Revoked {
        by: String,
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        at: UnixMillis,
        #[serde(default)]
        reason: String,
    },
}

impl AccessRequest {
    /// Until when this request grants its class: an approval's expiry, `None` otherwise.
    pub fn granted_until(&self) -> Option<UnixMillis> {
        match self.state {
            AccessState::Approved { expires_at, .. } => Some(expires_at),
            _ => None,
        }
    }

    /// The status's name, as the API and the portal show it (`expired` for a lapsed approval).
    pub fn status_name(&self, now: UnixMillis) -> &'static str {
        match &self.state {
            AccessState::Pending => "pending",
            AccessState::Approved { expires_at, .. } if *expires_at <= now => "expired",
            AccessState::Approved { .. } => "approved",
            AccessState::Denied { .. } => "denied",
            AccessState::Revoked { .. } => "revoked",
        }
    }
}
