//! Calendar quotas: a count per window aligned in UTC (minute, hour, day, month), so every
//! runtime and every replica agrees on when a quota resets, and the reset is at a time a
//! person can predict ("midnight UTC", "the 15th of each month at 09:30 UTC").
use std::sync::Arc;

use super::{CounterState, LimitResult, QuotaWindow};
use crate::time::{civil_from_days, days_from_civil, days_in_month, UnixMillis, DAY, HOUR, MINUTE, SECOND};

/// The window `[start, end)` that contains `now`.
///
/// Months start on the 1st at 00:00 UTC, or, with an `anchor` (subscription start), on the
/// anchor's day-of-month at its time of day, clamped to the month's last day: an anchor on
/// the 31st resets on Feb 28 (29 in leap years), Apr 30, and the 31st again where it exists.
/// Other windows ignore the anchor.
pub fn window_bounds(window: QuotaWindow, anchor: Option<UnixMillis>, now: UnixMillis) -> (UnixMillis, UnixMillis) {
    let fixed = |len: i64| {
        let start = now - now.rem_euclid(len);
        (start, start + len)
    };
    match window {
        QuotaWindow::Minute => fixed(MINUTE),
        QuotaWindow::Hour => fixed(HOUR),
        QuotaWindow::Day => fixed(DAY),
        QuotaWindow::Month => month_bounds(anchor, now),
    }
}

fn month_bounds(anchor: Option<UnixMillis>, now: UnixMillis) -> (UnixMillis, UnixMillis) {
    let (anchor_day, anchor_time) = match anchor {
        Some(a) => (civil_from_days(a.div_euclid(DAY)).2, a.rem_euclid(DAY)),
        None => (1, 0),
    };
    let boundary = |(year, month): (i64, u32)| {
        let day = anchor_day.min(days_in_month(year, month));
        days_from_civil(year, month, day) * DAY + anchor_time
    };
    let (year, month, _) = civil_from_days(now.div_euclid(DAY));
    let current = if now >= boundary((year, month)) { (year, month) } else { previous(year, month) };
    (boundary(current), boundary(next(current.0, current.1)))
}

fn next(year: i64, month: u32) -> (i64, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn previous(year: i64, month: u32) -> (i64, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

/// Evaluates one quota at `now` for `cost` units. A stored count from an earlier window is
/// ignored (the quota has reset). Returns the result and the state to store if the call is
/// admitted; when refused the count is left as it was.
pub(super) fn step(
    name: &Arc<str>,
    limit: u64,
    window: QuotaWindow,
    anchor: Option<UnixMillis>,
    state: Option<&CounterState>,
    now: UnixMillis,
    cost: u64,
) -> (LimitResult, CounterState) {
    let (start, end) = window_bounds(window, anchor, now);
    let used = match state {
        Some(CounterState::Quota { window_start, used }) if *window_start == start => *used,
        _ => 0,
    };
    let after = used.saturating_add(cost);
    let allowed = after <= limit;
    let used = if allowed { after } else { used };
    let secs = |ms: i64| u64::try_from((ms + SECOND - 1) / SECOND).unwrap_or(0);
    let result = LimitResult {
        name: Arc::clone(name),
        is_quota: true,
        allowed,
        limit,
        remaining: limit.saturating_sub(used),
        window_secs: secs(end - start),
        reset_secs: secs(end - now),
    };
    (result, CounterState::Quota { window_start: start, used })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_rfc3339, rfc3339};

    fn at(s: &str) -> UnixMillis {
        parse_rfc3339(s).expect("valid test time")
    }

    fn bounds(window: QuotaWindow, anchor: Option<&str>, now: &str) -> (String, String) {
        let (start, end) = window_bounds(window, anchor.map(at), at(now));
        (rfc3339(start), rfc3339(end))
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn daily_quota_resets_at_utc_midnight_exactly() {
        let mut state = None;
        let before = at("2026-03-14T23:59:59.999Z");
        for _ in 0..3 {
            let (r, next) = step(&"daily".into(), 3, QuotaWindow::Day, None, state.as_ref(), before, 1);
            assert!(r.allowed);
            state = Some(next);
        }
        let (refused, _) = step(&"daily".into(), 3, QuotaWindow::Day, None, state.as_ref(), before, 1);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset_secs), (0, 1));
        let (fresh, _) =
            step(&"daily".into(), 3, QuotaWindow::Day, None, state.as_ref(), at("2026-03-15T00:00:00Z"), 1);
        assert!(fresh.allowed);
        assert_eq!((fresh.remaining, fresh.reset_secs, fresh.window_secs), (2, 86_400, 86_400));
    }

    #[test]
    fn minute_and_hour_windows_align_on_utc_boundaries() {
        let expected = pair("2026-03-14T10:17:00Z", "2026-03-14T10:18:00Z");
        assert_eq!(bounds(QuotaWindow::Minute, None, "2026-03-14T10:17:42Z"), expected);
        let expected = pair("2026-03-14T10:00:00Z", "2026-03-14T11:00:00Z");
        assert_eq!(bounds(QuotaWindow::Hour, Some("2020-01-05T03:04:05Z"), "2026-03-14T10:17:42Z"), expected);
    }

    #[test]
    fn calendar_month_runs_from_the_first_to_the_first() {
        let expected = pair("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z");
        assert_eq!(bounds(QuotaWindow::Month, None, "2024-02-29T23:59:59Z"), expected);
        let expected = pair("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z");
        assert_eq!(bounds(QuotaWindow::Month, None, "2026-12-31T12:00:00Z"), expected);
    }

    #[test]
    fn monthly_anchored_quota_resets_on_the_anchor_day_and_time() {
        let anchor = Some("2025-06-15T09:30:00Z");
        let expected = pair("2026-02-15T09:30:00Z", "2026-03-15T09:30:00Z");
        assert_eq!(bounds(QuotaWindow::Month, anchor, "2026-03-15T09:29:59Z"), expected);
        let expected = pair("2026-03-15T09:30:00Z", "2026-04-15T09:30:00Z");
        assert_eq!(bounds(QuotaWindow::Month, anchor, "2026-03-15T09:30:00Z"), expected);
    }

    #[test]
    fn anchor_on_the_31st_resets_on_the_last_day_of_short_months() {
        let anchor = Some("2025-01-31T00:00:00Z");
        let expected = pair("2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z");
        assert_eq!(bounds(QuotaWindow::Month, anchor, "2026-02-27T23:00:00Z"), expected);
        let expected = pair("2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z");
        assert_eq!(bounds(QuotaWindow::Month, anchor, "2028-03-01T00:00:00Z"), expected);
        let expected = pair("2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z");
        assert_eq!(bounds(QuotaWindow::Month, anchor, "2026-05-30T00:00:00Z"), expected);
    }

    #[test]
    fn stale_window_state_counts_as_zero() {
        let stale = CounterState::Quota { window_start: at("2026-03-13T00:00:00Z"), used: 1_000 };
        let (r, next) = step(&"daily".into(), 5, QuotaWindow::Day, None, Some(&stale), at("2026-03-14T08:00:00Z"), 2);
        assert!(r.allowed);
        assert_eq!(next, CounterState::Quota { window_start: at("2026-03-14T00:00:00Z"), used: 2 });
    }
}
