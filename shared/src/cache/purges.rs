//! Purge by time, for stores that cannot list or delete by API or tag (the Cache API).
//!
//! A purge is recorded as "everything of API `a` (or everything of `a` tagged `t`) stored at
//! or before `at` is dead". A reader checks each entry it finds against the log
//! ([`PurgeLog::is_purged`]) and treats a dead entry as a miss; the next fresh response
//! replaces it. Purging therefore never lists, counts or deletes entries, and costs the same
//! whatever the cache holds.
//!
//! Ties count as purged (`at >= stored_at`): with coarse clocks an entry stored in the same
//! millisecond as the purge may carry the old content, and one refetch is cheaper than one
//! stale answer.
//!
//! The log only has to remember a purge while entries stored before it may still be served:
//! [`PurgeLog::prune`] forgets purges older than the store's longest entry lifetime, and tag
//! purges already covered by a later purge of their whole API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CachedResponse, PurgeSelector};
use crate::time::UnixMillis;

/// A purge the control plane asks the edge to apply, sent signed with [`crate::signing`]
/// (HMAC over the JSON body, like [`crate::revocation::RevocationNotice`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeNotice {
    /// Unique per notice; receivers apply each id once (a retried delivery purges once).
    pub notice_id: String,
    pub selector: PurgeSelector,
    /// When the control plane issued the purge. Receivers record the purge at the later of
    /// this and their own clock, so every entry stored before the purge reached them is dead.
    #[serde(with = "crate::time::serde_rfc3339")]
    pub at: UnixMillis,
}

/// The purge times of one API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiPurges {
    /// The latest purge of the whole API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<UnixMillis>,
    /// Tag → the latest purge of that tag (for this API).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, UnixMillis>,
}

/// The latest purge time per API and per (API, tag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PurgeLog {
    apis: BTreeMap<String, ApiPurges>,
}

impl PurgeLog {
    /// Records that what `selector` names was purged at `at` (an older time never moves a
    /// recorded purge back).
    pub fn record(&mut self, selector: &PurgeSelector, at: UnixMillis) {
        let (api_id, tag) = match selector {
            PurgeSelector::Api { api_id } => (api_id, None),
            PurgeSelector::Tag { api_id, tag } => (api_id, Some(tag)),
        };
        let api = self.apis.entry(api_id.clone()).or_default();
        let slot = match tag {
            None => api.all.get_or_insert(at),
            Some(tag) => api.tags.entry(tag.clone()).or_insert(at),
        };
        *slot = (*slot).max(at);
    }

    /// Whether `entry` was stored at or before a purge of its API or of one of its tags.
    pub fn is_purged(&self, entry: &CachedResponse) -> bool {
        let Some(api) = self.apis.get(&entry.api_id) else {
            return false;
        };
        api.all.is_some_and(|at| at >= entry.stored_at)
            || entry.tags.iter().any(|tag| api.tags.get(tag).is_some_and(|at| *at >= entry.stored_at))
    }

    /// Forgets purges at or before `horizon` (no entry stored that early can still be served)
    /// and tag purges no later than their API's whole purge (it already kills those entries).
    pub fn prune(&mut self, horizon: UnixMillis) {
        for api in self.apis.values_mut() {
            api.all = api.all.filter(|at| *at > horizon);
            let floor = api.all.unwrap_or(horizon).max(horizon);
            api.tags.retain(|_, at| *at > floor);
        }
        self.apis.retain(|_, api| api.all.is_some() || !api.tags.is_empty());
    }

    /// How many purges are remembered (whole-API and tag purges).
    pub fn len(&self) -> usize {
        self.apis.values().map(|a| usize::from(a.all.is_some()) + a.tags.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.apis.is_empty()
    }

    /// The purge times of one API, if any were recorded.
    pub fn api(&self, api_id: &str) -> Option<&ApiPurges> {
        self.apis.get(api_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(api_id: &str, tags: &[&str], stored_at: UnixMillis) -> CachedResponse {
        CachedResponse {
            status: 200,
            api_id: api_id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            stored_at,
            ..CachedResponse::default()
        }
    }

    fn api(id: &str) -> PurgeSelector {
        PurgeSelector::Api { api_id: id.into() }
    }

    fn tag(id: &str, tag: &str) -> PurgeSelector {
        PurgeSelector::Tag { api_id: id.into(), tag: tag.into() }
    }

    #[test]
    fn entry_stored_before_an_api_purge_is_dead() {
        let mut log = PurgeLog::default();
        log.record(&api("api_1"), 1_000);
        assert!(log.is_purged(&entry("api_1", &[], 999)));
        assert!(log.is_purged(&entry("api_1", &["t1"], 500)));
        assert!(log.is_purged(&entry("api_1", &[], 1_000)), "a tie counts as purged");
        assert!(!log.is_purged(&entry("api_2", &[], 999)), "other APIs are untouched");
    }

    #[test]
    fn tag_purge_kills_only_entries_with_that_tag() {
        let mut log = PurgeLog::default();
        log.record(&tag("api_1", "t1"), 1_000);
        assert!(log.is_purged(&entry("api_1", &["t1"], 900)));
        assert!(log.is_purged(&entry("api_1", &["t0", "t1"], 900)));
        assert!(!log.is_purged(&entry("api_1", &["t2"], 900)));
        assert!(!log.is_purged(&entry("api_1", &[], 900)));
        assert!(!log.is_purged(&entry("api_2", &["t1"], 900)), "a tag belongs to its API");
    }

    #[test]
    fn entry_stored_after_the_purge_lives() {
        let mut log = PurgeLog::default();
        log.record(&api("api_1"), 1_000);
        log.record(&tag("api_1", "t1"), 2_000);
        assert!(!log.is_purged(&entry("api_1", &[], 1_001)));
        assert!(!log.is_purged(&entry("api_1", &["t1"], 2_001)));
        assert!(log.is_purged(&entry("api_1", &["t1"], 1_500)), "still before the tag purge");
    }

    #[test]
    fn a_late_delivery_never_moves_a_purge_back() {
        let mut log = PurgeLog::default();
        log.record(&api("api_1"), 2_000);
        log.record(&api("api_1"), 1_000);
        assert!(log.is_purged(&entry("api_1", &[], 1_500)));
    }

    #[test]
    fn pruning_forgets_purges_no_servable_entry_can_predate() {
        let mut log = PurgeLog::default();
        log.record(&api("old"), 1_000);
        log.record(&api("api_1"), 5_000);
        log.record(&tag("api_1", "covered"), 4_000);
        log.record(&tag("api_1", "later"), 6_000);
        log.record(&tag("api_2", "old"), 2_000);
        assert_eq!(log.len(), 5);
        log.prune(3_000);
        assert_eq!(log.len(), 2);
        assert!(log.api("old").is_none() && log.api("api_2").is_none());
        let kept = log.api("api_1").expect("api_1 kept");
        assert_eq!(kept.all, Some(5_000));
        assert_eq!(kept.tags.keys().collect::<Vec<_>>(), vec!["later"]);
        assert!(log.is_purged(&entry("api_1", &["covered"], 3_500)), "the API purge still covers it");
    }

    #[test]
    fn the_log_and_the_notice_travel_as_json() {
        let mut log = PurgeLog::default();
        log.record(&tag("api_1", "t1"), 1_000);
        let json = serde_json::to_value(&log).expect("json");
        assert_eq!(json, serde_json::json!({ "api_1": { "tags": { "t1": 1000 } } }));
        assert_eq!(serde_json::from_value::<PurgeLog>(json).expect("back"), log);
        let notice = PurgeNotice { notice_id: "prg_1".into(), selector: tag("api_1", "t1"), at: 1_800_000_000_000 };
        let json = serde_json::to_value(&notice).expect("json");
        assert_eq!(json["selector"], serde_json::json!({ "by": "tag", "api_id": "api_1", "tag": "t1" }));
        assert!(json["at"].as_str().is_some_and(|s| s.ends_with('Z')));
        assert_eq!(serde_json::from_value::<PurgeNotice>(json).expect("back"), notice);
    }
}
