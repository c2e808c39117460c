//! Header field values from the strings the pipeline builds for each response or upstream
//! request (`Cache-Status`, `RateLimit`, lifecycle fields, the signed identity).

use std::cell::RefCell;

use http::HeaderValue;

use crate::recent::{recall, Recent};

/// `s` as a field value, `None` if it is not a valid one. Takes the string to reuse its
/// buffer: one without spare capacity becomes the value's `Bytes` as is, where one with spare
/// capacity would cost `Bytes` a second allocation (shrinking within the allocator's size
/// class happens in place).
pub fn from_string(mut s: String) -> Option<HeaderValue> {
    s.shrink_to_fit();
    HeaderValue::try_from(s).ok()
}

/// `prefix` followed by the decimal digits of `n` (`Age: 42`, `Cache-Status: Gatehouse; hit;
/// ttl=42`). Such a value repeats on every hit of an entry for a whole second, so each thread
/// keeps the ones it made lately ([`Recent`]) and hands out clones (a reference count) instead
/// of building and allocating it again.
pub fn numbered(prefix: &'static str, n: u64) -> Option<HeaderValue> {
    // A `&'static str` is told apart by where it lives: the few prefixes are constants.
    let matches = |entry: &Numbered| std::ptr::eq(entry.prefix, prefix) && entry.n == n;
    let make = || {
        let mut text = String::with_capacity(prefix.len() + 20);
        text.push_str(prefix);
        crate::decimal::push(&mut text, n);
        from_string(text).map(|value| Numbered { prefix, n, value }).ok_or(())
    };
    recall(&RECENT_NUMBERED, (prefix.as_ptr(), n), matches, |entry| entry.value.clone(), make).ok()
}

/// How many numbered values a thread remembers: enough for the ages and TTLs of its busy
/// entries at once.
const NUMBERED_SLOTS: usize = 64;

struct Numbered {
    prefix: &'static str,
    n: u64,
    value: HeaderValue,
}

thread_local! {
    static RECENT_NUMBERED: RefCell<Recent<Numbered>> = RefCell::new(Recent::with_slots(NUMBERED_SLOTS));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_values_are_the_prefix_and_digits_whatever_was_made_before() {
        const A: &str = "a=";
        const B: &str = "";
        for round in 0..3 {
            for n in (0..3 * NUMBERED_SLOTS as u64).chain([u64::MAX]) {
                for prefix in [A, B] {
                    let value = numbered(prefix, n).expect("valid");
                    assert_eq!(value.to_str().expect("ascii"), format!("{prefix}{n}"), "round {round}");
                }
            }
        }
        assert_eq!(numbered("\n", 1), None, "an invalid prefix makes no value");
    }

    #[test]
    fn valid_strings_become_values_and_invalid_ones_none() {
        let mut built = String::with_capacity(64);
        built.push_str("Gatehouse; hit; ttl=5");
        assert_eq!(from_string(built).as_ref().map(HeaderValue::as_bytes), Some(&b"Gatehouse; hit; ttl=5"[..]));
        assert_eq!(from_string("line\nbreak".into()), None);
    }
}
