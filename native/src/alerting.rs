//! The alert runner on a timer inside the `gatehouse` process, beside the usage and quota
//! flushes: each tick evaluates every rule over the stored usage and delivers what the outbox
//! holds (see `gatehouse_admin::AlertRunner`). The outbox is in the SQLite file, so a restart
//! resumes deliveries where the last process left them.

use std::time::Duration;

use gatehouse_admin::AlertRunner;
use gatehouse_core::store::Repo;
use tokio::sync::watch;

use crate::adapters::clock::now_millis;

/// How often rules are evaluated and the outbox is worked through, how long the first
/// retry of a failed delivery waits (doubling after each further failure), and whether
/// webhooks may go to private addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertTimers {
    /// At most the shortest rule window (a minute), so a one-minute breach is seen.
    pub every: Duration,
    pub retry_base: Duration,
    /// `gatehouse dev` and tests (receivers on 127.0.0.1); never `gatehouse serve`.
    pub private_webhooks: bool,
}

impl Default for AlertTimers {
    fn default() -> Self {
        AlertTimers { every: Duration::from_secs(30), retry_base: Duration::from_secs(30), private_webhooks: false }
    }
}

/// Runs `runner` every `every` until `stop` changes. A failed run is logged; the next one
/// picks everything up again (firings are de-duplicated, the outbox is durable).
pub async fn run_periodically<R: Repo>(runner: AlertRunner<R>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => match runner.run_once(now_millis()).await {
                Ok(report) if report.fired + report.delivered + report.failed > 0 => {
                    tracing::info!(fired = report.fired, delivered = report.delivered, failed = report.failed, "alerts run");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "alerts run failed; retrying on the next tick"),
            },
            _ = stop.changed() => return,
        }
    }
}

/// The runner's settings from the timers.
pub fn settings(timers: AlertTimers) -> gatehouse_admin::AlertSettings {
    gatehouse_admin::AlertSettings {
        retry_base: i64::try_from(timers.retry_base.as_millis()).unwrap_or(i64::MAX),
        private_webhooks: timers.private_webhooks,
        ..gatehouse_admin::AlertSettings::default()
    }
}
