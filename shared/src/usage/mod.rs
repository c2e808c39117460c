//! Usage: one event per request, aggregated into per-minute rollups before anything is
//! stored, so storage cost follows the number of (minute, API, operation, key) pairs and not
//! the number of requests.

mod batch;
mod histogram;
mod rollup;

pub use batch::UsageBatch;
pub use histogram::{LatencyHistogram, BUCKET_BOUNDS_US};
pub use rollup::{Aggregator, Rollup, RollupKey, RollupValues};

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub at: UnixMillis,
    /// Empty when no API matched the request.
    pub api_id: String,
    pub operation_id: String,
    pub key_id: Option<String>,
    pub app_id: Option<String>,
    pub developer_id: Option<String>,
    pub status: u16,
    pub outcome: Outcome,
    pub latency_us: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub cache_hit: bool,
}
