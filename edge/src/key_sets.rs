//! Bearer-token keys at the edge, as pure state: the copy of a fetched JWK Set that isolates
//! share through Workers KV.
//!
//! The refetch policies themselves are the core's ([`gatehouse_core::jwt::key_cache`] for key
//! sets, [`gatehouse_core::jwt::discovery`] for discovery documents); this module only adds
//! what the Worker needs around them.

use gatehouse_core::jwt::key_cache::{lifetime, MAX_STALE};
use gatehouse_core::jwt::JwkSet;
use gatehouse_core::time::{UnixMillis, SECOND};
use serde::{Deserialize, Serialize};

/// A fetched key set as one isolate writes it to KV (`jwks:<sha-256 of the URL>`, see
/// [`crate::layout::jwks_record`]) for the others: an isolate that starts cold reads this
/// before it asks the provider. Only fetched sets are written, and fetched sets never hold
/// a shared secret ([`JwkSet::from_fetched`] drops them), so KV never holds key material
/// that is not already public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedKeySet {
    pub url: String,
    pub keys: JwkSet,
    /// The provider's `Cache-Control`, so every isolate computes the same lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// When the provider answered (Unix ms): freshness and the unknown-`kid` refetch interval
    /// count from here, not from when an isolate read the copy.
    pub fetched_at: UnixMillis,
}

impl SharedKeySet {
    /// The copy as read at `now`: symmetric keys dropped again, and a fetch time from another
    /// isolate's clock never later than ours (else a refetch could be put off).
    pub fn read(mut self, now: UnixMillis) -> SharedKeySet {
        self.keys.keys.retain(|key| key.kty != "oct");
        self.fetched_at = self.fetched_at.min(now);
        self
    }

    /// How long KV should keep the copy: until the set's hard expiry, after which no isolate
    /// may use it anyway (KV's minimum is 60 s).
    pub fn kv_ttl_secs(&self) -> u64 {
        let millis = lifetime(self.cache_control.as_deref()).saturating_add(MAX_STALE);
        u64::try_from(millis / SECOND).unwrap_or(u64::MAX).max(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::time::HOUR;

    const T0: UnixMillis = 1_800_000_000_000;

    #[test]
    fn a_shared_copy_never_carries_secrets_or_a_fetch_time_from_the_future() {
        let keys: JwkSet =
            serde_json::from_str(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}, {"kty": "RSA"}]}"#).expect("a set");
        let copy = SharedKeySet { url: "https://idp/keys".into(), keys, cache_control: None, fetched_at: T0 + 5_000 };
        let read = copy.read(T0);
        assert_eq!(read.keys.keys.len(), 1);
        assert_eq!(read.fetched_at, T0);
        assert_eq!(read.kv_ttl_secs(), ((HOUR + MAX_STALE) / SECOND) as u64, "until its hard expiry");
    }
}
