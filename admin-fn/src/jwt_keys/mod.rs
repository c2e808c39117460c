//! JWT signatures and the identity providers' published keys, for every runtime that runs
//! the control plane or the native gateway: the gateway's bearer tokens and the portal's staff
//! sign-in (OpenID Connect ID tokens) are checked by the same code, with ring, against keys
//! fetched and cached by the same policy ([`gatehouse_core::jwt::key_cache`]).

mod key_sets;
mod keys;

pub use key_sets::KeySets;
pub use keys::{signature_holds, DecodedKey, DecodedKeys};
