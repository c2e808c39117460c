//! Alert rules and their delivery log. A developer (the portal's session) sets rules on their
//! own calls and reads their own deliveries; a provider (owner, api-admin) sets rules on an
//! API's calls, or on a developer's, and reads every delivery. Someone else's rule answers
//! 404, as if it did not exist. The webhook signing secret is in the answer that creates the
//! rule and nowhere else.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::alerts::{check_channels, AlertDelivery, AlertRule, Channel, Condition, Subject, Watch};
use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::base62;
use gatehouse_core::model::{Access, Api, App, Developer, Key};
use gatehouse_core::store::{Repo, StoreError, Write};
use serde::{Deserialize, Serialize};

use super::{route, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, QueryParams};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{fresh_id, random, AdminState};
use crate::views::Items;

/// The most rules one developer or API may have.
pub(crate) const MAX_RULES: usize = 50;
/// The most deliveries one page of the log holds.
pub(crate) const LOG_LIMIT: usize = 200;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/alert-rules", Access::Alerts, list::<R, P>),
        route(Method::POST, "/v1/alert-rules", Access::Alerts, create::<R, P>),
        route(Method::GET, "/v1/alert-rules/{id}", Access::Alerts, get::<R, P>),
        route(Method::DELETE, "/v1/alert-rules/{id}", Access::Alerts, delete::<R, P>),
        route(Method::GET, "/v1/alert-deliveries", Access::Alerts, deliveries::<R, P>),
    ]
}

/// A rule as the API shows it: everything but the signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AlertRuleView {
    pub id: String,
    pub name: String,
    pub subject: Subject,
    pub condition: Condition,
    pub channels: Vec<Channel>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

impl AlertRuleView {
    pub(crate) fn of(r: &AlertRule) -> AlertRuleView {
        AlertRuleView {
            id: r.id.clone(),
            name: r.name.clone(),
            subject: r.watch.subject().clone(),
            condition: r.watch.condition().clone(),
            channels: r.channels.clone(),
            created_at: gatehouse_core::time::rfc3339(r.created_at),
            created_by: r.created_by.clone(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "daily quota at 80 %", "condition": {"type": "quota", "percent": 80},
    "channels": [{"type": "email", "to": "ops@example.com"}, {"type": "webhook", "url": "https://example.com/hooks/gatehouse"}]}))]
pub(crate) struct NewAlertRule {
    /// Shown in the message, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Whose calls; a developer may leave it out (their own), a provider must give it.
    #[serde(default)]
    pub subject: Option<Subject>,
    pub condition: Condition,
    /// 1 to 5 email addresses or webhook URLs.
    pub channels: Vec<Channel>,
}

/// The only answer that carries the rule's webhook signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedAlertRule {
    pub rule: AlertRuleView,
    /// HMAC-SHA256 key of the `gatehouse-signature` header on webhook deliveries (docs/alerts.md).
    pub webhook_secret: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryQuery {
    /// Only this rule's deliveries.
    #[serde(default)]
    pub rule_id: Option<String>,
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
) -> Result<Json<Items<AlertRuleView>>, AdminError> {
    let rules = s.repo.list::<AlertRule>(actor.developer_id()).await?;
    Ok(Json(Items { items: rules.iter().map(AlertRuleView::of).collect() }))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
) -> Result<Json<AlertRuleView>, AdminError> {
    Ok(Json(AlertRuleView::of(&visible(&s, &actor, &id).await?)))
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewAlertRule>,
) -> Result<(StatusCode, Json<CreatedAlertRule>), AdminError> {
    let rule = create_rule(&s, &actor, body).await?;
    let created = CreatedAlertRule { rule: AlertRuleView::of(&rule), webhook_secret: rule.webhook_secret };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Checks and stores a new rule: the API's and the portal's one way in.
pub(crate) async fn create_rule<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    body: NewAlertRule,
) -> Result<AlertRule, AdminError> {
    let (name, watch) = checked(actor, body.name, body.subject, body.condition, &body.channels)?;
    check_subject(s, actor, watch.subject()).await?;
    if s.repo.list::<AlertRule>(Some(watch.subject().owner())).await?.len() >= MAX_RULES {
        return Err(AdminError::conflict(format!("at most {MAX_RULES} rules per developer or API; delete one first")));
    }
    let rule = AlertRule {
        id: fresh_id(IdKind::AlertRule)?,
        name,
        watch,
        channels: body.channels,
        webhook_secret: format!("whsec_{}", base62(&random::<32>()?)),
        created_at: s.now(),
        created_by: actor.name.clone(),
    };
    let change = Change::of(&rule, ChangeOp::Created);
    s.commit(actor, "alert_rule.create", vec![Write::insert(&rule)?], vec![change]).await?;
    Ok(rule)
}

/// The rule's name and watch, once the body's fields are each well formed (every problem
/// reported at once).
fn checked(
    actor: &Actor,
    name: String,
    subject: Option<Subject>,
    condition: Condition,
    channels: &[Channel],
) -> Result<(String, Watch), AdminError> {
    let mut errors = Vec::new();
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("/name", "1 to 100 characters"));
    }
    if let Err(e) = check_channels(channels) {
        errors.push(FieldError::new("/channels", e.to_string()));
    }
    let subject = match (subject, actor.developer_id()) {
        (Some(subject), _) => Some(subject),
        (None, Some(me)) => Some(Subject::Developer { developer_id: me.to_owned(), app_id: None, key_id: None }),
        (None, None) => {
            errors.push(FieldError::new("/subject", "a provider's rule names an API (or a developer)"));
            None
        }
    };
    let watch = match subject.map(|subject| Watch::new(subject, condition)) {
        Some(Ok(watch)) => Some(watch),
        Some(Err(e)) => {
            errors.push(FieldError::new("/condition", e.to_string()));
            None
        }
        None => None,
    };
    AdminError::check(errors)?;
    watch.map(|watch| (name, watch)).ok_or_else(|| AdminError::Internal("a checked rule has no subject".into()))
}

/// A developer's rule watches only their own apps and keys; a provider's names what exists.
async fn check_subject<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    subject: &Subject,
) -> Result<(), AdminError> {
    let refuse = |pointer: &str, why: &str| Err(AdminError::validation(vec![FieldError::new(pointer, why)]));
    let found = |r: Result<(), StoreError>| match r {
        Err(StoreError::NotFound) => Ok(false),
        other => other.map(|()| true),
    };
    match subject {
        Subject::Api { api_id } => {
            if actor.developer_id().is_some() {
                return refuse("/subject", "a developer's rule watches their own calls");
            }
            if !found(s.repo.get::<Api>(api_id).await.map(drop))? {
                return refuse("/subject/api_id", "no such API");
            }
        }
        Subject::Developer { developer_id, app_id, key_id } => {
            if actor.developer_id().is_some_and(|me| me != developer_id) {
                return refuse("/subject/developer_id", "a developer's rule watches their own calls");
            }
            if !found(s.repo.get::<Developer>(developer_id).await.map(drop))? {
                return refuse("/subject/developer_id", "no such developer");
            }
            let apps = s.repo.list::<App>(Some(developer_id)).await?;
            if app_id.as_ref().is_some_and(|a| !apps.iter().any(|app| &app.id == a)) {
                return refuse("/subject/app_id", "no such app of this developer");
            }
            if let Some(key_id) = key_id {
                let key = match s.repo.get::<Key>(key_id).await {
                    Ok(key) => Some(key),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                if !key.is_some_and(|k| apps.iter().any(|app| app.id == k.app_id)) {
                    return refuse("/subject/key_id", "no such key of this developer");
                }
            }
        }
    }
    Ok(())
}

async fn delete<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
) -> Result<StatusCode, AdminError> {
    delete_rule(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a rule the actor may see. Deliveries already in the outbox still go out by email;
/// a webhook's is given up, since its signing secret went with the rule.
pub(crate) async fn delete_rule<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
) -> Result<(), AdminError> {
    let rule = visible(s, actor, id).await?;
    let change = Change::of(&rule, ChangeOp::Deleted);
    s.commit(actor, "alert_rule.delete", vec![Write::delete::<AlertRule>(id)], vec![change]).await
}

/// The rule `id` if `actor` may see it; someone else's rule is not found.
async fn visible<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
) -> Result<AlertRule, AdminError> {
    let rule = match s.repo.get::<AlertRule>(id).await {
        Err(StoreError::NotFound) => None,
        other => Some(other?),
    };
    match rule {
        Some(rule) if actor.developer_id().is_none_or(|me| rule.watch.subject().owner() == me) => Ok(rule),
        _ => Err(AdminError::not_found("alert rule", id)),
    }
}

async fn deliveries<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    QueryParams(query): QueryParams<DeliveryQuery>,
) -> Result<Json<Items<AlertDelivery>>, AdminError> {
    Ok(Json(Items { items: delivery_log(&s, &actor, query.rule_id.as_deref()).await? }))
}

/// The newest [`LOG_LIMIT`] deliveries `actor` may read, newest first.
pub(crate) async fn delivery_log<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    rule_id: Option<&str>,
) -> Result<Vec<AlertDelivery>, AdminError> {
    let mut log: Vec<AlertDelivery> = s
        .repo
        .list::<AlertDelivery>(actor.developer_id())
        .await?
        .into_iter()
        .filter(|d| rule_id.is_none_or(|r| d.message.rule_id == r))
        .collect();
    log.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    log.truncate(LOG_LIMIT);
    Ok(log)
}
