//! Cache purge at the edge, as pure state. The Cache API cannot list or delete entries by API
//! or tag, so a purge is a time: the global `Revocations` Durable Object keeps a
//! [`PurgeLog`] (the latest purge per API and per API + tag) beside the deny list, every
//! isolate fetches it with the deny list (at most every [`REFRESH_MS`](crate::revoked::REFRESH_MS)),
//! and the Cache API adapter treats an entry stored at or before a matching purge as a miss.
//!
//! Bound: a purge accepted by the object at `t` is honoured by every request that starts after
//! `t + REFRESH_MS` (2 s) in every isolate, plus one request's latency; nothing is deleted or
//! counted, so a purge costs the same whatever the cache holds.
//!
//! The object records a purge at `max(notice.at, its own clock)`: every entry stored before
//! the purge reached the edge is dead, whatever the control plane's clock says. The log stays
//! small: entries live in the Cache API at most [`MAX_ENTRY_SECS`], so purges older than that
//! are forgotten.

use std::collections::HashMap;

use gatehouse_core::cache::purges::{PurgeLog, PurgeNotice};
use gatehouse_core::time::{UnixMillis, MINUTE, SECOND};
use serde::{Deserialize, Serialize};

/// The longest an entry lives in the Cache API (its `max-age` is capped at this), so a purge
/// older than this can no longer match a servable entry. One day: longer lifetimes save at
/// most one upstream call per entry per day, and the log every isolate fetches stays short.
pub const MAX_ENTRY_SECS: i64 = 24 * 60 * 60;
/// How long a notice id is remembered to apply retried deliveries once: far beyond the
/// control plane's retries (seconds) and the signature's 300 s replay window.
pub const NOTICE_KEEP: i64 = 10 * MINUTE;

/// What the `Revocations` object persists for purges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeBook {
    pub log: PurgeLog,
    /// Notice id → when it may be forgotten.
    pub notices: HashMap<String, UnixMillis>,
}

impl PurgeBook {
    /// Applies `notice` at the object's `now`; false when its id was already applied.
    pub fn apply(&mut self, notice: &PurgeNotice, now: UnixMillis) -> bool {
        if self.notices.contains_key(&notice.notice_id) {
            return false;
        }
        self.notices.insert(notice.notice_id.clone(), now + NOTICE_KEEP);
        self.log.record(&notice.selector, notice.at.max(now));
        true
    }

    /// Forgets notice ids past their keep time and purges no live entry can predate.
    pub fn prune(&mut self, now: UnixMillis) {
        self.notices.retain(|_, until| *until > now);
        self.log.prune(now - MAX_ENTRY_SECS * SECOND);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::cache::{CachedResponse, PurgeSelector};

    fn notice(id: &str, at: UnixMillis) -> PurgeNotice {
        PurgeNotice { notice_id: id.into(), selector: PurgeSelector::Api { api_id: "api_1".into() }, at }
    }

    fn stored(at: UnixMillis) -> CachedResponse {
        CachedResponse { api_id: "api_1".into(), stored_at: at, ..CachedResponse::default() }
    }

    #[test]
    fn a_purge_kills_what_was_stored_before_it_reached_the_edge_even_with_a_slow_control_plane_clock() {
        let mut book = PurgeBook::default();
        assert!(book.apply(&notice("p1", 1_000), 5_000));
        assert!(book.log.is_purged(&stored(4_999)), "stored before the object accepted the purge");
        assert!(!book.log.is_purged(&stored(5_001)));
    }

    #[test]
    fn a_retried_notice_is_applied_once() {
        let mut book = PurgeBook::default();
        assert!(book.apply(&notice("p1", 1_000), 1_000));
        assert!(!book.apply(&notice("p1", 9_000), 9_000), "a retry must not kill entries stored since");
        assert!(!book.log.is_purged(&stored(2_000)));
    }

    #[test]
    fn the_book_forgets_what_can_no_longer_matter() {
        let mut book = PurgeBook::default();
        book.apply(&notice("p1", 1_000), 1_000);
        book.prune(1_000 + NOTICE_KEEP);
        assert!(book.notices.is_empty());
        assert_eq!(book.log.len(), 1, "entries stored before it may still be in the cache");
        book.prune(1_000 + MAX_ENTRY_SECS * SECOND);
        assert!(book.log.is_empty());
    }
}
