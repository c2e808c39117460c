//! Field names as `http` represents them, from their bytes on the wire.
//!
//! Parsing a name (lower-casing it into a buffer, matching it against the standard names, and
//! copying it into its own allocation when it is not one of them) costs about 150
//! instructions: 750 of the 6,100 that decoding a small upstream response took. Yet the peers
//! of a gateway send the same names, spelt the same way, message after message. So each
//! thread remembers the names it parsed lately ([`Recent`]), keyed by their exact bytes, and a
//! repeated name costs a hash and one comparison; a custom name is then shared (a reference
//! count) instead of copied.

use std::cell::RefCell;

use gatehouse_core::recent::{recall, Recent};
use http::header::InvalidHeaderName;
use http::HeaderName;

/// How many names a thread remembers: a client's and an upstream's usual fields with room to
/// spare, so that two names rarely share a slot.
const NAME_SLOTS: usize = 128;
/// Longer names are parsed every time rather than remembered, so that no entry holds a large
/// copy (128 slots of at most 40 bytes); usual names are shorter.
const MAX_REMEMBERED_LEN: usize = 40;

struct Remembered {
    /// The name exactly as it was sent (any case): what a later name must equal to reuse it.
    wire: Box<[u8]>,
    name: HeaderName,
}

thread_local! {
    static RECENT_NAMES: RefCell<Recent<Remembered>> = RefCell::new(Recent::with_slots(NAME_SLOTS));
}

/// The field name `wire` spells (case-insensitively, as RFC 9110 §5.1 has it), or why it is
/// not a valid one.
pub fn field_name(wire: &[u8]) -> Result<HeaderName, InvalidHeaderName> {
    if wire.len() > MAX_REMEMBERED_LEN {
        return HeaderName::from_bytes(wire);
    }
    let matches = |entry: &Remembered| *entry.wire == *wire;
    let make = || HeaderName::from_bytes(wire).map(|name| Remembered { wire: wire.into(), name });
    recall(&RECENT_NAMES, wire, matches, |entry| entry.name.clone(), make)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_name_is_the_parsed_one_whatever_came_before() {
        // Standard and custom names in several spellings, longer than the limit too, each
        // asked for after all the others, twice over: a remembered name never answers for a
        // different spelling or a different name.
        let long = "x-".repeat(MAX_REMEMBERED_LEN);
        let mut names: Vec<String> = ["Content-Type", "content-type", "CONTENT-TYPE", "Host", "X-API-Key", "x-api-key"]
            .into_iter()
            .map(String::from)
            .collect();
        names.extend((0..300).map(|i| format!("X-Custom-{i}")));
        names.push(long);
        for _ in 0..2 {
            for wire in &names {
                let expected = HeaderName::from_bytes(wire.as_bytes()).expect("valid");
                assert_eq!(field_name(wire.as_bytes()).expect("valid"), expected, "{wire}");
            }
        }
    }

    #[test]
    fn an_invalid_name_is_refused_every_time() {
        for wire in [&b"bad name"[..], b"", b"caf\xc3\xa9", b"a:b"] {
            assert!(field_name(wire).is_err(), "{wire:?}");
            assert!(field_name(wire).is_err(), "{wire:?} again");
        }
    }
}
