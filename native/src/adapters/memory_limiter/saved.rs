//! The persistence side of [`MemoryLimiter`]: collecting the quota counts to save, putting
//! them back at start-up, and undoing a call whose count could not be saved. None of these
//! run on the request path of a quota written behind.

use gatehouse_core::limits::{window_bounds, CounterState, LimitCheck, LimitKind};
use gatehouse_core::time::UnixMillis;

use super::{Counters, Entry, MemoryLimiter, SavedCounter};

impl Entry {
    fn saved(&self, counter: String) -> Option<SavedCounter> {
        match self.state {
            CounterState::Quota { window_start, used } => {
                Some(SavedCounter { counter, window_start, used, expires_at: self.expires_at })
            }
            CounterState::Rate { .. } => None,
        }
    }
}

impl MemoryLimiter {
    /// Every quota count changed since the last call, as it stands now, and clears their
    /// dirty flags. O(changed counters) under the lock: a flush never scans the whole map.
    pub fn take_dirty(&self) -> Vec<SavedCounter> {
        let mut guard = self.lock();
        let Counters { map, dirty, .. } = &mut *guard;
        let names = std::mem::take(dirty);
        names
            .into_iter()
            .filter_map(|counter| {
                let entry = map.get_mut(&counter)?;
                entry.dirty = false;
                entry.saved(counter)
            })
            .collect()
    }

    /// Flags these counters dirty again (their save failed), so the next flush retries them.
    pub fn mark_dirty(&self, counters: Vec<SavedCounter>) {
        let mut guard = self.lock();
        let Counters { map, dirty, .. } = &mut *guard;
        for SavedCounter { counter, .. } in counters {
            if let Some(entry) = map.get_mut(&counter).filter(|e| !e.dirty) {
                entry.dirty = true;
                dirty.push(counter);
            }
        }
    }

    /// The current quota counts of these counters (those that exist).
    pub fn saved(&self, counters: &[String]) -> Vec<SavedCounter> {
        let guard = self.lock();
        let found = counters.iter().filter_map(|c| guard.map.get(c).map(|e| (c, e)));
        found.filter_map(|(counter, entry)| entry.saved(counter.clone())).collect()
    }

    /// Puts saved counts back (at start-up, before serving). A count whose window has ended
    /// by `now` is left out; a counter that already exists keeps the larger count of the
    /// same window, so restoring can only tighten a limit.
    pub fn restore(&self, saved: impl IntoIterator<Item = SavedCounter>, now: UnixMillis) {
        let mut guard = self.lock();
        for SavedCounter { counter, window_start, used, expires_at } in saved.into_iter().filter(|s| s.expires_at > now)
        {
            let restored = Entry { state: CounterState::Quota { window_start, used }, expires_at, dirty: false };
            let entry = guard.map.entry(counter).or_insert(restored);
            if let CounterState::Quota { window_start: start, used: held } = &mut entry.state {
                if *start == window_start {
                    *held = (*held).max(used);
                }
            }
        }
    }

    /// Gives back the `cost` units an admitted call at `now` took from its quota counters
    /// (its exact count could not be saved, so the call is not served). A count that has
    /// moved on to a later window since is left alone; burst counters keep the unit.
    pub fn refund(&self, checks: &[LimitCheck], now: UnixMillis, cost: u64) {
        let mut guard = self.lock();
        for check in checks {
            let LimitKind::Quota { window, .. } = check.policy.kind else { continue };
            let (start, _) = window_bounds(window, check.anchor, now);
            if let Some(CounterState::Quota { window_start, used }) =
                guard.map.get_mut(&check.counter).map(|e| &mut e.state)
            {
                if *window_start == start {
                    *used = used.saturating_sub(cost);
                }
            }
        }
    }
}
