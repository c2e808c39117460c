//! Forwarded headers: who the client is, and what the upstream is told about it.
//!
//! A client can write `X-Forwarded-For: 10.0.0.1` itself, so forwarding fields are believed
//! only from a **trusted proxy** (`GATEHOUSE_TRUSTED_PROXIES`, addresses or CIDR ranges, e.g.
//! the load balancer in front of the gateway). From anyone else they are dropped and the
//! client is the connection's peer. Through trusted proxies the client is found the way
//! nginx's `real_ip_recursive` finds it: walking `X-Forwarded-For` (or `Forwarded: for=`)
//! from the right, past every trusted hop, to the first address that is not one; what lies
//! left of it was written by someone untrusted and is never passed on.
//!
//! The upstream then gets fresh fields, in the form its API asks for ([`ForwardedHeaders`]):
//! the client, the trusted hops after it, and the peer, as `X-Forwarded-For`, with
//! `X-Forwarded-Proto` and `X-Forwarded-Host`, and/or as one RFC 7239 `Forwarded` element per
//! hop (`proto` and `host`, which describe the client's own request, on the first). Every
//! client-sent copy, `X-Real-IP` included, is removed first.

use std::net::IpAddr;

use http::header::{FORWARDED, HOST};
use http::{HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The connection a request arrived on, put in the request's extensions by the runtime (the
/// native server's socket peer; at the edge, Cloudflare's `CF-Connecting-IP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub ip: IpAddr,
    /// The client reached the gateway over TLS.
    pub https: bool,
}

/// The client's address as the gateway resolved it, through trusted proxies: put in the
/// response's extensions for the runtime's access log, and what an IP rule must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Which forwarding fields an API's upstream gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ForwardedHeaders {
    /// `X-Forwarded-For`, `-Proto` and `-Host`: what most upstream frameworks read.
    #[default]
    XForwarded,
    /// RFC 7239 `Forwarded` only.
    Forwarded,
    Both,
    /// Nothing: client-sent copies are still removed.
    None,
}

/// Addresses whose forwarding fields are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 192.168.1.5, ::1`: addresses or CIDR ranges, comma separated.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            // `ipnet` parses CIDR notation; a bare address is a /32 or /128.
            let net = item.parse::<IpNet>().or_else(|_| item.parse::<IpAddr>().map(IpNet::from));
            nets.push(net.map_err(|_| format!("{item:?} is not an IP address or CIDR range"))?);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical(); // an IPv4-mapped IPv6 peer matches its IPv4 range
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// Who sent a request and how, as far as the gateway can tell. The default knows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client, then each trusted hop after it, ending with the peer; empty when the
    /// runtime gave no peer.
    pub chain: Vec<IpAddr>,
    /// `https` or `http`, as the client's request arrived.
    pub proto: &'static str,
    /// The `Host` the client asked for.
    pub host: Option<String>,
}

impl Default for Origin {
    fn default() -> Self {
        Origin { chain: Vec::new(), proto: "http", host: None }
    }
}

impl Origin {
    pub fn client(&self) -> Option<IpAddr> {
        self.chain.first().copied()
    }
}

/// The client's address alone, as [`resolve`] finds it, without allocating for the usual
/// case of a peer that is not a trusted proxy (asked on every request, for the log).
pub fn client_ip(headers: &HeaderMap, peer: Option<Peer>, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(peer.ip) {
        return Some(peer.ip);
    }
    resolve(headers, Some(peer), trusted).client()
}

/// Reads the request's origin: from its forwarding fields only when `peer` is trusted.
pub fn resolve(headers: &HeaderMap, peer: Option<Peer>, trusted: &TrustedProxies) -> Origin {
    let own_host = headers.get(HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let Some(peer) = peer else {
        return Origin { chain: Vec::new(), proto: "http", host: own_host };
    };
    let proto_of_peer = if peer.https { "https" } else { "http" };
    if !trusted.contains(peer.ip) {
        return Origin { chain: vec![peer.ip], proto: proto_of_peer, host: own_host };
    }
    let claimed = claimed_hops(headers);
    let mut chain = vec![peer.ip];
    for hop in claimed.iter().rev() {
        let Some(ip) = hop else { break }; // unreadable: nothing left of it can be believed
        chain.push(*ip);
        if !trusted.contains(*ip) {
            break;
        }
    }
    chain.reverse();
    let proto = match last_value(headers, "x-forwarded-proto").or_else(|| forwarded_param(headers, "proto")) {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        _ => proto_of_peer,
    };
    let host = last_value(headers, "x-forwarded-host").or_else(|| forwarded_param(headers, "host")).or(own_host);
    Origin { chain, proto, host }
}

/// The hops a trusted peer says came before it: `X-Forwarded-For`, else `Forwarded`'s
/// `for=` values, left to right; `None` for one that is not an address (`unknown`, an
/// obfuscated name).
fn claimed_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff = joined(headers, "x-forwarded-for");
    if let Some(list) = xff {
        return list.split(',').map(|hop| parse_node(hop.trim())).collect();
    }
    forwarded_elements(headers)
        .iter()
        .map(|element| element_param(element, "for").and_then(|node| parse_node(&node)))
        .collect()
}

/// An address as forwarding fields write it: `203.0.113.7`, `203.0.113.7:443`, `2001:db8::1`
/// or `[2001:db8::1]:443`, optionally in quotes.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(v6) = node.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    node.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok())
}

/// Removes every client-sent forwarding field and writes the upstream's, as `choice` says.
pub fn apply(headers: &mut HeaderMap, origin: &Origin, choice: ForwardedHeaders) {
    for name in CLIENT_SENT {
        headers.remove(name);
    }
    if matches!(choice, ForwardedHeaders::XForwarded | ForwardedHeaders::Both) {
        let chain: Vec<String> = origin.chain.iter().map(IpAddr::to_string).collect();
        insert(headers, "x-forwarded-for", (!chain.is_empty()).then(|| chain.join(", ")));
        insert(headers, "x-forwarded-proto", Some(origin.proto.to_owned()));
        insert(headers, "x-forwarded-host", origin.host.clone());
    }
    if matches!(choice, ForwardedHeaders::Forwarded | ForwardedHeaders::Both) {
        insert(headers, FORWARDED.as_str(), Some(forwarded_value(origin)));
    }
}

/// Fields a client may send to pass as another address, scheme or host.
const CLIENT_SENT: [&str; 5] = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip"];

/// One RFC 7239 element per hop; the first also carries the client request's proto and host.
fn forwarded_value(origin: &Origin) -> String {
    let node = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("\"[{v6}]\""),
    };
    let mut elements: Vec<String> = origin.chain.iter().map(|ip| format!("for={}", node(ip))).collect();
    let mut first = elements.first().cloned().unwrap_or_default();
    for (param, value) in [("proto", Some(origin.proto.to_owned())), ("host", origin.host.clone())] {
        if let Some(value) = value {
            if !first.is_empty() {
                first.push(';');
            }
            first.push_str(&format!("{param}={}", quote_if_needed(&value)));
        }
    }
    match elements.first_mut() {
        Some(slot) => *slot = first,
        None => elements.push(first),
    }
    elements.join(", ")
}

/// A `Forwarded` value as a token, or a quoted string when it holds other characters.
fn quote_if_needed(value: &str) -> String {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !value.is_empty() && value.chars().all(token) {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace(['\\', '"'], ""))
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: Option<String>) {
    if let Some(value) = value.and_then(|v| HeaderValue::try_from(v).ok()) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::cache::fields::joined(headers, name).map(|v| v.into_owned())
}

/// The last (nearest) member of a list field, as the proxy closest to us wrote it.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let list = joined(headers, name)?;
    let last = list.rsplit(',').next()?.trim();
    (!last.is_empty()).then(|| last.to_owned())
}

fn forwarded_elements(headers: &HeaderMap) -> Vec<String> {
    joined(headers, "forwarded").map_or_else(Vec::new, |v| v.split(',').map(str::to_owned).collect())
}

/// `param`'s value in the nearest `Forwarded` element.
fn forwarded_param(headers: &HeaderMap, param: &str) -> Option<String> {
    forwarded_elements(headers).last().and_then(|element| element_param(element, param))
}

fn element_param(element: &str, param: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case(param).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
#[path = "forwarded_tests.rs"]
mod tests;
