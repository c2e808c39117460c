//! OpenID Connect discovery (OpenID Connect Discovery 1.0 §3): where an issuer's keys are,
//! and when to fetch its document again. The document follows the key sets' policy
//! ([`super::key_cache`]: cache by `Cache-Control` within 5 min..24 h, keep the last good one
//! through an outage until its hard expiry, retry a failed fetch after 2 s), so one provider
//! outage behaves the same for both, in both runtimes.

use std::sync::Arc;

use serde::Deserialize;

use super::key_cache::{lifetime, MAX_STALE, RETRY_AFTER_FAILURE};
use crate::time::UnixMillis;

/// What an OpenID Connect discovery document says about token checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub issuer: Arc<str>,
    pub jwks_uri: Arc<str>,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    jwks_uri: String,
}

impl Discovered {
    /// Reads a discovery document (OpenID Connect Discovery 1.0 §3): `issuer` and an
    /// http(s) `jwks_uri` are required.
    pub fn parse(body: &[u8]) -> Result<Discovered, String> {
        let doc: Document = serde_json::from_slice(body).map_err(|e| format!("not a discovery document: {e}"))?;
        if doc.issuer.is_empty() {
            return Err("the discovery document names no issuer".into());
        }
        if !doc.jwks_uri.starts_with("https://") && !doc.jwks_uri.starts_with("http://") {
            return Err(format!("jwks_uri {:?} is not an http(s) URL", doc.jwks_uri));
        }
        Ok(Discovered { issuer: doc.issuer.into(), jwks_uri: doc.jwks_uri.into() })
    }
}

/// One discovery URL's document, as an isolate knows it.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryCache {
    good: Option<(Discovered, UnixMillis, UnixMillis)>,
    last_attempt: Option<UnixMillis>,
}

/// What to do for a token whose keys a discovery document names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryLookup {
    Use(Discovered),
    Fetch,
    Unavailable,
}

impl DiscoveryCache {
    pub fn lookup(&self, now: UnixMillis) -> DiscoveryLookup {
        let may_try = self.last_attempt.is_none_or(|at| now.saturating_sub(at) >= RETRY_AFTER_FAILURE);
        match &self.good {
            Some((doc, fresh_until, hard_until)) if now < *hard_until => {
                if now >= *fresh_until && may_try {
                    DiscoveryLookup::Fetch
                } else {
                    DiscoveryLookup::Use(doc.clone())
                }
            }
            _ if may_try => DiscoveryLookup::Fetch,
            _ => DiscoveryLookup::Unavailable,
        }
    }

    pub fn fetched(&mut self, doc: Discovered, cache_control: Option<&str>, now: UnixMillis) {
        let fresh_until = now.saturating_add(lifetime(cache_control));
        self.good = Some((doc, fresh_until, fresh_until.saturating_add(MAX_STALE)));
        self.last_attempt = Some(now);
    }

    pub fn failed(&mut self, now: UnixMillis) {
        self.last_attempt = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::key_cache::MIN_LIFETIME;
    use crate::time::{DAY, SECOND};

    const T0: UnixMillis = 1_800_000_000_000;

    fn doc() -> Discovered {
        Discovered::parse(br#"{"issuer": "https://idp/", "jwks_uri": "https://idp/keys", "x": 1}"#).expect("a doc")
    }

    #[test]
    fn a_discovery_document_must_name_its_issuer_and_an_http_key_url() {
        assert_eq!(&*doc().jwks_uri, "https://idp/keys");
        assert!(Discovered::parse(br#"{"issuer": "", "jwks_uri": "https://idp/keys"}"#).is_err());
        assert!(Discovered::parse(br#"{"issuer": "https://idp/", "jwks_uri": "file:///etc/passwd"}"#).is_err());
        assert!(Discovered::parse(br#"{"issuer": "https://idp/"}"#).is_err());
    }

    #[test]
    fn a_discovery_document_is_kept_through_an_outage_until_its_hard_expiry() {
        let mut cache = DiscoveryCache::default();
        assert_eq!(cache.lookup(T0), DiscoveryLookup::Fetch);
        cache.failed(T0);
        assert_eq!(cache.lookup(T0 + SECOND), DiscoveryLookup::Unavailable, "a down provider is not hammered");
        cache.fetched(doc(), Some("max-age=10"), T0 + 2 * SECOND);
        let fresh_until = T0 + 2 * SECOND + MIN_LIFETIME;
        assert_eq!(cache.lookup(fresh_until - 1), DiscoveryLookup::Use(doc()));
        assert_eq!(cache.lookup(fresh_until), DiscoveryLookup::Fetch);
        cache.failed(fresh_until);
        assert_eq!(cache.lookup(fresh_until + SECOND), DiscoveryLookup::Use(doc()), "stale but still good");
        assert_eq!(cache.lookup(fresh_until + DAY), DiscoveryLookup::Fetch, "past its hard expiry");
        cache.failed(fresh_until + DAY);
        assert_eq!(cache.lookup(fresh_until + DAY), DiscoveryLookup::Unavailable);
    }
}
