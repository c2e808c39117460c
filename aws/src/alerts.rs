//! The alerts function: invoked by an EventBridge schedule every minute, it evaluates every
//! alert rule over the usage in DynamoDB and delivers what the outbox holds (email over SMTP,
//! signed webhooks), the same `AlertRunner` the native process runs on a timer. A failed
//! invocation loses nothing: firings are de-duplicated by their key and the outbox is in the
//! catalog table, so the next run carries on.

use std::sync::Arc;

use gatehouse_admin::{AlertRunner, AlertSettings, Mailer, SmtpMailer};
use lambda_http::{service_fn, LambdaEvent};
use serde_json::{json, Value};

use crate::config::{names, tables_from_lookup};
use crate::dynamo::{now_millis, DynamoRepo};
use crate::lambda::{init_tracing, or_exit};

/// One scheduled run (the event's content is ignored; it only says "now").
pub async fn alerts_now(
    runner: &AlertRunner<DynamoRepo>,
    _event: LambdaEvent<Value>,
) -> Result<Value, lambda_http::Error> {
    // Boxed, as compaction's: the run's future is deep, and the runtime's layers nest it further.
    let report = Box::pin(runner.run_once(now_millis())).await?;
    tracing::info!(
        rules = report.rules,
        fired = report.fired,
        delivered = report.delivered,
        failed = report.failed,
        "alerts run"
    );
    Ok(json!({"rules": report.rules, "fired": report.fired, "delivered": report.delivered, "failed": report.failed}))
}

/// The whole of the alerts function's `main`: tracing, the table names and the mail settings,
/// one SDK client, then [`alerts_now`] for each scheduled event.
pub async fn serve_alerts() -> Result<(), lambda_http::Error> {
    init_tracing();
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let tables = or_exit(tables_from_lookup(lookup));
    let mailer: Option<Arc<dyn Mailer>> = match (lookup(names::SMTP_URL), lookup(names::MAIL_FROM)) {
        (Some(url), Some(from)) => Some(Arc::new(SmtpMailer::new(&url, &from)?)),
        _ => None,
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let repo = Arc::new(DynamoRepo::new(aws_sdk_dynamodb::Client::new(&sdk), tables));
    let runner = AlertRunner::new(repo, mailer, AlertSettings::default());
    lambda_http::lambda_runtime::run(service_fn(|event| alerts_now(&runner, event))).await
}
