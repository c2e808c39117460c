//! Time from the JS runtime. `SystemTime::now()` panics on wasm32; `Date.now()` does not. In a
//! Worker it advances only across I/O (Spectre mitigation), which is what the core expects of
//! a request's `now`.

use gatehouse_core::ports::Clock;
use gatehouse_core::time::UnixMillis;

pub fn now() -> UnixMillis {
    js_sys::Date::now() as UnixMillis
}

pub struct JsClock;

impl Clock for JsClock {
    fn now(&self) -> UnixMillis {
        now()
    }

    fn monotonic_micros(&self) -> u64 {
        (js_sys::Date::now() * 1000.0) as u64
    }
}
