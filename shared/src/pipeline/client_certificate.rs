//! Client certificates (mutual TLS) as a credential. The TLS layer has already checked the
//! certificate: natively the listener's `client_ca` verified its chain during the handshake,
//! at the edge Cloudflare did against the zone's mTLS CA. What reaches the pipeline is the
//! verified certificate's subject, and an app that registered that subject is the caller, as
//! an API key's app would be.

use std::sync::Arc;

use crate::keys::{hash_secret, KeyHash};

/// The verified client certificate of the connection a request came on, put in the request's
/// extensions by the runtime; absent when the client presented none (or it did not verify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate {
    /// The subject's distinguished name in RFC 4514 form (`CN=billing,O=Acme Corp`).
    pub subject: Arc<str>,
}

/// Where a certificate subject's registration is found: the credential record's hash, in the
/// same index as API keys (a prefix no key string can have keeps the two apart).
pub fn certificate_hash(subject: &str) -> KeyHash {
    hash_secret(&format!("client-certificate\n{subject}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_that_differ_in_any_character_are_different_registrations() {
        assert_eq!(certificate_hash("CN=a,O=Acme"), certificate_hash("CN=a,O=Acme"));
        assert_ne!(certificate_hash("CN=a,O=Acme"), certificate_hash("CN=a,O=acme"));
        assert_ne!(certificate_hash("CN=a"), crate::jwt::client_hash("CN", "a"));
    }
}
