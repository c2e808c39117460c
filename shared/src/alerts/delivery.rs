//! What a firing becomes in the store, and the delivery policy.
//!
//! A firing is written in one transaction as an [`AlertEvent`] whose id is the firing's
//! de-duplication key (a second insert of it is refused, so a threshold fires once per window
//! even when two evaluators race), one [`AlertDelivery`] per channel (the delivery log), and
//! one [`AlertOutbox`] entry per delivery (the work still to do). A crash after that commit
//! loses nothing: the deliverer finds the outbox entries on its next run. An entry leaves the
//! outbox only once its delivery succeeded or was given up, so a delivery happens at least
//! once (a crash between sending and recording it sends it again: receivers de-duplicate by
//! the event's `id`).

use serde::{Deserialize, Serialize};

use super::evaluate::{Firing, Observed};
use super::rule::{AlertRule, Channel, Condition, Subject};
use crate::store::{Entity, EntityKind};
use crate::time::{UnixMillis, DAY, HOUR};

/// How many attempts a delivery gets before it is given up.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: UnixMillis = HOUR;
/// How long a delivery stays in the log (stores that expire records drop it after that).
pub const LOG_RETENTION: UnixMillis = 30 * DAY;
/// The `type` of every event body.
pub const EVENT_TYPE: &str = "alert.fired";

/// The event a receiver gets: the webhook's JSON body, and what the email says. Built once
/// when the rule fires and stored with each delivery, so every retry sends the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AlertMessage {
    /// `evt_…`, the same in every delivery and retry of one firing: receivers de-duplicate by it.
    pub id: String,
    /// Always [`EVENT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    pub rule_id: String,
    pub rule_name: String,
    pub subject: Subject,
    pub condition: Condition,
    pub observed: Observed,
    pub summary: String,
    /// The de-duplication window `[from, to)`: no second event of this rule (and quota) in it.
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub window_from: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub window_to: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub fired_at: UnixMillis,
}

impl AlertMessage {
    pub fn of(rule: &AlertRule, firing: &Firing, event_id: &str) -> AlertMessage {
        AlertMessage {
            id: event_id.to_owned(),
            kind: EVENT_TYPE.to_owned(),
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            subject: rule.watch.subject().clone(),
            condition: rule.watch.condition().clone(),
            observed: firing.observed.clone(),
            summary: firing.summary.clone(),
            window_from: firing.window.0,
            window_to: firing.window.1,
            fired_at: firing.fired_at,
        }
    }

    /// The email's subject line.
    pub fn email_subject(&self) -> String {
        format!("Alert: {}", self.rule_name)
    }

    /// The email's plain text.
    pub fn email_text(&self) -> String {
        format!(
            "Your alert rule \"{}\" fired at {}.\n\n{}\n\nIt will not fire again before {} for the same threshold.\nEvent id: {}\nRule id: {}\n",
            self.rule_name,
            crate::time::rfc3339(self.fired_at),
            self.summary,
            crate::time::rfc3339(self.window_to),
            self.id,
            self.rule_id,
        )
    }
}

/// A firing, stored under its de-duplication key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The firing's [`Firing::dedup_key`].
    pub id: String,
    pub message: AlertMessage,
}

/// How a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet; in the outbox, due at `next_attempt_at`.
    Pending,
    Delivered,
    /// Every attempt failed; no more will be made.
    GaveUp,
}

/// One try at delivering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Attempt {
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: UnixMillis,
    pub ok: bool,
    /// What the receiver answered (`HTTP 200`, `HTTP 503`, `connection refused`,
    /// `250 accepted`); never the signing secret or the body.
    pub detail: String,
}

/// One channel's delivery of one event: the delivery log's row (`dlv_…`), listed under the
/// rule's owner (a developer id or an API id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AlertDelivery {
    pub id: String,
    /// The developer or API the rule watches (see [`Subject::owner`]).
    pub owner: String,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    #[serde(default, with = "crate::time::serde_rfc3339_opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<UnixMillis>,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    pub message: AlertMessage,
}

impl AlertDelivery {
    /// Records an attempt at `now`: delivered, retried later with backoff, or given up after
    /// [`MAX_ATTEMPTS`]. Answers when to try next (`None`: the delivery is finished).
    pub fn record(&mut self, ok: bool, detail: String, now: UnixMillis, base: UnixMillis) -> Option<UnixMillis> {
        self.attempts.push(Attempt { at: now, ok, detail });
        self.next_attempt_at = match ok {
            true => None,
            false => retry_at(self.attempts.len() as u32, now, base),
        };
        self.status = match (ok, self.next_attempt_at) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::GaveUp,
        };
        self.next_attempt_at
    }
}

impl AlertDelivery {
    /// Records a failed attempt that no retry can fix (the rule and its signing secret were
    /// deleted): the delivery is given up now rather than failing the same way ten times.
    pub fn give_up(&mut self, detail: String, now: UnixMillis) {
        self.attempts.push(Attempt { at: now, ok: false, detail });
        self.next_attempt_at = None;
        self.status = DeliveryStatus::GaveUp;
    }
}

/// When to try again after `failed` failed attempts: `base`, doubled after each failure up
/// to [`MAX_BACKOFF`]; `None` once [`MAX_ATTEMPTS`] were made.
pub fn retry_at(failed: u32, now: UnixMillis, base: UnixMillis) -> Option<UnixMillis> {
    if failed >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 1_i64 << failed.saturating_sub(1).min(30);
    Some(now.saturating_add(base.max(1).saturating_mul(factor).min(MAX_BACKOFF)))
}

/// A delivery still to make (`id` = the delivery's id), due at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertOutbox {
    pub id: String,
    pub due_at: UnixMillis,
}

impl Entity for AlertRule {
    const KIND: EntityKind = EntityKind::AlertRule;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(self.watch.subject().owner())
    }
}

impl Entity for AlertEvent {
    const KIND: EntityKind = EntityKind::AlertEvent;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.message.rule_id)
    }
    /// Needed only until its window ends (the de-duplication); kept a day more for reading.
    fn expires_at(&self) -> Option<UnixMillis> {
        Some(self.message.window_to.saturating_add(DAY))
    }
}

impl Entity for AlertDelivery {
    const KIND: EntityKind = EntityKind::AlertDelivery;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.owner)
    }
    fn expires_at(&self) -> Option<UnixMillis> {
        Some(self.created_at.saturating_add(LOG_RETENTION))
    }
}

impl Entity for AlertOutbox {
    const KIND: EntityKind = EntityKind::AlertOutbox;
    fn id(&self) -> &str {
        &self.id
    }
}
