//! The declarative config document (`GET`/`PUT /v1/config`): APIs, products and their plans,
//! referring to each other by NAME, never by id, so one file applies to any installation.
//! These types derive `eserde::Deserialize`, so a document of the wrong shape is answered with
//! every wrong type, unknown field and bad value at once. Fields of core types are read with
//! `buffered` (plain serde over the field's own value): each such field reports its first problem.
//! Unknown fields are refused by `config_shape`, not by `deny_unknown_fields`: eserde stops
//! reading the rest of the document at the first unknown field it is told to deny.

use std::collections::HashMap;

use gatehouse_core::audience::Audience;
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{Api, AuthSettings, CacheSettings, Organisation, Plan, Product, UpstreamSettings};
use gatehouse_core::validation::ValidationSettings;
use serde::Serialize;

use super::config_shape::buffered;

#[derive(Debug, Clone, Default, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ConfigDocument {
    #[serde(default)]
    pub apis: Vec<ApiConfig>,
    #[serde(default)]
    pub products: Vec<ProductConfig>,
    /// Partner organisations, by name, with their tier. Their members are people, not
    /// config: invitations and the admin API add them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<OrganisationConfig>,
}

#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct OrganisationConfig {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    /// The tier its apps' group limits count in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ApiConfig {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    #[schema(pattern = r"^(/|(/[^/\s?#{}]+)+)$")]
    pub base_path: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Where calls go; omitted: the document's first absolute `servers` URL.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "buffered")]
    pub upstream: Option<UpstreamSettings>,
    #[serde(default, deserialize_with = "buffered")]
    pub cache: CacheSettings,
    /// Overrides what the document's security schemes say; omitted means "as the document says".
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "buffered")]
    pub auth: Option<AuthSettings>,
    /// Only clients in these CIDR ranges reach the API (docs/audiences.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "buffered")]
    #[schema(value_type = Vec<String>)]
    pub client_networks: Vec<gatehouse_core::model::IpNet>,
    /// This API as one version of a family served by path or by header (docs/versions.md).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "buffered")]
    pub versioning: Option<gatehouse_core::model::Versioning>,
    /// Requests checked against the document, responses logged; off when omitted
    /// (docs/validation.md).
    #[serde(default, skip_serializing_if = "ValidationSettings::is_off", deserialize_with = "buffered")]
    pub validation: ValidationSettings,
    /// The OpenAPI document, inline (object) or as JSON/YAML text.
    pub openapi: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ProductConfig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub apis: Vec<ProductApiConfig>,
    /// Who may see the product: `public` (default), `registered`, `internal` or
    /// `{groups: […], organisations: […]}` (docs/audiences.md).
    #[serde(default, deserialize_with = "buffered")]
    pub audience: Audience,
    #[serde(default)]
    pub plans: Vec<PlanConfig>,
}

#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ProductApiConfig {
    /// The API's name.
    pub api: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct PlanConfig {
    pub name: String,
    #[serde(default)]
    pub limits: Vec<Limit>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub requires_approval: bool,
}

/// One limit of a plan. A newtype so that a list of limits reports a problem in each element,
/// not only in the first.
#[derive(Debug, Clone, Serialize, eserde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Limit(#[serde(deserialize_with = "buffered")] pub LimitPolicy);

/// Writes the catalog as a config document. The export applies back as "unchanged".
pub(crate) fn export(apis: &[Api], products: &[Product], plans: &[Plan], orgs: &[Organisation]) -> ConfigDocument {
    let names: HashMap<&str, &str> = apis.iter().map(|a| (a.id.as_str(), a.name.as_str())).collect();
    let apis = apis.iter().map(|a| ApiConfig {
        name: a.name.clone(),
        base_path: a.base_path.clone(),
        hosts: a.hosts.clone(),
        upstream: Some(a.upstream.clone()),
        cache: a.cache.clone(),
        auth: Some(a.auth.clone()),
        client_networks: a.client_networks.clone(),
        versioning: a.versioning.clone(),
        validation: a.validation.clone(),
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
        audience: p.audience.clone(),
        plans: plans.iter().filter(|pl| pl.product_id == p.id).map(plan_config).collect(),
    });
    let organisations = orgs.iter().map(|o| OrganisationConfig { name: o.name.clone(), tier: o.tier.clone() });
    ConfigDocument { apis: apis.collect(), products: products.collect(), organisations: organisations.collect() }
}

fn plan_config(p: &Plan) -> PlanConfig {
    PlanConfig {
        name: p.name.clone(),
        limits: p.limits.iter().cloned().map(Limit).collect(),
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
    pub organisations: Counts,
}
