//! Where alert webhooks may go. A developer chooses the URL, so without a check the control
//! plane would POST wherever it points: its own loopback, the cloud's metadata address, the
//! services on its private network (server-side request forgery). Unless the deployment
//! allows private receivers (`gatehouse dev`, tests), every address a webhook's host resolves
//! to must be public. The check sits in the HTTP client's resolver, so it holds for the
//! address actually connected to: a DNS answer cannot change between check and use.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is on the public internet: not loopback, private (RFC 1918, RFC 4193),
/// link-local (the metadata service at 169.254.169.254), shared (RFC 6598), unspecified,
/// multicast, broadcast or documentation space; an IPv4-mapped IPv6 address is judged as its
/// IPv4 address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            let this_network = a == 0;
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || shared
                || this_network)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// Why a webhook URL whose host is an address literal may not be called; `None` for a
/// public address or a host name (checked when it resolves).
pub(crate) fn literal_refusal(url: &str) -> Option<String> {
    let host = reqwest::Url::parse(url).ok()?.host_str()?.trim_matches(['[', ']']).to_owned();
    let ip: IpAddr = host.parse().ok()?;
    (!is_public(ip)).then(|| format!("refused: {ip} is not a public address"))
}

/// The resolver of the webhook client when private receivers are not allowed: the system's
/// answer with every non-public address removed, and an error when none is left.
pub(crate) struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let why = format!("refused: {} resolves to no public address", name.as_str());
                return Err(why.into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public_and_the_internet_is() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().expect("address")), "{private}");
        }
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().expect("address")), "{public}");
        }
    }

    #[test]
    fn a_literal_private_host_is_refused_before_any_connection() {
        assert!(literal_refusal("http://169.254.169.254/latest/meta-data").is_some());
        assert!(literal_refusal("http://[::1]:8080/hook").is_some());
        assert_eq!(literal_refusal("https://hooks.example.com/x"), None, "names are checked as they resolve");
        assert_eq!(literal_refusal("https://1.1.1.1/x"), None);
    }

    #[tokio::test]
    async fn a_name_that_resolves_only_to_loopback_is_refused() {
        let name: Name = "localhost".parse().expect("name");
        let refused = PublicOnly.resolve(name).await.err().expect("refused").to_string();
        assert!(refused.contains("no public address"), "{refused}");
    }
}
