//! One outcome code per request. A refused key or a limit hit is a value, not an error:
//! errors are for infrastructure that failed.

use serde::{Deserialize, Serialize};

/// The result of verifying a call, in the fixed order the pipeline checks them:
/// credential shape → lookup → status → expiry → entitlement → lifecycle → limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The key checked out and every limit had room.
    Valid,
    /// The operation is public and no credential was needed.
    Public,
    /// No credential where the API expects one.
    Missing,
    /// Wrong shape or checksum; refused without a lookup.
    Malformed,
    /// A bearer JWT that does not verify: structure, signature or claims.
    InvalidToken,
    NotFound,
    Revoked,
    Disabled,
    Expired,
    /// The key is fine but its identity is not entitled to this operation.
    Forbidden,
    RateLimited,
    QuotaExceeded,
    /// The API is retired (`410 Gone`).
    Retired,
    /// No published API or operation matches the request.
    NoRoute,
    /// The request does not match the operation's OpenAPI description (validation at the
    /// gateway is on for it); refused with 400 before the upstream saw it.
    InvalidRequest,
    /// The gateway could not decide because a store it needs was unreachable (fails closed).
    Unavailable,
}

impl Outcome {
    /// Stable code used in usage rollups and problem bodies.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Public => "public",
            Outcome::Missing => "missing",
            Outcome::Malformed => "malformed",
            Outcome::InvalidToken => "invalid_token",
            Outcome::NotFound => "not_found",
            Outcome::Revoked => "revoked",
            Outcome::Disabled => "disabled",
            Outcome::Expired => "expired",
            Outcome::Forbidden => "forbidden",
            Outcome::RateLimited => "rate_limited",
            Outcome::QuotaExceeded => "quota_exceeded",
            Outcome::Retired => "retired",
            Outcome::NoRoute => "no_route",
            Outcome::Unavailable => "unavailable",
            Outcome::InvalidRequest => "invalid_request",
        }
    }

    /// True when the request went on to the upstream (or the cache).
    pub fn admitted(self) -> bool {
        matches!(self, Outcome::Valid | Outcome::Public)
    }
}
