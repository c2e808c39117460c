//! Bounds on open client connections: all clients together, and per client IP address.
//!
//! Why both: a total bound keeps the process inside its file descriptors whatever happens; a
//! per-IP bound stops one client (a slowloris holding thousands of half-sent requests, say)
//! from taking the whole total and starving everyone else. Counts are shared by the worker
//! threads of one address, behind one mutex taken twice per connection (not per request).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The open connections of one listener address.
#[derive(Debug)]
pub struct ConnectionGate {
    max_total: usize,
    max_per_ip: usize,
    /// Invariant: every count is at least 1 (an IP with no connection has no entry), and the
    /// counts add up to `total`.
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it gives its place back.
#[derive(Debug)]
pub struct Pass {
    gate: Arc<ConnectionGate>,
    ip: IpAddr,
}

impl ConnectionGate {
    pub fn new(max_total: usize, max_per_ip: usize) -> ConnectionGate {
        ConnectionGate { max_total, max_per_ip, open: Mutex::new(Open::default()) }
    }

    /// A place for a new connection from `ip`, or `None` when either bound is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Pass> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if open.total >= self.max_total {
            tracing::warn!(open = open.total, "connection refused: the total connection bound is reached");
            return None;
        }
        let count = open.by_ip.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            tracing::debug!(%ip, "connection refused: the per-IP connection bound is reached");
            return None;
        }
        *count += 1;
        open.total += 1;
        Some(Pass { gate: Arc::clone(self), ip })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |open| open.total)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ip_cannot_take_more_than_its_share_and_others_still_get_in() {
        let gate = Arc::new(ConnectionGate::new(10, 2));
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let held: Vec<Pass> = (0..2).filter_map(|_| gate.admit(a)).collect();
        assert_eq!(held.len(), 2);
        assert!(gate.admit(a).is_none(), "a third from the same IP is refused");
        let other = gate.admit(b);
        assert!(other.is_some(), "another client still gets in");
        drop(held);
        assert!(gate.admit(a).is_some(), "places come back when connections close");
    }

    #[test]
    fn the_total_bound_holds_across_addresses_and_frees_on_close() {
        let gate = Arc::new(ConnectionGate::new(3, 100));
        let held: Vec<Pass> = (1..=3).filter_map(|i| gate.admit(IpAddr::from([10, 0, 0, i]))).collect();
        assert_eq!((held.len(), gate.open()), (3, 3));
        assert!(gate.admit(IpAddr::from([10, 0, 0, 9])).is_none());
        drop(held);
        assert_eq!(gate.open(), 0);
        assert!(gate.open.lock().expect("lock").by_ip.is_empty(), "no entry is left for closed IPs");
    }
}
