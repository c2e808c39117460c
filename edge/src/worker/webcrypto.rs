//! Signature checks with the runtime's WebCrypto (`crypto.subtle`, through `web-sys`), never
//! with pure-Rust RSA compiled to wasm: jwt-simple's author measures that at about 240 ms per
//! RS256 verify under wasm, while workerd's native BoringSSL takes well under a millisecond.
//!
//! Imported `CryptoKey`s are kept per isolate, keyed by the algorithm and a SHA-256 of the
//! JWK itself (not only its `kid`): a provider that reuses a `kid` for new key material can
//! never have the old material checked in its place.

use std::cell::RefCell;
use std::collections::HashMap;

use gatehouse_core::jwt::{Algorithm, Jwk};
use js_sys::{Array, Object, Reflect, JSON};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

/// Imported keys an isolate keeps; past this the map starts over (providers publish a few
/// keys each, so this is only reached by churn).
const MAX_IMPORTED: usize = 256;

thread_local! {
    static IMPORTED: RefCell<HashMap<(Algorithm, [u8; 32]), CryptoKey>> = RefCell::new(HashMap::new());
}

/// A platform error's message, for logs and `PortError`s (never holds key material).
pub fn message(error: &JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => format!("{error:?}"),
    }
}

fn subtle() -> Result<SubtleCrypto, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(global.crypto().map_err(|e| message(&e))?.subtle())
}

fn object(members: &[(&str, JsValue)]) -> Result<Object, String> {
    let object = Object::new();
    for (name, value) in members {
        Reflect::set(&object, &JsValue::from_str(name), value).map_err(|e| message(&e))?;
    }
    Ok(object)
}

/// The WebCrypto parameters for `algorithm`: (for `importKey`, for `verify`). JWS ECDSA
/// signatures are already the raw `r || s` WebCrypto expects (RFC 7518 §3.4); PS256 uses a
/// salt as long as its hash (RFC 7518 §3.5).
fn parameters(algorithm: Algorithm) -> Result<(Object, Object), String> {
    let s = |text: &str| JsValue::from_str(text);
    let rsa = |hash: &str| -> Result<(Object, Object), String> {
        let name = s("RSASSA-PKCS1-v1_5");
        Ok((object(&[("name", name.clone()), ("hash", s(hash))])?, object(&[("name", name)])?))
    };
    let ec = |curve: &str, hash: &str| -> Result<(Object, Object), String> {
        let name = s("ECDSA");
        Ok((
            object(&[("name", name.clone()), ("namedCurve", s(curve))])?,
            object(&[("name", name), ("hash", s(hash))])?,
        ))
    };
    match algorithm {
        Algorithm::RS256 => rsa("SHA-256"),
        Algorithm::RS384 => rsa("SHA-384"),
        Algorithm::RS512 => rsa("SHA-512"),
        Algorithm::PS256 => Ok((
            object(&[("name", s("RSA-PSS")), ("hash", s("SHA-256"))])?,
            object(&[("name", s("RSA-PSS")), ("saltLength", JsValue::from_f64(32.0))])?,
        )),
        Algorithm::ES256 => ec("P-256", "SHA-256"),
        Algorithm::ES384 => ec("P-384", "SHA-384"),
        Algorithm::EdDSA => Ok((object(&[("name", s("Ed25519"))])?, object(&[("name", s("Ed25519"))])?)),
        Algorithm::HS256 => {
            Ok((object(&[("name", s("HMAC")), ("hash", s("SHA-256"))])?, object(&[("name", s("HMAC"))])?))
        }
    }
}

/// Why a key could not be imported.
#[derive(Debug)]
pub enum ImportError {
    /// WebCrypto refused the key material: the published key is unusable.
    Unusable(String),
    /// The platform call itself failed.
    Platform(String),
}

/// The `CryptoKey` for `jwk` used with `algorithm`, imported once per isolate.
pub async fn imported(algorithm: Algorithm, jwk: &Jwk) -> Result<CryptoKey, ImportError> {
    let json = serde_json::to_string(jwk).map_err(|e| ImportError::Platform(e.to_string()))?;
    let id = (algorithm, Sha256::digest(json.as_bytes()).into());
    if let Some(key) = IMPORTED.with(|keys| keys.borrow().get(&id).cloned()) {
        return Ok(key);
    }
    let key_data: Object = JSON::parse(&json).map_err(|e| ImportError::Platform(message(&e)))?.unchecked_into();
    let (params, _) = parameters(algorithm).map_err(ImportError::Platform)?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let unusable = |e: JsValue| ImportError::Unusable(message(&e));
    let promise =
        subtle().map_err(ImportError::Platform)?.import_key_with_object("jwk", &key_data, &params, false, &usages);
    let key: CryptoKey = JsFuture::from(promise.map_err(unusable)?).await.map_err(unusable)?.unchecked_into();
    IMPORTED.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= MAX_IMPORTED {
            keys.clear();
        }
        keys.insert(id, key.clone());
    });
    Ok(key)
}

/// Whether `signature` over `data` holds for `key`. WebCrypto answers `false` for a wrong
/// signature; a rejected call (e.g. a signature of the wrong length for the curve) comes from
/// what the token carries, so it counts as a signature that does not hold.
pub async fn verify(algorithm: Algorithm, key: &CryptoKey, signature: &[u8], data: &[u8]) -> Result<bool, String> {
    let (_, params) = parameters(algorithm)?;
    let promise = match subtle()?.verify_with_object_and_u8_array_and_u8_array(&params, key, signature, data) {
        Ok(promise) => promise,
        Err(_) => return Ok(false),
    };
    Ok(JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false))
}
