//! Usage: one event per request, aggregated into per-minute rollups before anything is
//! stored, so storage cost follows the number of (minute, API, operation, key) pairs and not
//! the number of requests. Rollups travel and are stored in [`WINDOW`]s of five minutes.

mod batch;
mod histogram;
mod rollup;
mod streamed;

pub use batch::UsageBatch;
pub use histogram::{LatencyHistogram, BUCKET_BOUNDS_US};
pub use rollup::{count_end_user, Aggregator, Rollup, RollupKey, RollupValues, MAX_END_USERS, OTHER_END_USERS};
pub use streamed::StreamedUsage;

use serde::Serialize;

use crate::time::{UnixMillis, MINUTE};
use crate::verdict::Outcome;

/// The unit in which usage is sealed and stored: five minutes, aligned to the Unix epoch.
///
/// The edge sends a window's rollups only once the window has ended, so one isolate delivers
/// each key's window in one batch; the control plane packs a key's window (per API and
/// operation) into one item. Together that makes steady traffic cost one item write per key
/// per window whatever the rate: at 1,000 requests a minute, one write per 5,000 requests,
/// leaving room under the budget of one write per 1,000 for batch summaries, indexes and
/// compaction (docs/aws.md, "Write cost"). Longer windows would cost less but lose more analytics when an
/// isolate is evicted, and delay reports by as much.
pub const WINDOW: i64 = 5 * MINUTE;

/// Start of the window of length `window` (ms, > 0) holding `at`; windows are aligned to the
/// Unix epoch, so every location cuts them at the same instants.
pub fn window_start(at: UnixMillis, window: i64) -> UnixMillis {
    at - at.rem_euclid(window.max(1))
}

/// What happened to one request. The ids are borrowed from the catalog records the pipeline
/// matched, which outlive the event: a sink aggregates it at once, so copying five ids per
/// request would only feed the allocator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageEvent<'a> {
    pub at: UnixMillis,
    /// Empty when no API matched the request.
    pub api_id: &'a str,
    pub operation_id: &'a str,
    pub key_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub developer_id: Option<&'a str>,
    /// The end user a bearer token named (`sub`), for calls a token admitted.
    pub end_user: Option<&'a str>,
    pub status: u16,
    pub outcome: Outcome,
    pub latency_us: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub cache_hit: bool,
    /// The classes of sensitive data (`x-gatehouse-sensitivity`) the answer carried to a
    /// caller holding them; empty for nearly every call. Counted per rollup, and per app,
    /// class and hour in the audit trail.
    pub classes: &'a [String],
}
