//! Gateway settings shared by every runtime, parsed from one lookup function (process
//! environment, Worker `env`, or a map in tests), reporting every problem at once.

/// Names of the settings, as environment variables.
pub mod names {
    pub const MAX_BODY_BYTES: &str = "GATEHOUSE_MAX_BODY_BYTES";
    pub const IDENTITY_SECRET: &str = "GATEHOUSE_IDENTITY_SECRET";
}

/// Data-plane settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Request bodies above this are refused with 413 before reaching the upstream.
    pub max_body_bytes: usize,
    /// Key for the signed identity header sent upstream. Never logged.
    pub identity_secret: Vec<u8>,
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
        if errors.is_empty() {
            Ok(GatewayConfig { max_body_bytes, identity_secret })
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
    }
}
