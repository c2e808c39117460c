//! `gatehouse serve --config gatehouse.toml`: the production mode. Everything comes from the
//! config file and `GATEHOUSE_*` variables ([`config`]); no demo data is made and no admin
//! token is written anywhere (`gatehouse admin bootstrap` issues the first one, or
//! `GATEHOUSE_ADMIN_TOKEN_SHA256` names accepted hashes). SIGHUP reloads the TLS certificates.

pub mod bootstrap;
pub mod config;
mod fields;
mod toml_errors;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use gatehouse_core::config::GatewayConfig;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::pipeline::forwarded::TrustedProxies;

use crate::adapters::upstream::UpstreamTls;
use crate::app::{self, AdminAuth, AppConfig, Serving};
use crate::cli::CliError;
use crate::tls::ServerTls;
use config::{LogFormat, ServeConfig};

/// Hashes (SHA-256, hex) of accepted admin tokens, comma-separated.
pub const ADMIN_TOKEN_SHA256: &str = "GATEHOUSE_ADMIN_TOKEN_SHA256";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The config file (TOML); see docs/serve.md.
    #[arg(long, short, env = "GATEHOUSE_CONFIG")]
    pub config: PathBuf,
}

/// Reads and checks the config file and the environment: every problem at once, one a line.
pub fn load(path: &Path) -> Result<ServeConfig, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read the config file {}: {e}", path.display())))?;
    ServeConfig::parse(&text, |name| std::env::var(name).ok()).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{}: {e}", path.display())).collect();
        CliError::Usage(format!("the config has {} problem(s):\n{}", lines.len(), lines.join("\n")))
    })
}

pub async fn run(args: ServeArgs) -> Result<(), CliError> {
    let config = load(&args.config)?;
    crate::logging::init_serve(config.log.format == LogFormat::Json, &config.log.level);
    let app = app_config(&config)?;
    let (gateway_tls, admin_tls) = (app.serving.gateway_tls.clone(), app.serving.admin_tls.clone());
    let running = app::start(app).await?;
    tracing::info!(gateway = %running.gateway_addr, admin = %running.admin_addr, "serving");
    let reloads = tokio::spawn(reload_on_sighup([gateway_tls, admin_tls].into_iter().flatten().collect()));
    running.run_until_signal().await;
    reloads.abort();
    Ok(())
}

/// What `app::start` needs, from the checked config and the environment's secrets.
fn app_config(config: &ServeConfig) -> Result<AppConfig, CliError> {
    let usage = |e: String| CliError::Usage(e);
    let identity_secret = std::env::var(gatehouse_core::config::names::IDENTITY_SECRET).unwrap_or_default();
    if identity_secret.len() < 16 {
        return Err(usage(format!(
            "{} must hold at least 16 bytes (it signs the identity header upstreams check), e.g. `openssl rand -hex 32`",
            gatehouse_core::config::names::IDENTITY_SECRET
        )));
    }
    let hashes = admin_hashes(std::env::var(ADMIN_TOKEN_SHA256).ok().as_deref()).map_err(usage)?;
    let serving = serving(config)?;
    let scheme = if serving.admin_tls.is_some() { "https" } else { "http" };
    let portal = config.admin.public_url.clone().unwrap_or_else(|| format!("{scheme}://{}", config.admin.addr));
    let portal_origin =
        gatehouse_core::pipeline::cors::parse_origin(&portal).map_err(|e| usage(format!("[admin] public_url {e}")))?;
    Ok(AppConfig {
        data_dir: config.store.dir.clone(),
        gateway_addr: config.gateway.addr,
        admin_addr: config.admin.addr,
        demo_upstream_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)), // no demo in serve
        demo: false,
        usage_flush: Duration::from_secs(1),
        quota_flush: crate::adapters::sqlite_limiter::DEFAULT_FLUSH,
        cache_max_bytes: config.cache.mib * 1024 * 1024,
        gateway_threads: match config.gateway.threads {
            0 => std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            n => n,
        },
        gateway: GatewayConfig {
            max_body_bytes: config.gateway.max_body_bytes,
            identity_secret: identity_secret.into_bytes(),
            portal_origin: Some(portal_origin),
            trusted_proxies: TrustedProxies::parse(&config.gateway.trusted_proxies)
                .map_err(|e| usage(format!("[gateway] trusted_proxies: {e}")))?,
        },
        // The admin port's waits are capped by this; the `[timeouts]` apply below it.
        admin_read_timeout: serving.idle_timeout.max(serving.body_timeout),
        smtp_url: config.store.smtp_url.clone(),
        mail_from: config.store.mail_from.clone(),
        terms: None,
        signin_link_ttl: Duration::from_secs(app::DEFAULT_SIGNIN_LINK_TTL_SECS),
        alerts: Default::default(),
        signup_domains: gatehouse_admin::parse_domains(&config.admin.signup_domains)
            .map_err(|e| usage(format!("[admin] signup_domains: {e}")))?,
        staff_sign_in: crate::dev::staff_sign_in(|name| config.oidc.setting(name))?,
        jwks_unknown_kid_refetch: app::DEFAULT_JWKS_UNKNOWN_KID_REFETCH,
        admin_auth: AdminAuth::Hashes(hashes),
        serving,
    })
}

/// The listeners' TLS, bounds and logs, and how upstreams are verified.
fn serving(config: &ServeConfig) -> Result<Serving, CliError> {
    let usage = CliError::Usage;
    let (t, secs) = (&config.timeouts, Duration::from_secs);
    Ok(Serving {
        gateway_tls: ServerTls::load(&config.gateway.tls()).map_err(usage)?,
        admin_tls: ServerTls::load(&config.admin.tls()).map_err(usage)?,
        header_timeout: secs(t.header_secs.max(1)),
        body_timeout: secs(t.body_secs.max(1)),
        idle_timeout: secs(t.idle_secs.max(1)),
        handshake_timeout: secs(t.handshake_secs.max(1)),
        max_connections: config.connections.max,
        max_connections_per_ip: config.connections.per_ip,
        access_log: config.log.access,
        upstream_tls: UpstreamTls::with_cas(&config.upstream_ca).map_err(usage)?,
        portal_url: config.admin.public_url.clone(),
        gateway_url: config.admin.gateway_url.clone(),
    })
}

/// `GATEHOUSE_ADMIN_TOKEN_SHA256`'s hashes; a malformed one is an error, not ignored.
fn admin_hashes(value: Option<&str>) -> Result<Vec<KeyHash>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    value
        .split(',')
        .map(str::trim)
        .filter(|hex| !hex.is_empty())
        .map(|hex| {
            KeyHash::from_hex(&hex.to_ascii_lowercase())
                .ok_or_else(|| format!("{ADMIN_TOKEN_SHA256}: each hash is 64 hex digits (SHA-256 of the token)"))
        })
        .collect()
}

/// Reloads every listener's certificate and key from their files on each SIGHUP. Connections
/// already open keep their sessions; a file that does not load leaves the old certificate.
async fn reload_on_sighup(tls: Vec<ServerTls>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else { return };
        while hangups.recv().await.is_some() {
            for listener in &tls {
                match listener.reload() {
                    Ok(()) => tracing::info!(?listener, "TLS certificate reloaded"),
                    Err(error) => tracing::error!(?listener, %error, "TLS reload failed; the old certificate stays"),
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tls;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_token_hashes_from_the_environment_are_checked() {
        let hash = gatehouse_core::keys::hash_secret("gha_x");
        let both = format!("{}, {}", hash.as_hex(), hash.as_hex().to_uppercase());
        assert_eq!(admin_hashes(Some(&both)).expect("valid").len(), 2);
        assert!(admin_hashes(Some("abc")).is_err());
        assert!(admin_hashes(None).expect("none").is_empty());
    }
}
