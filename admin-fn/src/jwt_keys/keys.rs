//! JWKs turned into verification keys, and the one question asked of them: does this token's
//! signature hold? Checked with ring, which the binary already links for TLS (rustls): RS256
//! in ~20 µs and ES256 in ~50 µs, with nothing more to build. jwt-simple, the design card's
//! choice, needs BoringSSL for RSA at that speed (cmake, Go and libclang, which a fresh
//! machine's `cargo run` does not have) and checks ECDSA in pure Rust (~360 µs for ES256)
//! either way; its pure-Rust RSA took ~250 µs. The claims are the core's business.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::jwt::{Algorithm, Jwk, Parsed, Refusal};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};
use ring::{hmac, signature::RsaParameters};

/// A decoded verification key.
pub enum DecodedKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        parameters: &'static RsaParameters,
    },
    /// ECDSA (an uncompressed point) and Ed25519 (the raw key).
    Public {
        key: Vec<u8>,
        algorithm: &'static dyn VerificationAlgorithm,
    },
    Hmac(hmac::Key),
}

/// Decoded keys by content (algorithm and key material), so a provider's key rollover needs
/// no invalidation: a new key is new content. Bounded: cleared when it outgrows
/// [`MAX_DECODED`], which only a flood of distinct configured keys could do.
#[derive(Default)]
pub struct DecodedKeys {
    keys: Mutex<HashMap<String, Arc<DecodedKey>>>,
}

const MAX_DECODED: usize = 1_024;

impl DecodedKeys {
    pub fn get(&self, jwk: &Jwk, algorithm: Algorithm) -> Result<Arc<DecodedKey>, Refusal> {
        let material = [&jwk.n, &jwk.e, &jwk.x, &jwk.y, &jwk.k].map(|part| part.as_deref().unwrap_or_default());
        let id = format!("{}:{}", algorithm.name(), material.join("."));
        if let Some(key) = self.keys.lock().ok().and_then(|keys| keys.get(&id).cloned()) {
            return Ok(key);
        }
        let key = Arc::new(decode(jwk, algorithm).ok_or(Refusal::UnknownKey)?);
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= MAX_DECODED {
                keys.clear();
            }
            keys.insert(id, Arc::clone(&key));
        }
        Ok(key)
    }
}

fn bytes(part: &Option<String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.as_deref()?).ok()
}

/// `None` when the JWK's members do not make a key of this kind: the token's key is then as
/// good as unknown. Keys are checked when used (ring parses them per verification, and
/// refuses RSA moduli under 2048 bits and points off the curve).
fn decode(jwk: &Jwk, algorithm: Algorithm) -> Option<DecodedKey> {
    let rsa = |parameters| Some(DecodedKey::Rsa { n: bytes(&jwk.n)?, e: bytes(&jwk.e)?, parameters });
    let point = |size: usize, algorithm| {
        let (x, y) = (bytes(&jwk.x)?, bytes(&jwk.y)?);
        if x.len() != size || y.len() != size {
            return None;
        }
        Some(DecodedKey::Public { key: [&[4u8][..], &x, &y].concat(), algorithm })
    };
    match algorithm {
        Algorithm::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        Algorithm::ES256 => point(32, &signature::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => point(48, &signature::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => Some(DecodedKey::Public { key: bytes(&jwk.x)?, algorithm: &signature::ED25519 }),
        Algorithm::HS256 => Some(DecodedKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, &bytes(&jwk.k)?))),
    }
}

/// Whether the signature of `parsed` holds under `key` (an HMAC compared in constant time).
pub fn signature_holds(key: &DecodedKey, parsed: &Parsed<'_>) -> bool {
    let (message, signature) = (parsed.signing_input.as_bytes(), parsed.signature.as_slice());
    match key {
        DecodedKey::Rsa { n, e, parameters } => {
            RsaPublicKeyComponents { n, e }.verify(parameters, message, signature).is_ok()
        }
        DecodedKey::Public { key, algorithm } => {
            UnparsedPublicKey::new(*algorithm, key).verify(message, signature).is_ok()
        }
        DecodedKey::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
    }
}
