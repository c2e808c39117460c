//! `CacheApiCache`: the Cache API (per data centre) as the response store. The core decides
//! what is stored and served (RFC 9111); this adapter only keeps bytes. The Cache API stores
//! by URL, so each core key becomes a synthetic URL ([`crate::layout::cache_url`]), and it
//! honours `Cache-Control` itself (refusing `private`/`no-store`), so the upstream's headers
//! travel inside the stored body and the wrapper carries only `public, max-age` = the entry's
//! useful life. Because the core key includes the identity for authenticated requests, one
//! identity can never be served another's private copy.
//!
//! Purge: the Cache API cannot enumerate entries, so purge by API or tag is refused here (a
//! `PortError`); the way to purge at the edge is Cloudflare's purge-by-tag API, or a
//! per-API generation in the key, which is left for later (see docs/edge.md).

use gatehouse_core::cache::{CachedResponse, PurgeSelector};
use gatehouse_core::ports::{PortError, ResponseCache};
use worker::{Cache, Headers, Response};

use super::clock;
use crate::layout::cache_url;

pub struct CacheApiCache;

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
    async fn get(&self, key: &str) -> Result<Option<CachedResponse>, PortError> {
        let Some(mut res) = Cache::default().get(cache_url(key), true).await.map_err(port)? else {
            return Ok(None);
        };
        let bytes = res.bytes().await.map_err(port)?;
        Ok(decode(&bytes))
    }

    async fn put(&self, key: &str, entry: CachedResponse) -> Result<(), PortError> {
        let ttl_secs = (entry.useful_until() - clock::now()).div_euclid(1000);
        if ttl_secs < 1 {
            return Ok(());
        }
        let headers = Headers::new();
        headers.set("cache-control", &format!("public, max-age={ttl_secs}")).map_err(port)?;
        headers.set("content-type", "application/octet-stream").map_err(port)?;
        let response = Response::from_bytes(encode(&entry)?).map_err(port)?.with_headers(headers);
        Cache::default().put(cache_url(key), response).await.map_err(port)
    }

    async fn purge(&self, _selector: &PurgeSelector) -> Result<u64, PortError> {
        Err(port("the Cache API cannot enumerate entries; purge through Cloudflare's purge API"))
    }
}
