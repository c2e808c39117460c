//! `UsageRecorder`: aggregates usage events in memory and flushes per-minute rollups to the
//! store on a timer and on shutdown, so the store sees one write per rollup, not per request.

use std::sync::{Arc, Mutex};

use gatehouse_core::ports::UsageSink;
use gatehouse_core::store::audit::ClassAccessTally;
use gatehouse_core::store::AuditEntry;
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{Aggregator, Rollup, UsageEvent};

use crate::metrics::GatewayMetrics;

/// Collects events; `take` hands the pending rollups to whoever flushes them.
#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<Pending>,
    /// Keep each event's facts for the access log ([`crate::access_log`]).
    access_log: bool,
    /// Every event is also counted here, for `/metrics` (atomics only).
    metrics: Arc<GatewayMetrics>,
    /// Sensitive-data accesses of the hours not yet over, from the rollups taken so far.
    class_access: Mutex<ClassAccessTally>,
}

#[derive(Default)]
struct Pending {
    aggregator: Aggregator,
    /// Last use per key id, to show "last used" in key listings.
    last_used: foldhash::HashMap<String, i64>,
}

impl UsageRecorder {
    /// A recorder that also hands each event to the access log.
    pub fn with_access_log() -> UsageRecorder {
        UsageRecorder { access_log: true, ..UsageRecorder::default() }
    }

    /// The Prometheus counters this recorder feeds.
    pub fn metrics(&self) -> &Arc<GatewayMetrics> {
        &self.metrics
    }

    /// Takes everything recorded so far: rollups and key last-use times.
    pub fn take(&self) -> (Vec<Rollup>, Vec<(String, i64)>) {
        let Ok(mut pending) = self.pending.lock() else {
            return (Vec::new(), Vec::new());
        };
        let rollups = pending.aggregator.drain();
        let used = pending.last_used.drain().collect();
        (rollups, used)
    }
}

impl UsageRecorder {
    /// Counts the sensitive-data accesses in `rollups` (as [`take`](Self::take) gave them)
    /// and returns the audit entries of every hour over by `until`: one per app, API, class
    /// and hour, however many calls it counts.
    pub fn class_access(&self, rollups: &[Rollup], until: UnixMillis) -> Vec<AuditEntry> {
        let Ok(mut tally) = self.class_access.lock() else { return Vec::new() };
        tally.record_rollups(rollups);
        tally.drain_finished(until)
    }
}

impl UsageSink for UsageRecorder {
    fn record(&self, event: UsageEvent) {
        self.metrics.record(&event);
        if self.access_log {
            crate::access_log::remember(&event);
        }
        if let Ok(mut pending) = self.pending.lock() {
            if let (Some(key), true) = (event.key_id, event.outcome.admitted()) {
                match pending.last_used.get_mut(key) {
                    Some(at) => *at = (*at).max(event.at),
                    None => {
                        pending.last_used.insert(key.to_owned(), event.at);
                    }
                }
            }
            pending.aggregator.add(&event);
        }
    }
}
