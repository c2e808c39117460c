//! Group commit for exact quotas. An exact call's count must be committed before the call
//! goes ahead, and a commit (with its fsync) takes milliseconds. Rather than take turns, the
//! calls admitted while one commit runs are saved together by the next: whoever gets the
//! connection saves every count queued so far, and a call whose ticket a commit has already
//! covered returns at once. N concurrent exact calls then cost about two commits, not N.
//!
//! Correctness rests on order: a call takes its ticket after its in-memory count changed,
//! and a committer takes the queue (and the last ticket it covers) before it reads the
//! counts it saves, so every ticket it covers is in what it writes.

use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Default)]
pub(super) struct GroupCommit {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    /// Counters of the calls waiting for a commit (a counter may repeat).
    counters: Vec<String>,
    /// The last ticket handed out.
    issued: u64,
    /// Every ticket up to this one is committed.
    committed: u64,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every update leaves the queue whole, so a poisoned lock is recovered.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an admitted call's exact counters (after its counts changed in memory) and
    /// returns its ticket.
    pub fn enqueue(&self, counters: impl IntoIterator<Item = String>) -> u64 {
        let mut queue = self.lock();
        queue.counters.extend(counters);
        queue.issued += 1;
        queue.issued
    }

    /// Whether a commit has already saved this ticket's counts.
    pub fn is_committed(&self, ticket: u64) -> bool {
        self.lock().committed >= ticket
    }

    /// Takes every queued counter, each once, and the last ticket they cover. Call it while
    /// holding the connection, before reading the counts to save.
    pub fn take(&self) -> (Vec<String>, u64) {
        let mut queue = self.lock();
        let mut counters = std::mem::take(&mut queue.counters);
        counters.sort_unstable();
        counters.dedup();
        (counters, queue.issued)
    }

    /// Records that the counts taken with `upto` are committed.
    pub fn committed(&self, upto: u64) {
        let mut queue = self.lock();
        queue.committed = queue.committed.max(upto);
    }

    /// Puts counters back after a failed commit, so the calls still waiting retry them.
    pub fn requeue(&self, counters: Vec<String>) {
        self.lock().counters.extend(counters);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_covers_every_ticket_issued_before_it_took_the_queue() {
        let group = GroupCommit::default();
        let first = group.enqueue(["app:a:q".to_owned()]);
        let second = group.enqueue(["app:a:q".to_owned(), "app:b:q".to_owned()]);
        let (counters, upto) = group.take();
        assert_eq!(counters, ["app:a:q", "app:b:q"], "each counter once");
        let late = group.enqueue(["app:c:q".to_owned()]);
        group.committed(upto);
        assert!(group.is_committed(first) && group.is_committed(second));
        assert!(!group.is_committed(late), "queued after the take: the next commit's");
        assert_eq!(group.take(), (vec!["app:c:q".to_owned()], late));
    }

    #[test]
    fn a_failed_commit_leaves_its_counters_for_the_next() {
        let group = GroupCommit::default();
        let ticket = group.enqueue(["app:a:q".to_owned()]);
        let (counters, _) = group.take();
        group.requeue(counters);
        assert!(!group.is_committed(ticket));
        let (counters, upto) = group.take();
        assert_eq!((counters, upto), (vec!["app:a:q".to_owned()], ticket));
    }
}
