//! `Recent`: what a thread derived lately from inputs that repeat from call to call (a
//! presented key's hash, a caller's limit checks, a signed identity for the current second,
//! the limit fields of a policy set, a parsed upstream address and its last URI, a hit's `Age`
//! and `Cache-Status`, a served entry's cache key), kept so the next call with the same inputs
//! only compares instead of rebuilding.
//!
//! A small direct-mapped table: each entry has one slot, chosen by a hash of what it was
//! derived from, and a newer entry for the same slot replaces it. The caller checks that an
//! entry matches in full before using it, so a collision only costs a rebuild. Each user
//! keeps its own table in a `thread_local!`, so the gateway's threads share nothing and take
//! no lock; on wasm32 there is one thread.

use std::hash::{BuildHasher, Hash};

/// The hasher choosing slots: fixed-seed foldhash. Most keys are our own configuration (ids,
/// policy names, upstream URLs); where a caller picks them (a presented key), crafted
/// collisions only make the callers sharing a slot take turns rebuilding.
type SlotHasher = foldhash::fast::FixedState;

pub struct Recent<T> {
    slots: Vec<Option<T>>,
}

impl<T> Recent<T> {
    pub fn with_slots(count: usize) -> Recent<T> {
        Recent { slots: (0..count.max(1)).map(|_| None).collect() }
    }

    /// The slot for entries derived from `key`.
    pub fn slot(&self, key: impl Hash) -> usize {
        (SlotHasher::default().hash_one(key) % self.slots.len() as u64) as usize
    }

    /// The entry in `slot`, if `matches` accepts it.
    pub fn find(&self, slot: usize, matches: impl FnOnce(&T) -> bool) -> Option<&T> {
        self.slots.get(slot)?.as_ref().filter(|entry| matches(entry))
    }

    /// [`Recent::find`], for an entry that keeps state of its own.
    pub fn find_mut(&mut self, slot: usize, matches: impl FnOnce(&T) -> bool) -> Option<&mut T> {
        self.slots.get_mut(slot)?.as_mut().filter(|entry| matches(entry))
    }

    /// Puts `entry` in `slot`, replacing what was there.
    pub fn remember(&mut self, slot: usize, entry: T) {
        if let Some(place) = self.slots.get_mut(slot) {
            *place = Some(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_only_in_its_slot_and_only_when_it_matches() {
        let mut recent = Recent::with_slots(4);
        let slot = recent.slot("a");
        assert_eq!(slot, recent.slot("a"), "stable");
        assert!(recent.find(slot, |_: &&str| true).is_none(), "empty");
        recent.remember(slot, "a");
        assert_eq!(recent.find(slot, |e| *e == "a"), Some(&"a"));
        assert_eq!(recent.find(slot, |e| *e == "b"), None, "present but not matching");
        recent.remember(slot, "b");
        assert_eq!(recent.find(slot, |e| *e == "a"), None, "replaced");
        recent.remember(99, "c");
        assert_eq!(recent.find(99, |_| true), None, "out of range is ignored");
        assert!((0..100).all(|i| recent.slot(i) < 4));
    }
}
