//! API keys: `<prefix>_<env>_<random base62>_<checksum>`.
//!
//! The checksum lets the edge reject a typo or a forged key before any lookup, and lets secret
//! scanners find leaked keys. Only the SHA-256 hash of a key is ever stored; comparison is
//! constant-time.

mod crc32;
mod format;
mod hash;
mod presented;
mod status;

/// Also a stable, well-spread 32-bit tag for short strings (the DynamoDB audit sort keys).
pub use crc32::crc32;
pub use format::{
    base62, check, generate, parse, KeyEnv, KeyFormatError, ParsedKey, KEY_LEN, KEY_PREFIX, RANDOM_BYTES,
};
pub use hash::{hash_secret, KeyHash};
pub use presented::checked_hash;
pub use status::{check_key, rotation_grace_end, KeyCheck, MAX_GRACE_SECS};
