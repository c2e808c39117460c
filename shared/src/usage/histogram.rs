use serde::{Deserialize, Serialize};

/// Upper bounds (microseconds) of the latency buckets: roughly ×1.5 steps from 100 µs to
/// 60 s, so any percentile read from the histogram is within one bucket (≤ 50 %) of the truth,
/// enough for p50/p95/p99 dashboards at a fixed 32-number cost per rollup.
pub const BUCKET_BOUNDS_US: [u64; 32] = [
    100,
    150,
    250,
    400,
    600,
    1_000,
    1_500,
    2_500,
    4_000,
    6_000,
    10_000,
    15_000,
    25_000,
    40_000,
    60_000,
    100_000,
    150_000,
    250_000,
    400_000,
    600_000,
    1_000_000,
    1_500_000,
    2_500_000,
    4_000_000,
    6_000_000,
    10_000_000,
    15_000_000,
    20_000_000,
    30_000_000,
    40_000_000,
    60_000_000,
    u64::MAX,
];

/// A fixed-bucket latency histogram that merges by addition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct LatencyHistogram {
    pub counts: Vec<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { counts: vec![0; BUCKET_BOUNDS_US.len()] }
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, latency_us: u64) {
        let i = BUCKET_BOUNDS_US.partition_point(|&bound| bound < latency_us);
        self.bump(i, 1);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (i, c) in other.counts.iter().enumerate() {
            self.bump(i, *c);
        }
    }

    fn bump(&mut self, i: usize, by: u64) {
        if self.counts.len() < BUCKET_BOUNDS_US.len() {
            self.counts.resize(BUCKET_BOUNDS_US.len(), 0);
        }
        if let Some(c) = self.counts.get_mut(i.min(BUCKET_BOUNDS_US.len() - 1)) {
            *c += by;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound of the bucket holding quantile `q` (0.0–1.0), or `None` when empty.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return BUCKET_BOUNDS_US.get(i).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_land_in_the_right_bucket() {
        let mut h = LatencyHistogram::default();
        for _ in 0..98 {
            h.record(900); // bucket ≤ 1 ms
        }
        h.record(30_000); // ≤ 40 ms
        h.record(5_000_000); // ≤ 6 s
        assert_eq!(h.quantile_us(0.5), Some(1_000));
        assert_eq!(h.quantile_us(0.99), Some(40_000));
        assert_eq!(h.quantile_us(1.0), Some(6_000_000));
        assert_eq!(LatencyHistogram::default().quantile_us(0.5), None);
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        a.record(10);
        b.record(10);
        b.record(u64::MAX);
        a.merge(&b);
        assert_eq!(a.total(), 3);
        assert_eq!(a.counts[0], 2);
    }
}
