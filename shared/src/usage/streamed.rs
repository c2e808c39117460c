//! The usage event of a call whose body streams: its bytes are known only once the body has
//! passed, so the pipeline hands the runtime this owned copy of the event, and the runtime
//! completes it with the bytes it moved and records it when the stream ends.
//!
//! Only streamed calls pay for the owned copy (five short strings): a call answered whole is
//! recorded by the pipeline at once, from borrowed ids, as before.

use super::UsageEvent;
use crate::time::UnixMillis;
use crate::verdict::Outcome;

/// Put in a streamed response's extensions by the pipeline; see the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedUsage {
    pub at: UnixMillis,
    pub api_id: String,
    /// For the runtime's log when the stream breaks.
    pub api_name: String,
    pub operation_id: String,
    pub key_id: Option<String>,
    pub app_id: Option<String>,
    pub developer_id: Option<String>,
    pub end_user: Option<String>,
    pub status: u16,
    pub outcome: Outcome,
    /// Time to the response head: what the latency figures mean for every call.
    pub latency_us: u64,
    /// The request body's length when the pipeline knew it (held whole or announced); else
    /// the runtime counts what it forwarded.
    pub bytes_in: Option<u64>,
    pub cache_hit: bool,
    /// The classes of sensitive data the answer carried (see [`UsageEvent::classes`]).
    pub classes: Vec<String>,
}

impl StreamedUsage {
    /// The event to record once the body has passed: `bytes_in` as counted by the runtime
    /// (used when the pipeline did not know the length) and `bytes_out` as sent.
    pub fn event(&self, counted_in: u64, bytes_out: u64) -> UsageEvent<'_> {
        UsageEvent {
            at: self.at,
            api_id: &self.api_id,
            operation_id: &self.operation_id,
            key_id: self.key_id.as_deref(),
            app_id: self.app_id.as_deref(),
            developer_id: self.developer_id.as_deref(),
            end_user: self.end_user.as_deref(),
            status: self.status,
            outcome: self.outcome,
            latency_us: self.latency_us,
            bytes_in: self.bytes_in.unwrap_or(counted_in),
            bytes_out,
            cache_hit: self.cache_hit,
            classes: &self.classes,
        }
    }
}
