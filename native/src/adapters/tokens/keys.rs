//! JWKs turned into verification keys, and the one question asked of them: does this token's
//! signature hold? jwt-simple answers for RSA, EdDSA and HMAC; BoringSSL itself for ECDSA.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use boring::bn::BigNum;
use boring::ec::{EcGroup, EcKey};
use boring::ecdsa::EcdsaSig;
use boring::hash::{hash, MessageDigest};
use boring::nid::Nid;
use boring::pkey::Public;
use gatehouse_core::jwt::{Algorithm, Jwk, Parsed, Refusal};
use jwt_simple::prelude::*;

/// A decoded verification key, one variant per algorithm Gatehouse accepts.
pub enum DecodedKey {
    Rs256(RS256PublicKey),
    Rs384(RS384PublicKey),
    Rs512(RS512PublicKey),
    Ps256(PS256PublicKey),
    /// ES256 and ES384, with BoringSSL (see [`ecdsa_holds`]).
    Ec(EcKey<Public>, MessageDigest),
    EdDsa(Ed25519PublicKey),
    Hs256(HS256Key),
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

/// The public point (`x`, `y`) on `curve`; BoringSSL checks that it lies on the curve.
fn ec_key(jwk: &Jwk, curve: Nid) -> Option<EcKey<Public>> {
    let group = EcGroup::from_curve_name(curve).ok()?;
    let (x, y) = (BigNum::from_slice(&bytes(&jwk.x)?).ok()?, BigNum::from_slice(&bytes(&jwk.y)?).ok()?);
    EcKey::from_public_key_affine_coordinates(&group, &x, &y).ok()
}

/// A JWS ECDSA signature (RFC 7518 §3.4: `r || s`, each the curve's size) over the token's
/// signing input.
fn ecdsa_holds(key: &EcKey<Public>, digest: MessageDigest, signing_input: &str, signature: &[u8]) -> bool {
    let half = signature.len() / 2;
    if signature.len() != 2 * key.group().order_bits().div_ceil(8) as usize {
        return false;
    }
    let (Ok(r), Ok(s)) = (BigNum::from_slice(&signature[..half]), BigNum::from_slice(&signature[half..])) else {
        return false;
    };
    let (Ok(signature), Ok(hashed)) = (EcdsaSig::from_private_components(r, s), hash(digest, signing_input.as_bytes()))
    else {
        return false;
    };
    signature.verify(&hashed, key).unwrap_or(false)
}

/// `None` when the JWK's members do not make a key of this kind: the token's key is then as
/// good as unknown.
fn decode(jwk: &Jwk, algorithm: Algorithm) -> Option<DecodedKey> {
    let rsa = || Some((bytes(&jwk.n)?, bytes(&jwk.e)?));
    Some(match algorithm {
        Algorithm::RS256 => {
            rsa().and_then(|(n, e)| RS256PublicKey::from_components(&n, &e).ok()).map(DecodedKey::Rs256)?
        }
        Algorithm::RS384 => {
            rsa().and_then(|(n, e)| RS384PublicKey::from_components(&n, &e).ok()).map(DecodedKey::Rs384)?
        }
        Algorithm::RS512 => {
            rsa().and_then(|(n, e)| RS512PublicKey::from_components(&n, &e).ok()).map(DecodedKey::Rs512)?
        }
        Algorithm::PS256 => {
            rsa().and_then(|(n, e)| PS256PublicKey::from_components(&n, &e).ok()).map(DecodedKey::Ps256)?
        }
        Algorithm::ES256 => DecodedKey::Ec(ec_key(jwk, Nid::X9_62_PRIME256V1)?, MessageDigest::sha256()),
        Algorithm::ES384 => DecodedKey::Ec(ec_key(jwk, Nid::SECP384R1)?, MessageDigest::sha384()),
        Algorithm::EdDSA => DecodedKey::EdDsa(Ed25519PublicKey::from_bytes(&bytes(&jwk.x)?).ok()?),
        Algorithm::HS256 => DecodedKey::Hs256(HS256Key::from_bytes(&bytes(&jwk.k)?)),
    })
}

/// Options under which jwt-simple's own claim checks cannot refuse a real token, so that any
/// refusal means the signature (or the token's framing) failed. jwt-simple checks the
/// signature before it reads the claims; the claims are then checked by the core, with the
/// API's leeway and a required `exp` — not jwt-simple's 15-minute default leeway, under
/// which tokens without `exp` pass.
fn signature_only() -> VerificationOptions {
    let since_epoch = Clock::now_since_epoch();
    VerificationOptions {
        accept_future: true,
        // Its expiry test is `now - tolerance <= exp`: with a tolerance of "now less a day"
        // every `exp` after 1970-01-02 passes.
        time_tolerance: Some(since_epoch - Duration::from_days(1)),
        max_validity: None,
        ..VerificationOptions::default()
    }
}

/// Whether the signature of `token` (`parsed`) holds under `key`.
pub fn signature_holds(key: &DecodedKey, token: &str, parsed: &Parsed<'_>) -> bool {
    let options = Some(signature_only());
    match key {
        DecodedKey::Ec(key, digest) => ecdsa_holds(key, *digest, parsed.signing_input, &parsed.signature),
        DecodedKey::Rs256(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
        DecodedKey::Rs384(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
        DecodedKey::Rs512(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
        DecodedKey::Ps256(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
        DecodedKey::EdDsa(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
        DecodedKey::Hs256(k) => k.verify_token::<NoCustomClaims>(token, options).is_ok(),
    }
}
