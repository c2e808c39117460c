//! Idle keep-alive connections per upstream authority, as a plain data structure that takes
//! `now`: the adapter keeps one per gateway thread, and tests drive it with made-up times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use foldhash::HashMap;

/// How often every authority's list is swept for expired connections, so an upstream that is
/// no longer called does not hold sockets open forever.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Idle connections, most recently used last.
#[derive(Debug)]
pub struct IdlePool<C> {
    /// Keyed by upstream authorities from the catalog, never by caller input, so a fast hasher
    /// is safe (SipHash here was 0.5k instructions per proxied request, checkout and checkin).
    by_authority: HashMap<String, VecDeque<Idle<C>>>,
    /// Invariant: no list is longer than this.
    max_per_authority: usize,
    idle_timeout: Duration,
    last_sweep: Option<Instant>,
}

#[derive(Debug)]
struct Idle<C> {
    conn: C,
    since: Instant,
}

impl<C> IdlePool<C> {
    pub fn new(max_per_authority: usize, idle_timeout: Duration) -> Self {
        IdlePool { by_authority: HashMap::default(), max_per_authority, idle_timeout, last_sweep: None }
    }

    /// The most recently used idle connection to `authority` that `usable` accepts. Taking the
    /// newest first keeps a few connections hot and lets the rest age out, and it is the one
    /// least likely to have been closed by the peer's own keep-alive timeout.
    pub fn checkout(&mut self, authority: &str, now: Instant, usable: impl Fn(&C) -> bool) -> Option<C> {
        let idle = self.by_authority.get_mut(authority)?;
        while let Some(entry) = idle.pop_back() {
            if self.idle_timeout <= now.saturating_duration_since(entry.since) {
                // The list is in checkin order, so everything older has expired too.
                idle.clear();
                return None;
            }
            if usable(&entry.conn) {
                return Some(entry.conn);
            }
        }
        None
    }

    /// Keeps `conn` for reuse, dropping expired connections and, past the cap, the oldest.
    pub fn checkin(&mut self, authority: &str, conn: C, now: Instant) {
        self.sweep(now);
        let (timeout, max) = (self.idle_timeout, self.max_per_authority);
        if max == 0 {
            return;
        }
        let idle = match self.by_authority.get_mut(authority) {
            Some(idle) => idle,
            None => self.by_authority.entry(authority.to_owned()).or_default(),
        };
        expire(idle, now, timeout);
        while idle.len() >= max {
            idle.pop_front();
        }
        idle.push_back(Idle { conn, since: now });
    }

    /// Idle connections to `authority`.
    #[cfg(test)]
    pub fn idle(&self, authority: &str) -> usize {
        self.by_authority.get(authority).map_or(0, VecDeque::len)
    }

    fn sweep(&mut self, now: Instant) {
        if self.last_sweep.is_some_and(|at| now.saturating_duration_since(at) < SWEEP_EVERY) {
            return;
        }
        self.last_sweep = Some(now);
        let timeout = self.idle_timeout;
        self.by_authority.retain(|_, idle| {
            expire(idle, now, timeout);
            !idle.is_empty()
        });
    }
}

/// Drops the expired connections at the old end of `idle`.
fn expire<C>(idle: &mut VecDeque<Idle<C>>, now: Instant, timeout: Duration) {
    while idle.front().is_some_and(|e| timeout <= now.saturating_duration_since(e.since)) {
        idle.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn newest_connection_is_reused_first() {
        let (mut pool, t0) = (IdlePool::new(4, MINUTE), Instant::now());
        pool.checkin("a:80", 1, t0);
        pool.checkin("a:80", 2, t0 + Duration::from_secs(1));
        assert_eq!(pool.checkout("a:80", t0 + Duration::from_secs(2), |_| true), Some(2));
        assert_eq!(pool.checkout("a:80", t0 + Duration::from_secs(2), |_| true), Some(1));
        assert_eq!(pool.checkout("a:80", t0 + Duration::from_secs(2), |_| true), None);
    }

    #[test]
    fn connections_are_never_shared_across_authorities() {
        let (mut pool, t0) = (IdlePool::new(4, MINUTE), Instant::now());
        pool.checkin("a:80", 1, t0);
        assert_eq!(pool.checkout("b:80", t0, |_| true), None);
        assert_eq!(pool.checkout("a:80", t0, |_| true), Some(1));
    }

    #[test]
    fn connection_idle_past_the_timeout_is_never_handed_out() {
        let (mut pool, t0) = (IdlePool::new(4, MINUTE), Instant::now());
        pool.checkin("a:80", 1, t0);
        pool.checkin("a:80", 2, t0 + Duration::from_secs(30));
        assert_eq!(pool.checkout("a:80", t0 + MINUTE, |_| true), Some(2));
        assert_eq!(pool.checkout("a:80", t0 + MINUTE, |_| true), None);
        assert_eq!(pool.idle("a:80"), 0);
    }

    #[test]
    fn unusable_connections_are_dropped_and_the_next_is_tried() {
        let (mut pool, t0) = (IdlePool::new(4, MINUTE), Instant::now());
        for n in 1..=3 {
            pool.checkin("a:80", n, t0);
        }
        assert_eq!(pool.checkout("a:80", t0, |n| *n == 1), Some(1));
        assert_eq!(pool.idle("a:80"), 0);
    }

    #[test]
    fn idle_connections_per_authority_are_capped_by_dropping_the_oldest() {
        let (mut pool, t0) = (IdlePool::new(2, MINUTE), Instant::now());
        for n in 1..=3 {
            pool.checkin("a:80", n, t0);
        }
        assert_eq!(pool.idle("a:80"), 2);
        assert_eq!(pool.checkout("a:80", t0, |_| true), Some(3));
        assert_eq!(pool.checkout("a:80", t0, |_| true), Some(2));
    }

    #[test]
    fn sweep_forgets_authorities_whose_connections_all_expired() {
        let (mut pool, t0) = (IdlePool::new(2, MINUTE), Instant::now());
        pool.checkin("old:80", 1, t0);
        pool.checkin("new:80", 2, t0 + 2 * MINUTE);
        assert_eq!(pool.idle("old:80"), 0);
        assert_eq!(pool.idle("new:80"), 1);
    }
}
