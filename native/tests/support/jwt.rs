//! Signing JWTs in tests and benches, with ring: an identity provider's side, so the gateway's
//! checks run against real signatures. RSA keys come from fixtures (ring does not generate
//! them); EC and Ed25519 keys are generated per run.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};

pub const RSA_1: &[u8] = include_bytes!("../fixtures/jwt/rsa-1.der");
pub const RSA_2: &[u8] = include_bytes!("../fixtures/jwt/rsa-2.der");

/// One signing key of a provider, with its `kid`.
pub enum Signer {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding, &'static str),
    Ec(EcdsaKeyPair, &'static str),
    Ed(Ed25519KeyPair),
    Hmac(Vec<u8>),
}

pub struct ProviderKey {
    pub kid: String,
    pub signer: Signer,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl ProviderKey {
    pub fn rsa(der: &[u8], kid: &str, alg: &'static str) -> ProviderKey {
        let encoding: &'static dyn signature::RsaEncoding = match alg {
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            "PS256" => &signature::RSA_PSS_SHA256,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        let pair = RsaKeyPair::from_der(der).unwrap();
        ProviderKey { kid: kid.into(), signer: Signer::Rsa(pair, encoding, alg) }
    }

    pub fn ec(kid: &str, alg: &'static str) -> ProviderKey {
        let algorithm = match alg {
            "ES384" => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        };
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &rng).unwrap();
        ProviderKey { kid: kid.into(), signer: Signer::Ec(pair, alg) }
    }

    pub fn ed25519(kid: &str) -> ProviderKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        ProviderKey { kid: kid.into(), signer: Signer::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()) }
    }

    pub fn hmac(kid: &str, secret: &[u8]) -> ProviderKey {
        ProviderKey { kid: kid.into(), signer: Signer::Hmac(secret.to_vec()) }
    }

    pub fn alg(&self) -> &'static str {
        match &self.signer {
            Signer::Rsa(_, _, alg) | Signer::Ec(_, alg) => alg,
            Signer::Ed(_) => "EdDSA",
            Signer::Hmac(_) => "HS256",
        }
    }

    /// The public JWK a provider publishes (the secret itself for HMAC).
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Rsa(pair, _, _) => {
                let parts = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({"kty": "RSA", "kid": self.kid, "use": "sig", "n": b64(&parts.n), "e": b64(&parts.e)})
            }
            Signer::Ec(pair, alg) => {
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = if *alg == "ES384" { "P-384" } else { "P-256" };
                json!({"kty": "EC", "kid": self.kid, "crv": crv, "x": b64(&point[1..=half]), "y": b64(&point[half + 1..])})
            }
            Signer::Ed(pair) => {
                json!({"kty": "OKP", "kid": self.kid, "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
            Signer::Hmac(secret) => json!({"kty": "oct", "kid": self.kid, "k": b64(secret)}),
        }
    }

    /// A compact JWS of `claims` with this key's `alg` and `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Rsa(pair, encoding, _) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(*encoding, &rng, input.as_bytes(), &mut out).unwrap();
                out
            }
            Signer::Ec(pair, _) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            Signer::Hmac(secret) => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                ring::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
            }
        };
        format!("{input}.{}", b64(&signature))
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
