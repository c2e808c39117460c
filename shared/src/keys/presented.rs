//! The key a caller presents: its shape and checksum checked, then its hash for the lookup.
//!
//! Both are pure functions of the key string, and a client sends the same key on call after
//! call, so each thread remembers the hashes of the keys it checked lately ([`Recent`]): a
//! remembered key costs one constant-time comparison instead of the check and a SHA-256
//! (together 0.13 µs of every authenticated call). What a key may do is still looked up on
//! every call; only the hash is remembered, so revoking a key takes effect as before.

use std::cell::RefCell;

use subtle::ConstantTimeEq;

use super::{check, hash_secret, KeyFormatError, KeyHash, KEY_LEN};
use crate::recent::{recall, Recent};

/// How many keys a thread remembers. Clients that share a slot only take turns being hashed;
/// a caller can choose keys that share one, which costs them and their slot-mate a hash.
const SLOTS: usize = 64;

thread_local! {
    static RECENT: RefCell<Recent<Remembered>> = RefCell::new(Recent::with_slots(SLOTS));
}

/// A key that passed [`check`], and its hash. Kept in the thread's memory like the request
/// that carried it; never logged (it has no `Debug`).
struct Remembered {
    secret: Words,
    hash: KeyHash,
}

/// A key's bytes as machine words (zero-padded), so the constant-time comparison takes six
/// steps rather than forty-eight: `subtle` fences every element it compares.
type Words = [u64; KEY_LEN.div_ceil(8)];

fn words(secret: &[u8; KEY_LEN]) -> Words {
    let mut words = [0; KEY_LEN.div_ceil(8)];
    for (word, chunk) in words.iter_mut().zip(secret.chunks(8)) {
        let mut bytes = [0; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        *word = u64::from_le_bytes(bytes);
    }
    words
}

/// The hash of `presented` when it has a key's shape and checksum; the check's error when not.
pub fn checked_hash(presented: &str) -> Result<KeyHash, KeyFormatError> {
    // Only a well-formed key (exactly `KEY_LEN` bytes) can be remembered.
    let Ok(secret) = <&[u8; KEY_LEN]>::try_from(presented.as_bytes()) else {
        check(presented)?;
        return Ok(hash_secret(presented));
    };
    let secret = words(secret);
    // Constant-time, so how long a comparison takes says nothing about a remembered key.
    let matches = |entry: &Remembered| bool::from(entry.secret[..].ct_eq(&secret[..]));
    recall(
        &RECENT,
        secret,
        matches,
        |entry| entry.hash.clone(),
        || {
            check(presented)?;
            Ok(Remembered { secret, hash: hash_secret(presented) })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{generate, KeyEnv, RANDOM_BYTES};

    fn key(n: usize) -> String {
        let mut random = [0; RANDOM_BYTES];
        random[..8].copy_from_slice(&(n as u64).to_le_bytes());
        generate(KeyEnv::Live, &random).secret().to_owned()
    }

    #[test]
    fn a_remembered_key_has_the_hash_of_that_key_and_no_other() {
        let (a, b) = (key(1), key(2));
        for _ in 0..3 {
            assert_eq!(checked_hash(&a), Ok(hash_secret(&a)));
            assert_eq!(checked_hash(&b), Ok(hash_secret(&b)));
        }
        // Many keys through the same slots: each still gets its own hash.
        let many: Vec<String> = (0..4 * SLOTS).map(key).collect();
        for key in many.iter().chain(many.iter().rev()) {
            assert_eq!(checked_hash(key), Ok(hash_secret(key)));
        }
    }

    #[test]
    fn a_key_is_checked_every_time_it_is_not_remembered() {
        let key = key(7);
        assert_eq!(checked_hash(&key), Ok(hash_secret(&key)));
        // One character changed: the checksum no longer matches, remembered neighbour or not.
        let mut typo = key.into_bytes();
        typo[KEY_LEN - 10] = if typo[KEY_LEN - 10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).expect("ascii");
        assert_eq!(checked_hash(&typo), Err(KeyFormatError::Checksum));
        assert_eq!(checked_hash(&typo), Err(KeyFormatError::Checksum), "a refused key is not remembered");
        assert!(checked_hash("gh_live_short").is_err());
        assert!(checked_hash("").is_err());
        assert!(checked_hash(&"x".repeat(KEY_LEN)).is_err());
    }
}
