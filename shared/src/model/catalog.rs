use serde::{Deserialize, Serialize};

use crate::audience::Audience;
use crate::limits::LimitPolicy;
use crate::time::UnixMillis;

/// A bundle of APIs (or some of their operations) offered under plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub items: Vec<ProductItem>,
    /// Who may see the product, its APIs and its plans (`public` when not set, as every
    /// product was before audiences).
    #[serde(default)]
    pub audience: Audience,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

/// One API in a product; `operations: None` means every operation of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ProductItem {
    pub api_id: String,
    #[serde(default)]
    pub operations: Option<Vec<String>>,
}

/// What a subscriber gets: limits, quotas, scopes, and whether an owner must approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: String,
    pub product_id: String,
    pub name: String,
    #[serde(default)]
    pub limits: Vec<LimitPolicy>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub requires_approval: bool,
    /// Sensitivity classes the plan includes from the start, on its product's APIs: data of
    /// these classes needs no access request (e.g. `internal` on a partner tier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

/// A person (or team) who builds apps against the APIs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Developer {
    pub id: String,
    /// Unique across developers, compared lower-cased.
    pub email: String,
    pub name: String,
    /// Group or tier (e.g. `partners`); group limits are shared by everyone in it.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    /// When they accepted the portal's terms of use (signing up there); `None` for
    /// developers an admin created.
    #[serde(default, with = "crate::time::serde_rfc3339_opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub terms_accepted_at: Option<UnixMillis>,
    /// When the account was closed: its keys were revoked and its personal fields replaced
    /// by anonymous values. The record stays so the ids in usage and audit still resolve.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub closed_at: Option<UnixMillis>,
}

/// An application, a developer's own or an organisation's. Keys and subscriptions belong to
/// the app, so a plan change never needs a new key, and an organisation's app outlives the
/// member who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct App {
    pub id: String,
    /// Who made it: its owner when `organisation_id` is not set; usage is attributed to them.
    pub developer_id: String,
    /// The organisation that owns it, if any: its members use it as their role allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    pub name: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Waiting for an owner's approval (plans with `requires_approval`).
    Pending,
    Active,
    Suspended,
    /// Refused by an owner, with a reason the developer sees ([`Subscription::rejection`]).
    /// Grants nothing. Changing the plan asks again; approving reverses it.
    Rejected,
}

/// Why and when an owner refused a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Rejection {
    /// Shown to the developer as written (1 to 500 characters, checked by the admin API).
    pub reason: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: UnixMillis,
}

/// An app's subscription to a product under a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Subscription {
    pub id: String,
    pub app_id: String,
    pub product_id: String,
    pub plan_id: String,
    pub status: SubscriptionStatus,
    /// Set while the status is `rejected`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// Monthly quotas are anchored here (billing-cycle day), not at the calendar month.
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}
