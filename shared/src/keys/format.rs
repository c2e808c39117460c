//! The key string itself: `gh_<env>_<random>_<checksum>`, always [`KEY_LEN`] ASCII bytes.
use serde::{Deserialize, Serialize};

use super::crc32::crc32;

/// Product prefix of every Gatehouse key.
pub const KEY_PREFIX: &str = "gh";

/// Bytes of randomness in a key: 192 bits, far beyond guessing range.
pub const RANDOM_BYTES: usize = 24;

/// Width of the base62 random part: the digits needed for 2^192 - 1, so every key has it.
const RANDOM_CHARS: usize = 33;

/// Width of the base62 checksum: the digits needed for 2^32 - 1.
const CHECKSUM_CHARS: usize = 6;

/// Length of every key: `gh_` + 4-letter env + `_` + random + `_` + checksum. A fixed length
/// lets the parser refuse oversized input before looking at it, and scanners match exactly.
pub const KEY_LEN: usize = KEY_PREFIX.len() + 1 + 4 + 1 + RANDOM_CHARS + 1 + CHECKSUM_CHARS;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The environment a key belongs to; part of the key so a test key can never be used live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyEnv {
    Live,
    Test,
}

impl KeyEnv {
    /// The env segment as it appears in the key (`live`, `test`).
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyEnv::Live => "live",
            KeyEnv::Test => "test",
        }
    }

    fn from_segment(segment: &str) -> Option<KeyEnv> {
        match segment {
            "live" => Some(KeyEnv::Live),
            "test" => Some(KeyEnv::Test),
            _ => None,
        }
    }
}

/// A key that passed the format and checksum checks. Holds the secret: never log it.
///
/// Invariant: `secret` is [`KEY_LEN`] ASCII bytes in the documented shape.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedKey {
    secret: String,
    env: KeyEnv,
}

impl ParsedKey {
    /// The whole key string, to hash with [`super::hash_secret`] or hand once to its owner.
    pub fn secret(&self) -> &str {
        &self.secret
    }
    pub fn env(&self) -> KeyEnv {
        self.env
    }
    /// `gh_live_` — shown in listings so people can tell live keys from test keys.
    pub fn display_prefix(&self) -> String {
        format!("{KEY_PREFIX}_{}_", self.env.as_str())
    }
    /// The last four characters (part of the checksum), shown in listings to tell keys apart.
    pub fn last4(&self) -> String {
        let start = self.secret.len().saturating_sub(4);
        self.secret.get(start..).unwrap_or_default().to_owned()
    }
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedKey").field("env", &self.env).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("the key is not of the form gh_<env>_<random>_<checksum>")]
    Shape,
    #[error("the key's checksum does not match; it was mistyped or altered")]
    Checksum,
}

/// Base62 (`0-9A-Za-z`) of `bytes` read as one big-endian number, left-padded with `0` to the
/// width of the largest value of that many bytes, so equal-length inputs give equal-length
/// output (ids and keys have a fixed length, and leading zero bytes are not lost).
pub fn base62(bytes: &[u8]) -> String {
    let width = base62_digits(&vec![0xFF; bytes.len()]).len();
    let mut digits = base62_digits(bytes);
    digits.resize(width.max(digits.len()), b'0');
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// Least significant digit first, no padding: schoolbook division of the number by 62.
fn base62_digits(bytes: &[u8]) -> Vec<u8> {
    let mut number: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut digits = Vec::with_capacity(bytes.len() * 4 / 3 + 1);
    while !number.is_empty() {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            remainder = acc % 62;
        }
        digits.push(ALPHABET[remainder as usize]);
        let leading_zeros = number.iter().take_while(|&&b| b == 0).count();
        number.drain(..leading_zeros);
    }
    digits
}

/// The checksum segment for everything before the last underscore: the CRC-32 in fixed-width
/// base62, the same digits as [`base62`] of its four big-endian bytes. Computed on the stack,
/// because every request's key is checked with it.
fn checksum(body: &[u8]) -> [u8; CHECKSUM_CHARS] {
    let mut n = crc32(body);
    let mut out = [b'0'; CHECKSUM_CHARS];
    for digit in out.iter_mut().rev() {
        *digit = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Builds a new key from 24 caller-supplied random bytes (the core draws no randomness).
pub fn generate(env: KeyEnv, random: &[u8; RANDOM_BYTES]) -> ParsedKey {
    let body = format!("{KEY_PREFIX}_{}_{}", env.as_str(), base62(random));
    let sum = checksum(body.as_bytes());
    let secret = format!("{body}_{}", String::from_utf8_lossy(&sum));
    ParsedKey { secret, env }
}

/// Checks shape and checksum without any lookup, so a typo or a forged key costs the edge no
/// store read. Never panics, whatever the input (length is checked before anything else, and
/// only ASCII input is sliced).
pub fn parse(candidate: &str) -> Result<ParsedKey, KeyFormatError> {
    let env = check(candidate)?;
    Ok(ParsedKey { secret: candidate.to_owned(), env })
}

/// Where the segments start: every key has the same layout, so each is at a fixed offset.
const ENV_AT: usize = KEY_PREFIX.len() + 1;
const RANDOM_AT: usize = ENV_AT + 4 + 1;
const CHECKSUM_AT: usize = RANDOM_AT + RANDOM_CHARS + 1;

/// [`parse`] without keeping the key: its environment if `candidate` is well formed. The
/// gateway checks every presented key this way and hashes the string it already has, so it
/// reads the segments at their fixed offsets rather than splitting the string (a quarter of
/// the instructions).
pub fn check(candidate: &str) -> Result<KeyEnv, KeyFormatError> {
    let bytes = candidate.as_bytes();
    if bytes.len() != KEY_LEN {
        return Err(KeyFormatError::Shape);
    }
    let separators = [ENV_AT - 1, RANDOM_AT - 1, CHECKSUM_AT - 1].map(|at| bytes.get(at));
    let segment = |from: usize, to: usize| bytes.get(from..to).unwrap_or_default();
    let base62 = |s: &[u8]| s.iter().all(u8::is_ascii_alphanumeric);
    let (body, sum) = (segment(0, CHECKSUM_AT - 1), segment(CHECKSUM_AT, KEY_LEN));
    let well_formed = bytes.starts_with(KEY_PREFIX.as_bytes())
        && separators.iter().all(|b| *b == Some(&b'_'))
        && base62(segment(RANDOM_AT, CHECKSUM_AT - 1))
        && base62(sum);
    // `get` refuses a slice through a multi-byte character; only `live` and `test` match.
    let env = candidate.get(ENV_AT..RANDOM_AT - 1).and_then(KeyEnv::from_segment);
    let (true, Some(env)) = (well_formed, env) else {
        return Err(KeyFormatError::Shape);
    };
    if checksum(body) != sum {
        return Err(KeyFormatError::Checksum);
    }
    Ok(env)
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
