//! The audit trail's shape: one entry per change (who, what, when, from where and why), the
//! filter it is read back with, and the aggregated entry the gateway's sensitive-data access
//! is recorded as. Stores only append and read; nothing here updates or deletes an entry.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::Role;
use crate::time::{UnixMillis, HOUR};
use crate::usage::Rollup;

/// Who changed what, and when, from where and why. Never holds secret material; personal
/// data only as far as a principal's name is (an admin's chosen name, or `developer:dev_…`);
/// targets are record ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: UnixMillis,
    /// The principal: an admin token's name (`alice`), `developer:dev_…`, `gateway` for
    /// aggregated data-plane entries; older entries name a token by its hash, `admin:1a2b3c4d`.
    pub actor: String,
    /// The principal's role when it acted (absent on entries written before roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// e.g. `key.rotate`, `admin_token.create`, `session.sign_in`.
    pub action: String,
    /// Ids of the records written.
    pub targets: Vec<String>,
    /// The client's IP address as the runtime saw it (the TCP peer natively, the event's
    /// source address on AWS); absent when the change did not come over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Why, where the action takes a reason (a rejection, a revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Facts of the action that are not record ids (an aggregated entry's class and count).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

impl AuditEntry {
    /// An entry with only the four facts every entry has.
    pub fn new(at: UnixMillis, actor: &str, action: &str, targets: Vec<String>) -> AuditEntry {
        AuditEntry {
            at,
            actor: actor.to_owned(),
            role: None,
            action: action.to_owned(),
            targets,
            from: None,
            reason: None,
            details: BTreeMap::new(),
        }
    }
}

/// Which entries to read. Every field is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An exact action (`key.revoke`), or every action of a family when it ends with a dot
    /// (`key.`).
    pub action: Option<String>,
    /// Entries naming this record id among their targets.
    pub target: Option<String>,
    /// Inclusive.
    pub from: Option<UnixMillis>,
    /// Exclusive.
    pub to: Option<UnixMillis>,
    /// Only entries naming at least one of these ids (a developer sees the entries about their
    /// own records); `None` is no restriction, an empty set matches nothing.
    pub about: Option<BTreeSet<String>>,
}

impl AuditFilter {
    /// Whether `entry` passes; stores that cannot filter natively filter with this.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let action = match self.action.as_deref() {
            None => true,
            Some(family) if family.ends_with('.') => entry.action.starts_with(family),
            Some(exact) => entry.action == exact,
        };
        action
            && self.actor.as_deref().is_none_or(|a| entry.actor == a)
            && self.target.as_deref().is_none_or(|t| entry.targets.iter().any(|x| x == t))
            && self.from.is_none_or(|from| entry.at >= from)
            && self.to.is_none_or(|to| entry.at < to)
            && self.about.as_ref().is_none_or(|ids| entry.targets.iter().any(|t| ids.contains(t)))
    }
}

/// One page of a read of the trail, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

/// The action of an aggregated sensitive-data access entry.
pub const CLASS_ACCESS: &str = "data.class_access";

/// The aggregated audit entry for "app `app_id` reached data of class `class` of API `api_id`
/// `count` times in the hour holding `at`": one entry per (app, API, class, hour) keeps the
/// trail cheap however busy the API is, and says enough to answer "who saw what, when". The
/// entry is dated at the start of the hour; the actor is the gateway, which enforced it.
pub fn class_access_entry(app_id: &str, api_id: &str, class: &str, count: u64, at: UnixMillis) -> AuditEntry {
    let hour = at - at.rem_euclid(HOUR);
    let mut entry = AuditEntry::new(hour, "gateway", CLASS_ACCESS, vec![app_id.to_owned(), api_id.to_owned()]);
    entry.details.insert("class".into(), class.to_owned());
    entry.details.insert("count".into(), count.to_string());
    entry
}

/// Counts of sensitive-data accesses per (app, API, class, hour), turned into
/// [`class_access_entry`]s once their hour is over. Plain state, so the edge's usage
/// aggregator, the native gateway and a test all host it unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassAccessTally {
    counts: BTreeMap<(UnixMillis, String, String, String), u64>,
}

impl ClassAccessTally {
    /// Counts one access (or `n`) at `at`.
    pub fn record(&mut self, app_id: &str, api_id: &str, class: &str, n: u64, at: UnixMillis) {
        let hour = at - at.rem_euclid(HOUR);
        *self.counts.entry((hour, app_id.to_owned(), api_id.to_owned(), class.to_owned())).or_default() += n;
    }

    /// Counts the sensitive-data accesses the rollups hold (their `classes`), each at its
    /// minute. Calls without an app (public operations) hold no grant and reach no class.
    pub fn record_rollups(&mut self, rollups: &[Rollup]) {
        for rollup in rollups.iter().filter(|r| !r.key.app_id.is_empty()) {
            for (class, n) in &rollup.values.classes {
                self.record(&rollup.key.app_id, &rollup.key.api_id, class, *n, rollup.key.minute);
            }
        }
    }

    /// The entries of every hour that ended by `now`, removed from the tally; the current
    /// hour keeps counting.
    pub fn drain_finished(&mut self, now: UnixMillis) -> Vec<AuditEntry> {
        let current = now - now.rem_euclid(HOUR);
        let open = self.counts.split_off(&(current, String::new(), String::new(), String::new()));
        let done = std::mem::replace(&mut self.counts, open);
        done.into_iter().map(|((hour, app, api, class), n)| class_access_entry(&app, &api, &class, n, hour)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: UnixMillis, actor: &str, action: &str, targets: &[&str]) -> AuditEntry {
        AuditEntry::new(at, actor, action, targets.iter().map(|t| t.to_string()).collect())
    }

    #[test]
    fn filters_combine_and_an_action_ending_in_a_dot_is_a_family() {
        let e = entry(5_000, "alice", "key.revoke", &["key_1", "app_1"]);
        assert!(AuditFilter::default().matches(&e));
        assert!(AuditFilter { action: Some("key.".into()), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { action: Some("key".into()), ..Default::default() }.matches(&e));
        assert!(
            AuditFilter { target: Some("app_1".into()), actor: Some("alice".into()), ..Default::default() }.matches(&e)
        );
        assert!(!AuditFilter { actor: Some("bob".into()), ..Default::default() }.matches(&e));
        assert!(AuditFilter { from: Some(5_000), to: Some(5_001), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { to: Some(5_000), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { about: Some(BTreeSet::new()), ..Default::default() }.matches(&e));
        assert!(AuditFilter { about: Some(BTreeSet::from(["app_1".to_owned()])), ..Default::default() }.matches(&e));
    }

    #[test]
    fn entries_written_before_roles_still_read() {
        let old = r#"{"at":"2026-11-24T07:22:23Z","actor":"admin:1a2b3c4d","action":"api.create","targets":["api_1"]}"#;
        let read: AuditEntry = serde_json::from_str(old).expect("old entry");
        assert_eq!((read.role, read.from, read.reason), (None, None, None));
        assert!(read.details.is_empty());
    }

    #[test]
    fn class_access_is_one_entry_per_app_api_class_and_hour() {
        let mut tally = ClassAccessTally::default();
        let h = 10 * HOUR;
        tally.record("app_1", "api_1", "pii", 3, h + 5);
        tally.record("app_1", "api_1", "pii", 2, h + HOUR - 1);
        tally.record("app_1", "api_1", "confidential", 1, h + 7);
        tally.record("app_1", "api_1", "pii", 4, h + HOUR + 1);
        assert!(tally.drain_finished(h + HOUR - 1).is_empty(), "an open hour is not written");
        let done = tally.drain_finished(h + HOUR + 2);
        assert_eq!(done.len(), 2);
        let pii = done.iter().find(|e| e.details["class"] == "pii").expect("pii entry");
        assert_eq!((pii.at, pii.details["count"].as_str()), (h, "5"));
        assert_eq!((pii.actor.as_str(), pii.action.as_str()), ("gateway", CLASS_ACCESS));
        assert_eq!(pii.targets, vec!["app_1".to_owned(), "api_1".to_owned()]);
        let later = tally.drain_finished(h + 2 * HOUR);
        assert_eq!(later, vec![class_access_entry("app_1", "api_1", "pii", 4, h + HOUR)]);
    }

    #[test]
    fn rollups_with_classes_are_tallied_and_anonymous_ones_are_not() {
        use crate::usage::{RollupKey, RollupValues};
        let rollup = |minute: UnixMillis, app: &str, pii: u64| {
            let (api_id, operation_id, key_id) = ("api_1".into(), "getPerson".into(), "key_1".into());
            let key =
                RollupKey { minute, api_id, operation_id, key_id, app_id: app.into(), developer_id: "dev_1".into() };
            let mut values = RollupValues { requests: pii + 1, ..RollupValues::default() };
            values.classes.insert("pii".into(), pii);
            Rollup { key, values }
        };
        let mut tally = ClassAccessTally::default();
        tally.record_rollups(&[rollup(0, "app_1", 2), rollup(60_000, "app_1", 3), rollup(0, "", 9)]);
        assert_eq!(tally.drain_finished(HOUR), vec![class_access_entry("app_1", "api_1", "pii", 5, 0)]);
    }
}
