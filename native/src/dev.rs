//! `gatehouse dev`: the whole product on one machine, from one command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gatehouse_core::config::GatewayConfig;

use crate::app::{self, AppConfig};
use crate::cli::CliError;
pub use crate::secrets::ADMIN_TOKEN_FILE;

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where the SQLite store, the admin token and the demo key live.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = ".gatehouse")]
    pub data_dir: PathBuf,
    #[arg(long, env = "GATEHOUSE_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    #[arg(long, env = "GATEHOUSE_ADMIN_ADDR", default_value = "127.0.0.1:8081")]
    pub admin_addr: SocketAddr,
    #[arg(long, env = "GATEHOUSE_DEMO_UPSTREAM_ADDR", default_value = "127.0.0.1:8082")]
    pub demo_upstream_addr: SocketAddr,
    /// Do not start the demo upstream or seed the demo API.
    #[arg(long)]
    pub no_demo: bool,
    /// Seconds between usage flushes to the store: the most usage a crash can lose.
    #[arg(long, env = "GATEHOUSE_USAGE_FLUSH_SECS", default_value_t = 1)]
    pub usage_flush_secs: u64,
    /// Milliseconds between saves of changed quota counts: a crash can admit again what was
    /// admitted in this interval (quotas with `durable: exact` never).
    #[arg(long, env = "GATEHOUSE_QUOTA_FLUSH_MS", default_value_t = 1000)]
    pub quota_flush_ms: u64,
    /// Memory for the response cache, in MiB.
    #[arg(long, env = "GATEHOUSE_CACHE_MIB", default_value_t = 64)]
    pub cache_mib: usize,
    /// Gateway worker threads; defaults to the number of CPUs.
    #[arg(long, env = "GATEHOUSE_GATEWAY_THREADS")]
    pub gateway_threads: Option<usize>,
    /// Largest request body the gateway accepts, in bytes.
    #[arg(long, env = "GATEHOUSE_MAX_BODY_BYTES", default_value_t = GatewayConfig::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// SMTP server for the portal's mail (sign-in links), as `smtp://host:port`,
    /// `smtp://user:pass@host:587?tls=required` or `smtps://…`. Without one, each message is
    /// written to the `outbox/` folder of the data dir.
    #[arg(long, env = "GATEHOUSE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender of the portal's mail.
    #[arg(long, env = "GATEHOUSE_MAIL_FROM", default_value = app::DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// For tests only (hidden): seconds a sign-in link works, instead of 15 minutes, so a
    /// browser test sees an expired link refused without waiting.
    #[arg(long, env = "GATEHOUSE_SIGNIN_LINK_TTL_SECS", hide = true, default_value_t = app::DEFAULT_SIGNIN_LINK_TTL_SECS)]
    pub signin_link_ttl_secs: u64,
    /// A plain-text file with the portal's terms of use (shown at /terms; signing up accepts
    /// them).
    #[arg(long, env = "GATEHOUSE_TERMS_FILE")]
    pub terms_file: Option<PathBuf>,
    /// The developer portal's origin, the only one the gateway answers CORS for (the portal's
    /// try-it console calls the gateway from the browser). Defaults to the control plane's
    /// own address, where `gatehouse dev` serves the portal.
    #[arg(long, env = "GATEHOUSE_PORTAL_ORIGIN")]
    pub portal_origin: Option<String>,
    /// Proxies whose `X-Forwarded-For`/`Forwarded` the gateway believes, as addresses or CIDR
    /// ranges, comma separated (e.g. `10.0.0.0/8,127.0.0.1`). From any other peer those
    /// fields are dropped and the client is the connection's peer.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Email domains developers may sign up with, comma separated (e.g. `example.com`): an
    /// address elsewhere gets no account. Empty (the default): any address may sign up.
    #[arg(long, env = "GATEHOUSE_SIGNUP_DOMAINS", default_value = "")]
    pub signup_domains: String,
}

/// Staff sign-in from the `GATEHOUSE_OIDC_*` environment variables (docs/audiences.md).
pub(crate) fn staff_sign_in(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<gatehouse_admin::staff::StaffSignInSettings>, CliError> {
    gatehouse_admin::staff::StaffSignInSettings::from_lookup(lookup)
        .map_err(|problems| CliError::Usage(problems.join("; ")))
}

/// The portal origin to allow: the flag's, checked, or `http://<admin addr>`.
fn portal_origin(args: &DevArgs) -> Result<String, CliError> {
    let given = args.portal_origin.clone().unwrap_or_else(|| format!("http://{}", args.admin_addr));
    gatehouse_core::pipeline::cors::parse_origin(&given).map_err(|e| CliError::Usage(format!("--portal-origin {e}")))
}

pub async fn run(args: DevArgs) -> Result<(), CliError> {
    let identity_secret = match std::env::var(gatehouse_core::config::names::IDENTITY_SECRET) {
        Ok(secret) => secret,
        Err(_) => crate::secrets::identity_secret(&args.data_dir)
            .or_else(|_| {
                crate::secrets::create_data_dir(&args.data_dir)
                    .and_then(|_| crate::secrets::identity_secret(&args.data_dir))
            })
            .map_err(|e| CliError::Usage(format!("cannot create the identity secret: {e}")))?,
    };
    let demo_key_file = args.data_dir.join(crate::secrets::DEMO_KEY_FILE);
    let portal_origin = Some(portal_origin(&args)?);
    let trusted_proxies = gatehouse_core::pipeline::forwarded::TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| CliError::Usage(format!("--trusted-proxies: {e}")))?;
    let config =
        AppConfig {
            data_dir: args.data_dir,
            gateway_addr: args.gateway_addr,
            admin_addr: args.admin_addr,
            demo_upstream_addr: args.demo_upstream_addr,
            demo: !args.no_demo,
            usage_flush: Duration::from_secs(args.usage_flush_secs.max(1)),
            quota_flush: Duration::from_millis(args.quota_flush_ms.max(1)),
            cache_max_bytes: args.cache_mib * 1024 * 1024,
            gateway_threads: args
                .gateway_threads
                .unwrap_or_else(|| std::thread::available_parallelism().map(usize::from).unwrap_or(1)),
            gateway: GatewayConfig {
                max_body_bytes: args.max_body_bytes,
                identity_secret: identity_secret.into_bytes(),
                portal_origin,
                trusted_proxies,
            },
            admin_read_timeout: crate::gateway::READ_TIMEOUT,
            terms: match &args.terms_file {
                Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                    CliError::Usage(format!("cannot read the terms of use from {}: {e}", path.display()))
                })?),
                None => None,
            },
            smtp_url: args.smtp_url,
            mail_from: args.mail_from,
            signin_link_ttl: Duration::from_secs(args.signin_link_ttl_secs.max(1)),
            signup_domains: gatehouse_admin::parse_domains(&args.signup_domains)
                .map_err(|e| CliError::Usage(format!("--signup-domains: {e}")))?,
            staff_sign_in: staff_sign_in(|name| std::env::var(name).ok())?,
            jwks_unknown_kid_refetch: app::DEFAULT_JWKS_UNKNOWN_KID_REFETCH,
            admin_auth: app::AdminAuth::DataDir,
            serving: app::Serving::default(),
            // Local development: a webhook receiver on this machine is the common case.
            alerts: crate::alerting::AlertTimers { private_webhooks: true, ..Default::default() },
        };
    let running = app::start(config).await?;
    eprintln!("gateway   http://{}", running.gateway_addr);
    eprintln!("portal    http://{}/", running.admin_addr);
    eprintln!("admin API http://{}/v1 (bearer token in the data dir: {ADMIN_TOKEN_FILE})", running.admin_addr);
    if let Some(addr) = running.demo_upstream_addr {
        eprintln!(
            "demo      curl -H \"X-API-Key: $(cat {})\" http://{}/demo/hello  (upstream {addr})",
            demo_key_file.display(),
            running.gateway_addr
        );
    }
    running.run_until_signal().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::DevArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        dev: DevArgs,
    }

    /// The README promises that a crash loses at most 1 s of usage and over-admits at most
    /// 1 s of quota traffic; these defaults are that promise.
    #[test]
    fn defaults_bound_what_a_crash_loses_to_one_second() {
        let cli = Cli::try_parse_from(["gatehouse"]).expect("no flags needed");
        assert_eq!(cli.dev.usage_flush_secs, 1);
        assert_eq!(cli.dev.quota_flush_ms, 1000);
    }

    /// Issue 17 promises sign-in links that last 15 minutes; only a test shortens them.
    #[test]
    fn sign_in_links_last_fifteen_minutes_unless_a_test_says_otherwise() {
        let cli = Cli::try_parse_from(["gatehouse"]).expect("no flags needed");
        assert_eq!(cli.dev.signin_link_ttl_secs, 15 * 60);
        let cli = Cli::try_parse_from(["gatehouse", "--signin-link-ttl-secs", "3"]).expect("hidden flag");
        assert_eq!(cli.dev.signin_link_ttl_secs, 3);
    }

    /// The portal is served on the control-plane address, so that is the origin its try-it
    /// console calls the gateway from.
    #[test]
    fn the_portal_origin_defaults_to_the_control_plane_address() {
        let cli = Cli::try_parse_from(["gatehouse", "--admin-addr", "127.0.0.1:9091"]).expect("flags");
        assert_eq!(super::portal_origin(&cli.dev).expect("valid"), "http://127.0.0.1:9091");
        let cli = Cli::try_parse_from(["gatehouse", "--portal-origin", "https://portal.example.com/"]).expect("flags");
        assert_eq!(super::portal_origin(&cli.dev).expect("valid"), "https://portal.example.com");
        let cli = Cli::try_parse_from(["gatehouse", "--portal-origin", "portal.example.com"]).expect("flags");
        assert!(super::portal_origin(&cli.dev).is_err());
    }
}
