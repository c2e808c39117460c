//! Issuers' published keys, fetched when the core's [`KeySetCache`] says so: at first use, when
//! stale, and once a minute at most for an unknown `kid`. One cache per URL behind an async
//! lock, so a thousand concurrent first requests cause one fetch: the first holds the lock
//! through its fetch, and the others then find the keys it stored.
//!
//! Fetched with reqwest (already in the workspace for AWS; rustls and webpki roots, so an
//! `https://` identity provider works natively).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_core::jwt::discovery::{Discovered, DiscoveryCache, DiscoveryLookup};
use gatehouse_core::jwt::key_cache::{KeySetCache, Lookup, MAX_DOCUMENT_BYTES, UNKNOWN_KID_REFETCH};
use gatehouse_core::jwt::{Jwk, JwkSet, Parsed, Refusal};
use gatehouse_core::ports::{PortError, SignatureError};

/// Wall-clock time: these caches decide when to fetch again, nothing that tests move.
fn now_millis() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// How long one fetch of keys or of a discovery document may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct KeySets {
    client: reqwest::Client,
    /// Milliseconds between refetches for an unknown `kid` (see `KeySetCache`).
    unknown_kid_refetch: i64,
    sets: Mutex<HashMap<String, Arc<tokio::sync::Mutex<KeySetCache>>>>,
    discovered: Mutex<HashMap<String, Arc<tokio::sync::Mutex<DiscoveryCache>>>>,
}

impl Default for KeySets {
    fn default() -> Self {
        KeySets::new(reqwest::Client::new(), UNKNOWN_KID_REFETCH)
    }
}

fn unavailable(detail: impl Into<String>) -> SignatureError {
    SignatureError::KeysUnavailable(PortError::new("jwks", detail))
}

impl KeySets {
    pub fn new(client: reqwest::Client, unknown_kid_refetch: i64) -> KeySets {
        KeySets { client, unknown_kid_refetch, sets: Mutex::default(), discovered: Mutex::default() }
    }

    fn cell<T>(
        map: &Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>,
        url: &str,
        new: impl FnOnce() -> T,
    ) -> Arc<tokio::sync::Mutex<T>> {
        let mut map = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cell) = map.get(url) {
            return Arc::clone(cell);
        }
        Arc::clone(map.entry(url.to_owned()).or_insert_with(|| Arc::new(tokio::sync::Mutex::new(new()))))
    }

    /// The key that checks `token`, from the JWK Set at `url`.
    pub async fn key(&self, url: &str, token: &Parsed<'_>) -> Result<Jwk, SignatureError> {
        let cell = KeySets::cell(&self.sets, url, || KeySetCache::with_unknown_kid_refetch(self.unknown_kid_refetch));
        let mut cache = cell.lock().await;
        // At most one fetch per call: after it, `lookup` never answers `Fetch` again.
        for _ in 0..2 {
            match cache.lookup(token.kid.as_deref(), token.algorithm, now_millis()) {
                Lookup::Use(key) => return Ok(*key),
                Lookup::UnknownKey => return Err(SignatureError::Refused(Refusal::UnknownKey)),
                Lookup::Unavailable => break,
                Lookup::Fetch => match self.fetch(url).await {
                    Ok((body, cache_control)) => match JwkSet::from_fetched(&body) {
                        Ok(set) => cache.fetched(set, cache_control.as_deref(), now_millis()),
                        Err(why) => {
                            tracing::warn!(%url, %why, "the JWK Set could not be read; the last good set, if any, stays");
                            cache.failed(now_millis());
                        }
                    },
                    Err(why) => {
                        tracing::warn!(%url, %why, "the JWK Set could not be fetched; the last good set, if any, stays");
                        cache.failed(now_millis());
                    }
                },
            }
        }
        Err(unavailable(format!("no usable JWK Set from {url}")))
    }

    /// The issuer and key URL an OpenID Connect discovery document names, cached and kept
    /// through an outage by the core's [`DiscoveryCache`], as the Worker does.
    pub async fn discover(&self, url: &str) -> Result<Discovered, SignatureError> {
        let cell = KeySets::cell(&self.discovered, url, DiscoveryCache::default);
        let mut cache = cell.lock().await;
        // At most one fetch per call: after it, `lookup` never answers `Fetch` again.
        for _ in 0..2 {
            match cache.lookup(now_millis()) {
                DiscoveryLookup::Use(discovered) => return Ok(discovered),
                DiscoveryLookup::Unavailable => break,
                DiscoveryLookup::Fetch => {
                    let fetched = self.fetch(url).await.and_then(|(body, cc)| Ok((Discovered::parse(&body)?, cc)));
                    match fetched {
                        Ok((discovered, cache_control)) => {
                            cache.fetched(discovered, cache_control.as_deref(), now_millis());
                        }
                        Err(why) => {
                            tracing::warn!(%url, %why, "the discovery document could not be fetched; the last one, if any, stays");
                            cache.failed(now_millis());
                        }
                    }
                }
            }
        }
        Err(unavailable(format!("no usable discovery document from {url}")))
    }

    /// The body and `Cache-Control` of a successful GET of `url`.
    pub(crate) async fn fetch(&self, url: &str) -> Result<(Vec<u8>, Option<String>), String> {
        let response = self.client.get(url).timeout(FETCH_TIMEOUT).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let cache_control =
            response.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if response.content_length().is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64) {
            return Err(format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        Ok((body.to_vec(), cache_control))
    }
}
