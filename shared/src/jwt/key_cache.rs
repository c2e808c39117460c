//! When to fetch an issuer's JWK Set again, as Azure API Management does it: cache by the
//! response's `Cache-Control` (at least 5 minutes, at most 24 hours), refetch at most once a
//! minute for a `kid` not in the set (key rollover), keep serving the last good set through
//! an outage until its hard expiry, then fail closed.
//!
//! Pure state: each runtime keeps one per key URL and does the fetch when told to.

use std::sync::Arc;

use super::{Algorithm, Jwk, JwkSet};
use crate::cache::directives::CacheControl;
use crate::time::{UnixMillis, DAY, HOUR, MINUTE, SECOND};

/// Shortest and longest time a fetched set is used before it is fetched again.
pub const MIN_LIFETIME: i64 = 5 * MINUTE;
pub const MAX_LIFETIME: i64 = DAY;
/// Lifetime when the provider sends no `max-age`.
pub const DEFAULT_LIFETIME: i64 = HOUR;
/// How long past its lifetime a set still serves while its provider cannot be reached.
pub const MAX_STALE: i64 = DAY;
/// An unknown `kid` triggers at most one refetch per this interval.
pub const UNKNOWN_KID_REFETCH: i64 = MINUTE;
/// Largest JWK Set or discovery document read from a provider: real ones are a few KB.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// After a failed fetch, no new attempt for this long: a provider that is down is not
/// hammered by every request.
pub const RETRY_AFTER_FAILURE: i64 = 2 * SECOND;

/// What one issuer's keys are known to be.
#[derive(Debug, Clone)]
pub struct KeySetCache {
    good: Option<Good>,
    last_attempt: Option<UnixMillis>,
    /// [`UNKNOWN_KID_REFETCH`] unless a runtime is configured otherwise.
    unknown_kid_refetch: i64,
}

impl Default for KeySetCache {
    fn default() -> Self {
        KeySetCache::with_unknown_kid_refetch(UNKNOWN_KID_REFETCH)
    }
}

#[derive(Debug, Clone)]
struct Good {
    set: Arc<JwkSet>,
    fresh_until: UnixMillis,
    hard_until: UnixMillis,
}

/// What a verifier should do for one token.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Check the signature with this key.
    Use(Box<Jwk>),
    /// Fetch the set now (then record it with [`KeySetCache::fetched`] or
    /// [`KeySetCache::failed`] and look again).
    Fetch,
    /// The token names a key the provider does not publish, even after a refetch.
    UnknownKey,
    /// No usable set: the provider has been unreachable past the hard expiry.
    Unavailable,
}

impl KeySetCache {
    /// A cache that refetches for an unknown `kid` at most once per `interval` (milliseconds;
    /// never below [`RETRY_AFTER_FAILURE`]).
    pub fn with_unknown_kid_refetch(interval: i64) -> KeySetCache {
        KeySetCache { good: None, last_attempt: None, unknown_kid_refetch: interval.max(RETRY_AFTER_FAILURE) }
    }

    /// Decides for a token with `kid` and `algorithm` at `now`.
    pub fn lookup(&self, kid: Option<&str>, algorithm: Algorithm, now: UnixMillis) -> Lookup {
        let since_attempt = self.last_attempt.map_or(i64::MAX, |at| now.saturating_sub(at));
        let Some(good) = self.good.as_ref().filter(|good| now < good.hard_until) else {
            return if since_attempt >= RETRY_AFTER_FAILURE { Lookup::Fetch } else { Lookup::Unavailable };
        };
        if now >= good.fresh_until && since_attempt >= RETRY_AFTER_FAILURE {
            return Lookup::Fetch;
        }
        match good.set.find(kid, algorithm) {
            Some(key) => Lookup::Use(Box::new(key.clone())),
            None if since_attempt >= self.unknown_kid_refetch => Lookup::Fetch,
            None => Lookup::UnknownKey,
        }
    }

    /// Records a fetched set and the response's `Cache-Control` value.
    pub fn fetched(&mut self, set: JwkSet, cache_control: Option<&str>, now: UnixMillis) {
        let lifetime = lifetime(cache_control);
        let fresh_until = now.saturating_add(lifetime);
        self.good = Some(Good { set: Arc::new(set), fresh_until, hard_until: fresh_until.saturating_add(MAX_STALE) });
        self.last_attempt = Some(now);
    }

    /// Records a failed fetch; the last good set, if any, keeps serving.
    pub fn failed(&mut self, now: UnixMillis) {
        self.last_attempt = Some(now);
    }
}

/// How long a fetched set is used: its `max-age` (or `s-maxage`), within
/// [`MIN_LIFETIME`]..=[`MAX_LIFETIME`]. `no-store` and `no-cache` get the minimum: refetching
/// on every token would put the provider on the request path.
pub fn lifetime(cache_control: Option<&str>) -> i64 {
    let Some(directives) = cache_control.map(CacheControl::parse) else {
        return DEFAULT_LIFETIME;
    };
    let seconds = directives.s_maxage.or(directives.max_age);
    let millis = match seconds {
        Some(secs) => i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(SECOND),
        None if directives.no_store || directives.no_cache => MIN_LIFETIME,
        None => DEFAULT_LIFETIME,
    };
    millis.clamp(MIN_LIFETIME, MAX_LIFETIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kids: &[&str]) -> JwkSet {
        let keys = kids
            .iter()
            .map(|kid| Jwk {
                kty: "RSA".into(),
                kid: Some((*kid).into()),
                alg: None,
                usage: None,
                n: Some("AQAB".into()),
                e: Some("AQAB".into()),
                crv: None,
                x: None,
                y: None,
                k: None,
            })
            .collect();
        JwkSet { keys }
    }

    const T0: UnixMillis = 1_800_000_000_000;
    const RS: Algorithm = Algorithm::RS256;

    #[test]
    fn lifetime_follows_cache_control_within_bounds() {
        assert_eq!(lifetime(None), HOUR);
        assert_eq!(lifetime(Some("public, max-age=600")), 10 * MINUTE);
        assert_eq!(lifetime(Some("max-age=10")), MIN_LIFETIME);
        assert_eq!(lifetime(Some("max-age=9999999")), MAX_LIFETIME);
        assert_eq!(lifetime(Some("no-store")), MIN_LIFETIME);
        assert_eq!(lifetime(Some("max-age=600, s-maxage=1200")), 20 * MINUTE);
    }

    #[test]
    fn a_cold_cache_fetches_then_serves_until_stale() {
        let mut cache = KeySetCache::default();
        assert_eq!(cache.lookup(Some("k1"), RS, T0), Lookup::Fetch);
        cache.fetched(set(&["k1"]), Some("max-age=600"), T0);
        assert!(matches!(cache.lookup(Some("k1"), RS, T0 + 599 * SECOND), Lookup::Use(_)));
        assert_eq!(cache.lookup(Some("k1"), RS, T0 + 600 * SECOND), Lookup::Fetch, "stale: refresh");
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_a_minute() {
        let mut cache = KeySetCache::default();
        cache.fetched(set(&["k1"]), None, T0);
        assert_eq!(cache.lookup(Some("k2"), RS, T0 + SECOND), Lookup::UnknownKey, "fetched a second ago");
        assert_eq!(cache.lookup(Some("k2"), RS, T0 + MINUTE), Lookup::Fetch);
        cache.fetched(set(&["k1", "k2"]), None, T0 + MINUTE);
        assert!(matches!(cache.lookup(Some("k2"), RS, T0 + MINUTE), Lookup::Use(_)), "rolled over");
        assert!(matches!(cache.lookup(Some("k1"), RS, T0 + MINUTE), Lookup::Use(_)), "the old key still works");
        assert_eq!(cache.lookup(Some("k9"), RS, T0 + MINUTE + SECOND), Lookup::UnknownKey);
    }

    #[test]
    fn an_outage_serves_the_last_good_set_until_its_hard_expiry_then_fails_closed() {
        let mut cache = KeySetCache::default();
        cache.fetched(set(&["k1"]), Some("max-age=300"), T0);
        let stale = T0 + 301 * SECOND;
        assert_eq!(cache.lookup(Some("k1"), RS, stale), Lookup::Fetch);
        cache.failed(stale);
        assert!(matches!(cache.lookup(Some("k1"), RS, stale), Lookup::Use(_)), "stale but still good");
        assert_eq!(cache.lookup(Some("k1"), RS, stale + RETRY_AFTER_FAILURE), Lookup::Fetch, "tries again");
        let past_hard = T0 + 5 * MINUTE + MAX_STALE;
        cache.failed(past_hard);
        assert_eq!(cache.lookup(Some("k1"), RS, past_hard), Lookup::Unavailable);
        assert_eq!(cache.lookup(Some("k1"), RS, past_hard + RETRY_AFTER_FAILURE), Lookup::Fetch);
        cache.fetched(set(&["k1"]), None, past_hard + RETRY_AFTER_FAILURE);
        assert!(matches!(cache.lookup(Some("k1"), RS, past_hard + RETRY_AFTER_FAILURE), Lookup::Use(_)), "back up");
    }

    #[test]
    fn a_provider_down_from_the_start_is_not_asked_on_every_request() {
        let mut cache = KeySetCache::default();
        cache.failed(T0);
        assert_eq!(cache.lookup(Some("k1"), RS, T0 + SECOND), Lookup::Unavailable);
        assert_eq!(cache.lookup(Some("k1"), RS, T0 + RETRY_AFTER_FAILURE), Lookup::Fetch);
    }
}
