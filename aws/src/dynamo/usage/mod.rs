//! Usage in the usage table (docs/aws.md, "Tables" and "Write cost"). Steady traffic must cost
//! at most one item write per 1,000 requests of a key, counting everything its traffic causes,
//! even for a key alone. So ingest writes one item per key, five-minute window and operation
//! (the edge sends each window once) and one summary per batch; sums over hours, days and the
//! dimensions are written by compaction (hours once an hour, days once a day), and reports read
//! the key items or the batch summaries for what compaction has not summed yet.
//!
//! - [`layout`]: keys and retention; [`counters`]: values as number attributes;
//! - [`ingest`]: window items, exactly once per batch; [`tail`]: batch summaries;
//! - [`hours`]: the hour index and states; [`marks`]: what reports must read finer;
//! - [`compact`]: hour and day items; [`window_sums`]: each busy finished window's batch
//!   summaries summed (a head and small groups of dimensions); [`windows`]: rows from window
//!   items, directly or fanned out.

mod compact;
mod counters;
mod hours;
mod ingest;
mod io;
mod layout;
mod marks;
mod tail;
mod window_sums;
mod windows;

pub use compact::HourCompaction;
pub use layout::LATENESS;

pub(crate) use compact::{compact_due, compact_hour};
pub(crate) use counters::values;
pub(crate) use hours::states;
pub(crate) use ingest::{add, add_batch};
pub(crate) use io::query_all;
pub(crate) use layout::{bucket_of, day_of, hour_of, key_pk, sk_range};
pub(crate) use marks::read as open_marks;
pub(crate) use tail::dimension_hours;
pub(crate) use windows::{fan_out, key_rows, Row};
