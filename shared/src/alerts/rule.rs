//! An alert rule: whose calls it watches, the threshold, and where a firing goes. The types
//! refuse what makes no sense, so neither the API nor the evaluator has to check it again: a
//! percentage is 1 to 100, a window 1 to 1,440 minutes, a latency at least 1 ms, a quota
//! threshold only on a developer's own traffic (an API's calls have no one quota), and a rule
//! has one to [`MAX_CHANNELS`] channels.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// The most channels one rule delivers to.
pub const MAX_CHANNELS: usize = 5;
/// The longest error-rate or latency window, in minutes (a day).
pub const MAX_MINUTES: u16 = 1_440;

/// Why a rule is refused; the text names the field, for a 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("percent must be from 1 to 100")]
    Percent,
    #[error("minutes must be from 1 to {MAX_MINUTES}")]
    Minutes,
    #[error("a quota threshold watches a developer's own calls, not a whole API")]
    QuotaOnApi,
    #[error("a rule needs from 1 to {MAX_CHANNELS} channels")]
    Channels,
    #[error("not an email address: {0}")]
    Email(String),
    #[error("a webhook URL must be http:// or https:// with a host: {0}")]
    Url(String),
}

/// A whole percentage, 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Percent(u8);

impl TryFrom<u8> for Percent {
    type Error = RuleError;
    fn try_from(value: u8) -> Result<Self, RuleError> {
        (1..=100).contains(&value).then_some(Percent(value)).ok_or(RuleError::Percent)
    }
}

impl From<Percent> for u8 {
    fn from(p: Percent) -> u8 {
        p.0
    }
}

impl Percent {
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A window length in minutes, 1 to [`MAX_MINUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Minutes(u16);

impl TryFrom<u16> for Minutes {
    type Error = RuleError;
    fn try_from(value: u16) -> Result<Self, RuleError> {
        (1..=MAX_MINUTES).contains(&value).then_some(Minutes(value)).ok_or(RuleError::Minutes)
    }
}

impl From<Minutes> for u16 {
    fn from(m: Minutes) -> u16 {
        m.0
    }
}

impl Minutes {
    pub const fn get(self) -> u16 {
        self.0
    }
    /// The length in milliseconds.
    pub const fn millis(self) -> UnixMillis {
        self.0 as UnixMillis * crate::time::MINUTE
    }
}

/// Whose calls a rule watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Subject {
    /// A developer's own calls: all their apps, or one app, or one key (the admin API checks
    /// that the app and key are theirs).
    Developer {
        developer_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
    },
    /// Every call to one API, whoever makes it: a provider's rule.
    Api { api_id: String },
}

impl Subject {
    /// The id a rule and its delivery log are listed under: the developer, or the API.
    pub fn owner(&self) -> &str {
        match self {
            Subject::Developer { developer_id, .. } => developer_id,
            Subject::Api { api_id } => api_id,
        }
    }
}

/// Which responses count as errors for an error-rate threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 5xx: the API failed.
    #[default]
    Server,
    /// 4xx and 5xx: also calls refused (bad key, over a limit) or malformed.
    Any,
}

/// The threshold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// A quota of the developer's plans has reached `percent` of its limit in its current
    /// window (80 and 100 are the usual two rules). Fires once per quota per window.
    Quota {
        #[cfg_attr(feature = "schema", schema(value_type = u8, minimum = 1, maximum = 100))]
        percent: Percent,
    },
    /// More than `percent` % of the calls of the last `minutes` minutes were errors.
    ErrorRate {
        #[cfg_attr(feature = "schema", schema(value_type = u8, minimum = 1, maximum = 100))]
        percent: Percent,
        #[cfg_attr(feature = "schema", schema(value_type = u16, minimum = 1, maximum = 1440))]
        minutes: Minutes,
        #[serde(default)]
        errors: ErrorClass,
    },
    /// The 95th percentile latency of the last `minutes` minutes is above `p95_ms`.
    Latency {
        #[cfg_attr(feature = "schema", schema(value_type = u32, minimum = 1))]
        p95_ms: NonZeroU32,
        #[cfg_attr(feature = "schema", schema(value_type = u16, minimum = 1, maximum = 1440))]
        minutes: Minutes,
    },
}

/// A subject with a condition that applies to it; built only through [`Watch::new`] (also
/// when read back), so a quota threshold on a whole API cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "WatchFields", into = "WatchFields")]
pub struct Watch {
    subject: Subject,
    condition: Condition,
}

#[derive(Serialize, Deserialize)]
struct WatchFields {
    subject: Subject,
    condition: Condition,
}

impl TryFrom<WatchFields> for Watch {
    type Error = RuleError;
    fn try_from(f: WatchFields) -> Result<Self, RuleError> {
        Watch::new(f.subject, f.condition)
    }
}

impl From<Watch> for WatchFields {
    fn from(w: Watch) -> WatchFields {
        WatchFields { subject: w.subject, condition: w.condition }
    }
}

impl Watch {
    pub fn new(subject: Subject, condition: Condition) -> Result<Watch, RuleError> {
        match (&subject, &condition) {
            (Subject::Api { .. }, Condition::Quota { .. }) => Err(RuleError::QuotaOnApi),
            _ => Ok(Watch { subject, condition }),
        }
    }
    pub fn subject(&self) -> &Subject {
        &self.subject
    }
    pub fn condition(&self) -> &Condition {
        &self.condition
    }
}

/// Where a firing is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Channel {
    Email {
        to: String,
    },
    /// A POST of the signed JSON event (see [`super::payload`]).
    Webhook {
        url: String,
    },
}

impl Channel {
    /// Checks the address or URL's shape; whether it answers is the delivery's business.
    pub fn check(&self) -> Result<(), RuleError> {
        match self {
            Channel::Email { to } => {
                let ok = to.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !to.chars().any(|c| c.is_whitespace() || c == ',')
                });
                ok.then_some(()).ok_or_else(|| RuleError::Email(to.clone()))
            }
            Channel::Webhook { url } => {
                let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
                let ok =
                    host.is_some_and(|h| !h.is_empty() && !h.contains('@') && !url.chars().any(char::is_whitespace));
                ok.then_some(()).ok_or_else(|| RuleError::Url(url.clone()))
            }
        }
    }
}

/// Checks a rule's channels: one to [`MAX_CHANNELS`], each well formed, none twice.
pub fn check_channels(channels: &[Channel]) -> Result<(), RuleError> {
    if channels.is_empty() || channels.len() > MAX_CHANNELS {
        return Err(RuleError::Channels);
    }
    channels.iter().try_for_each(Channel::check)?;
    let distinct: std::collections::BTreeSet<String> = channels.iter().map(|c| format!("{c:?}")).collect();
    (distinct.len() == channels.len()).then_some(()).ok_or(RuleError::Channels)
}

/// A stored alert rule (`alr_…`). Listed under its subject's owner (see [`Subject::owner`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    /// A name its owner chose, shown in the message.
    pub name: String,
    pub watch: Watch,
    /// Invariant: passed [`check_channels`].
    pub channels: Vec<Channel>,
    /// The HMAC-SHA256 key webhook bodies are signed with (`whsec_…`); shown to the owner
    /// once, when the rule is made, and never logged.
    pub webhook_secret: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub created_at: UnixMillis,
    /// The principal that made it (`alice`, `developer:dev_…`).
    pub created_by: String,
}
