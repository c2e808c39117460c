//! `Recent`: what a thread derived lately from inputs that repeat from call to call (a
//! presented key's hash, a caller's limit checks, a signed identity for the current second,
//! the limit fields of a policy set, a parsed upstream address and its last URI, a hit's `Age`
//! and `Cache-Status`, a served entry's cache key; an adapter's too, such as the field names
//! a server's peers send), kept so the next call with the same inputs only compares instead of
//! rebuilding.
//!
//! A small direct-mapped table: each entry has one slot, chosen by a hash of what it was
//! derived from, and a newer entry for the same slot replaces it. The caller checks that an
//! entry matches in full before using it, so a collision only costs a rebuild. Each user
//! keeps its own table in a `thread_local!`, so the gateway's threads share nothing and take
//! no lock; on wasm32 there is one thread.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash};
use std::thread::LocalKey;

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

/// What every user of a table does: read the entry `key`'s slot holds if `matches` accepts it;
/// else `make` one (its error, if any, is the answer), read it and remember it. `read` runs
/// while the table is borrowed, so it must not use the table. A thread whose table is gone
/// (it is exiting) makes a new entry every time.
pub fn recall<T, R, E>(
    table: &'static LocalKey<RefCell<Recent<T>>>,
    key: impl Hash,
    matches: impl FnOnce(&T) -> bool,
    read: impl Fn(&T) -> R,
    make: impl FnOnce() -> Result<T, E>,
) -> Result<R, E> {
    let found = table.try_with(|recent| {
        let recent = recent.borrow();
        let slot = recent.slot(key);
        (slot, recent.find(slot, matches).map(&read))
    });
    if let Ok((_, Some(answer))) = found {
        return Ok(answer);
    }
    let entry = make()?;
    let answer = read(&entry);
    if let Ok((slot, None)) = found {
        let _ = table.try_with(|recent| recent.borrow_mut().remember(slot, entry));
    }
    Ok(answer)
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

    thread_local! {
        static TABLE: RefCell<Recent<(u32, String)>> = RefCell::new(Recent::with_slots(2));
    }

    #[test]
    fn recall_makes_an_entry_once_and_then_reads_it() {
        let made = std::cell::Cell::new(0);
        let get = |n: u32| {
            recall(
                &TABLE,
                n,
                |e: &(u32, String)| e.0 == n,
                |e| e.1.clone(),
                || {
                    made.set(made.get() + 1);
                    if n == 7 {
                        Err("seven")
                    } else {
                        Ok((n, format!("v{n}")))
                    }
                },
            )
        };
        assert_eq!((get(1), get(1), made.get()), (Ok("v1".into()), Ok("v1".into()), 1));
        assert_eq!((get(7), get(7), made.get()), (Err("seven"), Err("seven"), 3), "a failure is not remembered");
        // Five keys share two slots and evict one another; one made again gives the same answer.
        for n in 0..10 {
            assert_eq!(get(n % 5), Ok(format!("v{}", n % 5)));
        }
    }
}
