//! Usage at the edge, as pure state: each isolate aggregates its events (the core's
//! [`Aggregator`]) and, once a window (`GATEHOUSE_USAGE_FLUSH_SECS`, default the core's
//! [`WINDOW`] of five minutes, aligned to the Unix epoch) has ended, seals the rollups of every
//! finished window into signed [`UsageBatch`]es whose ids are unique (isolate id + sequence
//! number). An isolate flushes at most once per window and never sends part of a window still
//! filling, so each key's window leaves it in one batch: the control plane then writes it
//! once (docs/aws.md, "Write cost"). The Worker sends batches with `ctx.wait_until` and retries
//! with the same id, so the ingest endpoint, which records each batch id once, never
//! double-counts a retried or duplicated delivery.

use gatehouse_core::signing;
use gatehouse_core::time::UnixMillis;
use gatehouse_core::usage::{window_start, Aggregator, Rollup, UsageBatch, UsageEvent};

/// Most rollups in one batch: about 400 KB of JSON, well under the ingest endpoint's 1 MiB body
/// limit, however many keys an isolate served in a window.
pub const MAX_ROLLUPS_PER_BATCH: usize = 1_000;

/// A batch ready to send: its id, JSON body and `gatehouse-signature` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBatch {
    pub batch_id: String,
    pub body: String,
    pub signature: String,
}

/// One isolate's pending usage. Invariants: `seq` only grows, so batch ids never repeat
/// within an isolate; `source` is random per isolate, so they never repeat across isolates;
/// `window_ms` > 0.
#[derive(Debug)]
pub struct IsolateUsage {
    source: String,
    seq: u64,
    window_ms: i64,
    last_flush: Option<UnixMillis>,
    aggregator: Aggregator,
}

impl IsolateUsage {
    /// `window_ms` is the flush window; production uses [`gatehouse_core::usage::WINDOW`] (or a
    /// multiple of it). A window shorter than a minute (tests) also seals the minute under way,
    /// so a minute may then span batches; every event is still sent exactly once.
    pub fn new(source: String, window_ms: i64) -> Self {
        IsolateUsage {
            source,
            seq: 0,
            window_ms: window_ms.max(1),
            last_flush: None,
            aggregator: Aggregator::default(),
        }
    }

    pub fn record(&mut self, event: &UsageEvent) {
        self.aggregator.add(event);
    }

    /// When a flush will have something to send, if anything is pending: the end of the
    /// oldest pending window, and not before the window after the last flush's. The Worker
    /// schedules a trailing flush for then when it is near.
    pub fn due_at(&self) -> Option<UnixMillis> {
        let oldest = self.aggregator.oldest_minute()?;
        let sealed = window_start(oldest, self.window_ms) + self.window_ms;
        let next_window =
            self.last_flush.map_or(UnixMillis::MIN, |last| window_start(last, self.window_ms) + self.window_ms);
        Some(sealed.max(next_window))
    }

    /// The batches to send now: every finished window's rollups, cut into batches of at most
    /// [`MAX_ROLLUPS_PER_BATCH`] without splitting a key's window; empty when nothing is due.
    pub fn take_due(&mut self, now: UnixMillis, secret: &[u8]) -> Vec<SealedBatch> {
        if self.due_at().is_none_or(|at| now < at) {
            return Vec::new();
        }
        let rollups = self.aggregator.drain_before(window_start(now, self.window_ms));
        self.last_flush = Some(now);
        split(rollups, self.window_ms).into_iter().filter_map(|part| self.seal(part, now, secret)).collect()
    }

    fn seal(&mut self, rollups: Vec<Rollup>, now: UnixMillis, secret: &[u8]) -> Option<SealedBatch> {
        self.seq += 1;
        let batch = UsageBatch {
            batch_id: format!("bat_{}_{}", self.source, self.seq),
            source: self.source.clone(),
            sent_at: now,
            rollups,
        };
        let body = serde_json::to_string(&batch).ok()?;
        let signature = signing::sign(secret, body.as_bytes(), now);
        Some(SealedBatch { batch_id: batch.batch_id, body, signature })
    }
}

/// Cuts rollups into batches of at most [`MAX_ROLLUPS_PER_BATCH`], keeping the minutes of one
/// (window, key, API, operation) together: the control plane stores them as one item, written
/// once only if they arrive together.
fn split(mut rollups: Vec<Rollup>, window_ms: i64) -> Vec<Vec<Rollup>> {
    let group = |r: &Rollup| {
        let k = &r.key;
        (window_start(k.minute, window_ms), k.key_id.clone(), k.api_id.clone(), k.operation_id.clone())
    };
    rollups.sort_by_cached_key(|r| (group(r), r.key.minute));
    let mut parts: Vec<Vec<Rollup>> = Vec::new();
    let mut i = 0;
    while i < rollups.len() {
        let g = group(&rollups[i]);
        let end = rollups[i..].iter().position(|r| group(r) != g).map_or(rollups.len(), |n| i + n);
        match parts.last_mut() {
            Some(part) if part.len() + (end - i) <= MAX_ROLLUPS_PER_BATCH => part.extend_from_slice(&rollups[i..end]),
            _ => parts.push(rollups[i..end].to_vec()),
        }
        i = end;
    }
    parts
}

/// Whether a failed delivery is worth another try: network errors and 5xx/429, never 4xx
/// (a refused signature will not get better).
pub fn retryable(status: Option<u16>) -> bool {
    status.is_none_or(|s| s >= 500 || s == 429)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::time::MINUTE;
    use gatehouse_core::usage::WINDOW;
    use gatehouse_core::verdict::Outcome;

    fn event_of(key: &str, at: UnixMillis) -> UsageEvent<'_> {
        UsageEvent {
            at,
            api_id: "api_1",
            operation_id: "op",
            key_id: Some(key),
            app_id: Some("app_1"),
            developer_id: Some("dev_1"),
            end_user: None,
            status: 200,
            outcome: Outcome::Valid,
            latency_us: 900,
            bytes_in: 0,
            bytes_out: 10,
            cache_hit: false,
            classes: &[],
        }
    }

    fn event(at: UnixMillis) -> UsageEvent<'static> {
        event_of("key_1", at)
    }

    fn rollups(batch: &SealedBatch) -> Vec<Rollup> {
        serde_json::from_str::<UsageBatch>(&batch.body).expect("json").rollups
    }

    #[test]
    fn batches_are_signed_aggregated_and_never_reuse_an_id() {
        let mut usage = IsolateUsage::new("iso1".into(), WINDOW);
        usage.record(&event(1_000));
        usage.record(&event(1_500));
        let first = usage.take_due(WINDOW, b"secret");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].batch_id, "bat_iso1_1");
        assert_eq!(signing::verify(b"secret", &first[0].signature, first[0].body.as_bytes(), WINDOW, 60), Ok(()));
        assert_eq!(rollups(&first[0]).iter().map(|r| r.values.requests).collect::<Vec<_>>(), [2]);
        assert!(usage.take_due(WINDOW + 1, b"secret").is_empty(), "nothing pending");
        usage.record(&event(WINDOW + 100));
        assert_eq!(usage.take_due(2 * WINDOW, b"secret")[0].batch_id, "bat_iso1_2");
    }

    #[test]
    fn sensitive_classes_reached_travel_with_the_rollups() {
        let mut usage = IsolateUsage::new("iso".into(), WINDOW);
        let pii = ["pii".to_owned()];
        usage.record(&UsageEvent { classes: &pii, ..event(1_000) });
        usage.record(&UsageEvent { classes: &pii, ..event(2_000) });
        usage.record(&event(3_000));
        let sent = rollups(&usage.take_due(WINDOW, b"secret")[0]);
        assert_eq!(sent[0].values.classes.get("pii"), Some(&2), "the control plane audits them per hour");
    }

    #[test]
    fn a_window_is_sent_once_whole_and_only_after_it_ends() {
        let mut usage = IsolateUsage::new("iso".into(), WINDOW);
        for minute in 0..5 {
            usage.record(&event(minute * MINUTE + 30_000));
        }
        assert!(usage.take_due(WINDOW - 1, b"s").is_empty(), "the window is still filling");
        usage.record(&event(WINDOW + 10)); // the next window has begun
        let sent = usage.take_due(WINDOW + 20, b"s");
        let minutes: Vec<i64> = sent.iter().flat_map(rollups).map(|r| r.key.minute / MINUTE).collect();
        assert_eq!(minutes, [0, 1, 2, 3, 4], "the five minutes of the first window, in one batch, and nothing else");
        usage.record(&event(4 * MINUTE + 59_000)); // a straggler of the sent window
        assert!(usage.take_due(2 * WINDOW - 1, b"s").is_empty(), "at most one flush per window");
        let next = usage.take_due(2 * WINDOW, b"s");
        let counted: u64 = next.iter().flat_map(rollups).map(|r| r.values.requests).sum();
        assert_eq!(counted, 2, "the second window and the straggler, each event once");
    }

    #[test]
    fn pending_events_say_when_they_are_due() {
        let mut usage = IsolateUsage::new("iso".into(), WINDOW);
        assert_eq!(usage.due_at(), None, "nothing pending");
        usage.record(&event(MINUTE));
        assert_eq!(usage.due_at(), Some(WINDOW), "when its window ends");
        assert_eq!(usage.take_due(WINDOW, b"s").len(), 1);
        assert_eq!(usage.due_at(), None);
        usage.record(&event(WINDOW + 1)); // same window as the flush: due when it ends
        assert_eq!(usage.due_at(), Some(2 * WINDOW));
    }

    #[test]
    fn a_window_shorter_than_a_minute_still_sends_every_event_exactly_once() {
        let mut usage = IsolateUsage::new("iso".into(), 1_000);
        let mut sent = 0;
        for at in (0..10_000).step_by(250) {
            usage.record(&event(at));
            sent += usage.take_due(at + 100, b"s").iter().flat_map(rollups).map(|r| r.values.requests).sum::<u64>();
        }
        sent += usage.take_due(20_000, b"s").iter().flat_map(rollups).map(|r| r.values.requests).sum::<u64>();
        assert_eq!(sent, 40);
    }

    #[test]
    fn big_windows_are_cut_into_batches_without_splitting_a_key_window() {
        let mut usage = IsolateUsage::new("iso".into(), WINDOW);
        let keys = MAX_ROLLUPS_PER_BATCH / 5 + 7;
        for k in 0..keys {
            for minute in 0..5 {
                usage.record(&event_of(&format!("key_{k:04}"), minute * MINUTE));
            }
        }
        let batches = usage.take_due(WINDOW, b"s");
        assert_eq!(batches.len(), 2);
        let parts: Vec<Vec<Rollup>> = batches.iter().map(rollups).collect();
        assert!(parts.iter().all(|p| p.len() <= MAX_ROLLUPS_PER_BATCH && p.len() % 5 == 0), "whole key windows");
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), keys * 5);
        let ids: std::collections::BTreeSet<&str> = batches.iter().map(|b| b.batch_id.as_str()).collect();
        assert_eq!(ids.len(), 2, "each part its own id");
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(retryable(None) && retryable(Some(503)) && retryable(Some(429)));
        assert!(!retryable(Some(401)) && !retryable(Some(400)));
    }
}
