//! The gateway's Prometheus metrics: request counts by API, outcome and status class, latency
//! histograms, cache results, limiter decisions and upstream failures, served at `/metrics` on
//! the control-plane address ([`exposition`]).
//!
//! Recording is on the request path, so it is only relaxed atomic adds on counters found by
//! the API id under a read lock; the text is built when Prometheus scrapes. Labels are
//! bounded: no key, app or developer ids; API ids come from the catalog and at most
//! [`MAX_APIS`] of them get series of their own (the rest share `api="_other"`), so a flood of
//! made-up API ids cannot grow the registry.

pub mod exposition;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use gatehouse_core::ports::UpstreamError;
use gatehouse_core::usage::UsageEvent;
use gatehouse_core::verdict::Outcome;
use parking_lot::RwLock;

/// The most APIs with series of their own; a catalog rarely has more than a few dozen.
pub const MAX_APIS: usize = 256;
/// The `api` label of requests past [`MAX_APIS`].
pub const OTHER_API: &str = "_other";
/// The `api` label of requests no API matched.
pub const NO_API: &str = "_none";

/// Every outcome, in label order; [`outcome_index`] is the inverse.
pub const OUTCOMES: [Outcome; 16] = [
    Outcome::Valid,
    Outcome::Public,
    Outcome::Missing,
    Outcome::Malformed,
    Outcome::InvalidToken,
    Outcome::NotFound,
    Outcome::Revoked,
    Outcome::Disabled,
    Outcome::Expired,
    Outcome::Forbidden,
    Outcome::RateLimited,
    Outcome::QuotaExceeded,
    Outcome::Retired,
    Outcome::NoRoute,
    Outcome::Unavailable,
    Outcome::InvalidRequest,
];

/// `1xx` … `5xx`.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Upper bounds of the latency histogram, in microseconds (Prometheus' usual web buckets,
/// from 1 ms to 10 s; the last bucket is `+Inf`). Coarser than the usage rollups' 32 buckets
/// because every bucket here is a series per API.
pub const LATENCY_BOUNDS_US: [u64; 13] =
    [500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 10_000_000];

/// What the limit stage decided, for the requests that reached it.
pub const LIMIT_DECISIONS: [&str; 3] = ["allowed", "rate_limited", "quota_exceeded"];

/// Kinds of upstream failure (`UpstreamError` without its detail).
pub const UPSTREAM_ERRORS: [&str; 6] = ["timeout", "resolve", "connect", "tls", "protocol", "request_too_large"];

/// Cache results: served from storage, or forwarded to the upstream.
pub const CACHE_RESULTS: [&str; 2] = ["hit", "miss"];

/// One API's counters. Arrays are indexed by the label lists above.
#[derive(Debug, Default)]
pub struct ApiCounters {
    requests: [[AtomicU64; 5]; OUTCOMES.len()],
    latency: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    latency_sum_us: AtomicU64,
    limits: [AtomicU64; LIMIT_DECISIONS.len()],
    upstream_errors: [AtomicU64; UPSTREAM_ERRORS.len()],
}

/// The gateway's counters, shared by every worker thread and the scrape.
#[derive(Debug, Default)]
pub struct GatewayMetrics {
    apis: RwLock<HashMap<Box<str>, ApiCounters, foldhash::fast::RandomState>>,
    /// By [`CACHE_RESULTS`]; not per API, because the runtime learns a response's cache
    /// result from its `Cache-Status` header, after the pipeline has let go of the API.
    cache: [AtomicU64; CACHE_RESULTS.len()],
}

impl GatewayMetrics {
    /// Counts one request the pipeline finished (its usage event).
    pub fn record(&self, event: &UsageEvent<'_>) {
        self.with_api(event.api_id, |api| api.add(event));
    }

    /// Counts a response of a caching API from its `Cache-Status` value: the gateway's member
    /// is the last one (RFC 9211 lists caches from the origin towards the client), and reads
    /// `Gatehouse; hit; …` when served from storage, `Gatehouse; fwd=…` otherwise.
    pub fn record_cache(&self, cache_status: &[u8]) {
        let ours = cache_status.rsplit(|&b| b == b',').next().unwrap_or_default().trim_ascii_start();
        let hit = ours.starts_with(b"Gatehouse; hit");
        self.cache[usize::from(!hit)].fetch_add(1, Relaxed);
    }

    /// Counts a failed upstream call (the gateway answered 502 or 504).
    pub fn record_upstream_error(&self, api_id: &str, error: &UpstreamError) {
        let kind = match error {
            UpstreamError::Timeout => 0,
            UpstreamError::Resolve(_) => 1,
            UpstreamError::Connect(_) => 2,
            UpstreamError::Tls(_) => 3,
            UpstreamError::Protocol(_) => 4,
            UpstreamError::RequestTooLarge(_) => 5,
        };
        self.with_api(api_id, |api| api.upstream_errors[kind].fetch_add(1, Relaxed));
    }

    /// Runs `f` on the counters of `api_id`, found under the read lock (no reference count
    /// touched), added under the write lock the first time (once per API), or the shared
    /// `_other` ones past [`MAX_APIS`].
    fn with_api<T>(&self, api_id: &str, f: impl FnOnce(&ApiCounters) -> T) -> T {
        let label = if api_id.is_empty() { NO_API } else { api_id };
        if let Some(found) = self.apis.read().get(label) {
            return f(found);
        }
        let mut apis = self.apis.write();
        let label = if apis.len() >= MAX_APIS && !apis.contains_key(label) { OTHER_API } else { label };
        f(apis.entry(label.into()).or_default())
    }

    /// Runs `f` on every API's label and counters, sorted by label (a stable scrape), under
    /// the read lock.
    fn each_api(&self, mut f: impl FnMut(&str, &ApiCounters) -> Result<(), std::fmt::Error>) -> std::fmt::Result {
        let apis = self.apis.read();
        let mut labels: Vec<&Box<str>> = apis.keys().collect();
        labels.sort();
        labels.into_iter().try_for_each(|label| f(label, &apis[label]))
    }
}

impl ApiCounters {
    fn add(&self, event: &UsageEvent<'_>) {
        let class = usize::from((event.status / 100).clamp(1, 5) - 1);
        self.requests[outcome_index(event.outcome)][class].fetch_add(1, Relaxed);
        let bucket = LATENCY_BOUNDS_US.partition_point(|&bound| bound < event.latency_us);
        self.latency[bucket].fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(event.latency_us, Relaxed);
        let decision = match event.outcome {
            Outcome::Valid | Outcome::Public => Some(0),
            Outcome::RateLimited => Some(1),
            Outcome::QuotaExceeded => Some(2),
            _ => None,
        };
        if let Some(decision) = decision {
            self.limits[decision].fetch_add(1, Relaxed);
        }
    }
}

/// The position of `outcome` in [`OUTCOMES`].
pub fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Valid => 0,
        Outcome::Public => 1,
        Outcome::Missing => 2,
        Outcome::Malformed => 3,
        Outcome::InvalidToken => 4,
        Outcome::NotFound => 5,
        Outcome::Revoked => 6,
        Outcome::Disabled => 7,
        Outcome::Expired => 8,
        Outcome::Forbidden => 9,
        Outcome::RateLimited => 10,
        Outcome::QuotaExceeded => 11,
        Outcome::Retired => 12,
        Outcome::NoRoute => 13,
        Outcome::Unavailable => 14,
        Outcome::InvalidRequest => 15,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(api_id: &str) -> UsageEvent<'_> {
        UsageEvent {
            at: 0,
            api_id,
            operation_id: "op",
            key_id: Some("key_secret_id"),
            app_id: Some("app_1"),
            developer_id: None,
            end_user: None,
            status: 200,
            outcome: Outcome::Valid,
            latency_us: 1_200,
            bytes_in: 0,
            bytes_out: 0,
            cache_hit: false,
            classes: &[],
        }
    }

    fn labels(metrics: &GatewayMetrics) -> Vec<String> {
        let mut labels = Vec::new();
        metrics
            .each_api(|api, _| {
                labels.push(api.to_owned());
                Ok(())
            })
            .expect("each");
        labels
    }

    #[test]
    fn made_up_api_ids_past_the_cap_share_one_label() {
        let metrics = GatewayMetrics::default();
        let ids: Vec<String> = (0..MAX_APIS + 50).map(|i| format!("api_{i:04}")).collect();
        for id in &ids {
            metrics.record(&event(id));
        }
        metrics.record(&event(&ids[0]));
        let labels = labels(&metrics);
        assert_eq!(labels.len(), MAX_APIS + 1);
        assert!(labels.iter().any(|l| l == OTHER_API));
        let mut other = 0;
        metrics
            .each_api(|api, c| {
                if api == OTHER_API {
                    other = c.requests[0][1].load(Relaxed);
                }
                Ok(())
            })
            .expect("each");
        assert_eq!(other, 50, "every request past the cap is still counted");
    }

    #[test]
    fn outcome_labels_and_indexes_agree() {
        for (i, outcome) in OUTCOMES.iter().enumerate() {
            assert_eq!(outcome_index(*outcome), i, "{outcome:?}");
        }
    }

    #[test]
    fn only_the_gateways_own_cache_status_member_decides_a_hit() {
        let metrics = GatewayMetrics::default();
        metrics.record_cache(b"Gatehouse; hit; ttl=30");
        metrics.record_cache(b"Gatehouse; fwd=uri-miss; stored");
        metrics.record_cache(b"OriginCache; hit, Gatehouse; fwd=miss");
        metrics.record_cache(b"OriginCache; fwd=miss, Gatehouse; hit; ttl=1");
        assert_eq!([metrics.cache[0].load(Relaxed), metrics.cache[1].load(Relaxed)], [2, 2]);
    }

    #[test]
    fn latency_lands_in_the_first_bucket_whose_bound_holds_it() {
        let metrics = GatewayMetrics::default();
        for latency_us in [500, 501, 20_000_000] {
            metrics.record(&UsageEvent { latency_us, ..event("api_a") });
        }
        metrics
            .each_api(|_, c| {
                let counts: Vec<u64> = c.latency.iter().map(|n| n.load(Relaxed)).collect();
                assert_eq!((counts[0], counts[1], counts[LATENCY_BOUNDS_US.len()]), (1, 1, 1));
                Ok(())
            })
            .expect("each");
    }
}
