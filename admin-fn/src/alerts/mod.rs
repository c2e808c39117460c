//! The alert runner: evaluates every rule over the stored usage and quota use, records each
//! new firing (event, delivery log and outbox in one transaction, see
//! [`gatehouse_core::alerts::firing_writes`]), then delivers what the outbox holds by email
//! and signed webhook, retrying failures with backoff. The native binary runs it on a timer,
//! AWS on a schedule; each run is one call to [`AlertRunner::run_once`].

mod deliver;
mod egress;
mod evaluate;
pub(crate) mod quotas;

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::store::{Repo, StoreError};
use gatehouse_core::time::{UnixMillis, SECOND};

use crate::mail::Mailer;

/// How the runner delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// The wait after a delivery's first failure, doubled after each further one (up to an
    /// hour; see [`gatehouse_core::alerts::retry_at`]).
    pub retry_base: UnixMillis,
    /// How long a webhook receiver gets to answer.
    pub webhook_timeout: Duration,
    /// Deliver webhooks to loopback and private addresses too: for `gatehouse dev` and tests,
    /// whose receivers are on 127.0.0.1. Off by default, so a developer's webhook cannot reach
    /// the control plane's own network ([`egress`]).
    pub private_webhooks: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings { retry_base: 30 * SECOND, webhook_timeout: Duration::from_secs(10), private_webhooks: false }
    }
}

/// What one run did, for the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub rules: usize,
    /// New firings recorded (a threshold already fired in its window is not counted).
    pub fired: usize,
    pub delivered: usize,
    /// Attempts that failed (and will be retried, unless given up).
    pub failed: usize,
}

/// Evaluates rules and delivers alerts; cheap to clone.
#[derive(Clone)]
pub struct AlertRunner<R> {
    repo: Arc<R>,
    mailer: Option<Arc<dyn Mailer>>,
    http: reqwest::Client,
    settings: AlertSettings,
}

impl<R: Repo> AlertRunner<R> {
    /// Without a mailer, email deliveries fail (and are retried) with "no mail server".
    pub fn new(repo: Arc<R>, mailer: Option<Arc<dyn Mailer>>, settings: AlertSettings) -> AlertRunner<R> {
        // reqwest (already in the tree for the JWKS fetch and AWS): rustls with webpki roots,
        // connection pooling, timeouts. Redirects are not followed: a receiver answers for
        // the URL its owner gave, and a redirect is reported as a failure to fix.
        let mut http = reqwest::Client::builder()
            .timeout(settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatehouse-alerts/", env!("CARGO_PKG_VERSION")));
        if !settings.private_webhooks {
            http = http.dns_resolver(Arc::new(egress::PublicOnly));
        }
        // A client that cannot be built (no TLS roots) would deliver nothing: fail loudly at
        // start rather than retry every webhook into oblivion with a default client that
        // would skip the resolver above.
        let http = http.build().unwrap_or_else(|e| panic!("the webhook HTTP client could not be built: {e}"));
        AlertRunner { repo, mailer, http, settings }
    }

    /// One evaluation of every rule at `now`, then one pass over the due outbox. A rule that
    /// cannot be evaluated is logged and skipped; a store failure ends the run (the next run
    /// picks everything up again, nothing is lost).
    pub async fn run_once(&self, now: UnixMillis) -> Result<RunReport, StoreError> {
        let (rules, fired) = evaluate::evaluate_all(&*self.repo, now).await?;
        let (delivered, failed) = deliver::deliver_due(self, now).await?;
        Ok(RunReport { rules, fired, delivered, failed })
    }
}
