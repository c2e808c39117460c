//! Usage batches the edge sends to the control plane's ingest endpoint: rollups (already
//! aggregated per minute) with a batch id, signed with [`crate::signing`]. The receiver
//! records each batch id once, so a retried or duplicated delivery never double-counts.

use serde::{Deserialize, Serialize};

use super::Rollup;
use crate::time::UnixMillis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct UsageBatch {
    /// Unique per batch (`bat_…`); the idempotency key.
    pub batch_id: String,
    /// Who aggregated it, e.g. a Durable Object id or an isolate id; for diagnostics only.
    pub source: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub sent_at: UnixMillis,
    pub rollups: Vec<Rollup>,
}
