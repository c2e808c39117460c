//! Delivers what the outbox holds: each due entry's delivery is attempted once per run, and
//! its result written to the delivery log together with the outbox change (gone when the
//! delivery is finished, due later when it is to be retried), in one transaction.

use gatehouse_core::alerts::{
    webhook_body, AlertDelivery, AlertMessage, AlertOutbox, AlertRule, Channel, DeliveryStatus,
};
use gatehouse_core::signing::{sign, SIGNATURE_HEADER};
use gatehouse_core::store::{EntityKind, Repo, StoreError, Write};
use gatehouse_core::time::UnixMillis;

use super::{egress, AlertRunner};
use crate::mail::Mail;

/// The header naming the event (also the body's `id`), for receivers that route before parsing.
pub(crate) const EVENT_HEADER: &str = "gatehouse-event-id";

/// Attempts every due delivery; answers (delivered, failed attempts).
pub(super) async fn deliver_due<R: Repo>(
    runner: &AlertRunner<R>,
    now: UnixMillis,
) -> Result<(usize, usize), StoreError> {
    let (mut delivered, mut failed) = (0, 0);
    for record in runner.repo.list_records(EntityKind::AlertOutbox, None).await? {
        let entry: AlertOutbox = record.decode()?;
        if entry.due_at > now {
            continue;
        }
        let mut delivery = match runner.repo.get::<AlertDelivery>(&entry.id).await {
            Ok(d) => d,
            Err(StoreError::NotFound) => {
                runner.repo.transact(vec![Write::Remove { kind: EntityKind::AlertOutbox, id: entry.id }]).await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let (ok, next) = match attempt(runner, &delivery, now).await? {
            Attempted::Answered(Ok(detail)) => (true, delivery.record(true, detail, now, runner.settings.retry_base)),
            Attempted::Answered(Err(detail)) => {
                (false, delivery.record(false, detail, now, runner.settings.retry_base))
            }
            Attempted::Hopeless(detail) => {
                delivery.give_up(detail, now);
                (false, None)
            }
        };
        if delivery.status == DeliveryStatus::GaveUp {
            tracing::warn!(delivery = %delivery.id, "alert delivery given up after its last attempt");
        }
        let outbox = match next {
            Some(due_at) => Write::update(&AlertOutbox { id: entry.id.clone(), due_at })?,
            None => Write::Remove { kind: EntityKind::AlertOutbox, id: entry.id.clone() },
        };
        runner.repo.transact(vec![Write::update(&delivery)?, outbox]).await?;
        if ok {
            delivered += 1;
        } else {
            failed += 1;
        }
    }
    Ok((delivered, failed))
}

/// What one attempt came to.
enum Attempted {
    /// `Ok(what the receiver said)` or `Err(why it failed)`, to be retried.
    Answered(Result<String, String>),
    /// It cannot succeed, ever: give it up now.
    Hopeless(String),
}

/// One attempt. Only a store failure is an error of the run itself.
async fn attempt<R: Repo>(
    runner: &AlertRunner<R>,
    delivery: &AlertDelivery,
    now: UnixMillis,
) -> Result<Attempted, StoreError> {
    Ok(match &delivery.channel {
        Channel::Email { to } => Attempted::Answered(send_mail(runner, to, &delivery.message).await),
        Channel::Webhook { url } => match runner.repo.get::<AlertRule>(&delivery.message.rule_id).await {
            Ok(rule) => Attempted::Answered(post(runner, url, &rule.webhook_secret, &delivery.message, now).await),
            Err(StoreError::NotFound) => {
                Attempted::Hopeless("the rule was deleted, and its signing secret with it".to_owned())
            }
            Err(e) => return Err(e),
        },
    })
}

async fn send_mail<R: Repo>(runner: &AlertRunner<R>, to: &str, message: &AlertMessage) -> Result<String, String> {
    let Some(mailer) = runner.mailer.as_ref() else {
        return Err("no mail server is configured".to_owned());
    };
    let mail = Mail { to: to.to_owned(), subject: message.email_subject(), text: message.email_text() };
    mailer.send(mail).await.map(|()| "accepted by the mail server".to_owned()).map_err(|e| e.to_string())
}

/// POSTs the signed body; any 2xx is delivered.
async fn post<R: Repo>(
    runner: &AlertRunner<R>,
    url: &str,
    secret: &str,
    message: &AlertMessage,
    now: UnixMillis,
) -> Result<String, String> {
    if let Some(refused) = egress::literal_refusal(url).filter(|_| !runner.settings.private_webhooks) {
        return Err(refused);
    }
    let body = webhook_body(message);
    // Signed at the attempt's time, so a retry hours later is not refused as stale.
    let signature = sign(secret.as_bytes(), &body, now);
    let sent = runner
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_HEADER, &message.id)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Ok(format!("HTTP {}", response.status().as_u16())),
        Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
        // Without the URL: reqwest's error text names it, and a URL may carry a token.
        Err(e) => Err(describe(&e)),
    }
}

fn describe(e: &reqwest::Error) -> String {
    // The resolver's own refusal (see `egress`) names the host, not the URL: worth keeping.
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.starts_with("refused: ") {
            return text;
        }
        source = cause.source();
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirected (not followed)"
    } else {
        "request failed"
    };
    what.to_owned()
}
