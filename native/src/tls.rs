//! TLS termination for the gateway's and the control plane's listeners: certificates and keys
//! from PEM files, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`, optional client certificates
//! (mTLS), and reloading from the same files (on SIGHUP) without touching open connections.
//!
//! Why reloading cannot drop a connection: a connection takes the acceptor that is current
//! when it arrives and keeps its own session; a reload only swaps what later connections get.
//! A reload that fails (a half-written key file, say) keeps the certificate in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use gatehouse_core::pipeline::client_certificate::PresentedCertificate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;
use x509_cert::der::Decode;

/// A listener's PEM files. With `client_ca`, a client certificate must be one that CA signed,
/// or the handshake fails; whether a client may come without one is `client_auth`'s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

/// Whether a listener with a client CA admits clients that present no certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// No certificate, no connection: the listener serves partners only.
    #[default]
    Required,
    /// Clients without a certificate connect too, and only the operations whose security
    /// needs one (`mutualTLS`) refuse them: one listener for partners and everyone else.
    Optional,
}

/// The listener's current TLS configuration, shared by its workers and swapped by a reload.
#[derive(Clone)]
pub struct ServerTls {
    current: Arc<RwLock<TlsAcceptor>>,
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    client_auth: ClientAuth,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("cert", &self.cert).field("client_ca", &self.client_ca).finish()
    }
}

impl ServerTls {
    /// TLS from `files`, `Ok(None)` when they name no certificate.
    pub fn load(files: &TlsFiles) -> Result<Option<ServerTls>, String> {
        let (Some(cert), Some(key)) = (&files.tls_cert, &files.tls_key) else { return Ok(None) };
        let (cert, key, client_ca, client_auth) =
            (cert.clone(), key.clone(), files.client_ca.clone(), files.client_auth);
        let config = server_config(&cert, &key, client_ca.as_deref(), client_auth)?;
        let current = Arc::new(RwLock::new(TlsAcceptor::from(Arc::new(config))));
        Ok(Some(ServerTls { current, cert, key, client_ca, client_auth }))
    }

    /// The acceptor for a connection arriving now.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Reads the files again; on any error the configuration in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = server_config(&self.cert, &self.key, self.client_ca.as_deref(), self.client_auth)?;
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = TlsAcceptor::from(Arc::new(config));
        Ok(())
    }
}

/// The rustls configuration: ring as the crypto provider (explicitly, as the workspace also
/// builds aws-lc-rs for the AWS SDK, and rustls will not guess between two).
fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    client_auth: ClientAuth,
) -> Result<ServerConfig, String> {
    let chain = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: no private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = Arc::new(root_store(ca)?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = match client_auth {
                ClientAuth::Required => verifier,
                ClientAuth::Optional => verifier.allow_unauthenticated(),
            };
            let verifier = verifier.build().map_err(|e| format!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| format!("{}: {e}", cert.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The subject of the certificate a client presented, in RFC 4514 form: what the pipeline
/// takes as the client's identity ([`PresentedCertificate`]). rustls hands out the peer's
/// certificates only after its verifier accepted them, so a subject here is one the
/// listener's client CA vouches for. `None` without a certificate, or when the subject cannot
/// be read (the connection then counts as one without).
pub fn client_certificate(connection: &rustls::ServerConnection) -> Option<PresentedCertificate> {
    let subject = subject_of(connection.peer_certificates()?.first()?)?;
    Some(PresentedCertificate { subject: subject.into() })
}

/// A DER certificate's subject in RFC 4514 form; `None` when it does not parse or is empty.
fn subject_of(der: &[u8]) -> Option<String> {
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let subject = certificate.tbs_certificate.subject.to_string();
    (!subject.is_empty()).then_some(subject)
}

/// Every certificate in a PEM file; an empty or unreadable file is an error.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(&e))?;
    if chain.is_empty() {
        return Err(fail(&"no PEM certificate in the file"));
    }
    Ok(chain)
}

/// The certificates of a PEM file as trust anchors.
pub fn root_store(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path)? {
        roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_leaf(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path)
    }

    #[test]
    fn a_reload_that_fails_keeps_the_certificate_in_use_and_a_good_one_replaces_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = write_leaf(dir.path(), "first");
        let files = TlsFiles {
            tls_cert: Some(cert.clone()),
            tls_key: Some(key.clone()),
            client_ca: None,
            client_auth: ClientAuth::Required,
        };
        let tls = ServerTls::load(&files).expect("loads").expect("configured");
        let before = Arc::as_ptr(tls.acceptor().config());
        std::fs::write(&key, "not a key").expect("break the key");
        assert!(tls.reload().is_err());
        assert_eq!(Arc::as_ptr(tls.acceptor().config()), before, "the old configuration stays");
        write_leaf(dir.path(), "second");
        tls.reload().expect("reloads");
        assert_ne!(Arc::as_ptr(tls.acceptor().config()), before, "new connections get the new one");
        assert_eq!(tls.acceptor().config().alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_subject_reads_as_openssl_prints_it_in_rfc_2253_form() {
        // Made with `openssl req -utf8 -subj '/C=DE/O=Müller, Söhne & Co/CN=billing "eu";1'`;
        // `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints the expected line.
        let pem = include_str!("../tests/fixtures/mtls/openssl-subject.pem");
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate");
        let expected = r#"CN=billing \"eu\"\;1,O=Müller\, Söhne & Co,C=DE"#;
        assert_eq!(subject_of(&der).as_deref(), Some(expected));
        assert_eq!(subject_of(b"not a certificate"), None);
    }

    #[test]
    fn no_certificate_means_plain_and_a_missing_file_is_named() {
        assert!(ServerTls::load(&TlsFiles::default()).expect("plain").is_none());
        let files = TlsFiles {
            tls_cert: Some(PathBuf::from("/nonexistent/cert.pem")),
            tls_key: Some(PathBuf::from("/nonexistent/key.pem")),
            client_ca: None,
            client_auth: ClientAuth::Required,
        };
        let error = ServerTls::load(&files).expect_err("missing");
        assert!(error.contains("/nonexistent/cert.pem"), "{error}");
    }
}
