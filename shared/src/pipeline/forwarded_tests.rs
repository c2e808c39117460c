//! Forwarded headers: spoofing from untrusted and trusted peers, and what the upstream gets.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs.iter().map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
}

fn peer(ip: &str) -> Option<Peer> {
    Some(Peer { ip: ip.parse().unwrap(), https: false })
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn an_untrusted_peer_cannot_claim_another_address_scheme_or_host() {
    let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let spoofed = headers(&[
        ("host", "api.example.com"),
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "for=5.6.7.8;proto=https"),
        ("x-real-ip", "9.9.9.9"),
    ]);
    let origin = resolve(&spoofed, peer("203.0.113.9"), &trusted);
    assert_eq!(origin.client(), Some(ip("203.0.113.9")));
    assert_eq!((origin.proto, origin.host.as_deref()), ("http", Some("api.example.com")));
    let mut upstream = spoofed.clone();
    apply(&mut upstream, &origin, ForwardedHeaders::Both);
    assert_eq!(upstream["x-forwarded-for"], "203.0.113.9");
    assert_eq!(upstream["x-forwarded-proto"], "http");
    assert_eq!(upstream["x-forwarded-host"], "api.example.com");
    assert_eq!(upstream["forwarded"], "for=203.0.113.9;proto=http;host=api.example.com");
    assert!(!upstream.contains_key("x-real-ip"));
}

#[test]
fn through_trusted_proxies_the_client_is_the_first_untrusted_hop_from_the_right() {
    let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
    // The client wrote "6.6.6.6" itself; 198.51.100.7 is who reached the first trusted proxy.
    let h = headers(&[
        ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.1.5"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example.com"),
    ]);
    let origin = resolve(&h, peer("10.1.2.3"), &trusted);
    assert_eq!(origin.chain, [ip("198.51.100.7"), ip("192.168.1.5"), ip("10.1.2.3")]);
    assert_eq!(client_ip(&h, peer("10.1.2.3"), &trusted), Some(ip("198.51.100.7")));
    assert_eq!(client_ip(&h, peer("203.0.113.9"), &trusted), Some(ip("203.0.113.9")), "untrusted: the peer");
    assert_eq!((origin.proto, origin.host.as_deref()), ("https", Some("api.example.com")));
    let mut upstream = h.clone();
    apply(&mut upstream, &origin, ForwardedHeaders::XForwarded);
    assert_eq!(upstream["x-forwarded-for"], "198.51.100.7, 192.168.1.5, 10.1.2.3", "the spoofed part is dropped");
    assert!(!upstream.contains_key("forwarded"));
}

#[test]
fn rfc7239_forwarded_is_read_from_trusted_peers_and_written_with_quoted_ipv6() {
    let trusted = TrustedProxies::parse("::1").unwrap();
    let h = headers(&[("forwarded", "for=192.0.2.60;proto=https;host=\"api.example.com:8443\"")]);
    let origin = resolve(&h, Some(Peer { ip: ip("::1"), https: false }), &trusted);
    assert_eq!(origin.chain, [ip("192.0.2.60"), ip("::1")]);
    let mut upstream = HeaderMap::new();
    apply(&mut upstream, &origin, ForwardedHeaders::Forwarded);
    assert_eq!(upstream["forwarded"], "for=192.0.2.60;proto=https;host=\"api.example.com:8443\", for=\"[::1]\"");
    assert!(!upstream.contains_key("x-forwarded-for"));
}

#[test]
fn an_unreadable_hop_stops_the_walk_and_nothing_left_of_it_is_believed() {
    let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let h = headers(&[("x-forwarded-for", "1.1.1.1, unknown, 10.0.0.2")]);
    assert_eq!(resolve(&h, peer("10.0.0.1"), &trusted).client(), Some(ip("10.0.0.2")));
    let h = headers(&[("x-forwarded-for", "[2001:db8::7]:4711, 10.0.0.2:80")]);
    assert_eq!(resolve(&h, peer("10.0.0.1"), &trusted).client(), Some(ip("2001:db8::7")));
}

#[test]
fn none_sends_nothing_but_still_strips_what_the_client_sent() {
    let mut h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=1.2.3.4")]);
    let origin = resolve(&h, peer("203.0.113.9"), &TrustedProxies::default());
    apply(&mut h, &origin, ForwardedHeaders::None);
    assert!(h.is_empty());
}

#[test]
fn trusted_proxies_parse_addresses_and_ranges_and_name_what_is_wrong() {
    let trusted = TrustedProxies::parse(" 10.0.0.0/8 ,, 2001:db8::/32, 127.0.0.1").unwrap();
    assert!(trusted.contains(ip("10.200.0.1")) && trusted.contains(ip("2001:db8::1")));
    assert!(trusted.contains(ip("::ffff:127.0.0.1")), "IPv4-mapped peers match their IPv4 entry");
    assert!(!trusted.contains(ip("11.0.0.1")));
    assert!(TrustedProxies::parse("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
}

#[test]
fn without_a_peer_only_the_scheme_and_host_are_sent() {
    let h = headers(&[("host", "gw.test"), ("x-forwarded-for", "1.2.3.4")]);
    let origin = resolve(&h, None, &TrustedProxies::default());
    let mut upstream = h.clone();
    apply(&mut upstream, &origin, ForwardedHeaders::Both);
    assert!(!upstream.contains_key("x-forwarded-for"));
    assert_eq!(upstream["forwarded"], "proto=http;host=gw.test");
}
