//! TLS to `https://` upstreams: rustls, with certificate and host name checks always on (there
//! is no switch to turn them off), SNI from the URL's host, and Mozilla's roots plus, for an
//! upstream that uses a private CA, that CA's bundle.
//!
//! Why per upstream authority (`host:port`) rather than per API: trust belongs to the server
//! being called, and the connection pool, which is what holds verified connections, is keyed
//! by it; two APIs with the same upstream share its connections and must trust it alike.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// How to verify each upstream.
#[derive(Clone)]
pub struct UpstreamTls {
    default: TlsConnector,
    by_authority: HashMap<String, TlsConnector>,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls").field("custom_cas", &self.by_authority.keys()).finish()
    }
}

impl Default for UpstreamTls {
    /// Mozilla's roots only.
    fn default() -> Self {
        UpstreamTls { default: connector(webpki()), by_authority: HashMap::new() }
    }
}

impl UpstreamTls {
    /// Mozilla's roots, plus for each `host:port` of `extra` the certificates of its PEM file.
    pub fn with_cas(extra: &BTreeMap<String, PathBuf>) -> Result<UpstreamTls, String> {
        let mut tls = UpstreamTls::default();
        for (authority, file) in extra {
            tls.add_ca_pem(authority, &std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?)?;
        }
        Ok(tls)
    }

    /// Trusts the certificates in `pem` (as well as Mozilla's roots) for `authority`.
    pub fn add_ca_pem(&mut self, authority: &str, pem: &[u8]) -> Result<(), String> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = webpki();
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("CA for {authority}: {e}"))?;
            roots.add(cert).map_err(|e| format!("CA for {authority}: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("CA for {authority}: no PEM certificate"));
        }
        self.by_authority.insert(authority.to_ascii_lowercase(), connector(roots));
        Ok(())
    }

    /// The connector for `authority` (`host:port`, port always given).
    pub(super) fn connector(&self, authority: &str) -> &TlsConnector {
        self.by_authority.get(authority).unwrap_or(&self.default)
    }
}

fn webpki() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// ALPN offers only `http/1.1`: the client speaks nothing else.
fn connector(roots: RootCertStore) -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the ring provider has TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}
