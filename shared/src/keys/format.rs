//! STUB SIGNATURES — to be implemented (helper: core-policies).
use serde::{Deserialize, Serialize};

/// Product prefix of every Gatehouse key.
pub const KEY_PREFIX: &str = "gh";

/// The environment a key belongs to; part of the key so a test key can never be used live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyEnv {
    Live,
    Test,
}

/// A key that passed the format and checksum checks. Holds the secret: never log it.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedKey {
    secret: String,
    env: KeyEnv,
}

impl ParsedKey {
    pub fn secret(&self) -> &str {
        &self.secret
    }
    pub fn env(&self) -> KeyEnv {
        self.env
    }
    /// `gh_live_` — shown in listings.
    pub fn display_prefix(&self) -> String {
        unimplemented!()
    }
    pub fn last4(&self) -> String {
        unimplemented!()
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

pub fn base62(bytes: &[u8]) -> String {
    let _ = bytes;
    unimplemented!()
}

/// Builds a new key from 24 caller-supplied random bytes.
pub fn generate(env: KeyEnv, random: &[u8; 24]) -> ParsedKey {
    let _ = (env, random);
    unimplemented!()
}

/// Checks shape and checksum without any lookup.
pub fn parse(candidate: &str) -> Result<ParsedKey, KeyFormatError> {
    let _ = candidate;
    unimplemented!()
}
