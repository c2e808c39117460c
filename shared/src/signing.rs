//! Signed messages between the edge and the control plane (usage batches, revocation
//! notices): HMAC-SHA256 over `"<timestamp>.<body>"`, sent in one header as
//! `t=<unix seconds>,v1=<hex>`. The timestamp bounds replays to a tolerance window; receivers
//! also de-duplicate by message id, so a replay inside the window changes nothing.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::time::{UnixMillis, SECOND};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "gatehouse-signature";
/// Default tolerance between the signer's and the verifier's clocks, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing or malformed")]
    Malformed,
    #[error("the signature is outside the allowed time window")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The header value for `body` signed at `now`.
pub fn sign(secret: &[u8], body: &[u8], now: UnixMillis) -> String {
    let t = now.div_euclid(SECOND);
    format!("t={t},v1={}", crate::hex::encode(&mac(secret, t, body)))
}

/// Checks `header` against `body`: well-formed, within `tolerance_secs` of `now`, and
/// matching (compared in constant time).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: UnixMillis,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = crate::hex::decode(value),
            _ => {}
        }
    }
    let (Some(t), Some(given)) = (t, v1) else {
        return Err(SignatureError::Malformed);
    };
    if (now.div_euclid(SECOND) - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, t, body);
    if expected.ct_eq(&given).into() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Vec::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn signed_body_verifies_and_any_change_is_caught() {
        let header = sign(b"secret", b"{\"a\":1}", NOW);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(verify(b"secret", &header, b"{\"a\":1}", NOW + 5_000, 300), Ok(()));
        assert_eq!(verify(b"secret", &header, b"{\"a\":2}", NOW, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", &header, b"{\"a\":1}", NOW, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn old_or_malformed_signatures_are_refused() {
        let header = sign(b"secret", b"x", NOW);
        assert_eq!(verify(b"secret", &header, b"x", NOW + 301_000, 300), Err(SignatureError::Stale));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1800000000,v1=zz"] {
            assert_eq!(verify(b"secret", bad, b"x", NOW, 300), Err(SignatureError::Malformed), "{bad}");
        }
    }
}
