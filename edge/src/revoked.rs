//! The revocation fast path, as pure state: the deny list the `Revocations` Durable Object
//! keeps, and each isolate's copy of it, refreshed at most every [`REFRESH_MS`].
//!
//! Bound: a notice accepted by the object at `t` is seen by every isolate's next request that
//! starts after `t + REFRESH_MS`, so a revoked key is refused at most `REFRESH_MS` (2 s) plus
//! one request's latency after the control plane's notice — well within the published 5 s —
//! however long Workers KV takes to show the new key status.
//!
//! The same fetch carries the cache purge log ([`crate::purged`]), so purges reach isolates
//! with the same bound and no extra round trip.

use std::collections::{HashMap, HashSet};

use gatehouse_core::cache::purges::PurgeLog;
use gatehouse_core::cache::CachedResponse;
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

/// How long an isolate trusts its copy of the deny list.
pub const REFRESH_MS: i64 = 2_000;

/// The deny list as the Durable Object holds it. Invariant: every hash maps to the latest
/// `keep_until` of the notices that named it; notices are applied once by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenyList {
    /// Key hash (hex) → the time after which KV is trusted to say the same.
    pub hashes: HashMap<String, UnixMillis>,
    /// Notice id → its `keep_until`, to apply each notice once.
    pub notices: HashMap<String, UnixMillis>,
}

impl DenyList {
    /// Applies `notice`; false when it was already applied (a duplicate delivery).
    pub fn apply(&mut self, notice: &RevocationNotice) -> bool {
        if self.notices.contains_key(&notice.notice_id) {
            return false;
        }
        self.notices.insert(notice.notice_id.clone(), notice.keep_until);
        for hash in &notice.key_hashes {
            let until = self.hashes.entry(hash.as_hex().to_string()).or_insert(notice.keep_until);
            *until = (*until).max(notice.keep_until);
        }
        true
    }

    /// Forgets entries whose `keep_until` has passed: by then KV has caught up.
    pub fn prune(&mut self, now: UnixMillis) {
        self.hashes.retain(|_, until| *until > now);
        self.notices.retain(|_, until| *until > now);
    }

    /// What isolates fetch: the hashes still denied at `now`.
    pub fn listing(&self, now: UnixMillis) -> Listing {
        let mut hashes: Vec<String> =
            self.hashes.iter().filter(|(_, until)| **until > now).map(|(h, _)| h.clone()).collect();
        hashes.sort();
        Listing { hashes, purges: PurgeLog::default() }
    }
}

/// The deny list and the purge log on the wire, object → isolate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub hashes: Vec<String>,
    #[serde(default)]
    pub purges: PurgeLog,
}

/// One isolate's copy of the deny list and the purge log.
#[derive(Debug, Clone, Default)]
pub struct IsolateCopy {
    fetched_at: Option<UnixMillis>,
    hashes: HashSet<String>,
    purges: PurgeLog,
}

impl IsolateCopy {
    /// True when the copy is missing or older than [`REFRESH_MS`]: fetch before trusting it.
    pub fn is_stale(&self, now: UnixMillis) -> bool {
        self.fetched_at.is_none_or(|at| now - at >= REFRESH_MS || now < at)
    }

    pub fn replace(&mut self, listing: Listing, fetched_at: UnixMillis) {
        self.hashes = listing.hashes.into_iter().collect();
        self.purges = listing.purges;
        self.fetched_at = Some(fetched_at);
    }

    pub fn denies(&self, hash_hex: &str) -> bool {
        self.hashes.contains(hash_hex)
    }

    /// Whether a cached entry was purged (as of the last fetch).
    pub fn purged(&self, entry: &CachedResponse) -> bool {
        self.purges.is_purged(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::keys::hash_secret;

    fn notice(id: &str, secret: &str, keep_until: UnixMillis) -> RevocationNotice {
        RevocationNotice { notice_id: id.into(), key_hashes: vec![hash_secret(secret)], at: 0, keep_until }
    }

    #[test]
    fn a_notice_is_applied_once_and_denies_its_keys_until_kv_catches_up() {
        let mut list = DenyList::default();
        assert!(list.apply(&notice("n1", "a", 10_000)));
        assert!(!list.apply(&notice("n1", "a", 99_000)), "a duplicate delivery changes nothing");
        let hex = hash_secret("a").as_hex().to_string();
        assert_eq!(list.listing(5_000).hashes, vec![hex.clone()]);
        assert!(list.listing(10_000).hashes.is_empty());
        list.prune(10_000);
        assert!(list.hashes.is_empty() && list.notices.is_empty());
    }

    #[test]
    fn a_later_notice_extends_a_keys_deny_window() {
        let mut list = DenyList::default();
        list.apply(&notice("n1", "a", 10_000));
        list.apply(&notice("n2", "a", 20_000));
        list.apply(&notice("n3", "a", 15_000));
        assert_eq!(list.listing(19_000).hashes.len(), 1);
    }

    #[test]
    fn an_isolate_refetches_at_most_every_two_seconds() {
        let mut copy = IsolateCopy::default();
        assert!(copy.is_stale(0), "nothing fetched yet");
        copy.replace(Listing { hashes: vec!["ab".into()], purges: PurgeLog::default() }, 1_000);
        assert!(!copy.is_stale(2_999));
        assert!(copy.is_stale(3_000));
        assert!(copy.is_stale(999), "a clock that went backwards refetches");
        assert!(copy.denies("ab") && !copy.denies("cd"));
    }

    #[test]
    fn an_isolate_sees_purges_from_the_same_fetch_and_an_old_object_still_parses() {
        use gatehouse_core::cache::PurgeSelector;
        let mut purges = PurgeLog::default();
        purges.record(&PurgeSelector::Api { api_id: "api_1".into() }, 1_000);
        let mut copy = IsolateCopy::default();
        copy.replace(Listing { hashes: vec![], purges }, 1_500);
        let entry = |stored_at| CachedResponse { api_id: "api_1".into(), stored_at, ..CachedResponse::default() };
        assert!(copy.purged(&entry(900)) && !copy.purged(&entry(1_100)));
        let listing: Listing = serde_json::from_str(r#"{"hashes":["ab"]}"#).expect("a listing without purges");
        assert!(listing.purges.is_empty());
    }
}
