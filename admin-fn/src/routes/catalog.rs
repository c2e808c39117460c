//! Products (bundles of APIs or operations) and their plans (limits, scopes, approval).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::audience::Audience;
use gatehouse_core::ids::IdKind;
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::Access;
use gatehouse_core::model::{Api, Plan, Product, ProductItem, Subscription};
use gatehouse_core::sensitivity::check_class;
use gatehouse_core::store::{EntityKind, Repo, Write};
use serde::Deserialize;

use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody};
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, AdminState};
use crate::views::Items;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/products", Access::Read, list_products::<R, P>),
        route(Method::POST, "/v1/products", Access::Catalog, create_product::<R, P>),
        route(Method::GET, "/v1/products/{id}", Access::Read, get_product::<R, P>),
        route(Method::PATCH, "/v1/products/{id}", Access::Catalog, patch_product::<R, P>),
        route(Method::DELETE, "/v1/products/{id}", Access::Catalog, delete_product::<R, P>),
        route(Method::GET, "/v1/products/{id}/plans", Access::Read, list_plans::<R, P>),
        route(Method::POST, "/v1/plans", Access::Catalog, create_plan::<R, P>),
        route(Method::GET, "/v1/plans/{id}", Access::Read, get_plan::<R, P>),
        route(Method::PATCH, "/v1/plans/{id}", Access::Catalog, patch_plan::<R, P>),
        route(Method::DELETE, "/v1/plans/{id}", Access::Catalog, delete_plan::<R, P>),
    ]
}

/// Every item names an existing API and, when it lists operations, operations that API has.
pub(crate) fn check_items(items: &[ProductItem], apis: &[Api], errors: &mut Vec<FieldError>) {
    for (i, item) in items.iter().enumerate() {
        let Some(api) = apis.iter().find(|a| a.id == item.api_id) else {
            errors.push(FieldError::new(format!("/items/{i}/api_id"), format!("no API with id {}", item.api_id)));
            continue;
        };
        for (j, op) in item.operations.iter().flatten().enumerate() {
            if !api.operations.iter().any(|o| &o.id == op) {
                errors.push(FieldError::new(
                    format!("/items/{i}/operations/{j}"),
                    format!("{} has no operation {op}", api.id),
                ));
            }
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Pets", "description": "Everything about pets", "items": []}))]
pub(crate) struct ProductBody {
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    description: Option<String>,
    items: Option<Vec<ProductItem>>,
    /// Who may see the product, its APIs and its plans; `public` when a product is created
    /// without one.
    audience: Option<Audience>,
}

fn check_product(product: &Product, apis: &[Api]) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    validate::non_empty(&product.name, "/name", &mut errors);
    check_items(&product.items, apis, &mut errors);
    check_audience(&product.audience, &mut errors);
    AdminError::check(errors)
}

pub(crate) fn check_audience(audience: &Audience, errors: &mut Vec<FieldError>) {
    if let Some(problem) = audience.problem() {
        errors.push(FieldError::new("/audience", problem));
    }
}

async fn create_product<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<ProductBody>,
) -> Result<(StatusCode, Tagged<Json<Product>>), AdminError> {
    let product = Product {
        id: fresh_id(IdKind::Product)?,
        name: body.name.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        items: body.items.unwrap_or_default(),
        audience: body.audience.unwrap_or_default(),
        created_at: s.now(),
    };
    check_product(&product, &s.repo.list::<Api>(None).await?)?;
    let change = Change::of(&product, ChangeOp::Created);
    s.commit(&actor, "product.create", vec![Write::insert(&product)?], vec![change]).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&product)?, Json(product))))
}

async fn patch_product<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<ProductBody>,
) -> Result<Tagged<Json<Product>>, AdminError> {
    let apis = match body.items {
        Some(_) => s.repo.list::<Api>(None).await?,
        None => Vec::new(), // the stored items were checked when they were written
    };
    let patched = s
        .modify(&actor, "product.update", ("product", &id), &if_match, |product: &mut Product| {
            if let Some(name) = &body.name {
                product.name.clone_from(name);
            }
            if let Some(description) = &body.description {
                product.description.clone_from(description);
            }
            let mut errors = Vec::new();
            validate::non_empty(&product.name, "/name", &mut errors);
            if let Some(items) = &body.items {
                product.items.clone_from(items);
                check_items(&product.items, &apis, &mut errors);
            }
            if let Some(audience) = &body.audience {
                product.audience.clone_from(audience);
                check_audience(&product.audience, &mut errors);
            }
            AdminError::check(errors)?;
            Ok(vec![])
        })
        .await?;
    Ok(patched.map(Json))
}

async fn list_products<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
) -> Result<Json<Items<Product>>, AdminError> {
    Ok(Json(Items { items: s.repo.list(None).await? }))
}

async fn get_product<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<Product>>, AdminError> {
    let (product, etag) = s.load_tagged("product", &id).await?;
    Ok(Tagged(etag, Json(product)))
}

/// Refused while any app subscribes to it; its plans go with it, in one transaction.
async fn delete_product<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<StatusCode, AdminError> {
    if s.repo.list::<Subscription>(None).await?.iter().any(|sub| sub.product_id == id) {
        return Err(AdminError::conflict("apps still subscribe to this product"));
    }
    let plans = s.repo.list::<Plan>(Some(&id)).await?;
    s.conditional(&actor, "product.delete", ("product", &id), &if_match, |product: Product, expected| {
        let mut writes: Vec<Write> = plans.iter().map(|p| Write::delete::<Plan>(&p.id)).collect();
        let mut changes: Vec<Change> = plans.iter().map(|p| Change::of(p, ChangeOp::Deleted)).collect();
        writes.push(Write::DeleteIf { kind: EntityKind::Product, id: id.clone(), expected });
        changes.push(Change::of(&product, ChangeOp::Deleted));
        Ok((writes, changes, StatusCode::NO_CONTENT))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanBody {
    product_id: Option<String>,
    #[schema(pattern = r"\S", max_length = 200)]
    name: Option<String>,
    limits: Option<Vec<LimitPolicy>>,
    scopes: Option<Vec<String>>,
    requires_approval: Option<bool>,
    /// Sensitivity classes the plan's subscribers may see from the start, with no access
    /// request (`pii`, `internal`, …).
    classes: Option<Vec<String>>,
}

fn check_plan(plan: &Plan) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    validate::non_empty(&plan.name, "/name", &mut errors);
    validate::limits(&plan.limits, "/limits", &mut errors);
    for (i, class) in plan.classes.iter().enumerate() {
        if let Err(problem) = check_class(class) {
            errors.push(FieldError::new(format!("/classes/{i}"), problem));
        }
    }
    AdminError::check(errors)
}

async fn create_plan<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    JsonBody(body): JsonBody<PlanBody>,
) -> Result<(StatusCode, Tagged<Json<Plan>>), AdminError> {
    let product_id = body.product_id.unwrap_or_default();
    if s.repo.get::<Product>(&product_id).await.is_err() {
        return Err(AdminError::validation(vec![FieldError::new("/product_id", "no product with this id")]));
    }
    let plan = Plan {
        id: fresh_id(IdKind::Plan)?,
        product_id,
        name: body.name.unwrap_or_default(),
        limits: body.limits.unwrap_or_default(),
        scopes: body.scopes.unwrap_or_default(),
        requires_approval: body.requires_approval.unwrap_or(false),
        classes: body.classes.unwrap_or_default(),
        created_at: s.now(),
    };
    check_plan(&plan)?;
    s.commit(&actor, "plan.create", vec![Write::insert(&plan)?], vec![Change::of(&plan, ChangeOp::Created)]).await?;
    Ok((StatusCode::CREATED, Tagged(etag_of(&plan)?, Json(plan))))
}

async fn patch_plan<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<PlanBody>,
) -> Result<Tagged<Json<Plan>>, AdminError> {
    let patched = s
        .modify(&actor, "plan.update", ("plan", &id), &if_match, |plan: &mut Plan| {
            if body.product_id.as_ref().is_some_and(|p| *p != plan.product_id) {
                let message = "a plan cannot move to another product";
                return Err(AdminError::validation(vec![FieldError::new("/product_id", message)]));
            }
            if let Some(name) = &body.name {
                plan.name.clone_from(name);
            }
            if let Some(limits) = &body.limits {
                plan.limits.clone_from(limits);
            }
            if let Some(scopes) = &body.scopes {
                plan.scopes.clone_from(scopes);
            }
            plan.requires_approval = body.requires_approval.unwrap_or(plan.requires_approval);
            if let Some(classes) = &body.classes {
                plan.classes.clone_from(classes);
            }
            check_plan(plan)?;
            Ok(vec![])
        })
        .await?;
    Ok(patched.map(Json))
}

async fn list_plans<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<Items<Plan>>, AdminError> {
    s.load::<Product>("product", &id).await?;
    Ok(Json(Items { items: s.repo.list(Some(&id)).await? }))
}

async fn get_plan<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<Plan>>, AdminError> {
    let (plan, etag) = s.load_tagged("plan", &id).await?;
    Ok(Tagged(etag, Json(plan)))
}

async fn delete_plan<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
) -> Result<StatusCode, AdminError> {
    if s.repo.list::<Subscription>(None).await?.iter().any(|sub| sub.plan_id == id) {
        return Err(AdminError::conflict("apps still subscribe under this plan; move them to another plan first"));
    }
    s.conditional(&actor, "plan.delete", ("plan", &id), &if_match, |plan: Plan, expected| {
        let write = Write::DeleteIf { kind: EntityKind::Plan, id: id.clone(), expected };
        Ok((vec![write], vec![Change::of(&plan, ChangeOp::Deleted)], StatusCode::NO_CONTENT))
    })
    .await
}
