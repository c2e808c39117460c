//! Subscriptions: an app's access to a product under a plan. Entitlements hang off the app,
//! so changing a plan changes this record and never the app's keys.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::model::Access;
use gatehouse_core::model::{App, Plan, Product, Rejection, Subscription, SubscriptionStatus};
use gatehouse_core::store::{Repo, Write};
use serde::Deserialize;

use super::{route, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, AdminState};
use crate::views::{Items, SubscriptionView};

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/apps/{id}/subscriptions", Access::Read, list::<R, P>),
        route(Method::POST, "/v1/apps/{id}/subscriptions", Access::Approvals, create::<R, P>),
        route(Method::GET, "/v1/subscriptions/{id}", Access::Read, get::<R, P>),
        route(Method::PATCH, "/v1/subscriptions/{id}", Access::Approvals, change_plan::<R, P>),
        route(Method::POST, "/v1/subscriptions/{id}/approve", Access::Approvals, approve::<R, P>),
        route(Method::POST, "/v1/subscriptions/{id}/reject", Access::Approvals, reject::<R, P>),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSubscription {
    product_id: String,
    plan_id: String,
}

/// The plan, checked to exist and to belong to `product_id`.
async fn plan_of<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    product_id: &str,
    plan_id: &str,
) -> Result<Plan, AdminError> {
    match s.repo.get::<Plan>(plan_id).await {
        Ok(plan) if plan.product_id == product_id => Ok(plan),
        Ok(_) => Err(AdminError::validation(vec![FieldError::new("/plan_id", "the plan belongs to another product")])),
        Err(_) => Err(AdminError::validation(vec![FieldError::new("/plan_id", "no plan with this id")])),
    }
}

/// Plans that need an owner's approval start (or, on a plan change, go back to) pending.
fn status_for(plan: &Plan) -> SubscriptionStatus {
    if plan.requires_approval {
        SubscriptionStatus::Pending
    } else {
        SubscriptionStatus::Active
    }
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(app_id): Id,
    JsonBody(body): JsonBody<NewSubscription>,
) -> Result<(StatusCode, Tagged<Json<SubscriptionView>>), AdminError> {
    let sub = subscribe(&s, &actor, app_id, body.product_id, &body.plan_id).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&sub)?, Json(SubscriptionView::new(sub)))))
}

/// Subscribes an app to a product's plan: the one way in, for the admin API and the portal.
pub(crate) async fn subscribe<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    app_id: String,
    product_id: String,
    plan_id: &str,
) -> Result<Subscription, AdminError> {
    s.load::<App>("app", &app_id).await?;
    if s.repo.get::<Product>(&product_id).await.is_err() {
        return Err(AdminError::validation(vec![FieldError::new("/product_id", "no product with this id")]));
    }
    let plan = plan_of(s, &product_id, plan_id).await?;
    let existing = s.repo.list::<Subscription>(Some(&app_id)).await?;
    if existing.iter().any(|sub| sub.product_id == product_id) {
        return Err(AdminError::conflict("the app already subscribes to this product; change its plan instead"));
    }
    let sub = Subscription {
        id: fresh_id(IdKind::Subscription)?,
        app_id,
        product_id,
        plan_id: plan.id.clone(),
        status: status_for(&plan),
        rejection: None,
        created_at: s.now(),
    };
    s.commit(actor, "subscription.create", vec![Write::insert(&sub)?], vec![Change::of(&sub, ChangeOp::Created)])
        .await?;
    Ok(sub)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanChange {
    plan_id: String,
}

async fn change_plan<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<PlanChange>,
) -> Result<Tagged<Json<SubscriptionView>>, AdminError> {
    // A subscription never changes product, so the plan can be checked before the write.
    let product_id = s.load::<Subscription>("subscription", &id).await?.product_id;
    let plan = plan_of(&s, &product_id, &body.plan_id).await?;
    let changed = s
        .modify(&actor, "subscription.change_plan", ("subscription", &id), &if_match, |sub: &mut Subscription| {
            // A new plan, or any plan after a rejection, asks again.
            if plan.id != sub.plan_id || sub.status == SubscriptionStatus::Rejected {
                sub.status = status_for(&plan);
                sub.plan_id.clone_from(&plan.id);
                sub.rejection = None;
            }
            Ok(vec![])
        })
        .await?;
    Ok(changed.map(|sub| Json(SubscriptionView::new(sub))))
}

async fn approve<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<Tagged<Json<SubscriptionView>>, AdminError> {
    let approved = approve_subscription(&s, &actor, &id, &if_match).await?;
    Ok(approved.map(|sub| Json(SubscriptionView::new(sub))))
}

/// Approves a subscription: the one way, for the admin API and the portal's admin pages.
pub(crate) async fn approve_subscription<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
) -> Result<Tagged<Subscription>, AdminError> {
    s.modify(actor, "subscription.approve", ("subscription", id), if_match, |sub: &mut Subscription| {
        if sub.status == SubscriptionStatus::Suspended {
            return Err(AdminError::conflict("the subscription is suspended"));
        }
        // Approving a rejected subscription reverses the rejection.
        sub.status = SubscriptionStatus::Active;
        sub.rejection = None;
        Ok(vec![])
    })
    .await
}

/// Longest rejection reason: a few sentences the developer reads, not a document.
pub(crate) const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "This plan is for registered partners; apply for the partner programme first."}))]
pub(crate) struct RejectRequest {
    /// Shown to the developer as written; 1 to 500 characters, not blank.
    #[schema(pattern = r"\S", max_length = 500)]
    reason: String,
}

async fn reject<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<RejectRequest>,
) -> Result<Tagged<Json<SubscriptionView>>, AdminError> {
    let rejected = reject_subscription(&s, &actor, &id, &if_match, &body.reason).await?;
    Ok(rejected.map(|sub| Json(SubscriptionView::new(sub))))
}

/// Rejects a subscription with a reason the developer reads: the one way, for the admin API
/// and the portal's admin pages.
pub(crate) async fn reject_subscription<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    reason: &str,
) -> Result<Tagged<Subscription>, AdminError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        let message = format!("must be 1 to {MAX_REASON_CHARS} characters, not blank");
        return Err(AdminError::validation(vec![FieldError::new("/reason", message)]));
    }
    let at = s.now();
    s.modify(
        &actor.because(&reason),
        "subscription.reject",
        ("subscription", id),
        if_match,
        |sub: &mut Subscription| {
            if matches!(sub.status, SubscriptionStatus::Rejected | SubscriptionStatus::Suspended) {
                return Err(AdminError::conflict("only a pending or active subscription can be rejected"));
            }
            sub.status = SubscriptionStatus::Rejected;
            sub.rejection = Some(Rejection { reason: reason.clone(), at });
            Ok(vec![])
        },
    )
    .await
}

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(app_id): Id,
) -> Result<Json<Items<SubscriptionView>>, AdminError> {
    s.load::<App>("app", &app_id).await?;
    let subs = s.repo.list::<Subscription>(Some(&app_id)).await?;
    Ok(Json(Items { items: subs.into_iter().map(SubscriptionView::new).collect() }))
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<SubscriptionView>>, AdminError> {
    let (sub, etag) = s.load_tagged("subscription", &id).await?;
    Ok(Tagged(etag, Json(SubscriptionView::new(sub))))
}
