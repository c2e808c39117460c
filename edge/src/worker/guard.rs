//! The API's stream timeouts after the response head, at the edge as natively: the idle
//! timeout between two chunks (or WebSocket messages) and the maximum duration of the whole
//! call. Without them a stalled upstream would hold the client until the platform's own
//! limits, and a stream could outlive what the API allows.
//!
//! The upstream's body passes through a tap the platform pipes ([`super::tap`], set up by the
//! upstream adapter),
//! which re-arms a timer at each chunk; when the timer wins, the upstream's body is cancelled
//! (its connection closes) and the client's stream errors, so the client sees a body cut
//! short (fewer bytes than announced), never one that looks complete (but see docs/edge.md on
//! chunked bodies under workerd).

use gatehouse_core::ports::UpstreamCall;

use super::clock;

/// The per-API limits on a call once its head has arrived.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Longest silence between two chunks or messages.
    pub idle_ms: u64,
    /// When the call must be over (Unix ms) and the API's maximum duration, when it sets one.
    pub deadline: Option<(i64, u64)>,
}

/// Which limit a wait ran into.
#[derive(Debug, Clone, Copy)]
pub enum Expired {
    Idle(u64),
    MaxDuration(u64),
}

impl Expired {
    /// The cause, for the log and the error the client's stream ends with.
    pub fn cause(self) -> String {
        match self {
            Expired::Idle(ms) => format!("no data for {ms} ms (the API's idle timeout)"),
            Expired::MaxDuration(ms) => format!("the call reached the API's maximum duration of {ms} ms"),
        }
    }
}

impl Timeouts {
    /// The limits of `call`, which started at `started` (Unix ms).
    pub fn of(call: &UpstreamCall, started: i64) -> Timeouts {
        let deadline = call.max_duration_ms.map(|max| (started.saturating_add(max as i64), max));
        Timeouts { idle_ms: call.idle_ms, deadline }
    }

    /// How long the next read may wait, and what it means when that runs out; `0` when the
    /// maximum duration is already reached.
    pub fn next_wait(&self) -> (u64, Expired) {
        match self.deadline {
            Some((end, max)) => {
                let left = end.saturating_sub(clock::now()).max(0) as u64;
                if left < self.idle_ms {
                    (left, Expired::MaxDuration(max))
                } else {
                    (self.idle_ms, Expired::Idle(self.idle_ms))
                }
            }
            None => (self.idle_ms, Expired::Idle(self.idle_ms)),
        }
    }
}
