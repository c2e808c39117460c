//! `SystemClock`: wall-clock time for the core, read only at the edge of the program.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use gatehouse_core::ports::Clock;
use gatehouse_core::time::UnixMillis;

pub struct SystemClock {
    started: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock { started: Instant::now() }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> UnixMillis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        now_millis()
    }

    fn monotonic_micros(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }
}
