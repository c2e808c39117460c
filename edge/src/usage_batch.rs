//! Usage at the edge, as pure state: each isolate aggregates its events (the core's
//! [`Aggregator`]) and, at most every flush interval, seals the rollups into one signed
//! [`UsageBatch`] whose id is unique (isolate id + sequence number). The Worker sends it with
//! `ctx.wait_until` and retries with the same id, so the ingest endpoint, which records each
//! batch id once, never double-counts a retried or duplicated delivery.

use gatehouse_core::signing;
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{Aggregator, UsageBatch, UsageEvent};

/// A batch ready to send: its id, JSON body and `gatehouse-signature` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBatch {
    pub batch_id: String,
    pub body: String,
    pub signature: String,
}

/// One isolate's pending usage. Invariant: `seq` only grows, so batch ids never repeat
/// within an isolate; `source` is random per isolate, so they never repeat across isolates.
#[derive(Debug)]
pub struct IsolateUsage {
    source: String,
    seq: u64,
    interval_ms: i64,
    last_flush: Option<UnixMillis>,
    aggregator: Aggregator,
}

impl IsolateUsage {
    pub fn new(source: String, interval_ms: i64) -> Self {
        IsolateUsage { source, seq: 0, interval_ms, last_flush: None, aggregator: Aggregator::default() }
    }

    pub fn record(&mut self, event: &UsageEvent) {
        self.aggregator.add(event);
    }

    /// When the pending events will be due, if any are pending: the Worker schedules a
    /// trailing flush for then, so an isolate that goes quiet still delivers within one interval.
    pub fn due_at(&self) -> Option<UnixMillis> {
        if self.aggregator.is_empty() {
            return None;
        }
        Some(self.last_flush.map_or(UnixMillis::MIN, |last| last + self.interval_ms))
    }

    /// The batch to send now, if anything is pending and the interval has passed since the
    /// last flush (the first flush of an isolate waits one interval from its first call).
    pub fn take_due(&mut self, now: UnixMillis, secret: &[u8]) -> Option<SealedBatch> {
        let last = *self.last_flush.get_or_insert(now);
        if self.aggregator.is_empty() || now - last < self.interval_ms {
            return None;
        }
        self.last_flush = Some(now);
        self.seq += 1;
        let batch = UsageBatch {
            batch_id: format!("bat_{}_{}", self.source, self.seq),
            source: self.source.clone(),
            sent_at: now,
            rollups: self.aggregator.drain(),
        };
        let body = serde_json::to_string(&batch).ok()?;
        let signature = signing::sign(secret, body.as_bytes(), now);
        Some(SealedBatch { batch_id: batch.batch_id, body, signature })
    }
}

/// Whether a failed delivery is worth another try: network errors and 5xx/429, never 4xx
/// (a refused signature will not get better).
pub fn retryable(status: Option<u16>) -> bool {
    status.is_none_or(|s| s >= 500 || s == 429)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::verdict::Outcome;

    fn event(at: UnixMillis) -> UsageEvent {
        UsageEvent {
            at,
            api_id: "api_1".into(),
            operation_id: "op".into(),
            key_id: Some("key_1".into()),
            app_id: Some("app_1".into()),
            developer_id: Some("dev_1".into()),
            status: 200,
            outcome: Outcome::Valid,
            latency_us: 900,
            bytes_in: 0,
            bytes_out: 10,
            cache_hit: false,
        }
    }

    #[test]
    fn batches_are_signed_aggregated_and_never_reuse_an_id() {
        let mut usage = IsolateUsage::new("iso1".into(), 0);
        usage.record(&event(1_000));
        usage.record(&event(1_500));
        let first = usage.take_due(2_000, b"secret").expect("due");
        assert_eq!(first.batch_id, "bat_iso1_1");
        assert_eq!(signing::verify(b"secret", &first.signature, first.body.as_bytes(), 2_000, 60), Ok(()));
        let batch: UsageBatch = serde_json::from_str(&first.body).expect("json");
        assert_eq!(batch.rollups.len(), 1);
        assert_eq!(batch.rollups[0].values.requests, 2);
        assert!(usage.take_due(2_001, b"secret").is_none(), "nothing pending");
        usage.record(&event(2_100));
        assert_eq!(usage.take_due(2_200, b"secret").expect("due").batch_id, "bat_iso1_2");
    }

    #[test]
    fn an_isolate_flushes_at_most_once_per_interval() {
        let mut usage = IsolateUsage::new("iso".into(), 10_000);
        usage.record(&event(0));
        assert!(usage.take_due(0, b"s").is_none());
        assert!(usage.take_due(9_999, b"s").is_none());
        assert!(usage.take_due(10_000, b"s").is_some());
    }

    #[test]
    fn pending_events_say_when_they_are_due() {
        let mut usage = IsolateUsage::new("iso".into(), 10_000);
        assert_eq!(usage.due_at(), None, "nothing pending");
        usage.record(&event(0));
        assert!(usage.take_due(500, b"s").is_none());
        assert_eq!(usage.due_at(), Some(10_500));
        assert!(usage.take_due(10_500, b"s").is_some());
        assert_eq!(usage.due_at(), None);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(retryable(None) && retryable(Some(503)) && retryable(Some(429)));
        assert!(!retryable(Some(401)) && !retryable(Some(400)));
    }
}
