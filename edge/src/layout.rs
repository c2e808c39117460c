//! Where things live: binding names, the Workers KV key layout written by the control plane,
//! the Durable Object each limiter call goes to, and the synthetic URLs the Cache API needs.

use gatehouse_core::keys::KeyHash;
use gatehouse_core::limits::{LimitCheck, LimitScope};
use sha2::{Digest, Sha256};

/// Workers KV namespace holding the read model.
pub const KV_BINDING: &str = "GATEHOUSE_KV";
/// Durable Object class binding for limits (one object per identity).
pub const LIMITER_BINDING: &str = "LIMITER";
/// Durable Object class binding for the global revocation list.
pub const REVOCATIONS_BINDING: &str = "REVOCATIONS";
/// The name of the single revocation list object.
pub const REVOCATIONS_OBJECT: &str = "global";
/// Worker path that accepts signed revocation notices from the control plane.
pub const REVOCATIONS_PATH: &str = "/_gatehouse/revocations";
/// Worker path that accepts signed cache purge notices from the control plane.
pub const PURGES_PATH: &str = "/_gatehouse/purges";
/// Test-only, read-only Worker route (`GET <prefix><object name>`) that reports what one
/// limiter object holds. It exists only when [`names::TEST_HOOKS`] is `1` (the end-to-end
/// test's bindings; never `wrangler.toml`); otherwise the path is an unknown route like any other.
pub const TEST_LIMITER_PATH: &str = "/_gatehouse/test/limiter/";

/// Settings read from the Worker's `env` (vars and secrets), beside the core's own.
pub mod names {
    /// Control-plane usage ingest URL (var).
    pub const INGEST_URL: &str = "GATEHOUSE_INGEST_URL";
    /// HMAC key for usage batches sent to the ingest endpoint (secret).
    pub const INGEST_SECRET: &str = "GATEHOUSE_INGEST_SECRET";
    /// HMAC key the control plane signs revocation and purge notices with (secret).
    pub const CONTROL_SECRET: &str = "GATEHOUSE_CONTROL_SECRET";
    /// Usage flush window in seconds (var; default 300, the core's `usage::WINDOW`): an isolate
    /// sends each window once, after it ends. Keep it a multiple of 300 in production; tests use 1.
    pub const USAGE_FLUSH_SECS: &str = "GATEHOUSE_USAGE_FLUSH_SECS";
    /// Seconds an isolate trusts its copy of KV records (var; default 30).
    pub const READ_CACHE_SECS: &str = "GATEHOUSE_READ_CACHE_SECS";
    /// `1` adds a `Server-Timing` header with the limiter hop (var; for tests and budgets).
    pub const SERVER_TIMING: &str = "GATEHOUSE_SERVER_TIMING";
    /// `1` enables the test-only inspection route [`super::TEST_LIMITER_PATH`] (var; tests only,
    /// never set in `wrangler.toml`).
    pub const TEST_HOOKS: &str = "GATEHOUSE_TEST_HOOKS";
}

/// Whether the test hooks are on: only the exact value `1` enables them.
pub fn test_hooks_enabled(value: Option<&str>) -> bool {
    value == Some("1")
}

/// The limiter object a test inspection request names (`/_gatehouse/test/limiter/key:key_1`
/// → `key:key_1`); `None` for any other path or an empty or nested name.
pub fn test_limiter_object(path: &str) -> Option<&str> {
    let name = path.strip_prefix(TEST_LIMITER_PATH)?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// KV key holding the JSON array of every published [`gatehouse_core::model::Api`].
pub const ROUTES_KEY: &str = "routes";

/// KV key of a [`gatehouse_core::model::Key`] record: `key:<sha-256 hex>`.
pub fn key_record(hash: &KeyHash) -> String {
    format!("key:{}", hash.as_hex())
}

/// KV key of an [`gatehouse_core::entitlements::Identity`] record: `identity:<app id>`.
pub fn identity_record(app_id: &str) -> String {
    format!("identity:{app_id}")
}

/// KV key of the shared copy of a fetched JWK Set ([`crate::key_sets::SharedKeySet`]):
/// `jwks:<sha-256 hex of its URL>`, written by the isolate that fetched it. A hash, because a
/// KV key is at most 512 bytes and a URL may be longer.
pub fn jwks_record(url: &str) -> String {
    format!("jwks:{}", gatehouse_core::hex::encode(&Sha256::digest(url.as_bytes())))
}

/// The Durable Object that holds the counters of one call: named after the owner of the
/// widest-scoped check's counter (group > developer > app > key; the first such check on a
/// tie), e.g. `app:app_1` for `app:app_1:daily`. Every call of one identity carries the same
/// policies, so it always meets the same single writer and its all-or-nothing decision stays
/// exact; a group limit lives in the group's object, so every member meets the same counter.
/// `None` when there is nothing to check.
pub fn limiter_object(checks: &[LimitCheck]) -> Option<&str> {
    let widest = checks.iter().enumerate().max_by_key(|(i, c)| (scope_rank(c.policy.scope), std::cmp::Reverse(*i)))?.1;
    let counter = &widest.counter;
    let owner_end = counter.rfind(':').unwrap_or(counter.len());
    Some(&counter[..owner_end])
}

fn scope_rank(scope: LimitScope) -> u8 {
    match scope {
        LimitScope::Key => 0,
        LimitScope::App => 1,
        LimitScope::Developer => 2,
        LimitScope::Group => 3,
    }
}

/// The Cache API stores by URL, so each core cache key (`gatehouse:v1:<api id>:<hash>`)
/// becomes a synthetic URL on a reserved host (`.invalid`, RFC 2606: it can never collide
/// with a real origin). The API id stays readable in the path (for Cloudflare's purge by
/// prefix); the rest is a SHA-256 of the whole key, so the URL is valid whatever the key holds.
pub fn cache_url(core_key: &str) -> String {
    let digest = Sha256::digest(core_key.as_bytes());
    let api_id = core_key.split(':').nth(2).unwrap_or("");
    let api: String = api_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    format!("https://gatehouse-cache.invalid/{api}/{}", gatehouse_core::hex::encode(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::limits::{LimitKind, LimitPolicy, QuotaWindow};

    fn check(counter: &str) -> LimitCheck {
        let scope = match &counter[..3] {
            "key" => LimitScope::Key,
            "app" => LimitScope::App,
            "dev" => LimitScope::Developer,
            _ => LimitScope::Group,
        };
        let kind = LimitKind::Quota { limit: 1, window: QuotaWindow::Day, durable: Default::default() };
        LimitCheck { counter: counter.into(), policy: LimitPolicy { name: "d".into(), scope, kind }, anchor: None }
    }

    #[test]
    fn every_call_of_one_identity_meets_the_same_limiter_object() {
        assert_eq!(limiter_object(&[check("key:key_9:burst"), check("app:app_1:daily")]), Some("app:app_1"));
        assert_eq!(limiter_object(&[check("app:app_1:burst"), check("app:app_1:daily")]), Some("app:app_1"));
        assert_eq!(limiter_object(&[check("key:key_9:burst")]), Some("key:key_9"));
        assert_eq!(limiter_object(&[]), None);
    }

    #[test]
    fn group_limits_live_in_the_group_object_so_every_member_shares_one_counter() {
        let member = |app: &str| [check(&format!("app:{app}:daily")), check("grp:gold:burst"), check("dev:dev_1:x")];
        assert_eq!(limiter_object(&member("app_1")), Some("grp:gold"));
        assert_eq!(limiter_object(&member("app_2")), Some("grp:gold"));
    }

    #[test]
    fn cache_urls_are_valid_distinct_and_leak_nothing() {
        let a = cache_url("gatehouse:v1:api_pets:aa11");
        let b = cache_url("gatehouse:v1:api_pets:bb22");
        assert_ne!(a, b);
        assert!(a.starts_with("https://gatehouse-cache.invalid/api_pets/"));
        assert!(!cache_url("gatehouse:v1:api/../x?:aa").contains("/../"));
        assert!(cache_url("no separators").starts_with("https://gatehouse-cache.invalid//"));
    }

    #[test]
    fn test_hooks_need_the_exact_var_and_name_one_object() {
        assert!(test_hooks_enabled(Some("1")));
        for off in [None, Some(""), Some("0"), Some("true"), Some(" 1")] {
            assert!(!test_hooks_enabled(off));
        }
        assert_eq!(test_limiter_object("/_gatehouse/test/limiter/key:key_1"), Some("key:key_1"));
        assert_eq!(test_limiter_object("/_gatehouse/test/limiter/"), None);
        assert_eq!(test_limiter_object("/_gatehouse/test/limiter/a/b"), None);
        assert_eq!(test_limiter_object("/pets/_gatehouse/test/limiter/x"), None);
    }

    #[test]
    fn kv_layout_matches_what_the_control_plane_writes() {
        let hash = gatehouse_core::keys::hash_secret("gh_live_x");
        assert_eq!(key_record(&hash), format!("key:{}", hash.as_hex()));
        assert_eq!(identity_record("app_1"), "identity:app_1");
        let jwks = jwks_record("https://idp.example.com/.well-known/jwks.json");
        assert!(jwks.starts_with("jwks:") && jwks.len() == 5 + 64, "{jwks}");
    }
}
