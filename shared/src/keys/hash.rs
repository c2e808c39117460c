//! STUB SIGNATURES — to be implemented (helper: core-policies).
use serde::{Deserialize, Serialize};

/// SHA-256 of a key's secret, hex-encoded when serialised. Equality is constant-time.
#[derive(Clone, Serialize, Deserialize, Hash)]
#[serde(transparent)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn from_hex(hex: &str) -> Option<KeyHash> {
        let _ = hex;
        unimplemented!()
    }
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl PartialEq for KeyHash {
    fn eq(&self, other: &Self) -> bool {
        let _ = other;
        unimplemented!()
    }
}
impl Eq for KeyHash {}

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({}…)", self.0.get(..8).unwrap_or(""))
    }
}

pub fn hash_secret(secret: &str) -> KeyHash {
    let _ = secret;
    unimplemented!()
}
