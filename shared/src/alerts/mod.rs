//! Alerts on usage: rules a developer (on their own calls) or a provider (on an API's calls)
//! sets, their evaluation over stored usage and quota use, and what a firing becomes in the
//! store (an event, the delivery log, the outbox). Pure: the runtime measures usage, draws the
//! ids, sends the mail and the webhooks and passes the time in.

mod delivery;
mod evaluate;
mod rule;
#[cfg(test)]
mod tests;

pub use delivery::{
    retry_at, AlertDelivery, AlertEvent, AlertMessage, AlertOutbox, Attempt, DeliveryStatus, EVENT_TYPE, LOG_RETENTION,
    MAX_ATTEMPTS, MAX_BACKOFF,
};
pub use evaluate::{evaluate, usage_query, Firing, Observed, QuotaUse};
pub use rule::{
    check_channels, AlertRule, Channel, Condition, ErrorClass, Minutes, Percent, RuleError, Subject, Watch,
    MAX_CHANNELS, MAX_MINUTES,
};

use crate::store::{StoreError, Write};
use crate::time::UnixMillis;

/// The writes that record `firing` of `rule`, all in one transaction: the event under its
/// de-duplication key (the transaction fails with `Conflict` when the rule already fired in
/// this window, and writes nothing), and per channel a delivery (id from `delivery_ids`, one
/// per channel, in order) and its outbox entry, due now.
pub fn firing_writes(
    rule: &AlertRule,
    firing: &Firing,
    event_id: &str,
    delivery_ids: &[String],
    now: UnixMillis,
) -> Result<Vec<Write>, StoreError> {
    let message = AlertMessage::of(rule, firing, event_id);
    let mut writes = vec![Write::insert(&AlertEvent { id: firing.dedup_key.clone(), message: message.clone() })?];
    for (channel, id) in rule.channels.iter().zip(delivery_ids) {
        let delivery = AlertDelivery {
            id: id.clone(),
            owner: rule.watch.subject().owner().to_owned(),
            channel: channel.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            created_at: now,
            message: message.clone(),
        };
        writes.push(Write::insert(&delivery)?);
        writes.push(Write::insert(&AlertOutbox { id: id.clone(), due_at: now })?);
    }
    Ok(writes)
}

/// The webhook's body: the message as JSON (the bytes that are signed and sent).
pub fn webhook_body(message: &AlertMessage) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}
