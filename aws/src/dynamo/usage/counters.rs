//! Rollup values as top-level number attributes, the only place `UpdateItem ADD` works:
//! `requests`, `s1`–`s5`, `bytes_in`, `bytes_out`, `cache_hits`, `o_<outcome>`, histogram
//! buckets `h00`–`h31`, `u_<end user>` (a bearer token's `sub`, at most 64 per rollup) and
//! `c_<class>` (answers that carried a sensitive class to a holder). Only non-zero counters are stored (plus `requests`), since every
//! attribute name is billed as item size. A window item prefixes each with its minute's index
//! within the window: `m0_requests`, `m3_o_valid`, `m4_h07`.

use std::collections::BTreeMap;

use gatehouse_core::usage::{count_end_user, RollupValues, BUCKET_BOUNDS_US};

use crate::dynamo::items::{n, Item};

/// The counters of `v` worth storing, by attribute name.
pub(crate) fn counters(v: &RollupValues) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = vec![("requests".into(), v.requests)];
    all.extend(v.status_classes.iter().enumerate().map(|(i, c)| (format!("s{}", i + 1), *c)));
    all.extend([
        ("bytes_in".into(), v.bytes_in),
        ("bytes_out".into(), v.bytes_out),
        ("cache_hits".into(), v.cache_hits),
    ]);
    all.extend(v.outcomes.iter().map(|(code, c)| (format!("o_{code}"), *c)));
    all.extend(v.latency.counts.iter().enumerate().map(|(i, c)| (format!("h{i:02}"), *c)));
    all.extend(v.end_users.iter().map(|(user, c)| (format!("u_{user}"), *c)));
    all.extend(v.classes.iter().map(|(class, c)| (format!("c_{class}"), *c)));
    all.retain(|(name, c)| *c > 0 || name == "requests");
    all
}

/// Writes `v`'s counters into `item` (for a `Put` of a compacted item).
pub(crate) fn put_counters(item: &mut Item, v: &RollupValues) {
    for (name, count) in counters(v) {
        item.insert(name, n(count));
    }
}

/// The prefix of minute `index`'s counters in a window item.
pub(crate) fn minute_prefix(index: i64) -> String {
    format!("m{index}_")
}

/// Adds one counter, by its unprefixed name, to `v`; other names are not counters and are
/// ignored (keys, tags, the TTL).
fn add_counter(v: &mut RollupValues, name: &str, count: u64) {
    match name {
        "requests" => v.requests += count,
        "bytes_in" => v.bytes_in += count,
        "bytes_out" => v.bytes_out += count,
        "cache_hits" => v.cache_hits += count,
        _ => {
            if let Some(code) = name.strip_prefix("o_") {
                *v.outcomes.entry(code.to_owned()).or_default() += count;
            } else if let Some(user) = name.strip_prefix("u_") {
                count_end_user(&mut v.end_users, user, count);
            } else if let Some(class) = name.strip_prefix("c_") {
                *v.classes.entry(class.to_owned()).or_default() += count;
            } else if let Some(class) = name.strip_prefix('s').and_then(|i| i.parse::<usize>().ok()) {
                if let Some(c) = class.checked_sub(1).and_then(|i| v.status_classes.get_mut(i)) {
                    *c += count;
                }
            } else if let Some(bucket) = name.strip_prefix('h').filter(|b| b.len() == 2) {
                let slot = bucket.parse::<usize>().ok().filter(|b| *b < BUCKET_BOUNDS_US.len());
                if let Some(c) = slot.and_then(|b| v.latency.counts.get_mut(b)) {
                    *c += count;
                }
            }
        }
    }
}

fn numbers(item: &Item) -> impl Iterator<Item = (&str, u64)> {
    item.iter().filter_map(|(name, v)| Some((name.as_str(), v.as_n().ok()?.parse().ok()?)))
}

/// The values of a compacted (hour or day) item.
pub(crate) fn values(item: &Item) -> RollupValues {
    let mut v = RollupValues::default();
    for (name, count) in numbers(item) {
        add_counter(&mut v, name, count);
    }
    v
}

/// The values of each minute of a window item, by the minute's index within the window.
pub(crate) fn minutes(item: &Item) -> BTreeMap<i64, RollupValues> {
    let mut out: BTreeMap<i64, RollupValues> = BTreeMap::new();
    for (name, count) in numbers(item) {
        let Some((index, counter)) = name.strip_prefix('m').and_then(|rest| rest.split_once('_')) else { continue };
        let Ok(index) = index.parse() else { continue };
        add_counter(out.entry(index).or_default(), counter, count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::items::s;

    fn sample(requests: u64) -> RollupValues {
        let mut v = RollupValues { requests, bytes_out: 7 * requests, cache_hits: 1, ..RollupValues::default() };
        v.status_classes = [0, requests - 1, 0, 1, 0];
        v.outcomes.insert("valid".into(), requests - 1);
        v.outcomes.insert("rate_limited".into(), 1);
        v.latency.record(900);
        v.latency.record(30_000_000);
        v.end_users.insert("auth0|user-7".into(), 2);
        v.classes.insert("pii".into(), requests - 1);
        v
    }

    #[test]
    fn counters_round_trip_in_compacted_and_window_items() {
        let mut compacted = Item::from([("expires_at".to_owned(), n(99)), ("api".to_owned(), s("api_1"))]);
        put_counters(&mut compacted, &sample(10));
        assert_eq!(values(&compacted), sample(10), "the TTL and the tags are not counters");
        let mut window = Item::new();
        for (index, requests) in [(0, 5), (4, 8)] {
            for (name, count) in counters(&sample(requests)) {
                window.insert(format!("{}{name}", minute_prefix(index)), n(count));
            }
        }
        assert!(
            window.contains_key("m4_o_rate_limited")
                && window.contains_key("m0_s2")
                && !window.contains_key("m0_s1")
                && window.contains_key("m4_u_auth0|user-7")
                && window.contains_key("m4_c_pii")
        );
        assert_eq!(minutes(&window), BTreeMap::from([(0, sample(5)), (4, sample(8))]));
    }
}
