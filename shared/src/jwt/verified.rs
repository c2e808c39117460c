//! Tokens whose signature already held, so a warm token costs a hash and a map lookup instead
//! of a signature check. Each runtime keeps one per isolate or process.
//!
//! An entry is keyed by the SHA-256 of the token and remembers where its key came from: a
//! token verified for one issuer's keys is never taken as verified for another. The
//! structural checks and the claims are checked again on every use ([`super::parse`],
//! [`super::check_claims`]), so an entry past its `exp` refuses like any expired token, and
//! a narrowed algorithm list holds for tokens verified before it.

use std::sync::Arc;

use cached::{Cached, LruCache};
use sha2::{Digest, Sha256};

/// Where a token's signature was found to hold, kept for its next use.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The key source it was verified against (a JWKS or discovery URL, or the API id for
    /// static keys).
    pub source: Arc<str>,
    /// The issuer to expect, as the source named it.
    pub issuer: Arc<str>,
}

/// Least-recently-used tokens, bounded in number (the `cached` crate's LRU store).
pub struct VerifiedTokens {
    entries: LruCache<[u8; 32], VerifiedToken>,
}

/// How many tokens a process or isolate remembers: ~1 KB each.
pub const DEFAULT_CAPACITY: usize = 10_000;

impl Default for VerifiedTokens {
    fn default() -> Self {
        VerifiedTokens::with_capacity(DEFAULT_CAPACITY)
    }
}

/// The map key for a token: its SHA-256, so the map never holds a credential.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    pub fn with_capacity(capacity: usize) -> VerifiedTokens {
        VerifiedTokens { entries: LruCache::new(capacity.max(1)) }
    }

    /// The token, if it was verified against `source`.
    pub fn get(&mut self, digest: &[u8; 32], source: &str) -> Option<VerifiedToken> {
        self.entries.cache_get(digest).filter(|token| &*token.source == source).cloned()
    }

    pub fn insert(&mut self, digest: [u8; 32], token: VerifiedToken) {
        self.entries.cache_set(digest, token);
    }

    /// Drops a token, e.g. once it has expired.
    pub fn remove(&mut self, digest: &[u8; 32]) {
        let _removed = self.entries.cache_remove(digest);
    }

    pub fn len(&self) -> usize {
        self.entries.cache_size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str) -> VerifiedToken {
        VerifiedToken { source: source.into(), issuer: "https://idp/".into() }
    }

    #[test]
    fn a_token_counts_as_verified_only_for_the_keys_it_was_verified_with() {
        let mut tokens = VerifiedTokens::with_capacity(2);
        tokens.insert(token_digest("a"), entry("https://idp-a/jwks"));
        assert!(tokens.get(&token_digest("a"), "https://idp-a/jwks").is_some());
        assert!(tokens.get(&token_digest("a"), "https://idp-b/jwks").is_none());
        assert!(tokens.get(&token_digest("b"), "https://idp-a/jwks").is_none());
    }

    #[test]
    fn the_map_is_bounded() {
        let mut tokens = VerifiedTokens::with_capacity(2);
        for t in ["a", "b", "c"] {
            tokens.insert(token_digest(t), entry("s"));
        }
        assert_eq!(tokens.len(), 2);
        assert!(tokens.get(&token_digest("a"), "s").is_none(), "least recently used goes first");
        tokens.remove(&token_digest("c"));
        assert_eq!(tokens.len(), 1);
    }
}
