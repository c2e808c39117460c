//! Starting and stopping the whole product on one machine: SQLite store, admin API, gateway,
//! usage flushing and (optionally) the demo upstream. Used by `gatehouse dev` and by the
//! end-to-end tests, which run it on ephemeral 127.0.0.1 ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gatehouse_admin::{
    ensure_catalog_cards, router_with, AdminSettings, AdminState, AlertRunner, MailError, Mailer, OutboxMailer,
    PortalSettings, SmtpMailer,
};
use gatehouse_core::config::GatewayConfig;
use gatehouse_core::pipeline::Gateway;
use gatehouse_core::store::Repo;
use gatehouse_core::time::UnixMillis;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::adapters::clock::{now_millis, SystemClock};
use crate::adapters::memory_cache::MemoryResponseCache;
use crate::adapters::read_model::InProcessReadModel;
use crate::adapters::sqlite_limiter::{self, SqliteLimiter};
use crate::adapters::tokens::JwtVerifier;
use crate::adapters::upstream::PooledUpstream;
use crate::adapters::usage::UsageRecorder;
use crate::admin_server;
use crate::alerting::{self, AlertTimers};
use crate::cli::CliError;
use crate::gateway::{self, NativeAdapters};
use crate::publisher::InProcessPublisher;
use crate::secrets;
use crate::serving::admin_tokens;
pub use crate::serving::{AdminAuth, Serving};
use crate::store::sqlite::SqliteRepo;
use crate::tls::ServerTls;

/// Everything `start` needs. `gatehouse dev` fills it from flags and the environment.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    pub gateway_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub demo_upstream_addr: SocketAddr,
    /// Start the demo upstream and seed the demo API, app and key on an empty store.
    pub demo: bool,
    /// How often aggregated usage is saved: the most usage a crash can lose.
    pub usage_flush: Duration,
    /// How often changed quota counts are saved: what a crash can over-admit (see
    /// [`SqliteLimiter`]).
    pub quota_flush: Duration,
    pub cache_max_bytes: usize,
    /// Gateway worker threads (one runtime and listener each).
    pub gateway_threads: usize,
    pub gateway: GatewayConfig,
    /// How long the admin port waits for a request head (and for a body to keep coming).
    pub admin_read_timeout: Duration,
    /// SMTP server for the portal's mail; `None` writes it to `outbox/` in the data dir.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// The portal's terms of use (plain text).
    pub terms: Option<String>,
    /// How long a portal sign-in link works; only tests set less than the default.
    pub signin_link_ttl: Duration,
    /// Email domains developers may sign up with (lower case); empty: any.
    pub signup_domains: Vec<String>,
    /// Staff sign-in with the company's identity provider; `None`: admin tokens only.
    pub staff_sign_in: Option<gatehouse_admin::staff::StaffSignInSettings>,
    /// How often, at most, an issuer's keys are fetched again for a JWT whose `kid` is not in
    /// them (key rollover): [`DEFAULT_JWKS_UNKNOWN_KID_REFETCH`] except in tests.
    pub jwks_unknown_kid_refetch: Duration,
    /// Where accepted admin tokens come from.
    pub admin_auth: AdminAuth,
    /// TLS, connection bounds, timeouts and logs of the listeners (`serve` sets them).
    pub serving: Serving,
    /// How often alert rules are evaluated, and the first retry's wait.
    pub alerts: AlertTimers,
}

/// Once a minute per issuer, as Azure API Management does.
pub const DEFAULT_JWKS_UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(60);

/// The portal's sender when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "Gatehouse <portal@gatehouse.localhost>";

/// A sign-in link's lifetime, as issue 17 sets it: 15 minutes.
pub const DEFAULT_SIGNIN_LINK_TTL_SECS: u64 = 15 * 60;

impl AppConfig {
    /// Ephemeral ports on 127.0.0.1, a fresh identity secret, no demo.
    pub fn for_tests(data_dir: &Path) -> AppConfig {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        AppConfig {
            data_dir: data_dir.to_path_buf(),
            gateway_addr: any,
            admin_addr: any,
            demo_upstream_addr: any,
            demo: false,
            usage_flush: Duration::from_secs(3600),
            quota_flush: sqlite_limiter::DEFAULT_FLUSH,
            cache_max_bytes: 16 * 1024 * 1024,
            gateway_threads: 2,
            gateway: GatewayConfig {
                max_body_bytes: GatewayConfig::DEFAULT_MAX_BODY_BYTES,
                identity_secret: b"test-identity-secret-0123456789".to_vec(),
                portal_origin: None,
                trusted_proxies: Default::default(),
            },
            admin_read_timeout: gateway::READ_TIMEOUT,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            terms: None,
            signin_link_ttl: Duration::from_secs(DEFAULT_SIGNIN_LINK_TTL_SECS),
            signup_domains: Vec::new(),
            staff_sign_in: None,
            jwks_unknown_kid_refetch: DEFAULT_JWKS_UNKNOWN_KID_REFETCH,
            admin_auth: AdminAuth::DataDir,
            serving: Serving::default(),
            // Tests receive webhooks on 127.0.0.1.
            alerts: AlertTimers { private_webhooks: true, ..AlertTimers::default() },
        }
    }
}

/// A running instance. Drop it through [`Running::shutdown`] so no usage is lost.
pub struct Running {
    pub gateway_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub demo_upstream_addr: Option<SocketAddr>,
    /// Read from (or first written to) the data dir; shown to whoever started the process.
    /// Empty under [`AdminAuth::Hashes`], where the process never knows a token.
    pub admin_token: String,
    pub demo_key: Option<String>,
    repo: Arc<SqliteRepo>,
    usage: Arc<UsageRecorder>,
    limiter: Arc<SqliteLimiter>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    workers: Option<gateway::Workers>,
}

pub async fn start(config: AppConfig) -> Result<Running, CliError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| CliError::Usage(format!("{what}: {e}"));
    secrets::create_data_dir(&config.data_dir).map_err(|e| fail("cannot create the data dir", &e))?;
    let db = config.data_dir.join("gatehouse.db");
    let repo = Arc::new(SqliteRepo::open(&db).map_err(|e| fail("cannot open the SQLite store", &e))?);
    // Quota counts saved by the last run are back in memory before the gateway serves.
    let limiter =
        Arc::new(SqliteLimiter::open(&db, now_millis()).map_err(|e| fail("cannot load the quota counters", &e))?);
    let (admin_token, admin_hashes) = admin_tokens(&config.admin_auth, &config.data_dir, &repo).await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let cache = Arc::new(MemoryResponseCache::new(config.cache_max_bytes));
    let read_model = InProcessReadModel::default();
    let usage =
        Arc::new(if config.serving.access_log { UsageRecorder::with_access_log() } else { UsageRecorder::default() });
    let publisher =
        InProcessPublisher { repo: Arc::clone(&repo), read_model: read_model.clone(), cache: Arc::clone(&cache) };
    publisher.rebuild().await.map_err(|e| fail("cannot load the catalog", &e))?;
    let cards = ensure_catalog_cards(&*repo).await.map_err(|e| fail("cannot write the portal's catalog cards", &e))?;
    if cards > 0 {
        tracing::info!(cards, "wrote the portal's catalog cards of APIs stored before they existed");
    }

    let demo_upstream_addr = if config.demo {
        let listener = bind(config.demo_upstream_addr).await?;
        let addr = listener.local_addr().map_err(|e| fail("demo upstream", &e))?;
        tasks.spawn(crate::demo::serve(listener, shutdown_rx.clone()));
        Some(addr)
    } else {
        None
    };

    // The control plane's address before anything that names it: the gateway's CORS origin
    // and the portal's mail links. `gatehouse dev` allows its own portal by default, and with
    // port 0 that origin is only known once the listener is bound.
    let admin_listener = bind(config.admin_addr).await?;
    let admin_addr = admin_listener.local_addr().map_err(|e| fail("admin API", &e))?;
    let mut gateway_config = config.gateway;
    if gateway_config.portal_origin.as_deref() == Some(format!("http://{}", config.admin_addr).as_str()) {
        gateway_config.portal_origin = Some(format!("http://{admin_addr}"));
    }

    // The gateway before the portal, so the portal knows its address (try-it sends calls there).
    let adapters = NativeAdapters {
        read_model,
        limiter: Arc::clone(&limiter),
        cache: Arc::clone(&cache),
        upstream: PooledUpstream::new(config.serving.upstream_tls.clone()),
        usage: Arc::clone(&usage),
        clock: SystemClock::default(),
        tokens: Arc::new(JwtVerifier::new(config.jwks_unknown_kid_refetch)),
        access_log: config.serving.access_log,
        https: config.serving.gateway_tls.is_some(),
    };
    let serving = &config.serving;
    let gateway = Arc::new(Gateway::new(adapters, gateway_config));
    // No body bound at the server: the pipeline applies each API's own limit (a large body
    // streams there, a small one is read whole first).
    let listening = serving.listening(serving.gateway_tls.clone(), usize::MAX, Duration::MAX);
    let workers =
        gateway::spawn_workers(config.gateway_addr, config.gateway_threads, gateway, listening, shutdown_rx.clone())
            .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", config.gateway_addr)))?;
    let gateway_addr = workers.addr;
    let scheme = |tls: &Option<ServerTls>| if tls.is_some() { "https" } else { "http" };
    let gateway_url =
        serving.gateway_url.clone().unwrap_or_else(|| format!("{}://{gateway_addr}", scheme(&serving.gateway_tls)));
    let portal_url =
        serving.portal_url.clone().unwrap_or_else(|| format!("{}://{admin_addr}", scheme(&serving.admin_tls)));

    let mailer = mailer(config.smtp_url.as_deref(), &config.mail_from, &config.data_dir)
        .map_err(|e| fail("cannot set up the portal's mail", &e))?;
    let portal = PortalSettings {
        gateway_url: Some(gateway_url),
        public_url: Some(portal_url),
        signin_link_lifetime: i64::try_from(config.signin_link_ttl.as_millis()).unwrap_or(i64::MAX),
        terms: config.terms.clone(),
        signup_domains: config.signup_domains.clone(),
        ..PortalSettings::default()
    };

    let settings = AdminSettings::default();
    let max_admin_body = settings.max_body_bytes;
    let mut state =
        AdminState::new(Arc::clone(&repo), Arc::new(publisher), admin_hashes, settings, Arc::new(now_millis))
            .with_portal(portal)
            .with_mailer(Arc::clone(&mailer));
    if let Some(staff) = config.staff_sign_in.clone() {
        state = state.with_staff_sign_in(staff);
    }
    let alerts = AlertRunner::new(Arc::clone(&repo), Some(mailer), alerting::settings(config.alerts));
    // The gateway's Prometheus metrics on the control-plane address, behind the admin token.
    let metrics = vec![("/metrics", crate::metrics::exposition::route(Arc::clone(usage.metrics())))];
    let admin = router_with(state, metrics);
    let demo_key = match demo_upstream_addr {
        Some(addr) => crate::seed::demo(&admin, &admin_token, &config.data_dir, addr).await?,
        None => None,
    };

    let admin_listening = serving.listening(serving.admin_tls.clone(), max_admin_body, config.admin_read_timeout);
    let handler = admin_server::AdminHandler::new(admin).with_health(Arc::clone(&repo));
    tasks.spawn(admin_server::serve_with(admin_listener, handler, admin_listening, shutdown_rx.clone()));

    tasks.spawn(flush_counters_periodically(Arc::clone(&limiter), config.quota_flush, shutdown_rx.clone()));
    tasks.spawn(alerting::run_periodically(alerts, config.alerts.every, shutdown_rx.clone()));
    tasks.spawn(flush_periodically(Arc::clone(&repo), Arc::clone(&usage), config.usage_flush, shutdown_rx));

    tracing::info!(%gateway_addr, %admin_addr, data_dir = %config.data_dir.display(), "gatehouse is running");
    Ok(Running {
        gateway_addr,
        admin_addr,
        demo_upstream_addr,
        admin_token,
        demo_key,
        repo,
        usage,
        limiter,
        shutdown,
        tasks,
        workers: Some(workers),
    })
}

/// SMTP when a server is configured, else the data dir's outbox folder.
fn mailer(smtp_url: Option<&str>, from: &str, data_dir: &Path) -> Result<Arc<dyn Mailer>, MailError> {
    Ok(match smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url, from)?),
        None => Arc::new(OutboxMailer::new(data_dir.join("outbox"), from)?),
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, CliError> {
    TcpListener::bind(addr).await.map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))
}

/// A timer that ticks every `every` from now on, whatever each flush takes (unless one
/// takes longer), so the crash bound is the interval itself, not the interval plus a flush.
fn ticker(every: Duration) -> tokio::time::Interval {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}

async fn flush_periodically(
    repo: Arc<SqliteRepo>,
    usage: Arc<UsageRecorder>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = ticker(every);
    loop {
        tokio::select! {
            _ = ticks.tick() => flush(&*repo, &usage, now_millis()).await,
            _ = stop.changed() => return,
        }
    }
}

async fn flush_counters_periodically(limiter: Arc<SqliteLimiter>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = ticker(every);
    loop {
        tokio::select! {
            _ = ticks.tick() => flush_counters(&limiter).await,
            _ = stop.changed() => return,
        }
    }
}

/// Saves the changed quota counts on the blocking pool. A failure is logged and the counts
/// stay dirty for the next tick; the gateway keeps serving from memory.
async fn flush_counters(limiter: &Arc<SqliteLimiter>) {
    let limiter = Arc::clone(limiter);
    match tokio::task::spawn_blocking(move || limiter.flush(now_millis())).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "quota counter flush failed; retrying on the next tick"),
        Err(e) => tracing::error!(error = %e, "quota counter flush did not run"),
    }
}

/// Writes pending rollups, key last-use times and the sensitive-data access entries of every
/// hour over by `until`. On a store error the rollups are logged as lost by count (never
/// their content) — the process keeps serving.
async fn flush<R: Repo>(repo: &R, usage: &UsageRecorder, until: UnixMillis) {
    let (rollups, used) = usage.take();
    for entry in usage.class_access(&rollups, until) {
        if let Err(e) = repo.append_audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "sensitive-data access entry not written");
        }
    }
    if !rollups.is_empty() {
        if let Err(e) = repo.add_rollups(&rollups).await {
            tracing::error!(error = %e, rollups = rollups.len(), "usage flush failed");
        }
    }
    if !used.is_empty() {
        if let Err(e) = repo.mark_keys_used(&used).await {
            tracing::warn!(error = %e, keys = used.len(), "could not record key last use");
        }
    }
}

impl Running {
    /// Flushes aggregated usage to the store now; the current hour's sensitive-data access
    /// counts keep adding up until it is over.
    pub async fn flush_usage(&self) {
        flush(&*self.repo, &self.usage, now_millis()).await;
    }

    /// Stops accepting requests, lets in-flight ones finish, then saves quota counts and
    /// usage, so nothing admitted or recorded before shutdown is lost.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        if let Some(workers) = self.workers.take() {
            let _ = tokio::task::spawn_blocking(move || workers.join()).await;
        }
        flush_counters(&self.limiter).await;
        // Everything, the hour under way too: its entry counts the accesses up to now, and a
        // restart begins another for the rest of the hour.
        flush(&*self.repo, &self.usage, UnixMillis::MAX).await;
        tracing::info!("gatehouse stopped; usage flushed");
    }

    /// Waits for Ctrl-C or SIGTERM, then shuts down.
    pub async fn run_until_signal(self) {
        wait_for_signal().await;
        self.shutdown().await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
