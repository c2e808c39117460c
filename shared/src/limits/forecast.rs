//! When a quota runs out at the rate it is being used: told to a developer before it happens
//! ("at this rate, your daily quota runs out at 17:40 UTC"), not after their calls fail.

use crate::time::UnixMillis;

/// What the rest of a quota window looks like at the current rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forecast {
    /// Nothing left in this window.
    Exhausted,
    /// At the window's average rate so far, the quota runs out at this time.
    RunsOutAt(UnixMillis),
    /// The window ends first (or nothing was used yet).
    Lasts,
}

/// `used` of `limit` in the window `[start, end)` at `now`; the rate is the window's average so
/// far, which a burst at its very start overstates and a quiet start understates — the page
/// says "at this rate" for that reason.
pub fn forecast(limit: u64, used: u64, (start, end): (UnixMillis, UnixMillis), now: UnixMillis) -> Forecast {
    if used >= limit {
        return Forecast::Exhausted;
    }
    let elapsed = now.saturating_sub(start);
    if used == 0 || elapsed <= 0 {
        return Forecast::Lasts;
    }
    let left = (limit - used) as f64;
    let per_ms = used as f64 / elapsed as f64;
    let at = now.saturating_add((left / per_ms).ceil() as i64);
    if at < end {
        Forecast::RunsOutAt(at)
    } else {
        Forecast::Lasts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_steady_rate_runs_out_when_the_arithmetic_says() {
        // 600 of 1,000 used in the first 6 hours of a day: 100 an hour, 400 left, 4 more hours.
        assert_eq!(forecast(1_000, 600, (0, 24 * HOUR), 6 * HOUR), Forecast::RunsOutAt(10 * HOUR));
        assert_eq!(forecast(1_000, 100, (0, 24 * HOUR), 6 * HOUR), Forecast::Lasts, "600 by midnight");
        assert_eq!(forecast(1_000, 1_000, (0, 24 * HOUR), HOUR), Forecast::Exhausted);
        assert_eq!(forecast(1_000, 0, (0, 24 * HOUR), HOUR), Forecast::Lasts);
        assert_eq!(forecast(1_000, 5, (HOUR, 2 * HOUR), HOUR), Forecast::Lasts, "no time elapsed yet");
    }
}
