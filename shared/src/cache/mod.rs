//! Response caching policy for a shared cache (RFC 9111), `Cache-Status` (RFC 9211), cache keys
//! that never cross identities, and purge selectors.
//! STUB SIGNATURES — to be implemented (helper: core-cache).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A stored response with what is needed to judge its freshness later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "serde_bytes_as_vec")]
    pub body: Bytes,
    pub stored_at: UnixMillis,
    pub api_id: String,
    pub tags: Vec<String>,
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
    Api { api_id: String },
    Tag { api_id: String, tag: String },
}
