//! What the stores keep instead of a key: the SHA-256 of the whole key string.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// SHA-256 of a key's secret, hex-encoded when serialised. Equality is constant-time, so
/// comparing a presented hash with a stored one leaks no timing about where they differ.
///
/// Invariant: exactly 64 lowercase hex characters; deserialising anything else fails, so a
/// corrupt record is caught when read, not silently never matched.
///
/// The hex digits are kept inline, not in a `String`: every request hashes the key it
/// presents, and that should not cost an allocation.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct KeyHash([u8; 64]);

impl KeyHash {
    /// Accepts exactly 64 lowercase hex characters, the form [`hash_secret`] produces.
    pub fn from_hex(hex: &str) -> Option<KeyHash> {
        let digits: [u8; 64] = hex.as_bytes().try_into().ok()?;
        digits.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')).then_some(KeyHash(digits))
    }

    pub fn as_hex(&self) -> &str {
        // Always ASCII hex (both constructors ensure it), so the fallback is never taken.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl PartialEq for KeyHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for KeyHash {}

/// Consistent with `Eq` (equal hex, equal hash); only used for map lookups of stored hashes.
impl std::hash::Hash for KeyHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_hex().hash(state);
    }
}

impl From<KeyHash> for String {
    fn from(hash: KeyHash) -> String {
        hash.as_hex().to_owned()
    }
}

impl TryFrom<String> for KeyHash {
    type Error = &'static str;
    fn try_from(hex: String) -> Result<Self, Self::Error> {
        KeyHash::from_hex(&hex).ok_or("a key hash is 64 lowercase hex characters")
    }
}

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({}…)", self.as_hex().get(..8).unwrap_or(""))
    }
}

/// SHA-256 hex of the whole key string. No salt is needed: keys carry 192 random bits, so
/// the hash cannot be reversed by guessing, and an unsalted hash can be looked up directly.
pub fn hash_secret(secret: &str) -> KeyHash {
    let digest = Sha256::digest(secret.as_bytes());
    let mut digits = [0; 64];
    crate::hex::encode_into(&digest, &mut digits);
    KeyHash(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex_of_the_whole_key() {
        assert_eq!(hash_secret("abc").as_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn from_hex_accepts_only_the_canonical_form() {
        let h = hash_secret("gh_live_x");
        assert_eq!(KeyHash::from_hex(h.as_hex()), Some(h.clone()));
        assert_eq!(KeyHash::from_hex(&h.as_hex().to_uppercase()), None);
        assert_eq!(KeyHash::from_hex(&h.as_hex()[1..]), None);
        assert_eq!(KeyHash::from_hex(&format!("{}0", h.as_hex())), None);
        assert_eq!(KeyHash::from_hex(&"g".repeat(64)), None);
        assert_eq!(KeyHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn different_keys_have_unequal_hashes() {
        assert_ne!(hash_secret("gh_live_a"), hash_secret("gh_live_b"));
        assert_eq!(hash_secret("gh_live_a"), hash_secret("gh_live_a"));
    }

    #[test]
    fn serialises_as_a_bare_hex_string_and_refuses_corrupt_records() {
        let h = hash_secret("k");
        let json = serde_json::to_string(&h).expect("serialise");
        assert_eq!(json, format!("\"{}\"", h.as_hex()));
        assert_eq!(serde_json::from_str::<KeyHash>(&json).expect("deserialise"), h);
        assert!(serde_json::from_str::<KeyHash>("\"not-a-hash\"").is_err());
    }

    #[test]
    fn debug_shows_only_a_short_prefix() {
        let h = hash_secret("k");
        assert_eq!(format!("{h:?}"), format!("KeyHash({}…)", &h.as_hex()[..8]));
    }
}
