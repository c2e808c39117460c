//! A developer's alert settings (`/usage/alerts`, linked from the usage page): their rules,
//! a form to add one (a quota at a percentage, an error rate over N % for M minutes, p95
//! latency over T ms; by email, webhook or both), deleting a rule, and the delivery log.
//! Every action goes through the same functions as the admin API (`routes::alerts`), as the
//! developer, so the portal can do nothing the API would refuse them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gatehouse_core::alerts::{AlertDelivery, AlertRule, Channel, Condition, ErrorClass, Minutes, Percent, Subject};
use gatehouse_core::model::{App, Developer, Key};
use gatehouse_core::store::Repo;
use gatehouse_core::time::rfc3339;
use serde::Deserialize;

use super::apps::{developer, failed, posting};
use super::session::{CsrfForm, Current};
use super::{render, Chrome};
use crate::error::{AdminError, FieldError};
use crate::publisher::Publisher;
use crate::routes::alerts::{create_rule, delete_rule, delivery_log, NewAlertRule};
use crate::state::AdminState;

/// A rule as the page lists it.
struct RuleLine {
    id: String,
    name: String,
    watches: String,
    threshold: String,
    channels: String,
}

/// A delivery as the log lists it.
struct LogLine {
    at: String,
    rule: String,
    channel: String,
    status: &'static str,
    attempts: String,
    summary: String,
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    rules: Vec<RuleLine>,
    apps: Vec<Choice>,
    keys: Vec<Choice>,
    log: Vec<LogLine>,
    /// The signing secret of a rule just made with a webhook: shown this once.
    secret: Option<String>,
}

/// `GET /usage/alerts`.
pub(crate) async fn page<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>, headers: HeaderMap) -> Response {
    match developer(&s, &headers, "/usage/alerts").await {
        Ok((current, developer)) => show(&s, &current, &developer, None).await,
        Err(response) => response,
    }
}

async fn show<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    secret: Option<String>,
) -> Response {
    match alerts_page(s, current, developer, secret).await {
        Ok(page) => render(&page),
        Err(e) => failed(e),
    }
}

async fn alerts_page<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: &Current,
    developer: &Developer,
    secret: Option<String>,
) -> Result<AlertsPage, AdminError> {
    let rules = s.repo.list::<AlertRule>(Some(&developer.id)).await?;
    let apps = s.repo.list::<App>(Some(&developer.id)).await?;
    let mut keys = Vec::new();
    for app in &apps {
        for key in s.repo.list::<Key>(Some(&app.id)).await? {
            let label = format!("{} ({}…{}, {})", key.name, key.display_prefix, key.last4, app.name);
            keys.push(Choice { value: key.id, label });
        }
    }
    let name_of =
        |id: &str| rules.iter().find(|r| r.id == id).map_or_else(|| "(deleted rule)".to_owned(), |r| r.name.clone());
    let log = delivery_log(s, &current.actor(), None)
        .await?
        .iter()
        .map(|d| log_line(d, name_of(&d.message.rule_id)))
        .collect();
    Ok(AlertsPage {
        chrome: Chrome::of(&s.portal, Some(current)),
        rules: rules.iter().map(|r| rule_line(r, &apps, &keys)).collect(),
        apps: apps.iter().map(|a| Choice { value: a.id.clone(), label: a.name.clone() }).collect(),
        keys,
        log,
        secret,
    })
}

fn rule_line(rule: &AlertRule, apps: &[App], keys: &[Choice]) -> RuleLine {
    let watches = match rule.watch.subject() {
        Subject::Developer { key_id: Some(k), .. } => {
            format!("key {}", keys.iter().find(|c| &c.value == k).map_or(k.as_str(), |c| c.label.as_str()))
        }
        Subject::Developer { app_id: Some(a), .. } => {
            format!("app {}", apps.iter().find(|x| &x.id == a).map_or(a.as_str(), |x| x.name.as_str()))
        }
        Subject::Developer { .. } => "all your apps".to_owned(),
        Subject::Api { api_id } => format!("API {api_id}"),
    };
    let threshold = match rule.watch.condition() {
        Condition::Quota { percent } => format!("a quota reaches {} %", percent.get()),
        Condition::ErrorRate { percent, minutes, errors } => format!(
            "{} over {} % for {} minutes",
            if *errors == ErrorClass::Any { "errors (4xx and 5xx)" } else { "server errors (5xx)" },
            percent.get(),
            minutes.get()
        ),
        Condition::Latency { p95_ms, minutes } => format!("p95 latency over {p95_ms} ms for {} minutes", minutes.get()),
    };
    let channels = rule.channels.iter().map(channel_text).collect::<Vec<_>>().join(", ");
    RuleLine { id: rule.id.clone(), name: rule.name.clone(), watches, threshold, channels }
}

fn channel_text(c: &Channel) -> String {
    match c {
        Channel::Email { to } => format!("email {to}"),
        Channel::Webhook { url } => format!("webhook {url}"),
    }
}

fn log_line(d: &AlertDelivery, rule: String) -> LogLine {
    use gatehouse_core::alerts::DeliveryStatus::*;
    let attempts = d.attempts.iter().map(|a| format!("{} {}", &rfc3339(a.at)[11..19], a.detail)).collect::<Vec<_>>();
    LogLine {
        at: rfc3339(d.created_at).replace('T', " ").chars().take(19).collect(),
        rule,
        channel: channel_text(&d.channel),
        status: match d.status {
            Pending => "pending (will retry)",
            Delivered => "delivered",
            GaveUp => "given up",
        },
        attempts: if attempts.is_empty() { "not tried yet".to_owned() } else { attempts.join("; ") },
        summary: d.message.summary.clone(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RuleForm {
    #[serde(default)]
    name: String,
    /// `quota`, `error_rate` or `latency`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    p95_ms: String,
    /// `any` counts 4xx too.
    #[serde(default)]
    errors: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    webhook: String,
    #[serde(default)]
    csrf: String,
}

impl RuleForm {
    /// The API's body for this form, or the fields that are wrong, each in words.
    fn rule(&self, developer_id: &str) -> Result<NewAlertRule, AdminError> {
        let number = |pointer: &str, value: &str| {
            value.trim().parse::<u16>().map_err(|_| FieldError::new(pointer, "must be a whole number"))
        };
        let percent = || {
            number("/percent", &self.percent).and_then(|n| {
                u8::try_from(n)
                    .ok()
                    .and_then(|n| Percent::try_from(n).ok())
                    .ok_or(FieldError::new("/percent", "must be from 1 to 100"))
            })
        };
        let minutes = || {
            number("/minutes", &self.minutes)
                .and_then(|n| Minutes::try_from(n).map_err(|e| FieldError::new("/minutes", e.to_string())))
        };
        let condition = match self.kind.as_str() {
            "quota" => percent().map(|percent| Condition::Quota { percent }),
            "error_rate" => percent().and_then(|percent| {
                let errors = if self.errors == "any" { ErrorClass::Any } else { ErrorClass::Server };
                minutes().map(|minutes| Condition::ErrorRate { percent, minutes, errors })
            }),
            "latency" => self
                .p95_ms
                .trim()
                .parse::<u32>()
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .ok_or(FieldError::new("/p95_ms", "must be a whole number of milliseconds, at least 1"))
                .and_then(|p95_ms| minutes().map(|minutes| Condition::Latency { p95_ms, minutes })),
            _ => Err(FieldError::new("/kind", "choose a quota, an error rate or a latency threshold")),
        };
        let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        let mut channels = Vec::new();
        if let Some(to) = some(&self.email) {
            channels.push(Channel::Email { to });
        }
        if let Some(url) = some(&self.webhook) {
            channels.push(Channel::Webhook { url });
        }
        let subject = Subject::Developer {
            developer_id: developer_id.to_owned(),
            app_id: some(&self.app),
            key_id: some(&self.key),
        };
        let condition = condition.map_err(|e| AdminError::validation(vec![e]))?;
        Ok(NewAlertRule { name: self.name.clone(), subject: Some(subject), condition, channels })
    }
}

/// `POST /usage/alerts`: adds a rule, then shows the page (with the signing secret, once,
/// when the rule has a webhook).
pub(crate) async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Form(form): Form<RuleForm>,
) -> Response {
    let (current, developer) = match posting(&s, &headers, "/usage/alerts", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let created = match form.rule(&developer.id) {
        Ok(body) => create_rule(&s, &current.actor(), body).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(rule) => {
            let hooked = rule.channels.iter().any(|c| matches!(c, Channel::Webhook { .. }));
            show(&s, &current, &developer, hooked.then_some(rule.webhook_secret)).await
        }
        Err(e) => failed(e),
    }
}

/// `POST /usage/alerts/{id}/delete`.
pub(crate) async fn delete<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (current, _) = match posting(&s, &headers, "/usage/alerts", &form.csrf).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match delete_rule(&s, &current.actor(), &id).await {
        Ok(()) => Redirect::to("/usage/alerts").into_response(),
        Err(e) => failed(e),
    }
}
