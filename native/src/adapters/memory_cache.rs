//! `MemoryResponseCache`: the [`ResponseCache`] port in process memory, for the native
//! gateway (one machine, many tokio worker threads).
//!
//! Policy (what is stored, what is served) stays in the core; this is only storage, with two
//! limits the core cannot know about:
//!
//! - **Size.** The cache holds at most `max_bytes` (by [`CachedResponse::size_bytes`], an
//!   estimate that counts bodies, headers and a fixed overhead). When a `put` would exceed it,
//!   the least recently used entries go first: recency is a counter bumped when an entry is
//!   stored or read from the older half of the ranking, and a `BTreeMap` from counter to key
//!   finds the oldest in O(log n). LRU is simple, predictable and good enough for API
//!   responses, whose popularity is usually stable over minutes.
//! - **Useful life.** An entry past [`CachedResponse::useful_until`] (stale and not worth
//!   revalidating) is dropped when it is next read, and [`MemoryResponseCache::remove_expired`]
//!   sweeps them all for a periodic task. Unread expired entries also sink to the LRU end.
//!
//! One `std::sync::Mutex` guards the maps: every operation is a few map updates with no
//! `.await` inside, so a lock is cheaper and simpler than sharding. Purges scan every entry
//! (O(n)); they are rare admin actions.

use std::collections::BTreeMap;

use foldhash::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use gatehouse_core::cache::{CachedResponse, PurgeSelector};
use gatehouse_core::ports::{PortError, ResponseCache};
use gatehouse_core::time::UnixMillis;

const PORT: &str = "memory cache";

/// Wall-clock source; a parameter so tests can move time.
pub type ClockFn = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// A byte-bounded, least-recently-used response cache. `Send + Sync`; share it by reference
/// or in an `Arc`.
pub struct MemoryResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
    clock: ClockFn,
}

#[derive(Default)]
struct Inner {
    /// Keys are shared with `recency`, so a hit re-ranks an entry without copying its key.
    /// Keys are SHA-256 digests, so a fast hasher is safe from crafted collisions.
    entries: HashMap<Arc<str>, Slot>,
    /// Recency counter → key; the first entry is the least recently used.
    recency: BTreeMap<u64, Arc<str>>,
    next_tick: u64,
    /// Sum of the slots' sizes; never above `max_bytes`.
    bytes: usize,
}

struct Slot {
    entry: Arc<CachedResponse>,
    size: usize,
    tick: u64,
}

impl MemoryResponseCache {
    /// A cache of at most `max_bytes`, reading the system clock.
    pub fn new(max_bytes: usize) -> Self {
        Self::with_clock(max_bytes, Arc::new(system_now))
    }

    pub fn with_clock(max_bytes: usize, clock: ClockFn) -> Self {
        MemoryResponseCache { inner: Mutex::new(Inner::default()), max_bytes, clock }
    }

    /// Bytes currently held (by the same estimate as the bound).
    pub fn bytes(&self) -> usize {
        self.lock().map_or(0, |inner| inner.bytes)
    }

    pub fn len(&self) -> usize {
        self.lock().map_or(0, |inner| inner.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry past its useful life; returns how many.
    pub fn remove_expired(&self) -> Result<usize, PortError> {
        let now = (self.clock)();
        let mut inner = self.lock()?;
        Ok(inner.remove_where(|entry| entry.useful_until() <= now))
    }

    /// A poisoned lock means a thread panicked mid-update; the maps may disagree, so the
    /// cache reports itself broken (the core then treats every call as a miss).
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, PortError> {
        self.inner.lock().map_err(|_| PortError::new(PORT, "lock poisoned by a panicked thread"))
    }
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }

    fn insert(&mut self, key: &str, entry: CachedResponse, size: usize) {
        let tick = self.tick();
        self.bytes += size;
        let key: Arc<str> = Arc::from(key);
        self.recency.insert(tick, Arc::clone(&key));
        self.entries.insert(key, Slot { entry: Arc::new(entry), size, tick });
    }

    /// The entry under `key` if it is still useful, marked recently used; an expired one is
    /// dropped. An entry already among the most recently ranked half keeps its rank: it is
    /// far from eviction, and the first read that finds it in the older half ranks it first
    /// again. That approximates LRU closely (an entry read at least once per half a cache of
    /// new ranks is never evicted) and spares hot entries two `BTreeMap` updates on every hit.
    fn read(&mut self, key: &str, now: UnixMillis) -> Option<Arc<CachedResponse>> {
        let recent_from = (self.next_tick + 1).saturating_sub((self.entries.len() as u64).div_ceil(2));
        let slot = self.entries.get_mut(key)?;
        if slot.entry.useful_until() <= now {
            self.remove(key);
            return None;
        }
        if slot.tick < recent_from {
            self.next_tick += 1;
            if let Some(shared_key) = self.recency.remove(&slot.tick) {
                self.recency.insert(self.next_tick, shared_key);
            }
            slot.tick = self.next_tick;
        }
        Some(Arc::clone(&slot.entry))
    }

    fn remove(&mut self, key: &str) -> Option<Slot> {
        let slot = self.entries.remove(key)?;
        self.recency.remove(&slot.tick);
        self.bytes -= slot.size;
        Some(slot)
    }

    fn evict_until_fits(&mut self, incoming: usize, max_bytes: usize) {
        while self.bytes + incoming > max_bytes {
            let Some((_, key)) = self.recency.pop_first() else { return };
            if let Some(slot) = self.entries.remove(&key) {
                self.bytes -= slot.size;
            }
        }
    }

    fn remove_where(&mut self, doomed: impl Fn(&CachedResponse) -> bool) -> usize {
        let keys: Vec<Arc<str>> =
            self.entries.iter().filter(|(_, slot)| doomed(&slot.entry)).map(|(k, _)| Arc::clone(k)).collect();
        keys.iter().filter(|k| self.remove(k).is_some()).count()
    }
}

impl ResponseCache for MemoryResponseCache {
    async fn get(&self, key: &str) -> Result<Option<Arc<CachedResponse>>, PortError> {
        let now = (self.clock)();
        Ok(self.lock()?.read(key, now))
    }

    /// Replaces any entry under `key`. An entry bigger than the whole cache is not stored, and
    /// the old one is still removed: it was just superseded upstream.
    async fn put(&self, key: &str, entry: CachedResponse) -> Result<(), PortError> {
        let size = entry.size_bytes() + key.len();
        let mut inner = self.lock()?;
        inner.remove(key);
        if size > self.max_bytes {
            return Ok(());
        }
        inner.evict_until_fits(size, self.max_bytes);
        inner.insert(key, entry, size);
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), PortError> {
        self.lock()?.remove(key);
        Ok(())
    }

    async fn purge(&self, selector: &PurgeSelector) -> Result<u64, PortError> {
        let mut inner = self.lock()?;
        Ok(inner.remove_where(|entry| selector.matches(entry)) as u64)
    }
}

fn system_now() -> UnixMillis {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use bytes::Bytes;

    use super::*;

    const T0: UnixMillis = 1_700_000_000_000;

    fn entry(api_id: &str, tags: &[&str], body_len: usize, fresh_secs: i64) -> CachedResponse {
        CachedResponse {
            status: 200,
            body: Bytes::from(vec![b'x'; body_len]),
            stored_at: T0,
            api_id: api_id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            freshness_ms: fresh_secs * 1000,
            ..CachedResponse::default()
        }
    }

    fn at(clock: &Arc<AtomicI64>) -> ClockFn {
        let clock = clock.clone();
        Arc::new(move || clock.load(Ordering::SeqCst))
    }

    fn cache(max_bytes: usize) -> (MemoryResponseCache, Arc<AtomicI64>) {
        let clock = Arc::new(AtomicI64::new(T0));
        (MemoryResponseCache::with_clock(max_bytes, at(&clock)), clock)
    }

    #[tokio::test]
    async fn entry_is_returned_until_its_useful_life_ends() {
        let (cache, clock) = cache(1 << 20);
        cache.put("k", entry("api_a", &[], 10, 60)).await.unwrap();
        clock.store(T0 + 59_999, Ordering::SeqCst);
        assert_eq!(cache.get("k").await.unwrap().map(|e| e.body.len()), Some(10));
        clock.store(T0 + 60_000, Ordering::SeqCst);
        assert_eq!(cache.get("k").await.unwrap(), None);
        assert_eq!((cache.len(), cache.bytes()), (0, 0), "an expired entry is dropped, not just hidden");
    }

    #[tokio::test]
    async fn stale_entry_with_a_validator_is_kept_for_revalidation() {
        let (cache, clock) = cache(1 << 20);
        let mut e = entry("api_a", &[], 10, 60);
        e.headers.insert(http::header::ETAG, http::HeaderValue::from_static("\"v1\""));
        cache.put("k", e).await.unwrap();
        clock.store(T0 + 120_000, Ordering::SeqCst);
        assert!(cache.get("k").await.unwrap().is_some());
        assert_eq!(cache.remove_expired().unwrap(), 0);
        clock.store(T0 + 60_000 + gatehouse_core::cache::entry::REVALIDATION_GRACE_MS, Ordering::SeqCst);
        assert_eq!(cache.remove_expired().unwrap(), 1);
    }

    #[tokio::test]
    async fn least_recently_used_entry_is_evicted_when_over_budget() {
        let one = entry("api_a", &[], 1000, 60).size_bytes() + 1;
        let (cache, _) = cache(3 * one);
        for key in ["a", "b", "c"] {
            cache.put(key, entry("api_a", &[], 1000, 60)).await.unwrap();
        }
        assert!(cache.get("a").await.unwrap().is_some(), "a is now the most recently used");
        cache.put("d", entry("api_a", &[], 1000, 60)).await.unwrap();
        assert!(cache.get("b").await.unwrap().is_none(), "b was least recently used");
        for key in ["a", "c", "d"] {
            assert!(cache.get(key).await.unwrap().is_some(), "{key}");
        }
        assert!(cache.bytes() <= 3 * one);
    }

    #[tokio::test]
    async fn an_entry_read_between_insertions_is_never_evicted() {
        let one = entry("api_a", &[], 1000, 60).size_bytes() + "new-19".len();
        let (cache, _) = cache(4 * one);
        for key in ["hot", "b", "c", "d"] {
            cache.put(key, entry("api_a", &[], 1000, 60)).await.unwrap();
        }
        for i in 0..20 {
            assert!(cache.get("hot").await.unwrap().is_some(), "hot survived {i} insertions");
            cache.put(&format!("new-{i}"), entry("api_a", &[], 1000, 60)).await.unwrap();
        }
        assert!(cache.get("hot").await.unwrap().is_some());
        assert_eq!(cache.len(), 4);
        assert!(cache.get("new-0").await.unwrap().is_none(), "cold entries still go first");
    }

    #[tokio::test]
    async fn oversized_entry_is_not_stored_and_its_old_version_is_removed() {
        let (cache, _) = cache(2_000);
        cache.put("k", entry("api_a", &[], 10, 60)).await.unwrap();
        cache.put("k", entry("api_a", &[], 5_000, 60)).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap(), None);
        assert_eq!(cache.bytes(), 0);
    }

    #[tokio::test]
    async fn replacing_an_entry_keeps_the_byte_count_exact() {
        let (cache, _) = cache(1 << 20);
        cache.put("k", entry("api_a", &[], 100, 60)).await.unwrap();
        cache.put("k", entry("api_a", &[], 300, 60)).await.unwrap();
        assert_eq!(cache.bytes(), entry("api_a", &[], 300, 60).size_bytes() + 1);
    }

    #[tokio::test]
    async fn purge_by_api_and_by_tag_removes_only_matching_entries() {
        let (cache, _) = cache(1 << 20);
        cache.put("1", entry("api_a", &["pets", "pet-1"], 10, 60)).await.unwrap();
        cache.put("2", entry("api_a", &["pets"], 10, 60)).await.unwrap();
        cache.put("3", entry("api_a", &["owners"], 10, 60)).await.unwrap();
        cache.put("4", entry("api_b", &["pets"], 10, 60)).await.unwrap();
        let tag = |tag: &str| PurgeSelector::Tag { api_id: "api_a".into(), tag: tag.into() };
        assert_eq!(cache.purge(&tag("pet-1")).await.unwrap(), 1);
        assert_eq!(cache.purge(&tag("pets")).await.unwrap(), 1, "api_b's pets entry is not api_a's");
        assert_eq!(cache.purge(&PurgeSelector::Api { api_id: "api_a".into() }).await.unwrap(), 1);
        assert_eq!(cache.len(), 1);
        assert!(cache.get("4").await.unwrap().is_some());
    }

    #[test]
    fn cache_and_its_futures_can_cross_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let cache = MemoryResponseCache::new(1024);
        send_sync(&cache);
        send(cache.get("k"));
        send(cache.put("k", CachedResponse::default()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_use_stays_within_the_byte_bound() {
        let (cache, _) = cache(20_000);
        let cache = Arc::new(cache);
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let cache = cache.clone();
                tokio::spawn(async move {
                    for i in 0..200 {
                        let key = format!("{t}-{}", i % 17);
                        cache.put(&key, entry("api_a", &[], 500, 60)).await.unwrap();
                        cache.get(&key).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(cache.bytes() <= 20_000 && !cache.is_empty());
    }
}
