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

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::jwt::parse;

    fn b64(bytes: &[u8]) -> Option<String> {
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn jwk(kty: &str) -> Jwk {
        Jwk {
            kty: kty.into(),
            kid: None,
            alg: None,
            usage: None,
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
            k: None,
        }
    }

    fn rsa(parts: jwt_simple::algorithms::RSAPublicKeyComponents) -> Jwk {
        Jwk { n: b64(&parts.n), e: b64(&parts.e), ..jwk("RSA") }
    }

    fn ec(point: &[u8], crv: &str) -> Jwk {
        let half = (point.len() - 1) / 2;
        Jwk { crv: Some(crv.into()), x: b64(&point[1..=half]), y: b64(&point[half + 1..]), ..jwk("EC") }
    }

    /// Each algorithm: a token signed with jwt-simple verifies under its JWK, and the same
    /// token with one signature byte changed does not.
    #[test]
    fn every_supported_algorithm_verifies_its_own_signatures_only() {
        let claims = || Claims::create(Duration::from_mins(5));
        let rs384 = RS384KeyPair::generate(2048).expect("key");
        let rs512 = RS512KeyPair::generate(2048).expect("key");
        let ps256 = PS256KeyPair::generate(2048).expect("key");
        let es256 = ES256KeyPair::generate();
        let es384 = ES384KeyPair::generate();
        let ed = Ed25519KeyPair::generate();
        let hs = HS256Key::generate();
        let cases = [
            (Algorithm::RS384, rs384.sign(claims()), rsa(rs384.public_key().to_components())),
            (Algorithm::RS512, rs512.sign(claims()), rsa(rs512.public_key().to_components())),
            (Algorithm::PS256, ps256.sign(claims()), rsa(ps256.public_key().to_components())),
            (
                Algorithm::ES256,
                es256.sign(claims()),
                ec(&es256.public_key().public_key().to_bytes_uncompressed(), "P-256"),
            ),
            (
                Algorithm::ES384,
                es384.sign(claims()),
                ec(&es384.public_key().public_key().to_bytes_uncompressed(), "P-384"),
            ),
            (
                Algorithm::EdDSA,
                ed.sign(claims()),
                Jwk { crv: Some("Ed25519".into()), x: b64(&ed.public_key().to_bytes()), ..jwk("OKP") },
            ),
            (Algorithm::HS256, hs.authenticate(claims()), Jwk { k: b64(&hs.to_bytes()), ..jwk("oct") }),
        ];
        for (algorithm, token, key) in cases {
            let token = token.expect("signs");
            let decoded = DecodedKeys::default().get(&key, algorithm).expect("decodes");
            let parsed = parse(&token, &[algorithm]).expect("parses");
            assert!(signature_holds(&decoded, &token, &parsed), "{algorithm:?}");
            let (signed, signature) = token.rsplit_once('.').expect("three parts");
            let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
            bytes[0] ^= 1;
            let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            let parsed = parse(&forged, &[algorithm]).expect("parses");
            assert!(!signature_holds(&decoded, &forged, &parsed), "{algorithm:?} with a changed signature");
        }
        assert!(DecodedKeys::default().get(&jwk("RSA"), Algorithm::RS256).is_err(), "no n and e: no key");
    }
}
