//! `CacheApiCache`: the Cache API (per data centre) as the response store. The core decides
//! what is stored and served (RFC 9111); this adapter only keeps bytes. The Cache API stores
//! by URL, so each core key becomes a synthetic URL ([`crate::layout::cache_url`]), and it
//! honours `Cache-Control` itself (refusing `private`/`no-store`), so the upstream's headers
//! travel inside the stored body and the wrapper carries only `public, max-age` = the entry's
//! useful life. Because the core key includes the identity for authenticated requests, one
//! identity can never be served another's private copy.
//!
//! Purge: the Cache API cannot enumerate entries, so a purge is a time recorded in the global
//! `Revocations` object ([`crate::purged`]). `get` checks each entry against the isolate's copy
//! of the purge log (refreshed with the deny list, at most every 2 s) and treats a purged one
//! as a miss, deleting it. `purge` records a purge there too and answers 0: how many entries
//! it killed is unknown (they are never listed). Entries live at most
//! [`MAX_ENTRY_SECS`](crate::purged::MAX_ENTRY_SECS) in the Cache API, which keeps the log short.

use std::sync::Arc;

use gatehouse_core::cache::purges::PurgeNotice;
use gatehouse_core::cache::{CachedResponse, PurgeSelector};
use gatehouse_core::ports::{PortError, ResponseCache};
use gatehouse_core::time::SECOND;
use worker::{Cache, Env, Headers, Response};

use super::{clock, revocations};
use crate::layout::cache_url;
use crate::purged::MAX_ENTRY_SECS;

pub struct CacheApiCache {
    env: Env,
}

impl CacheApiCache {
    pub fn new(env: Env) -> Self {
        CacheApiCache { env }
    }
}

fn port(e: impl ToString) -> PortError {
    PortError::new("cache", e.to_string())
}

/// `[meta length: u32 BE][meta JSON][body]`: the entry without its body, then the body as is.
fn encode(entry: &CachedResponse) -> Result<Vec<u8>, PortError> {
    let meta = CachedResponse { body: bytes::Bytes::new(), ..entry.clone() };
    let meta = serde_json::to_vec(&meta).map_err(port)?;
    let len = u32::try_from(meta.len()).map_err(port)?;
    let mut out = Vec::with_capacity(4 + meta.len() + entry.body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&entry.body);
    Ok(out)
}

fn decode(bytes: &[u8]) -> Option<CachedResponse> {
    let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let meta = bytes.get(4..4 + len)?;
    let mut entry: CachedResponse = serde_json::from_slice(meta).ok()?;
    entry.body = bytes::Bytes::copy_from_slice(bytes.get(4 + len..)?);
    Some(entry)
}

impl ResponseCache for CacheApiCache {
    async fn get(&self, key: &str) -> Result<Option<Arc<CachedResponse>>, PortError> {
        let Some(mut res) = Cache::default().get(cache_url(key), true).await.map_err(port)? else {
            return Ok(None);
        };
        let bytes = res.bytes().await.map_err(port)?;
        let Some(entry) = decode(&bytes) else {
            return Ok(None);
        };
        // An unreachable purge log is a cache error, so the core calls the upstream: a purged
        // entry is never served because the log could not be read.
        if revocations::purged(&self.env, &entry).await? {
            // Dead for good; the next storable response would replace it anyway.
            let _ = Cache::default().delete(cache_url(key), true).await;
            return Ok(None);
        }
        Ok(Some(Arc::new(entry)))
    }

    async fn put(&self, key: &str, entry: CachedResponse) -> Result<(), PortError> {
        // Capped so that a purge older than MAX_ENTRY_SECS can be forgotten (see crate::purged).
        let until = entry.useful_until().min(entry.stored_at + MAX_ENTRY_SECS * SECOND);
        let ttl_secs = (until - clock::now()).div_euclid(SECOND);
        if ttl_secs < 1 {
            return Ok(());
        }
        let headers = Headers::new();
        headers.set("cache-control", &format!("public, max-age={ttl_secs}")).map_err(port)?;
        headers.set("content-type", "application/octet-stream").map_err(port)?;
        let response = Response::from_bytes(encode(&entry)?).map_err(port)?.with_headers(headers);
        Cache::default().put(cache_url(key), response).await.map_err(port)
    }

    /// Deletes the entry in this data centre only: the Cache API is per data centre, so an
    /// invalidation does not reach copies stored elsewhere (docs/edge.md).
    async fn remove(&self, key: &str) -> Result<(), PortError> {
        Cache::default().delete(cache_url(key), true).await.map(|_| ()).map_err(port)
    }

    /// Records the purge in the `Revocations` object; 0 because the count is unknown.
    async fn purge(&self, selector: &PurgeSelector) -> Result<u64, PortError> {
        let now = clock::now();
        let random = (js_sys::Math::random() * (1u64 << 48) as f64) as u64;
        let notice =
            PurgeNotice { notice_id: format!("prg_edge_{now:x}_{random:016x}"), selector: selector.clone(), at: now };
        revocations::record_purge(&self.env, &notice).await.map_err(port)?;
        Ok(0)
    }
}
