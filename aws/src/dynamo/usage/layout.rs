//! Where usage lives in the usage table: partition and sort keys, how long each kind of item
//! is kept, and how keys parse back. Every number in a key is zero-padded, so sort keys order
//! by time and a range of time is one `BETWEEN`.

use gatehouse_core::time::{UnixMillis, DAY, HOUR, MINUTE};
use gatehouse_core::usage::WINDOW;

use crate::dynamo::items::padded;

/// Window items, the hour index and hour states are kept this long; compacted hour items
/// longer; day items forever.
pub const MINUTE_RETENTION: i64 = 35 * DAY;
pub const HOUR_RETENTION: i64 = 400 * DAY;
/// Receipts of empty batches outlive any redelivery: signatures older than minutes are refused anyway.
pub const RECEIPT_RETENTION: i64 = 7 * DAY;
/// How long after an hour ends compaction waits for its last batches (the edge sends a window
/// within minutes of its end); a batch later than that is re-compacted (see `hours`).
pub const LATENESS: i64 = 15 * MINUTE;

/// The partition of the hour states.
pub(crate) const HOURS_PK: &str = "hours";

pub(crate) fn window_of(t: UnixMillis) -> UnixMillis {
    t - t.rem_euclid(WINDOW)
}

pub(crate) fn hour_of(t: UnixMillis) -> UnixMillis {
    t - t.rem_euclid(HOUR)
}

pub(crate) fn day_of(t: UnixMillis) -> UnixMillis {
    t - t.rem_euclid(DAY)
}

/// A key's partition: its window, hour and day items.
pub(crate) fn key_pk(key_id: &str) -> String {
    format!("key#{key_id}")
}

/// A key's window item for one API operation from one batch: `w#<window>#<api>#<op>#<batch>`.
/// The batch id makes the item a pure function of its batch (a redelivery puts it again
/// unchanged); two isolates' batches for one key and window are two items.
pub(crate) fn window_sk(window: UnixMillis, api: &str, op: &str, batch_id: &str) -> String {
    format!("w#{}#{api}#{op}#{batch_id}", padded(window))
}

/// The partition of an hour's batch summaries (see `tail`).
pub(crate) fn tail_pk(hour: UnixMillis) -> String {
    format!("tail#{}", padded(hour))
}

/// Part `part` of `parts` of a batch's summary of one window: `b#<window>#<batch>#<part>/<parts>`,
/// so a window's summaries (or a run of windows') are one `BETWEEN` (see `sk_range`).
pub(crate) fn tail_sk(window: UnixMillis, batch_id: &str, part: usize, parts: usize) -> String {
    format!("b#{}#{batch_id}#{part:05}/{parts:05}", padded(window))
}

/// The windows of `hour`, in order.
pub(crate) fn windows_in(hour: UnixMillis) -> impl Iterator<Item = UnixMillis> {
    (0..HOUR / WINDOW).map(move |i| hour + i * WINDOW)
}

/// The head of a window's summary (see `window_sums`), beside its batch summaries.
pub(crate) fn window_sum_sk(window: UnixMillis) -> String {
    format!("s#{}", padded(window))
}

/// Group `group` of a window's summary: the sums of the dimensions that hash to it.
pub(crate) fn window_group_sk(window: UnixMillis, group: u32) -> String {
    format!("t#{}#{group:05}", padded(window))
}

/// A key's compacted item for one API operation: `h#<hour>#<api>#<op>` or `d#<day>#<api>#<op>`.
pub(crate) fn key_bucket_sk(grain: char, bucket: UnixMillis, api: &str, op: &str) -> String {
    format!("{grain}#{}#{api}#{op}", padded(bucket))
}

/// A dimension's compacted item: `h#<hour>` or `d#<day>`.
pub(crate) fn bucket_sk(grain: char, bucket: UnixMillis) -> String {
    format!("{grain}#{}", padded(bucket))
}

/// The first and last sort key of `grain` items in `[from, to)`, for a `BETWEEN`.
pub(crate) fn sk_range(grain: char, from: UnixMillis, to: UnixMillis) -> (String, String) {
    (format!("{grain}#{}", padded(from)), format!("{grain}#{}", padded(to - 1)))
}

/// The time in a sort key (`<grain>#<time>…`).
pub(crate) fn bucket_of(sk: &str) -> Option<UnixMillis> {
    sk.split('#').nth(1)?.parse().ok()
}

/// The hour index: which key was active on which operation in an hour.
pub(crate) fn active_pk(hour: UnixMillis) -> String {
    format!("active#{}", padded(hour))
}

pub(crate) fn active_sk(key_id: &str, api: &str, op: &str) -> String {
    format!("{key_id}#{api}#{op}")
}

/// The partitions of the dimensions a key's traffic adds to: all, its API, its operation, its
/// app and its developer (the last two when known).
pub(crate) fn dimension_pks(api: &str, op: &str, app: &str, dev: &str) -> Vec<String> {
    let mut pks = vec!["all#*".to_owned(), format!("api#{api}"), format!("op#{api}#{op}")];
    if !app.is_empty() {
        pks.push(format!("app#{app}"));
    }
    if !dev.is_empty() {
        pks.push(format!("dev#{dev}"));
    }
    pks
}

/// Which minute of its window `minute` is (0 to 4): the prefix of its counters in a window item.
pub(crate) fn minute_index(minute: UnixMillis) -> i64 {
    (minute - window_of(minute)) / MINUTE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_and_parse_back() {
        let sk = window_sk(WINDOW * 3, "api_1", "getPet", "bat_1");
        assert_eq!(sk, "w#000000000900000#api_1#getPet#bat_1");
        assert_eq!(bucket_of(&sk), Some(WINDOW * 3));
        let (lo, hi) = sk_range('w', 0, HOUR);
        assert!(lo <= window_sk(0, "a", "b", "c") && window_sk(HOUR - WINDOW, "z", "z", "z") <= hi);
        assert!(window_sk(HOUR, "a", "a", "a") > hi, "the next hour is outside");
        assert_eq!(minute_index(WINDOW + 4 * MINUTE), 4);
        assert_eq!(dimension_pks("api_1", "op", "", "dev_1"), ["all#*", "api#api_1", "op#api_1#op", "dev#dev_1"]);
        let (lo, hi) = sk_range('b', WINDOW, 2 * WINDOW);
        assert!(lo <= tail_sk(WINDOW, "bat_1", 0, 1) && tail_sk(WINDOW, "~", 9, 9) <= hi, "a window's summaries");
        assert!(tail_sk(0, "~", 0, 1) < lo && tail_sk(2 * WINDOW, "a", 0, 1) > hi, "not its neighbours'");
        let (lo, hi) = sk_range('s', 0, HOUR);
        assert!(lo <= window_sum_sk(0) && window_sum_sk(HOUR - WINDOW) <= hi && window_sum_sk(HOUR) > hi);
        assert!(window_group_sk(0, 3) > hi, "a head range holds no group");
        assert_eq!(window_group_sk(WINDOW, 7), "t#000000000300000#00007");
    }
}
