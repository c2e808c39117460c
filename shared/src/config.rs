//! Gateway settings shared by every runtime, parsed from one lookup function (process
//! environment, Worker `env`, or a map in tests), reporting every problem at once.

/// Names of the settings, as environment variables.
pub mod names {
    pub const MAX_BODY_BYTES: &str = "GATEHOUSE_MAX_BODY_BYTES";
    pub const IDENTITY_SECRET: &str = "GATEHOUSE_IDENTITY_SECRET";
    pub const PORTAL_ORIGIN: &str = "GATEHOUSE_PORTAL_ORIGIN";
    pub const TRUSTED_PROXIES: &str = "GATEHOUSE_TRUSTED_PROXIES";
}

use crate::pipeline::forwarded::TrustedProxies;

/// Data-plane settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Request bodies above this are refused with 413 before reaching the upstream.
    pub max_body_bytes: usize,
    /// Key for the signed identity header sent upstream. Never logged.
    pub identity_secret: Vec<u8>,
    /// The developer portal's origin (`scheme://host[:port]`, as browsers send it in
    /// `Origin`): the only origin the gateway answers CORS for (see `pipeline::cors`). `None`
    /// turns CORS off.
    pub portal_origin: Option<String>,
    /// Peers whose `X-Forwarded-*`/`Forwarded` fields are believed (addresses or CIDR
    /// ranges); from anyone else those fields are dropped. Empty by default.
    pub trusted_proxies: TrustedProxies,
}

impl GatewayConfig {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<GatewayConfig, Vec<String>> {
        let mut errors = Vec::new();
        let max_body_bytes = match lookup(names::MAX_BODY_BYTES) {
            None => Self::DEFAULT_MAX_BODY_BYTES,
            Some(v) => v.parse().unwrap_or_else(|_| {
                errors.push(format!("{} must be a number of bytes, got {v:?}", names::MAX_BODY_BYTES));
                0
            }),
        };
        let identity_secret = lookup(names::IDENTITY_SECRET).unwrap_or_default().into_bytes();
        if identity_secret.len() < 16 {
            errors.push(format!("{} must be set to at least 16 bytes", names::IDENTITY_SECRET));
        }
        let portal_origin = lookup(names::PORTAL_ORIGIN).filter(|v| !v.trim().is_empty()).and_then(|v| {
            crate::pipeline::cors::parse_origin(&v)
                .map_err(|e| errors.push(format!("{} {e}", names::PORTAL_ORIGIN)))
                .ok()
        });
        let trusted_proxies = TrustedProxies::parse(&lookup(names::TRUSTED_PROXIES).unwrap_or_default())
            .unwrap_or_else(|e| {
                errors.push(format!("{}: {e}", names::TRUSTED_PROXIES));
                TrustedProxies::default()
            });
        if errors.is_empty() {
            Ok(GatewayConfig { max_body_bytes, identity_secret, portal_origin, trusted_proxies })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_config_problem_is_reported_at_once() {
        let env = HashMap::from([(names::MAX_BODY_BYTES, "lots")]);
        let errors = GatewayConfig::from_lookup(|n| env.get(n).map(|s| s.to_string())).expect_err("invalid");
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn defaults_apply_when_unset() {
        let env = HashMap::from([(names::IDENTITY_SECRET, "0123456789abcdef")]);
        let c = GatewayConfig::from_lookup(|n| env.get(n).map(|s| s.to_string())).expect("valid");
        assert_eq!(c.max_body_bytes, GatewayConfig::DEFAULT_MAX_BODY_BYTES);
        assert_eq!(c.portal_origin, None);
    }

    #[test]
    fn the_portal_origin_is_read_in_the_form_browsers_send() {
        let env = HashMap::from([
            (names::IDENTITY_SECRET, "0123456789abcdef"),
            (names::PORTAL_ORIGIN, "http://127.0.0.1:8081/"),
        ]);
        let c = GatewayConfig::from_lookup(|n| env.get(n).map(|s| s.to_string())).expect("valid");
        assert_eq!(c.portal_origin.as_deref(), Some("http://127.0.0.1:8081"));
        let env =
            HashMap::from([(names::IDENTITY_SECRET, "0123456789abcdef"), (names::PORTAL_ORIGIN, "portal.test/x")]);
        let errors = GatewayConfig::from_lookup(|n| env.get(n).map(|s| s.to_string())).expect_err("invalid");
        assert!(errors[0].starts_with(names::PORTAL_ORIGIN), "{errors:?}");
    }
}
