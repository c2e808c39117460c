//! The Lambda functions' configuration, parsed in one place from a lookup function (the
//! process environment in Lambda, a `HashMap` in tests), reporting every problem at once.

use gatehouse_core::keys::{hash_secret, KeyHash};

use crate::dynamo::DynamoTables;

/// Environment variable names (set by `infra/template.yaml`).
pub mod names {
    pub const CATALOG_TABLE: &str = "GATEHOUSE_CATALOG_TABLE";
    pub const USAGE_TABLE: &str = "GATEHOUSE_USAGE_TABLE";
    /// Comma-separated admin bearer tokens (secret); only their SHA-256 hashes are kept.
    pub const ADMIN_TOKENS: &str = "GATEHOUSE_ADMIN_TOKENS";
    /// HMAC key the edge signs usage batches with (secret; the Worker's GATEHOUSE_INGEST_SECRET).
    pub const INGEST_SECRET: &str = "GATEHOUSE_INGEST_SECRET";
    pub const CF_ACCOUNT_ID: &str = "GATEHOUSE_CF_ACCOUNT_ID";
    pub const CF_KV_NAMESPACE_ID: &str = "GATEHOUSE_CF_KV_NAMESPACE_ID";
    /// Cloudflare API token with "Workers KV Storage: Edit" (secret).
    pub const CF_API_TOKEN: &str = "GATEHOUSE_CF_API_TOKEN";
    /// Base URL of the Cloudflare API; overridden in tests.
    pub const CF_API_BASE: &str = "GATEHOUSE_CF_API_BASE";
    /// Base URL of the Worker, e.g. `https://api.example.com` (for revocation notices).
    pub const EDGE_URL: &str = "GATEHOUSE_EDGE_URL";
    /// HMAC key for revocation notices (secret; the Worker's GATEHOUSE_CONTROL_SECRET).
    pub const CONTROL_SECRET: &str = "GATEHOUSE_CONTROL_SECRET";
    /// Where people reach the portal, e.g. `https://developer.example.com` (its mail links).
    pub const PORTAL_URL: &str = "GATEHOUSE_PORTAL_URL";
    /// The gateway's public URL, for the portal's try-it console and examples.
    pub const GATEWAY_URL: &str = "GATEHOUSE_GATEWAY_URL";
    pub const SITE_NAME: &str = "GATEHOUSE_SITE_NAME";
    /// SMTP server for the portal's mail (secret: it may hold credentials), e.g.
    /// `smtps://user:pass@email-smtp.eu-west-1.amazonaws.com` for Amazon SES.
    pub const SMTP_URL: &str = "GATEHOUSE_SMTP_URL";
    pub const MAIL_FROM: &str = "GATEHOUSE_MAIL_FROM";
    /// The portal's terms of use, plain text (shown at /terms; signing up accepts them).
    pub const TERMS: &str = "GATEHOUSE_TERMS";
    /// Email domains developers may sign up with, comma separated; unset: any.
    pub const SIGNUP_DOMAINS: &str = "GATEHOUSE_SIGNUP_DOMAINS";
    // Staff sign-in reads `GATEHOUSE_OIDC_*` (`gatehouse_admin::staff::names`).
}

/// How the portal presents itself and sends mail; sign-in needs `public_url` and `smtp_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalConfig {
    pub public_url: Option<String>,
    pub gateway_url: Option<String>,
    pub site_name: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub terms: Option<String>,
    /// Lower case; empty: any address may sign up.
    pub signup_domains: Vec<String>,
}

/// Where and how to publish to the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    pub api_base: String,
    pub account_id: String,
    pub namespace_id: String,
    pub api_token: String,
    pub edge_url: String,
    pub control_secret: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub tables: DynamoTables,
    pub admin_token_hashes: Vec<KeyHash>,
    pub ingest_secret: Option<Vec<u8>>,
    /// `None` only when no Cloudflare setting is given at all (a control plane without an edge).
    pub edge: Option<EdgeConfig>,
    pub portal: PortalConfig,
    /// Staff sign-in with the company's identity provider; `None`: admin tokens only.
    pub staff_sign_in: Option<gatehouse_admin::staff::StaffSignInSettings>,
}

/// A setting's trimmed value; empty counts as missing.
fn setting(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn read_tables(lookup: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> DynamoTables {
    let mut need = |name: &str| {
        setting(lookup, name).unwrap_or_else(|| {
            problems.push(format!("{name} is required"));
            String::new()
        })
    };
    DynamoTables { catalog: need(names::CATALOG_TABLE), usage: need(names::USAGE_TABLE) }
}

/// The table names alone: all the compaction function needs (it gets no secret).
pub fn tables_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<DynamoTables, Vec<String>> {
    let mut problems = Vec::new();
    let tables = read_tables(&lookup, &mut problems);
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

impl Config {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let tables = read_tables(&lookup, &mut problems);
        let get = |name: &str| setting(&lookup, name);
        let mut need = |name: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is required"));
                String::new()
            })
        };
        let tokens = need(names::ADMIN_TOKENS);
        let admin_token_hashes = tokens.split(',').map(str::trim).filter(|t| !t.is_empty()).map(hash_secret).collect();
        let edge_names = [
            names::CF_ACCOUNT_ID,
            names::CF_KV_NAMESPACE_ID,
            names::CF_API_TOKEN,
            names::EDGE_URL,
            names::CONTROL_SECRET,
        ];
        let edge = if edge_names.iter().all(|n| get(n).is_none()) {
            None
        } else {
            Some(EdgeConfig {
                api_base: get(names::CF_API_BASE).unwrap_or_else(|| "https://api.cloudflare.com/client/v4".into()),
                account_id: need(names::CF_ACCOUNT_ID),
                namespace_id: need(names::CF_KV_NAMESPACE_ID),
                api_token: need(names::CF_API_TOKEN),
                edge_url: need(names::EDGE_URL),
                control_secret: need(names::CONTROL_SECRET).into_bytes(),
            })
        };
        let ingest_secret = get(names::INGEST_SECRET).map(String::into_bytes);
        let portal = PortalConfig {
            public_url: get(names::PORTAL_URL),
            gateway_url: get(names::GATEWAY_URL),
            site_name: get(names::SITE_NAME),
            smtp_url: get(names::SMTP_URL),
            mail_from: get(names::MAIL_FROM),
            terms: get(names::TERMS),
            signup_domains: gatehouse_admin::parse_domains(&get(names::SIGNUP_DOMAINS).unwrap_or_default())
                .unwrap_or_else(|e| {
                    problems.push(format!("{}: {e}", names::SIGNUP_DOMAINS));
                    Vec::new()
                }),
        };
        let staff_sign_in = gatehouse_admin::staff::StaffSignInSettings::from_lookup(&lookup).unwrap_or_else(|more| {
            problems.extend(more);
            None
        });
        for (name, url) in [(names::PORTAL_URL, &portal.public_url), (names::GATEWAY_URL, &portal.gateway_url)] {
            if url.as_deref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
                problems.push(format!("{name} must be an http(s) URL"));
            }
        }
        if portal.smtp_url.is_some() && portal.mail_from.is_none() {
            problems.push(format!("{} is required with {}", names::MAIL_FROM, names::SMTP_URL));
        }
        if problems.is_empty() {
            Ok(Config { tables, admin_token_hashes, ingest_secret, edge, portal, staff_sign_in })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn every_missing_setting_is_reported_at_once() {
        let env = HashMap::from([(names::CF_ACCOUNT_ID, "acc")]);
        let problems = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).expect_err("incomplete");
        assert_eq!(problems.len(), 7, "{problems:?}");
    }

    #[test]
    fn tokens_are_kept_only_as_hashes() {
        let env =
            HashMap::from([(names::CATALOG_TABLE, "c"), (names::USAGE_TABLE, "u"), (names::ADMIN_TOKENS, " t1 , t2 ")]);
        let config = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).expect("valid");
        assert_eq!(config.admin_token_hashes, vec![hash_secret("t1"), hash_secret("t2")]);
        assert_eq!((config.edge, config.ingest_secret), (None, None));
    }

    #[test]
    fn staff_sign_in_and_sign_up_domains_come_from_the_environment_and_their_problems_are_reported() {
        let base = [(names::CATALOG_TABLE, "c"), (names::USAGE_TABLE, "u"), (names::ADMIN_TOKENS, "t1")];
        let config = Config::from_lookup(|n| HashMap::from(base).get(n).map(|v| v.to_string())).expect("valid");
        assert_eq!((config.staff_sign_in, config.portal.signup_domains), (None, vec![]), "both off by default");
        let mut env = HashMap::from(base);
        env.extend([
            ("GATEHOUSE_OIDC_ISSUER", "https://idp.example.com"),
            ("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse"),
            ("GATEHOUSE_OIDC_CLIENT_SECRET", "secret"),
            ("GATEHOUSE_OIDC_ROLES", "admins=owner"),
            (names::SIGNUP_DOMAINS, "Example.com"),
        ]);
        let config = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).expect("valid");
        assert_eq!(config.staff_sign_in.map(|s| s.client_id), Some("gatehouse".to_owned()));
        assert_eq!(config.portal.signup_domains, ["example.com"]);
        env.remove("GATEHOUSE_OIDC_ROLES");
        env.insert(names::SIGNUP_DOMAINS, "not a domain");
        let problems = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).expect_err("invalid");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn compaction_needs_only_the_table_names() {
        let env = HashMap::from([(names::CATALOG_TABLE, "c"), (names::USAGE_TABLE, " u ")]);
        let tables = tables_from_lookup(|n| env.get(n).map(|v| v.to_string())).expect("valid");
        assert_eq!(tables, DynamoTables { catalog: "c".into(), usage: "u".into() });
        assert_eq!(tables_from_lookup(|_| None).expect_err("missing").len(), 2);
    }
}
