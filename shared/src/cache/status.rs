//! `Cache-Status` (RFC 9211): how Gatehouse's cache handled a response, for callers and
//! operators debugging a chain of caches.

use http::header::HeaderName;
use http::HeaderMap;

/// The cache's name in `Cache-Status`.
pub const CACHE_NAME: &str = "Gatehouse";

/// A hit's member up to its TTL: [`CACHE_NAME`], then `; hit; ttl=`.
const HIT_MEMBER_PREFIX: &str = "Gatehouse; hit; ttl=";

/// `Cache-Status` header name (not among `http`'s constants).
pub const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");

/// Why a request went to the upstream (RFC 9211 §2.2 `fwd` values Gatehouse uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwdReason {
    /// Not a request the cache handles (method, or the client's `no-store`).
    Bypass,
    /// Nothing stored under this key.
    UriMiss,
    /// Something stored, but for other values of the headers its `Vary` names.
    VaryMiss,
    /// Stored, but stale (or marked `no-cache` by the upstream).
    Stale,
    /// Stored and fresh, but the client's directives asked us not to use it.
    Request,
}

impl FwdReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FwdReason::Bypass => "bypass",
            FwdReason::UriMiss => "uri-miss",
            FwdReason::VaryMiss => "vary-miss",
            FwdReason::Stale => "stale",
            FwdReason::Request => "request",
        }
    }
}

/// One cache's member of the `Cache-Status` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the cache with `ttl_secs` of freshness left.
    Hit { ttl_secs: i64 },
    /// Forwarded. `fwd_status` is set only when the upstream's status differs from the one the
    /// client gets (a 304 merged into the stored 200), per RFC 9211 §2.3's default.
    Forward { reason: FwdReason, fwd_status: Option<u16>, stored: bool },
    /// Neither served from storage nor forwarded (the `504` for `only-if-cached`); `detail`
    /// is a token saying why.
    NotForwarded { detail: &'static str },
}

impl CacheStatus {
    pub fn is_hit(&self) -> bool {
        matches!(self, CacheStatus::Hit { .. })
    }

    /// The list member, e.g. `Gatehouse; hit; ttl=42` or `Gatehouse; fwd=uri-miss; stored`.
    pub fn member(&self) -> String {
        let mut s = String::with_capacity(CACHE_NAME.len() + 40);
        self.push_member(&mut s);
        s
    }

    /// Writes [`Self::member`] onto `out`. Every response of a caching API builds one, so this
    /// uses plain pushes rather than the formatting machinery.
    fn push_member(&self, out: &mut String) {
        match *self {
            CacheStatus::Hit { ttl_secs } => {
                out.push_str(HIT_MEMBER_PREFIX);
                crate::decimal::push(out, ttl_secs.max(0).unsigned_abs());
            }
            CacheStatus::Forward { reason, fwd_status, stored } => {
                out.push_str(CACHE_NAME);
                out.push_str("; fwd=");
                out.push_str(reason.as_str());
                if let Some(status) = fwd_status {
                    out.push_str("; fwd-status=");
                    crate::decimal::push(out, u64::from(status));
                }
                if stored {
                    out.push_str("; stored");
                }
            }
            CacheStatus::NotForwarded { detail } => {
                out.push_str(CACHE_NAME);
                out.push_str("; detail=");
                out.push_str(detail);
            }
        }
    }

    /// Appends this cache's member after any the upstream's caches added: RFC 9211 §2 orders
    /// the list from the origin towards the client and asks caches to keep earlier members.
    /// Upstreams rarely send `Cache-Status`, so without one our member is the whole value,
    /// built once and handed to the header without a copy.
    pub fn apply(&self, headers: &mut HeaderMap) {
        if let (&CacheStatus::Hit { ttl_secs }, false) = (self, headers.contains_key(CACHE_STATUS)) {
            // Every hit of an entry within a second has the same member: made once per thread.
            if let Some(value) = crate::field_value::numbered(HIT_MEMBER_PREFIX, ttl_secs.max(0).unsigned_abs()) {
                headers.insert(CACHE_STATUS, value);
                return;
            }
        }
        let mut value = String::new();
        for upstream in headers.get_all(&CACHE_STATUS).iter().filter_map(|v| v.to_str().ok()) {
            value.push_str(upstream);
            value.push_str(", ");
        }
        value.reserve(CACHE_NAME.len() + 40);
        self.push_member(&mut value);
        if let Some(value) = crate::field_value::from_string(value) {
            headers.insert(CACHE_STATUS, value);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn members_follow_rfc_9211_syntax() {
        assert_eq!(HIT_MEMBER_PREFIX, format!("{CACHE_NAME}; hit; ttl="));
        assert_eq!(CacheStatus::Hit { ttl_secs: 42 }.member(), "Gatehouse; hit; ttl=42");
        for (ttl_secs, shown) in [(0, "0"), (-5, "0"), (10, "10"), (31_536_000_123, "31536000123")] {
            assert_eq!(CacheStatus::Hit { ttl_secs }.member(), format!("Gatehouse; hit; ttl={shown}"));
        }
        let stored = CacheStatus::Forward { reason: FwdReason::UriMiss, fwd_status: None, stored: true };
        assert_eq!(stored.member(), "Gatehouse; fwd=uri-miss; stored");
        let merged = CacheStatus::Forward { reason: FwdReason::Stale, fwd_status: Some(304), stored: false };
        assert_eq!(merged.member(), "Gatehouse; fwd=stale; fwd-status=304");
        let bypass = CacheStatus::Forward { reason: FwdReason::Bypass, fwd_status: None, stored: false };
        assert_eq!(bypass.member(), "Gatehouse; fwd=bypass");
        let declined = CacheStatus::NotForwarded { detail: "only-if-cached" };
        assert_eq!(declined.member(), "Gatehouse; detail=only-if-cached");
    }

    #[test]
    fn upstream_cache_members_are_kept_before_ours() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_STATUS, HeaderValue::from_static("Origin; fwd=uri-miss"));
        CacheStatus::Hit { ttl_secs: 1 }.apply(&mut headers);
        assert_eq!(headers[CACHE_STATUS], "Origin; fwd=uri-miss, Gatehouse; hit; ttl=1");
        let mut headers = HeaderMap::new();
        headers.append(CACHE_STATUS, HeaderValue::from_static("A; hit"));
        headers.append(CACHE_STATUS, HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        headers.append(CACHE_STATUS, HeaderValue::from_static("B; fwd=stale"));
        CacheStatus::Forward { reason: FwdReason::Stale, fwd_status: Some(304), stored: false }.apply(&mut headers);
        let all: Vec<_> = headers.get_all(CACHE_STATUS).iter().collect();
        assert_eq!(all, ["A; hit, B; fwd=stale, Gatehouse; fwd=stale; fwd-status=304"], "one line; junk dropped");
    }

    #[test]
    fn without_upstream_members_ours_is_the_whole_value() {
        let mut headers = HeaderMap::new();
        CacheStatus::Forward { reason: FwdReason::UriMiss, fwd_status: None, stored: true }.apply(&mut headers);
        assert_eq!(headers[CACHE_STATUS], "Gatehouse; fwd=uri-miss; stored");
        // A hit's member, made or remembered, for TTLs in turn.
        for ttl_secs in [5, 6, 5, -1, 0, 5] {
            let mut headers = HeaderMap::new();
            CacheStatus::Hit { ttl_secs }.apply(&mut headers);
            assert_eq!(headers[CACHE_STATUS], CacheStatus::Hit { ttl_secs }.member());
        }
    }
}
