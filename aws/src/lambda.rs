//! What each Lambda `main` wires: config → SDK client → store and publisher → the admin
//! router, or (the compaction function) config → SDK client → store → a handler for scheduled
//! events. Nothing here calls AWS or Cloudflare: clients connect on first use, so a cold start
//! costs only parsing the environment and building the clients.

use std::sync::Arc;

use axum::Router;
use gatehouse_admin::{
    router, AdminSettings, AdminState, Change, ClientAddr, MailError, Mailer, PortalSettings, PublishError, Publisher,
    SmtpMailer,
};
use gatehouse_core::cache::PurgeSelector;
use lambda_http::{service_fn, LambdaEvent};
use serde_json::Value;

use crate::config::{tables_from_lookup, Config};
use crate::dynamo::{now_millis, DynamoRepo};
use crate::kv::{KvPublisher, Retry};

/// The publisher a function runs with: Workers KV, or none when no edge is configured.
pub enum EdgePublisher {
    Kv(KvPublisher<DynamoRepo>),
    /// No edge configured: changes stay in DynamoDB only (logged).
    Off,
}

impl Publisher for EdgePublisher {
    async fn changed(&self, change: Change) -> Result<(), PublishError> {
        match self {
            EdgePublisher::Kv(kv) => kv.changed(change).await,
            EdgePublisher::Off => {
                tracing::debug!(kind = change.kind.as_str(), id = %change.id, "no edge configured; not published");
                Ok(())
            }
        }
    }

    async fn purge(&self, selector: PurgeSelector) -> Result<u64, PublishError> {
        match self {
            EdgePublisher::Kv(kv) => kv.purge(selector).await,
            EdgePublisher::Off => Ok(0),
        }
    }
}

/// Why a function could not be put together from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// The admin router over DynamoDB, ready for `lambda_http::run`: SMTP mail when configured.
pub fn app(config: Config, client: aws_sdk_dynamodb::Client) -> Result<Router, AppError> {
    let mailer: Option<Arc<dyn Mailer>> = match (&config.portal.smtp_url, &config.portal.mail_from) {
        (Some(url), Some(from)) => Some(Arc::new(SmtpMailer::new(url, from)?)),
        _ => None,
    };
    app_with_mailer(config, client, mailer)
}

/// [`app`] with the mailer given (tests pass an outbox).
pub fn app_with_mailer(
    config: Config,
    client: aws_sdk_dynamodb::Client,
    mailer: Option<Arc<dyn Mailer>>,
) -> Result<Router, AppError> {
    let repo = Arc::new(DynamoRepo::new(client, config.tables));
    let clock: gatehouse_admin::Clock = Arc::new(now_millis);
    let publisher = match config.edge {
        Some(edge) => {
            EdgePublisher::Kv(KvPublisher::new(Arc::clone(&repo), edge, Retry::default(), Arc::clone(&clock))?)
        }
        None => EdgePublisher::Off,
    };
    let mut state =
        AdminState::new(repo, Arc::new(publisher), config.admin_token_hashes, AdminSettings::default(), clock);
    if let Some(secret) = config.ingest_secret {
        state = state.with_ingest_secret(secret);
    }
    let defaults = PortalSettings::default();
    state = state.with_portal(PortalSettings {
        site_name: config.portal.site_name.unwrap_or(defaults.site_name),
        gateway_url: config.portal.gateway_url,
        public_url: config.portal.public_url,
        signin_link_lifetime: defaults.signin_link_lifetime,
        invitation_lifetime: defaults.invitation_lifetime,
        terms: config.portal.terms,
        signup_domains: config.portal.signup_domains,
    });
    if let Some(mailer) = mailer {
        state = state.with_mailer(mailer);
    }
    if let Some(staff) = config.staff_sign_in {
        state = state.with_staff_sign_in(staff);
    }
    Ok(router(state).layer(axum::middleware::map_request(client_address)))
}

/// The caller's address from the API Gateway event (its `sourceIp`), for sign-in throttling.
async fn client_address(mut request: axum::extract::Request) -> axum::extract::Request {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip.and_then(|ip| ip.parse().ok()) {
        request.extensions_mut().insert(ClientAddr(ip));
    }
    request
}

/// Config from the process environment, or every problem on stderr and exit 1.
pub fn config_from_env() -> Config {
    or_exit(Config::from_lookup(|name| std::env::var(name).ok()))
}

pub(crate) fn or_exit<T>(parsed: Result<T, Vec<String>>) -> T {
    match parsed {
        Ok(config) => config,
        Err(problems) => {
            for p in problems {
                eprintln!("gatehouse: {p}");
            }
            std::process::exit(1)
        }
    }
}

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG`, no ANSI colours.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).without_time().init();
}

/// The whole of a function's `main`: tracing, config, one SDK client built once, the router
/// served by `lambda_http`. Both functions run it; they differ only in their routes' traffic
/// and in the IAM role the template gives them.
pub async fn serve() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = config_from_env();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = app(config, aws_sdk_dynamodb::Client::new(&sdk))?;
    lambda_http::run(app).await
}

/// One scheduled compaction (the event's content is ignored; it only says "now"): every hour
/// that is due, as JSON for the invocation's result. An error fails the invocation, and the
/// next run (15 minutes later) starts again from what is still not compacted.
pub async fn compact_now(repo: &DynamoRepo, _event: LambdaEvent<Value>) -> Result<Value, lambda_http::Error> {
    // Boxed: the compaction future is deep, and the runtime's own layers nest it further.
    let done = Box::pin(repo.compact_due(now_millis())).await?;
    let written: usize = done.iter().map(|h| h.written).sum();
    let unsettled = done.iter().filter(|h| !h.settled).count();
    tracing::info!(hours = done.len(), written, unsettled, "usage compacted");
    Ok(serde_json::to_value(done)?)
}

/// The whole of the compaction function's `main`: tracing, the table names, one SDK client,
/// then [`compact_now`] for each scheduled event.
pub async fn serve_compaction() -> Result<(), lambda_http::Error> {
    init_tracing();
    let tables = or_exit(tables_from_lookup(|name| std::env::var(name).ok()));
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let repo = DynamoRepo::new(aws_sdk_dynamodb::Client::new(&sdk), tables);
    lambda_http::lambda_runtime::run(service_fn(|event| compact_now(&repo, event))).await
}
