//! Freshness and age (RFC 9111 §4.2): pure functions of headers and `now`.
//!
//! **No heuristic freshness.** RFC 9111 §4.2.2 lets a cache guess a lifetime (typically 10% of
//! the time since `Last-Modified`) when the origin gives none. A general web cache may; an API
//! gateway must not: API responses change on writes, not on a schedule, and a guessed lifetime
//! would serve one caller's stale data to the next without anyone having asked for it. A
//! response is fresh only for as long as its upstream (`s-maxage`, `max-age`, `Expires`) or the
//! API owner (`CacheSettings::default_ttl_secs`) explicitly said.

use http::header::{DATE, EXPIRES};
use http::HeaderMap;

use super::directives::CacheControl;
use super::fields::{self, joined, Age};
use super::CachedResponse;
use crate::time::{parse_http_date, UnixMillis, SECOND};

/// Freshness lifetime in milliseconds, in RFC 9111 §4.2.1 order: `s-maxage`, then `max-age`,
/// then `Expires` − `Date`, then the API's default TTL. `None` means nobody said.
///
/// `default_ttl_secs` applies only to `default_cacheable` statuses: the API owner's default is a
/// policy for ordinary successes, not a reason to pin an error the upstream never marked.
pub fn freshness_lifetime(
    headers: &HeaderMap,
    cc: &CacheControl,
    default_ttl_secs: Option<u32>,
    default_cacheable: bool,
    received_at: UnixMillis,
) -> Option<i64> {
    if let Some(secs) = cc.s_maxage.or(cc.max_age) {
        return Some(secs_to_ms(secs));
    }
    if let Some(expires) = joined(headers, EXPIRES) {
        // An invalid Expires (often "0" or "-1", or two of them) means "already expired"
        // (RFC 9111 §5.3).
        let Some(expires) = parse_http_date(&expires) else {
            return Some(0);
        };
        let date = header_date(headers).unwrap_or(received_at);
        return Some((expires - date).max(0));
    }
    default_ttl_secs.filter(|_| default_cacheable).map(|s| secs_to_ms(u64::from(s)))
}

/// The corrected initial age (RFC 9111 §4.2.3) of a response received at `received_at` for a
/// request sent at `requested_at`: the larger of what the clock difference says (`Date`) and
/// what upstream caches claim (`Age`, plus the round trip, which they could not see).
/// An invalid `Age` gives [`INVALID_AGE_MS`]: the response is stale from the start.
pub fn initial_age(headers: &HeaderMap, requested_at: UnixMillis, received_at: UnixMillis) -> i64 {
    let apparent_age = header_date(headers).map_or(0, |date| (received_at - date).max(0));
    let response_delay = (received_at - requested_at).max(0);
    let age_value = match fields::age(headers) {
        Age::Absent => 0,
        Age::Seconds(secs) => secs_to_ms(secs),
        Age::Invalid => return INVALID_AGE_MS,
    };
    apparent_age.max(age_value.saturating_add(response_delay))
}

/// The age given to a response whose `Age` is invalid: older than any freshness lifetime
/// (which is capped at 2^31 s), yet far from overflowing when residence time is added.
pub const INVALID_AGE_MS: i64 = i64::MAX / 4;

/// Current age of a stored response: its initial age plus how long it has been resident.
pub fn current_age(entry: &CachedResponse, now: UnixMillis) -> i64 {
    entry.initial_age_ms + (now - entry.stored_at).max(0)
}

/// Whether a stored response may answer a request as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usability {
    /// Serve it; `ttl_secs` is the freshness left, for `Cache-Status`.
    Fresh { ttl_secs: i64, age_secs: i64 },
    /// Past its lifetime (an upstream `no-cache` is stored as a lifetime of 0): revalidate
    /// before use.
    Stale,
    /// Fresh, but the client's own directives (`no-cache`, `max-age`, `min-fresh`) refuse it.
    RequestForbids,
}

/// Judges `entry` for a request carrying `request_cc` at `now`. Stale responses are never
/// served (no `max-stale`, `stale-while-revalidate` or `stale-if-error`): for an API, an
/// error or a slower answer is more honest than data the upstream said had expired.
pub fn usability(entry: &CachedResponse, request_cc: &CacheControl, now: UnixMillis) -> Usability {
    let age = current_age(entry, now);
    let remaining = entry.freshness_ms - age;
    if remaining <= 0 {
        return Usability::Stale;
    }
    let age_secs = age / SECOND;
    let too_old_for_client =
        request_cc.max_age.is_some_and(|max| max == 0 || u64::try_from(age_secs).is_ok_and(|a| a > max));
    let too_short_for_client = request_cc.min_fresh.is_some_and(|min| remaining < secs_to_ms(min));
    if request_cc.no_cache || too_old_for_client || too_short_for_client {
        return Usability::RequestForbids;
    }
    Usability::Fresh { ttl_secs: remaining / SECOND, age_secs }
}

fn header_date(headers: &HeaderMap) -> Option<UnixMillis> {
    parse_http_date(&joined(headers, DATE)?)
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).map_or(i64::MAX / 4, |s| s.saturating_mul(SECOND))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use crate::time::http_date;

    const T0: UnixMillis = 1_700_000_000_000;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    fn lifetime(h: &HeaderMap, default_ttl: Option<u32>) -> Option<i64> {
        freshness_lifetime(h, &CacheControl::from_headers(h), default_ttl, true, T0)
    }

    #[test]
    fn s_maxage_beats_max_age_beats_expires() {
        let expires = ("expires", http_date(T0 + 900 * SECOND));
        let h = headers(&[("cache-control", "max-age=60, s-maxage=30".into()), expires.clone()]);
        assert_eq!(lifetime(&h, Some(5)), Some(30 * SECOND));
        let h = headers(&[("cache-control", "max-age=60".into()), expires.clone()]);
        assert_eq!(lifetime(&h, Some(5)), Some(60 * SECOND));
        let h = headers(&[expires, ("date", http_date(T0))]);
        assert_eq!(lifetime(&h, Some(5)), Some(900 * SECOND));
    }

    #[test]
    fn expires_is_measured_from_the_upstream_date_not_our_clock() {
        let h = headers(&[("expires", http_date(T0 + 100 * SECOND)), ("date", http_date(T0 + 40 * SECOND))]);
        assert_eq!(lifetime(&h, None), Some(60 * SECOND));
    }

    #[test]
    fn invalid_expires_means_already_expired() {
        assert_eq!(lifetime(&headers(&[("expires", "0".into())]), Some(300)), Some(0));
    }

    #[test]
    fn default_ttl_applies_only_without_explicit_freshness() {
        assert_eq!(lifetime(&HeaderMap::new(), Some(300)), Some(300 * SECOND));
        assert_eq!(lifetime(&HeaderMap::new(), None), None, "no heuristic freshness");
        let no_default = freshness_lifetime(&HeaderMap::new(), &CacheControl::default(), Some(300), false, T0);
        assert_eq!(no_default, None, "default TTL never applies to statuses not cacheable by default");
    }

    #[test]
    fn initial_age_takes_the_larger_of_date_and_age_header() {
        let h = headers(&[("date", http_date(T0 - 10 * SECOND)), ("age", "3".into())]);
        assert_eq!(initial_age(&h, T0 - 500, T0), 10 * SECOND);
        let h = headers(&[("date", http_date(T0)), ("age", "30".into())]);
        assert_eq!(initial_age(&h, T0 - 500, T0), 30 * SECOND + 500, "Age plus the round trip");
    }

    #[test]
    fn rfc9111_5_1_invalid_age_makes_the_response_stale_not_fresh() {
        let e = CachedResponse {
            stored_at: T0,
            initial_age_ms: initial_age(&headers(&[("age", "junk".into())]), T0, T0),
            freshness_ms: 3600 * SECOND,
            ..CachedResponse::default()
        };
        assert_eq!(usability(&e, &CacheControl::default(), T0), Usability::Stale);
        assert!(e.useful_until() < T0, "not worth keeping at all");
    }

    #[test]
    fn rfc9111_4_2_3_repeated_date_or_expires_lines_read_as_the_edge_reads_them() {
        let date = http_date(T0);
        let mut two = headers(&[("expires", http_date(T0 + 100 * SECOND)), ("date", date.clone())]);
        two.append("expires", http_date(T0 + 900 * SECOND).parse().unwrap());
        let joined = format!("{}, {}", http_date(T0 + 100 * SECOND), http_date(T0 + 900 * SECOND));
        let one = headers(&[("expires", joined), ("date", date)]);
        assert_eq!(lifetime(&two, None), Some(0), "two Expires are an invalid one");
        assert_eq!(lifetime(&two, None), lifetime(&one, None));
    }

    fn entry(freshness_secs: i64, initial_age_secs: i64, cache_control: &'static str) -> CachedResponse {
        CachedResponse {
            headers: headers(&[("cache-control", cache_control.into())]),
            stored_at: T0,
            initial_age_ms: initial_age_secs * SECOND,
            freshness_ms: freshness_secs * SECOND,
            ..CachedResponse::default()
        }
    }

    #[test]
    fn age_grows_with_residence_time() {
        let e = entry(100, 7, "max-age=100");
        assert_eq!(current_age(&e, T0), 7 * SECOND);
        assert_eq!(current_age(&e, T0 + 20 * SECOND), 27 * SECOND);
        let fresh = usability(&e, &CacheControl::default(), T0 + 20 * SECOND);
        assert_eq!(fresh, Usability::Fresh { ttl_secs: 73, age_secs: 27 });
    }

    #[test]
    fn response_is_stale_once_its_age_reaches_its_lifetime() {
        let e = entry(100, 7, "max-age=100");
        assert!(matches!(usability(&e, &CacheControl::default(), T0 + 92_999), Usability::Fresh { .. }));
        assert_eq!(usability(&e, &CacheControl::default(), T0 + 93 * SECOND), Usability::Stale);
    }

    #[test]
    fn client_no_cache_or_max_age_zero_forces_revalidation_of_a_fresh_response() {
        let e = entry(100, 0, "max-age=100");
        for request in ["no-cache", "max-age=0", "max-age=5", "min-fresh=95"] {
            let verdict = usability(&e, &CacheControl::parse(request), T0 + 10 * SECOND);
            assert_eq!(verdict, Usability::RequestForbids, "{request}");
        }
        let ok = usability(&e, &CacheControl::parse("max-age=10, min-fresh=80"), T0 + 10 * SECOND);
        assert!(matches!(ok, Usability::Fresh { .. }));
    }
}
