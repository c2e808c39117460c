//! The client certificate Cloudflare verified (API Shield mTLS), as the core's credential.
//! Cloudflare terminates TLS and reports the result in `request.cf.tlsClientAuth`; a subject is
//! believed only when a certificate was presented *and* verified against the zone's CA (a
//! zone may pass unverified certificates through, with `certVerified` naming the failure).

use gatehouse_core::pipeline::client_certificate::PresentedCertificate;

/// `certPresented`, `certVerified` and `certSubjectDNRFC2253` of `tlsClientAuth`, as given.
pub fn verified(presented: &str, verified: &str, subject_rfc2253: &str) -> Option<PresentedCertificate> {
    let trusted = presented == "1" && verified == "SUCCESS" && !subject_rfc2253.is_empty();
    trusted.then(|| PresentedCertificate { subject: subject_rfc2253.into() })
}

#[cfg(test)]
mod tests {
    use super::verified;

    #[test]
    fn only_a_presented_and_verified_certificate_names_a_subject() {
        let subject = "CN=billing,O=Partner A";
        assert_eq!(verified("1", "SUCCESS", subject).map(|c| c.subject.to_string()).as_deref(), Some(subject));
        for (presented, result) in
            [("0", "NONE"), ("1", "FAILED:self signed certificate"), ("1", "FAILED:certificate has expired")]
        {
            assert!(verified(presented, result, subject).is_none(), "{presented} {result}");
        }
        assert!(verified("1", "SUCCESS", "").is_none());
    }
}
