use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::{LatencyHistogram, UsageEvent};
use crate::time::{UnixMillis, MINUTE};

/// The grain of stored usage: one minute of one key calling one operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct RollupKey {
    /// Start of the minute, Unix milliseconds.
    pub minute: UnixMillis,
    pub api_id: String,
    pub operation_id: String,
    /// Empty for anonymous calls.
    pub key_id: String,
    pub app_id: String,
    pub developer_id: String,
}

/// A rollup key's fields, borrowed, so an event finds its rollup without first building (and
/// allocating) an owned key: one lookup per request, on the gateway's hot path.
type KeyParts<'a> = (UnixMillis, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Owned and borrowed keys as one type for map lookups; both hash and compare their parts.
trait AsKeyParts {
    fn parts(&self) -> KeyParts<'_>;
}

impl AsKeyParts for RollupKey {
    fn parts(&self) -> KeyParts<'_> {
        (self.minute, &self.api_id, &self.operation_id, &self.key_id, &self.app_id, &self.developer_id)
    }
}

impl AsKeyParts for KeyParts<'_> {
    fn parts(&self) -> KeyParts<'_> {
        *self
    }
}

/// Hashes the minute, the operation and the key only: they tell rollups apart well enough (a
/// key belongs to one app of one developer, so those parts add nothing but work), and equality
/// still compares every part, so this stays consistent with `Eq`.
fn hash_parts<H: Hasher>((minute, _api, operation, key, _app, _developer): KeyParts<'_>, state: &mut H) {
    (minute, operation, key).hash(state);
}

impl Hash for RollupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_parts(self.parts(), state);
    }
}

impl Hash for dyn AsKeyParts + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_parts(self.parts(), state);
    }
}

impl PartialEq for dyn AsKeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn AsKeyParts + '_ {}

impl<'a> Borrow<dyn AsKeyParts + 'a> for RollupKey {
    fn borrow(&self) -> &(dyn AsKeyParts + 'a) {
        self
    }
}

/// Counters for one [`RollupKey`]. Every field merges by addition, so rollups from several
/// flushes (or several edge locations) combine without coordination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct RollupValues {
    pub requests: u64,
    /// Index 0 = 1xx … 4 = 5xx.
    pub status_classes: [u64; 5],
    /// Count per outcome code (`valid`, `rate_limited`, …).
    pub outcomes: BTreeMap<String, u64>,
    pub latency: LatencyHistogram,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub cache_hits: u64,
    /// Requests per end user (a bearer token's `sub`): at most [`MAX_END_USERS`] by name per
    /// rollup, the rest under [`OTHER_END_USERS`], so one busy client cannot grow a row
    /// without bound.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub end_users: BTreeMap<String, u64>,
    /// Answers that carried data of each sensitive class to a caller holding it: the source
    /// of the audit trail's `data.class_access` entries. Bounded by the operation's classes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, u64>,
}

/// End users named per rollup; see [`RollupValues::end_users`].
pub const MAX_END_USERS: usize = 64;
/// Where the requests of end users past [`MAX_END_USERS`] are counted.
pub const OTHER_END_USERS: &str = "(others)";

/// Adds `count` requests of `user`, within the bound.
pub fn count_end_user(end_users: &mut BTreeMap<String, u64>, user: &str, count: u64) {
    if let Some(n) = end_users.get_mut(user) {
        *n += count;
    } else if end_users.len() < MAX_END_USERS {
        end_users.insert(user.to_owned(), count);
    } else {
        *end_users.entry(OTHER_END_USERS.to_owned()).or_default() += count;
    }
}

impl RollupValues {
    pub fn add_event(&mut self, e: &UsageEvent) {
        self.requests += 1;
        let class = usize::from((e.status / 100).clamp(1, 5) - 1);
        self.status_classes[class] += 1;
        match self.outcomes.get_mut(e.outcome.code()) {
            Some(count) => *count += 1,
            None => {
                self.outcomes.insert(e.outcome.code().to_string(), 1);
            }
        }
        self.latency.record(e.latency_us);
        self.bytes_in += e.bytes_in;
        self.bytes_out += e.bytes_out;
        self.cache_hits += u64::from(e.cache_hit);
        if let Some(user) = e.end_user {
            count_end_user(&mut self.end_users, user, 1);
        }
        for class in e.classes {
            *self.classes.entry(class.clone()).or_default() += 1;
        }
    }

    pub fn merge(&mut self, o: &RollupValues) {
        self.requests += o.requests;
        for (a, b) in self.status_classes.iter_mut().zip(o.status_classes) {
            *a += b;
        }
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        self.latency.merge(&o.latency);
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.cache_hits += o.cache_hits;
        for (user, count) in &o.end_users {
            count_end_user(&mut self.end_users, user, *count);
        }
        for (class, count) in &o.classes {
            *self.classes.entry(class.clone()).or_default() += count;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Rollup {
    pub key: RollupKey,
    pub values: RollupValues,
}

/// In-memory aggregation of events between flushes.
#[derive(Debug, Default)]
pub struct Aggregator {
    pending: HashMap<RollupKey, RollupValues, RollupHasher>,
}

/// The rollup map's hasher: foldhash with a fixed seed rather than std's SipHash, which took
/// about a quarter of every request's `add` (the five strings of its lookup). SipHash's random
/// keys defend a map against keys an attacker picks; these cannot be picked: every part comes
/// from the catalog (the matched API and operation, the stored key, app and developer) or is
/// empty, and the minute comes from the clock. A fixed seed also keeps the core free of
/// randomness.
type RollupHasher = foldhash::fast::FixedState;

impl Aggregator {
    pub fn add(&mut self, e: &UsageEvent) {
        let minute = e.at - e.at.rem_euclid(MINUTE);
        let (key_id, app_id, developer_id) =
            (e.key_id.unwrap_or(""), e.app_id.unwrap_or(""), e.developer_id.unwrap_or(""));
        let parts: KeyParts<'_> = (minute, e.api_id, e.operation_id, key_id, app_id, developer_id);
        if let Some(values) = self.pending.get_mut(&parts as &dyn AsKeyParts) {
            values.add_event(e);
            return;
        }
        let key = RollupKey {
            minute,
            api_id: e.api_id.to_owned(),
            operation_id: e.operation_id.to_owned(),
            key_id: key_id.to_owned(),
            app_id: app_id.to_owned(),
            developer_id: developer_id.to_owned(),
        };
        self.pending.entry(key).or_default().add_event(e);
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes everything aggregated so far, leaving the aggregator empty.
    pub fn drain(&mut self) -> Vec<Rollup> {
        self.drain_before(UnixMillis::MAX)
    }

    /// Takes the rollups of minutes that start before `cutoff`, keeping later ones. With
    /// `cutoff` the start of the current [`super::WINDOW`], that is every finished window and
    /// nothing of the one still filling, so a window leaves in one piece.
    pub fn drain_before(&mut self, cutoff: UnixMillis) -> Vec<Rollup> {
        let (before, keep): (HashMap<_, _, _>, HashMap<_, _, _>) =
            std::mem::take(&mut self.pending).into_iter().partition(|(key, _)| key.minute < cutoff);
        self.pending = keep;
        let mut out: Vec<Rollup> = before.into_iter().map(|(key, values)| Rollup { key, values }).collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Start of the oldest minute pending, if any: when it can be sealed is what a flush waits for.
    pub fn oldest_minute(&self) -> Option<UnixMillis> {
        self.pending.keys().map(|k| k.minute).min()
    }

    /// Start of the minute `at` falls in.
    pub fn minute_of(at: UnixMillis) -> UnixMillis {
        at - at.rem_euclid(MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Outcome;

    fn event(at: i64, status: u16, outcome: Outcome) -> UsageEvent<'static> {
        UsageEvent {
            at,
            api_id: "api_1",
            operation_id: "getPet",
            key_id: Some("key_1"),
            app_id: Some("app_1"),
            developer_id: Some("dev_1"),
            end_user: None,
            status,
            outcome,
            latency_us: 1_200,
            bytes_in: 10,
            bytes_out: 100,
            cache_hit: status == 200,
            classes: &[],
        }
    }

    #[test]
    fn interleaved_callers_each_get_their_own_rollup() {
        let mut agg = Aggregator::default();
        for i in 0..10 {
            let mut e = event(60_000, 200, Outcome::Valid);
            if i % 2 == 1 {
                e.key_id = Some("key_2");
            }
            if i % 5 == 0 {
                e.developer_id = None; // anonymous parts are an empty id, never another caller's
            }
            agg.add(&e);
        }
        let counts: Vec<(String, String, u64)> =
            agg.drain().into_iter().map(|r| (r.key.key_id, r.key.developer_id, r.values.requests)).collect();
        assert_eq!(
            counts,
            vec![
                ("key_1".into(), "".into(), 1),
                ("key_1".into(), "dev_1".into(), 4),
                ("key_2".into(), "".into(), 1),
                ("key_2".into(), "dev_1".into(), 4),
            ]
        );
    }

    #[test]
    fn events_in_one_minute_become_one_rollup() {
        let mut agg = Aggregator::default();
        agg.add(&event(60_000, 200, Outcome::Valid));
        agg.add(&event(119_999, 429, Outcome::RateLimited));
        agg.add(&event(120_000, 200, Outcome::Valid));
        let rollups = agg.drain();
        assert!(agg.is_empty());
        assert_eq!(rollups.len(), 2);
        let first = &rollups[0].values;
        assert_eq!(first.requests, 2);
        assert_eq!(first.status_classes, [0, 1, 0, 1, 0]);
        assert_eq!(first.outcomes.get("rate_limited"), Some(&1));
        assert_eq!((first.bytes_in, first.bytes_out, first.cache_hits), (20, 200, 1));
        let mut merged = first.clone();
        merged.merge(&rollups[1].values);
        assert_eq!(merged.requests, 3);
        assert_eq!(merged.latency.total(), 3);
    }

    #[test]
    fn only_minutes_of_finished_windows_are_drained_and_the_rest_waits() {
        use crate::usage::{window_start, WINDOW};
        let mut agg = Aggregator::default();
        for at in [0, 4 * MINUTE + 59_999, WINDOW, WINDOW + 3 * MINUTE] {
            agg.add(&event(at, 200, Outcome::Valid));
        }
        assert_eq!(agg.oldest_minute(), Some(0));
        let now = WINDOW + 3 * MINUTE + 10_000; // inside the second window
        let sealed = agg.drain_before(window_start(now, WINDOW));
        assert_eq!(sealed.iter().map(|r| r.key.minute).collect::<Vec<_>>(), [0, 4 * MINUTE], "the first window whole");
        assert_eq!(agg.oldest_minute(), Some(WINDOW), "the window still filling stays");
        assert!(agg.drain_before(window_start(now, WINDOW)).is_empty(), "nothing is sent twice");
        agg.add(&event(now, 200, Outcome::Valid));
        let next = agg.drain_before(window_start(2 * WINDOW, WINDOW));
        let counted: u64 = next.iter().map(|r| r.values.requests).sum();
        assert_eq!((next.len(), counted), (2, 3), "the second window, with every event once");
        assert!(agg.is_empty() && agg.oldest_minute().is_none());
    }

    #[test]
    fn end_users_are_counted_within_a_bound() {
        let mut agg = Aggregator::default();
        for n in 0..MAX_END_USERS + 10 {
            let user = format!("user-{n}");
            let mut e = event(60_000, 200, Outcome::Valid);
            e.end_user = Some(&user);
            agg.add(&e);
            agg.add(&e);
        }
        agg.add(&event(60_000, 200, Outcome::Valid));
        let rollups = agg.drain();
        let users = &rollups[0].values.end_users;
        assert_eq!(users.len(), MAX_END_USERS + 1, "64 by name and the rest together");
        assert_eq!(users["user-0"], 2);
        assert_eq!(users[OTHER_END_USERS], 20);
        let mut merged = rollups[0].values.clone();
        merged.merge(&rollups[0].values);
        assert_eq!((merged.end_users["user-0"], merged.end_users[OTHER_END_USERS]), (4, 40));
    }
}
