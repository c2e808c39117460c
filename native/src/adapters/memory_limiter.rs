//! `MemoryLimiter`: the core's limiter port over a process-local map, for the native gateway
//! (one process, so in-memory counters are exact) and as the in-memory twin in tests. Quota
//! counters are marked dirty when they change, so `SqliteLimiter` can save them behind.

use std::sync::{Mutex, MutexGuard, PoisonError};

use foldhash::HashMap;
use gatehouse_core::limits::{evaluate, CounterState, Durability, LimitCheck, LimitDecision, LimitKind};
use gatehouse_core::ports::{Limiter, PortError};
use gatehouse_core::time::{UnixMillis, MINUTE};

/// Counters kept before a size-triggered sweep, by default.
pub const DEFAULT_MAX_COUNTERS: usize = 100_000;

/// Checks per call whose counter states are gathered without allocating.
const INLINE_CHECKS: usize = 8;

/// How often (in request time) expired counters are swept even when the map is small.
const SWEEP_EVERY: UnixMillis = MINUTE;

/// Exact burst limits and quotas in process memory.
///
/// Every call reads, evaluates and writes all of its counters under one `std::sync::Mutex`
/// over one map. That is what makes it exact: two concurrent calls can never both take the
/// last unit of a quota, and a call with several counters sees and updates them as one (the
/// all-or-nothing rule of [`evaluate`]). Per-counter locks or sharding would cut contention
/// but need lock ordering across a call's counters; one lock is held for a few microseconds
/// of pure arithmetic and never across an `.await`, which holds up to far more requests per
/// second than a single gateway process serves.
///
/// Memory: a counter is dropped once it holds nothing a fresh counter would not (GCRA bucket
/// drained, quota window over; see [`CounterState::expires_at`]). Sweeps run once a minute
/// and whenever the map passes its bound. Live counters are never dropped, even past the
/// bound, because forgetting one would let its caller exceed the limit; the bound is then
/// raised to twice the live count so sweeps stay amortised O(1) per call.
///
/// Persistence: a quota written behind ([`Durability::Flushed`]) is flagged dirty when a call
/// changes it, and its name queued once until [`MemoryLimiter::take_dirty`] collects it; that
/// flag is all the request path pays. Burst (GCRA) counters are never saved.
#[derive(Debug)]
pub struct MemoryLimiter {
    counters: Mutex<Counters>,
    max_counters: usize,
}

#[derive(Debug, Default)]
struct Counters {
    /// Counter keys are built from our own ids (never raw client input), so a fast hasher is
    /// safe from crafted collisions.
    map: HashMap<String, Entry>,
    /// Names of the entries whose `dirty` flag is set, each once (a sweep drops the names of
    /// the entries it removes).
    dirty: Vec<String>,
    next_sweep: UnixMillis,
    sweep_at_len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    state: CounterState,
    expires_at: UnixMillis,
    /// Changed since it was last collected for saving.
    dirty: bool,
}

/// A quota counter as it is saved and restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCounter {
    pub counter: String,
    pub window_start: UnixMillis,
    pub used: u64,
    /// The end of the window: from then on the count is moot.
    pub expires_at: UnixMillis,
}

/// Whether a check's counter is saved behind its call.
fn writes_behind(check: &LimitCheck) -> bool {
    matches!(check.policy.kind, LimitKind::Quota { durable: Durability::Flushed, .. })
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        MemoryLimiter::with_max_counters(DEFAULT_MAX_COUNTERS)
    }
}

impl MemoryLimiter {
    pub fn new() -> Self {
        MemoryLimiter::default()
    }

    /// A limiter that sweeps expired counters whenever it holds more than `max_counters`.
    pub fn with_max_counters(max_counters: usize) -> Self {
        let counters = Counters { sweep_at_len: max_counters, ..Counters::default() };
        MemoryLimiter { counters: Mutex::new(counters), max_counters }
    }

    /// Counters currently held (live or not yet swept).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A panic cannot happen while the lock is held (evaluation is total), and every write
    /// leaves a valid state, so a poisoned lock is recovered rather than failing every call.
    fn lock(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Evaluates and consumes one call's counters; what [`Limiter::acquire`] answers.
    pub fn acquire_now(&self, checks: &[LimitCheck], now: UnixMillis) -> LimitDecision {
        let mut guard = self.lock();
        let counters = &mut *guard;
        if let [check] = checks {
            // The usual call, one policy: its counter is looked up once, read and written.
            let entry = counters.map.get_mut(&check.counter);
            let evaluation = evaluate(checks, &[entry.as_ref().map(|e| e.state)], now, 1);
            if let Some(&state) = evaluation.writes.as_ref().and_then(|writes| writes.first()) {
                let behind = writes_behind(check);
                let fresh = Entry { state, expires_at: state.expires_at(check), dirty: behind };
                match entry {
                    Some(existing) => {
                        if behind && !existing.dirty {
                            counters.dirty.push(check.counter.clone());
                        }
                        *existing = Entry { dirty: existing.dirty || behind, ..fresh };
                    }
                    None => counters.insert(&check.counter, fresh),
                }
            }
            counters.sweep_if_due(now, self.max_counters);
            return evaluation.decision;
        }
        // A call has a few checks (a burst limit, a quota or two): their states fit on the
        // stack, so the common call allocates nothing here.
        let (mut inline, mut spilled) = ([None; INLINE_CHECKS], Vec::new());
        let states = if checks.len() <= INLINE_CHECKS {
            &mut inline[..checks.len()]
        } else {
            spilled.resize(checks.len(), None);
            &mut spilled[..]
        };
        for (state, check) in states.iter_mut().zip(checks) {
            *state = counters.map.get(&check.counter).map(|e| e.state);
        }
        let evaluation = evaluate(checks, states, now, 1);
        for (check, state) in checks.iter().zip(evaluation.writes.into_iter().flatten()) {
            counters.write(check, state);
        }
        counters.sweep_if_due(now, self.max_counters);
        evaluation.decision
    }
}

impl Counters {
    fn write(&mut self, check: &LimitCheck, state: CounterState) {
        let behind = writes_behind(check);
        let fresh = Entry { state, expires_at: state.expires_at(check), dirty: behind };
        match self.map.get_mut(&check.counter) {
            // The usual case: no key copy (unless the counter turns dirty).
            Some(existing) => {
                if behind && !existing.dirty {
                    self.dirty.push(check.counter.clone());
                }
                *existing = Entry { dirty: existing.dirty || behind, ..fresh };
            }
            None => self.insert(&check.counter, fresh),
        }
    }

    fn insert(&mut self, counter: &str, entry: Entry) {
        if entry.dirty {
            self.dirty.push(counter.to_owned());
        }
        self.map.insert(counter.to_owned(), entry);
    }

    fn sweep_if_due(&mut self, now: UnixMillis, max_counters: usize) {
        if now < self.next_sweep && self.map.len() <= self.sweep_at_len {
            return;
        }
        self.map.retain(|_, entry| entry.expires_at > now);
        let map = &self.map;
        self.dirty.retain(|counter| map.contains_key(counter));
        self.next_sweep = now.saturating_add(SWEEP_EVERY);
        self.sweep_at_len = max_counters.max(self.map.len().saturating_mul(2));
    }
}

impl Limiter for MemoryLimiter {
    async fn acquire(&self, checks: &[LimitCheck], now: UnixMillis) -> Result<LimitDecision, PortError> {
        Ok(self.acquire_now(checks, now))
    }
}

/// Moving quota counts out of the map to be saved, and back in at start-up.
mod saved;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gatehouse_core::limits::{FailureMode, LimitKind, LimitPolicy, LimitScope, QuotaWindow};

    use super::*;

    const T0: UnixMillis = 1_800_000_000_000;

    fn check(counter: &str, kind: LimitKind) -> LimitCheck {
        let policy = LimitPolicy { name: "p".into(), scope: LimitScope::App, kind };
        LimitCheck { counter: counter.into(), policy, anchor: None }
    }

    fn daily(counter: &str, limit: u64) -> LimitCheck {
        check(counter, LimitKind::Quota { limit, window: QuotaWindow::Day, durable: Default::default() })
    }

    fn burst(counter: &str, limit: u32, burst: u32) -> LimitCheck {
        check(counter, LimitKind::Rate { limit, period_secs: 1, burst, on_failure: FailureMode::Closed })
    }

    async fn allowed(limiter: &MemoryLimiter, checks: &[LimitCheck], now: UnixMillis) -> bool {
        limiter.acquire(checks, now).await.expect("in-memory limiter never fails").allowed()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_never_over_admit_a_quota() {
        let limiter = Arc::new(MemoryLimiter::new());
        for round in 0..20 {
            let counter = format!("app:a{round}:daily");
            let barrier = Arc::new(tokio::sync::Barrier::new(32));
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let (limiter, barrier, counter) = (Arc::clone(&limiter), Arc::clone(&barrier), counter.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        allowed(&limiter, &[daily(&counter, 10)], T0).await
                    })
                })
                .collect();
            let mut admitted = 0;
            for task in tasks {
                admitted += usize::from(task.await.expect("task"));
            }
            assert_eq!(admitted, 10, "round {round}");
        }
    }

    #[tokio::test]
    async fn a_refused_call_consumes_none_of_its_counters() {
        let limiter = MemoryLimiter::new();
        let checks = [burst("key:k:burst", 1, 1), daily("app:a:daily", 3)];
        assert!(allowed(&limiter, &checks, T0).await);
        for _ in 0..10 {
            assert!(!allowed(&limiter, &checks, T0).await);
        }
        assert!(allowed(&limiter, &checks, T0 + 1_000).await);
        assert!(allowed(&limiter, &checks, T0 + 2_000).await);
        assert!(!allowed(&limiter, &checks, T0 + 3_000).await, "quota of 3 used by 3 admitted calls");
    }

    #[tokio::test]
    async fn drained_counters_are_swept_so_memory_stays_bounded() {
        let limiter = MemoryLimiter::with_max_counters(8);
        for i in 0..8 {
            assert!(allowed(&limiter, &[burst(&format!("key:{i}:burst"), 10, 10)], T0).await);
        }
        assert_eq!(limiter.len(), 8);
        assert!(allowed(&limiter, &[burst("key:late:burst", 10, 10)], T0 + SWEEP_EVERY).await);
        assert_eq!(limiter.len(), 1, "only the counter that is still draining is kept");
    }

    #[tokio::test]
    async fn live_quota_counters_survive_the_size_bound() {
        let limiter = MemoryLimiter::with_max_counters(2);
        for i in 0..6 {
            assert!(allowed(&limiter, &[daily(&format!("app:{i}:daily"), 1)], T0).await);
        }
        assert_eq!(limiter.len(), 6);
        for i in 0..6 {
            assert!(!allowed(&limiter, &[daily(&format!("app:{i}:daily"), 1)], T0 + 1).await, "counter {i} forgotten");
        }
    }

    #[tokio::test]
    async fn each_changed_quota_is_collected_once_and_burst_counters_never() {
        let limiter = MemoryLimiter::new();
        let checks = [burst("key:k:burst", 100, 100), daily("app:a:daily", 10)];
        for _ in 0..3 {
            assert!(allowed(&limiter, &checks, T0).await);
        }
        let saved = limiter.take_dirty();
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!((saved[0].counter.as_str(), saved[0].used), ("app:a:daily", 3));
        assert!(limiter.take_dirty().is_empty(), "nothing changed since");
        assert!(allowed(&limiter, &checks, T0).await);
        assert_eq!(limiter.take_dirty().iter().map(|s| s.used).collect::<Vec<_>>(), [4]);
    }

    #[tokio::test]
    async fn a_sweep_forgets_the_dirty_names_of_the_counters_it_drops() {
        let limiter = MemoryLimiter::with_max_counters(1);
        for i in 0..4 {
            assert!(allowed(&limiter, &[daily(&format!("app:{i}:daily"), 1)], T0).await);
        }
        let next_day = T0 + 86_400_000;
        assert!(allowed(&limiter, &[daily("app:late:daily", 1)], next_day).await);
        let saved = limiter.take_dirty();
        assert_eq!(saved.iter().map(|s| s.counter.as_str()).collect::<Vec<_>>(), ["app:late:daily"]);
    }

    #[test]
    fn limiter_and_its_future_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        fn assert_send<F: Send>(_: F) {}
        let limiter = MemoryLimiter::new();
        assert_send_sync(&limiter);
        assert_send(limiter.acquire(&[], T0));
    }
}
