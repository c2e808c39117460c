//! `gatehouse.toml`, the production config: one struct per section, every field defaulted,
//! unknown keys refused, and each setting also read from `GATEHOUSE_<SECTION>_<KEY>` (the
//! environment wins over the file). Problems are all reported at once ([`super::toml_errors`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::fields::field_names;
use super::toml_errors::{self, Overrides};
pub use crate::tls::{ClientAuth, TlsFiles};

/// The whole file. Sections and their keys are documented in docs/serve.md.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    pub gateway: GatewaySection,
    pub admin: AdminSection,
    pub store: StoreSection,
    pub cache: CacheSection,
    pub timeouts: TimeoutsSection,
    pub connections: ConnectionsSection,
    pub log: LogSection,
    pub oidc: OidcSection,
    /// Extra certificate authorities for HTTPS upstreams, by upstream `host:port` (the file
    /// only: a map has no single variable to name it).
    pub upstream_ca: BTreeMap<String, PathBuf>,
}

/// The data plane's listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySection {
    pub addr: SocketAddr,
    /// Worker threads; 0 means one per CPU.
    pub threads: usize,
    pub max_body_bytes: usize,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: `required` (no certificate, no connection) or `optional` (operations
    /// that need one refuse clients without it).
    pub client_auth: ClientAuth,
    /// Proxies in front of the gateway whose `X-Forwarded-*`/`Forwarded` fields are believed:
    /// addresses or CIDR ranges, separated by commas or spaces. Empty: none.
    pub trusted_proxies: String,
}

/// The control plane's listener (admin API, portal, `/healthz`, `/readyz`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    pub addr: SocketAddr,
    /// The portal's public URL (mail links, the gateway's CORS origin); default: its address.
    pub public_url: Option<String>,
    /// The gateway's public URL, which the portal's examples and try-it console call.
    pub gateway_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
    /// Email domains developers may sign up with, comma separated; empty: any.
    pub signup_domains: String,
}

/// Staff sign-in with the company's identity provider (OpenID Connect); see
/// docs/audiences.md. The client secret is not a key here: it comes from
/// `GATEHOUSE_OIDC_CLIENT_SECRET` only, never from a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSection {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub redirect_url: Option<String>,
    pub role_claim: Option<String>,
    /// Claim values and their roles: `gatehouse-owners=owner, platform=api-admin`.
    pub roles: Option<String>,
    pub provider_name: Option<String>,
    pub scopes: Option<String>,
}

impl OidcSection {
    /// The staff sign-in setting named `name` (`GATEHOUSE_OIDC_<KEY>`): this section's key,
    /// or, for the client secret, the environment.
    pub fn setting(&self, name: &str) -> Option<String> {
        use gatehouse_admin::staff::names;
        let value = match name {
            names::ISSUER => &self.issuer,
            names::CLIENT_ID => &self.client_id,
            names::REDIRECT_URL => &self.redirect_url,
            names::ROLE_CLAIM => &self.role_claim,
            names::ROLES => &self.roles,
            names::PROVIDER_NAME => &self.provider_name,
            names::SCOPES => &self.scopes,
            names::CLIENT_SECRET => return std::env::var(name).ok(),
            _ => return None,
        };
        value.clone()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// Holds `gatehouse.db` (and the portal's outbox when no SMTP server is set).
    pub dir: PathBuf,
    /// `smtp://…` or `smtps://…` for the portal's mail.
    pub smtp_url: Option<String>,
    /// The sender of the portal's mail.
    pub mail_from: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSection {
    /// Memory for the response cache.
    pub mib: usize,
}

/// How long a client may keep the server waiting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsSection {
    /// From a request's first byte to the end of its head (slowloris).
    pub header_secs: u64,
    /// How long a body read may make no progress.
    pub body_secs: u64,
    /// How long a keep-alive connection may sit idle between requests.
    pub idle_secs: u64,
    /// How long a TLS handshake may take.
    pub handshake_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionsSection {
    /// Open client connections per listener address and worker process, all clients together.
    pub max: usize,
    /// Open client connections from one IP address.
    pub per_ip: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// `json` (one object per line) or `text`.
    pub format: LogFormat,
    /// A `tracing` filter: `info`, `warn`, `gatehouse=debug,info`…
    pub level: String,
    /// One line per request (time, request id, API, operation, app, status, latency, bytes,
    /// cache status, limit outcome).
    pub access: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            threads: 0,
            max_body_bytes: gatehouse_core::config::GatewayConfig::DEFAULT_MAX_BODY_BYTES,
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            client_auth: ClientAuth::Required,
            trusted_proxies: String::new(),
        }
    }
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            public_url: None,
            gateway_url: None,
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            client_auth: ClientAuth::Required,
            signup_domains: String::new(),
        }
    }
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            dir: PathBuf::from("/var/lib/gatehouse"),
            smtp_url: None,
            mail_from: crate::app::DEFAULT_MAIL_FROM.to_owned(),
        }
    }
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection { mib: 64 }
    }
}

impl Default for TimeoutsSection {
    /// nginx's `client_header_timeout` and `client_body_timeout` are 60 s; a gateway in front
    /// of APIs can ask for a head much sooner. Idle keep-alive: nginx's 75 s, a little less so
    /// that clients (which often keep 90 s) are not the ones to find a half-closed socket.
    fn default() -> Self {
        TimeoutsSection { header_secs: 10, body_secs: 30, idle_secs: 60, handshake_secs: 10 }
    }
}

impl Default for ConnectionsSection {
    /// Total: well under the usual 65,536 descriptor limit with an upstream socket per client.
    /// Per IP: enough for a NAT of busy clients, far from what a slowloris needs.
    fn default() -> Self {
        ConnectionsSection { max: 20_000, per_ip: 256 }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection { format: LogFormat::Json, level: "info".to_owned(), access: true }
    }
}

/// The sections a `GATEHOUSE_<SECTION>_<KEY>` variable can set, with their keys.
fn sections() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("gateway", field_names::<GatewaySection>()),
        ("admin", field_names::<AdminSection>()),
        ("store", field_names::<StoreSection>()),
        ("cache", field_names::<CacheSection>()),
        ("timeouts", field_names::<TimeoutsSection>()),
        ("connections", field_names::<ConnectionsSection>()),
        ("log", field_names::<LogSection>()),
        ("oidc", field_names::<OidcSection>()),
    ]
}

/// The settings `lookup` (the environment) holds, by variable name. Variables that name no
/// setting are not ours (`GATEHOUSE_ADMIN_TOKEN` is the CLI's) and are left alone.
pub fn overrides(lookup: impl Fn(&str) -> Option<String>) -> Overrides {
    let mut entries = Vec::new();
    for (section, keys) in sections() {
        for key in keys {
            let name = format!("GATEHOUSE_{}_{}", section.to_uppercase(), key.to_uppercase());
            if let Some(value) = lookup(&name) {
                entries.push((section.to_owned(), (*key).to_owned(), value, name));
            }
        }
    }
    Overrides { entries }
}

impl GatewaySection {
    pub fn tls(&self) -> TlsFiles {
        TlsFiles {
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            client_ca: self.client_ca.clone(),
            client_auth: self.client_auth,
        }
    }
}

impl AdminSection {
    pub fn tls(&self) -> TlsFiles {
        TlsFiles {
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            client_ca: self.client_ca.clone(),
            client_auth: self.client_auth,
        }
    }
}

impl ServeConfig {
    /// The config from the file's text and the environment (`lookup`), or every problem.
    pub fn parse(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<ServeConfig, Vec<String>> {
        let config: ServeConfig = toml_errors::parse(text, &overrides(lookup))?;
        let mut errors = Vec::new();
        for (name, tls) in [("gateway", config.gateway.tls()), ("admin", config.admin.tls())] {
            if tls.tls_cert.is_some() != tls.tls_key.is_some() {
                errors.push(format!("[{name}]: tls_cert and tls_key go together"));
            }
            if tls.client_ca.is_some() && tls.tls_cert.is_none() {
                errors.push(format!("[{name}]: client_ca needs tls_cert and tls_key"));
            }
        }
        if config.connections.max == 0 || config.connections.per_ip == 0 {
            errors.push("[connections]: max and per_ip must be at least 1".to_owned());
        }
        errors.is_empty().then_some(config).ok_or(errors)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let config = ServeConfig::parse("", env(&[])).expect("valid");
        assert_eq!(config.gateway.addr.port(), 8080);
        assert_eq!(config.timeouts.header_secs, 10);
        assert_eq!(config.connections.per_ip, 256);
        assert_eq!(config.log.format, LogFormat::Json);
        assert!(config.log.access);
    }

    #[test]
    fn every_setting_can_come_from_its_environment_variable() {
        let config = ServeConfig::parse(
            "[gateway]\naddr = \"127.0.0.1:1\"\n",
            env(&[
                ("GATEHOUSE_GATEWAY_ADDR", "127.0.0.1:8443"),
                ("GATEHOUSE_GATEWAY_TLS_CERT", "/etc/cert.pem"),
                ("GATEHOUSE_GATEWAY_TLS_KEY", "/etc/key.pem"),
                ("GATEHOUSE_LOG_FORMAT", "text"),
                ("GATEHOUSE_CONNECTIONS_PER_IP", "3"),
                ("GATEHOUSE_GATEWAY_CLIENT_AUTH", "optional"),
                ("GATEHOUSE_ADMIN_TOKEN", "not a setting"),
            ]),
        )
        .expect("valid");
        assert_eq!(config.gateway.client_auth, ClientAuth::Optional);
        assert_eq!(config.admin.client_auth, ClientAuth::Required, "the default");
        assert_eq!(config.gateway.addr.port(), 8443);
        assert_eq!(config.gateway.tls_key, Some(PathBuf::from("/etc/key.pem")));
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.connections.per_ip, 3);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_all_reported_with_their_lines() {
        let text = "[gateway]\naddr = \"nowhere\"\ntls_cert = \"c.pem\"\nclient_auth = \"sometimes\"\n\n[log]\nformat = \"xml\"\ncolour = true\n";
        let errors = ServeConfig::parse(text, env(&[])).expect_err("invalid");
        assert!(errors.iter().any(|e| e.starts_with("line 2:")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 4:") && e.contains("optional")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 7:")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 8:") && e.contains("colour")), "{errors:?}");
    }

    /// The README's "Running in production" file is a valid config, with what it says.
    #[test]
    fn the_readme_production_config_is_valid() {
        let readme = include_str!("../../../README.md");
        let section = readme.split("## Running in production").nth(1).expect("the section");
        let block = section.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
        assert!(block.lines().count() <= 12, "about ten lines");
        let config = ServeConfig::parse(block, env(&[])).expect("valid");
        assert_eq!(config.gateway.addr.port(), 443);
        assert!(config.gateway.tls_cert.is_some() && config.gateway.tls_key.is_some());
    }

    #[test]
    fn staff_sign_in_comes_from_the_oidc_section_or_its_variables_and_never_takes_a_secret_from_the_file() {
        let text =
            "[oidc]\nissuer = \"https://idp.example.com\"\nclient_id = \"gatehouse\"\nroles = \"admins=owner\"\n";
        let config = ServeConfig::parse(text, env(&[("GATEHOUSE_OIDC_PROVIDER_NAME", "Corp SSO")])).expect("valid");
        assert_eq!(config.oidc.setting("GATEHOUSE_OIDC_ISSUER").as_deref(), Some("https://idp.example.com"));
        assert_eq!(config.oidc.setting("GATEHOUSE_OIDC_PROVIDER_NAME").as_deref(), Some("Corp SSO"));
        let errors = ServeConfig::parse("[oidc]\nclient_secret = \"in a file\"\n", env(&[])).expect_err("refused");
        assert!(errors.iter().any(|e| e.starts_with("line 2:") && e.contains("client_secret")), "{errors:?}");
        let config = ServeConfig::parse("[admin]\nsignup_domains = \"corp.test\"\n", env(&[])).expect("valid");
        assert_eq!(config.admin.signup_domains, "corp.test");
    }

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let errors = ServeConfig::parse("[gateway]\ntls_cert = \"c.pem\"\n", env(&[])).expect_err("invalid");
        assert_eq!(errors, ["[gateway]: tls_cert and tls_key go together"]);
    }
}
