//! The declarative config document (`GET`/`PUT /v1/config`): APIs, products and their plans,
//! referring to each other by NAME, never by id, so one file applies to any installation.

use std::collections::HashMap;

use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{Api, AuthSettings, CacheSettings, Plan, Product, UpstreamSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigDocument {
    #[serde(default)]
    pub apis: Vec<ApiConfig>,
    #[serde(default)]
    pub products: Vec<ProductConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiConfig {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    #[schema(pattern = r"^(/|(/[^/\s?#{}]+)+)$")]
    pub base_path: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    pub upstream: UpstreamSettings,
    #[serde(default)]
    pub cache: CacheSettings,
    /// Overrides what the document's security schemes say; omitted means "as the document says".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSettings>,
    /// The OpenAPI document, inline (object) or as JSON/YAML text.
    pub openapi: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductConfig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub apis: Vec<ProductApiConfig>,
    #[serde(default)]
    pub plans: Vec<PlanConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductApiConfig {
    /// The API's name.
    pub api: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanConfig {
    pub name: String,
    #[serde(default)]
    pub limits: Vec<LimitPolicy>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub requires_approval: bool,
}

/// Writes the catalog as a config document. The export applies back as "unchanged".
pub(crate) fn export(apis: &[Api], products: &[Product], plans: &[Plan]) -> ConfigDocument {
    let names: HashMap<&str, &str> = apis.iter().map(|a| (a.id.as_str(), a.name.as_str())).collect();
    let apis = apis.iter().map(|a| ApiConfig {
        name: a.name.clone(),
        base_path: a.base_path.clone(),
        hosts: a.hosts.clone(),
        upstream: a.upstream.clone(),
        cache: a.cache.clone(),
        auth: Some(a.auth.clone()),
        openapi: a.openapi.clone(),
    });
    let products = products.iter().map(|p| ProductConfig {
        name: p.name.clone(),
        description: p.description.clone(),
        apis: p
            .items
            .iter()
            .map(|i| ProductApiConfig {
                api: names.get(i.api_id.as_str()).map_or_else(|| i.api_id.clone(), |n| n.to_string()),
                operations: i.operations.clone(),
            })
            .collect(),
        plans: plans.iter().filter(|pl| pl.product_id == p.id).map(plan_config).collect(),
    });
    ConfigDocument { apis: apis.collect(), products: products.collect() }
}

fn plan_config(p: &Plan) -> PlanConfig {
    PlanConfig {
        name: p.name.clone(),
        limits: p.limits.clone(),
        scopes: p.scopes.clone(),
        requires_approval: p.requires_approval,
    }
}

/// Created / updated / unchanged counts for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct Counts {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct ApplyReport {
    pub apis: Counts,
    pub products: Counts,
    pub plans: Counts,
}
