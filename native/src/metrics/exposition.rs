//! The scrape: [`GatewayMetrics`] encoded in the Prometheus text format (0.0.4) by
//! `prometheus-client`, the Prometheus project's own Rust client.
//!
//! Why that crate and this shape: the request path keeps plain atomics (see the parent
//! module), and the crate's [`Collector`] hook reads them when Prometheus scrapes, so the
//! crate writes every name, label escape, `_total` suffix and cumulative `le` bucket of the
//! exposition format and we write none of it. Its own `Family` would instead look up a label
//! set (allocating the API id) on every request.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use gatehouse_core::problem::{Problem, ProblemKind};
use http::header::{CACHE_CONTROL, CONTENT_TYPE as CONTENT_TYPE_HEADER};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::{
    ApiCounters, GatewayMetrics, CACHE_RESULTS, LATENCY_BOUNDS_US, LIMIT_DECISIONS, OUTCOMES, STATUS_CLASSES,
    UPSTREAM_ERRORS,
};

/// The `Content-Type` of a scrape.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric's name, with the registry's `gatehouse` prefix.
const PREFIX: &str = "gatehouse";

/// A registry holding `metrics`, made once and rendered on every scrape.
pub fn registry(metrics: Arc<GatewayMetrics>) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(metrics));
    registry
}

/// The scrape's body.
pub fn render(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::with_capacity(16 * 1024);
    prometheus_client::encoding::prometheus_text::encode(&mut text, registry)?;
    Ok(text)
}

/// `GET /metrics` over `metrics`, for the control-plane router (behind its admin check).
pub fn route(metrics: Arc<GatewayMetrics>) -> MethodRouter {
    let registry = Arc::new(registry(metrics));
    axum::routing::get(move || {
        let registry = Arc::clone(&registry);
        async move {
            match render(&registry) {
                Ok(text) => ([(CONTENT_TYPE_HEADER, CONTENT_TYPE), (CACHE_CONTROL, "no-store")], text).into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "metrics did not encode");
                    Problem::new(ProblemKind::Internal).into_response().map(axum::body::Body::from).into_response()
                }
            }
        }
    })
}

impl Collector for GatewayMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let help = "Requests the gateway finished, by API, outcome (the pipeline's verdict) and status class.";
        let mut family = encoder.encode_descriptor("requests", help, None, MetricType::Counter)?;
        self.each_api(|api, c| {
            for (outcome, classes) in OUTCOMES.iter().zip(&c.requests) {
                for (class, count) in STATUS_CLASSES.iter().zip(classes) {
                    let labels = [("api", api), ("outcome", outcome.code()), ("status_class", class)];
                    counter(&mut family, &labels, count.load(Relaxed))?;
                }
            }
            Ok(())
        })?;
        let help = "Time from the request's arrival to the response, by API.";
        let mut family =
            encoder.encode_descriptor("request_duration", help, Some(&Unit::Seconds), MetricType::Histogram)?;
        self.each_api(|api, c| latency(&mut family, api, c))?;
        let help = "Decisions of the limit stage (rate limits and quotas) for the requests that reached it, by API.";
        let mut family = encoder.encode_descriptor("limiter_decisions", help, None, MetricType::Counter)?;
        self.each_api(|api, c| labelled(&mut family, api, "decision", &LIMIT_DECISIONS, &c.limits))?;
        let help = "Responses of caching APIs, served from the cache (hit) or forwarded (miss).";
        let mut family = encoder.encode_descriptor("cache_requests", help, None, MetricType::Counter)?;
        for (result, count) in CACHE_RESULTS.iter().zip(&self.cache) {
            counter(&mut family, &[("result", result)], count.load(Relaxed))?;
        }
        let help = "Upstream calls that failed (the gateway answered 502 or 504), by API and kind.";
        let mut family = encoder.encode_descriptor("upstream_errors", help, None, MetricType::Counter)?;
        self.each_api(|api, c| labelled(&mut family, api, "kind", &UPSTREAM_ERRORS, &c.upstream_errors))
    }
}

/// One counter series; zero counts are left out (most outcome × class pairs never happen).
fn counter(family: &mut MetricEncoder, labels: &[(&str, &str)], value: u64) -> std::fmt::Result {
    if value == 0 {
        return Ok(());
    }
    ConstCounter::new(value).encode(family.encode_family(&labels)?)
}

/// One series per non-zero entry of `values`, labelled `api` and `name` = `names[i]`.
fn labelled(
    family: &mut MetricEncoder,
    api: &str,
    name: &str,
    names: &[&str],
    values: &[std::sync::atomic::AtomicU64],
) -> std::fmt::Result {
    names
        .iter()
        .zip(values)
        .try_for_each(|(value, count)| counter(family, &[("api", api), (name, value)], count.load(Relaxed)))
}

/// An API's latency histogram, in seconds; none for an API that only saw cache or upstream events.
fn latency(family: &mut MetricEncoder, api: &str, c: &ApiCounters) -> std::fmt::Result {
    let counts: Vec<u64> = c.latency.iter().map(|n| n.load(Relaxed)).collect();
    let count: u64 = counts.iter().sum();
    if count == 0 {
        return Ok(());
    }
    let bounds = LATENCY_BOUNDS_US.iter().map(|&us| us as f64 / 1e6).chain([f64::INFINITY]);
    let buckets: Vec<(f64, u64)> = bounds.zip(counts).collect();
    let sum = c.latency_sum_us.load(Relaxed) as f64 / 1e6;
    family.encode_family(&[("api", api)])?.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
}
