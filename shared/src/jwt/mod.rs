//! JWT bearer tokens at the gateway: what both runtimes check the same way, before and after
//! the signature. The signature itself is the runtime's (ring natively, WebCrypto at the
//! edge); everything here is pure.
//!
//! - [`parse`] splits a token and reads its header and claims, refusing what must never reach
//!   a signature check: oversize tokens, malformed segments, `alg: none`, an algorithm the
//!   API does not allow, key-locating headers (`jku`, `x5u`, `jwk`) and unknown `crit`.
//! - [`check_claims`] decides on the claims once the signature holds: `exp` required, `nbf`,
//!   `iss`, `aud`, required claims and scopes, with a bounded leeway.

mod claims;
pub mod discovery;
mod jwks;
pub mod key_cache;
mod settings;
mod token;
mod verified;

pub use claims::{check_claims, Verified, MAX_LEEWAY_SECS};
pub use jwks::{Jwk, JwkSet};
pub use settings::{JwtSettings, KeySource};
pub use token::{parse, Algorithm, Parsed, MAX_TOKEN_BYTES};
pub use verified::{token_digest, VerifiedToken, VerifiedTokens};

use crate::keys::{hash_secret, KeyHash};

/// The client id that stands for every unregistered client of an issuer: registering it on
/// an app admits such tokens under that app's plans (an API's anonymous plan).
pub const ANY_CLIENT: &str = "*";

/// What the read model keeps for an OAuth client registered on an app: a credential record
/// like a key's, found by this hash, so limits, quotas and usage work as they do for keys and
/// every runtime's key lookup finds it. No API key hashes to it: keys are checksummed
/// `gh_…` strings, and this input has newlines.
pub fn client_hash(issuer: &str, client_id: &str) -> KeyHash {
    hash_secret(&format!("jwt-client\n{issuer}\n{client_id}"))
}

/// Why a token is refused; each has a stable problem type (`jwt-…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the token is not three base64url segments of JSON")]
    Malformed,
    #[error("unsigned tokens (alg none) are refused")]
    Unsigned,
    #[error("the algorithm {0} is not accepted for this API")]
    AlgorithmNotAllowed(String),
    #[error("the token names where to find its key ({0}); keys come only from the API's configuration")]
    KeyLocationHeader(&'static str),
    #[error("the token requires header {0}, which is not understood")]
    UnknownCritical(String),
    #[error("the token has no expiry (exp)")]
    NoExpiry,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token is not meant for this API (aud)")]
    WrongAudience,
    #[error("the token lacks the claim {0}")]
    MissingClaim(String),
    #[error("the token's signature does not hold")]
    BadSignature,
    #[error("the token was signed with a key its issuer does not publish")]
    UnknownKey,
    #[error("the token's client is not registered with Gatehouse")]
    UnknownClient,
    #[error("the token lacks a scope this operation needs")]
    InsufficientScope { needed: Vec<String> },
}

impl Refusal {
    /// The slug of the problem type, stable across releases.
    pub fn slug(&self) -> &'static str {
        match self {
            Refusal::TooLarge => "jwt-too-large",
            Refusal::Malformed => "jwt-malformed",
            Refusal::Unsigned => "jwt-unsigned",
            Refusal::AlgorithmNotAllowed(_) => "jwt-algorithm-not-allowed",
            Refusal::KeyLocationHeader(_) => "jwt-key-location-header",
            Refusal::UnknownCritical(_) => "jwt-unknown-critical-header",
            Refusal::NoExpiry => "jwt-no-expiry",
            Refusal::Expired => "jwt-expired",
            Refusal::NotYetValid => "jwt-not-yet-valid",
            Refusal::WrongIssuer => "jwt-wrong-issuer",
            Refusal::WrongAudience => "jwt-wrong-audience",
            Refusal::MissingClaim(_) => "jwt-missing-claim",
            Refusal::BadSignature => "jwt-bad-signature",
            Refusal::UnknownKey => "jwt-unknown-key",
            Refusal::UnknownClient => "jwt-unknown-client",
            Refusal::InsufficientScope { .. } => "insufficient-scope",
        }
    }
}
