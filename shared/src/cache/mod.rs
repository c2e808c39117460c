//! Response caching for a shared cache (RFC 9111), `Cache-Status` (RFC 9211), cache keys that
//! never cross identities, and purge selectors.
//!
//! # How the pipeline uses it: two calls
//!
//! After authentication, authorization and limits have passed (never before: a cached response
//! must not answer a caller the gateway would have refused):
//!
//! ```ignore
//! let req = CacheRequest { api, method, path_and_query, headers, identity: Some(app_id) };
//! let lookup = cache::lookup(adapters.cache(), &req, now).await;
//! let lookup = match lookup {
//!     Lookup::Hit(response) => return response, // Cache-Status and Age already set
//!     lookup => lookup,
//! };
//! for (name, value) in lookup.conditional_headers() {
//!     upstream_request.headers_mut().insert(name, value); // replaces the client's own
//! }
//! let upstream = upstream.send(upstream_request, timeout).await?;
//! let response = cache::complete(adapters.cache(), &req, lookup, upstream, clock.now()).await;
//! ```
//!
//! Every response of an API with caching enabled leaves these calls with a `Cache-Status`
//! header and without the upstream's `Cache-Tag`/`Surrogate-Key`. A response whose cache store
//! failed also carries a [`CacheOutcome`] in its extensions, with the port error for the
//! runtime to log (the core logs nothing; a broken cache degrades to misses, never to a
//! failed call).
//!
//! # What is simplified, on purpose
//!
//! - One variant per key: a `Vary` mismatch forwards and replaces the stored variant. APIs
//!   rarely vary on more than `Accept`/`Accept-Encoding`, and one variant keeps every store
//!   (KV, Cache API, memory) a plain key → value map.
//! - Stale responses are never served and there is no heuristic freshness (see [`freshness`]).
//! - HEAD is answered from a stored GET response but a HEAD response is never stored.
//! - `206` and `304` responses are never stored; a single byte range is cut from a stored
//!   complete response ([`range`]).
//!
//! # What else it does
//!
//! - After a successful unsafe request, [`invalidate`] drops the request's URL and its
//!   `Location`/`Content-Location` (RFC 9111 §4.4; see that module for what can be found).
//! - `only-if-cached` without a fresh entry is a `504` from the cache ([`Lookup::Answer`]);
//!   `Pragma: no-cache` counts as `no-cache` on a request without `Cache-Control`;
//!   `must-understand` is honoured; an invalid `Age` makes a response stale.
//! - Singleton fields are read as the Workers `Headers` API presents repeated lines
//!   (joined with `", "`), so an answer is judged the same at the edge and natively
//!   ([`fields`]).
//! - When the upstream call fails, [`failed`] puts `Cache-Status` on the gateway's `502`/`504`.

pub mod directives;
pub mod entry;
pub mod fields;
pub mod freshness;
mod invalidate;
pub mod key;
pub mod policy;
pub mod purges;
pub mod range;
mod respond;
mod stage;
pub mod status;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

pub use directives::CacheControl;
pub use invalidate::{invalidate, is_safe, same_origin_target};
pub use key::cache_key;
pub use policy::{head_allows_storing, NotStored};
pub use stage::{bypassed, complete, failed, lookup, not_stored, CacheOutcome, CacheRequest, Lookup};

/// Largest body the cache stores. A streamed response is read whole for the cache only up to
/// this: past it, it streams on to the client uncached (`NotStored::TooLarge`), so a large
/// download costs the gateway no more memory than a small one.
pub const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;
pub use status::{CacheStatus, FwdReason, CACHE_NAME, CACHE_STATUS};

/// A stored response with what is needed to judge its freshness later.
///
/// Headers are kept without hop-by-hop fields, `Age` or tag headers, as a ready `HeaderMap`:
/// a hit clones it instead of re-parsing every name and value. Serialised as a list of
/// `[name, value]` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedResponse {
    pub status: u16,
    #[serde(with = "header_pairs")]
    pub headers: HeaderMap,
    #[serde(with = "serde_bytes_as_vec")]
    pub body: Bytes,
    /// When the response was received from the upstream (RFC 9111 `response_time`).
    pub stored_at: UnixMillis,
    pub api_id: String,
    /// Purge tags from the upstream's `Cache-Tag`/`Surrogate-Key`.
    pub tags: Vec<String>,
    /// Corrected initial age at `stored_at` (RFC 9111 §4.2.3), in milliseconds, ≥ 0.
    #[serde(default)]
    pub initial_age_ms: i64,
    /// Freshness lifetime in milliseconds, ≥ 0; 0 means "revalidate before every use".
    #[serde(default)]
    pub freshness_ms: i64,
    /// SHA-256 fingerprint of the request's values for the headers named by `Vary`; empty when
    /// the response does not vary. A hash, so varied credentials never sit in the store.
    #[serde(default)]
    pub vary_digest: String,
}

/// A `HeaderMap` as `[["name", "value"], …]`. Values are visible ASCII (only such responses
/// are stored); a pair that no longer parses is dropped on the way in.
mod header_pairs {
    use http::{HeaderMap, HeaderName, HeaderValue};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(headers: &HeaderMap, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(headers.len()))?;
        for (name, value) in headers {
            seq.serialize_element(&(name.as_str(), value.to_str().unwrap_or_default()))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HeaderMap, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        let mut headers = HeaderMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                headers.append(n, v);
            }
        }
        Ok(headers)
    }
}

mod serde_bytes_as_vec {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        Vec::<u8>::deserialize(d).map(Bytes::from)
    }
}

/// What to remove from the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum PurgeSelector {
    /// Every entry of one API.
    Api { api_id: String },
    /// Entries of one API whose upstream response carried `tag`.
    Tag { api_id: String, tag: String },
}

impl PurgeSelector {
    /// Whether `entry` is selected. Stores that cannot index by tag scan with this.
    pub fn matches(&self, entry: &CachedResponse) -> bool {
        match self {
            PurgeSelector::Api { api_id } => entry.api_id == *api_id,
            PurgeSelector::Tag { api_id, tag } => entry.api_id == *api_id && entry.tags.iter().any(|t| t == tag),
        }
    }
}
