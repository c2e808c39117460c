//! Who may know that an API exists. Each product has an [`Audience`]; an API is visible to a
//! [`Visitor`] through the products that bundle it and admit them, and to nobody else but the
//! provider's staff. An API in no product is therefore the staff's alone: a new API is never
//! public by accident.
//!
//! The portal and the admin API decide every page and list with [`Visibility`], and answer an
//! invisible API exactly like one that does not exist (`404`), so a visitor cannot even learn
//! that it exists. The gateway needs nothing more: an app not subscribed to a product holding
//! the API has no entitlement to it.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Api, Product};

#[cfg(test)]
mod tests;

/// Who a product is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Audience {
    /// Anyone, signed in or not: the catalog and docs are public.
    #[default]
    Public,
    /// Any signed-in developer.
    Registered,
    /// The provider's own people only (staff signed in to the portal's admin area).
    Internal,
    /// Developers in one of these groups or organisations: partner programs. At least one
    /// name, so the audience is never "nobody" by mistake.
    Partners(Partners),
}

/// The named groups and organisations of a partner audience.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Partners {
    /// Developer groups (tiers), as `Developer::group` names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Organisation ids or names a developer belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<String>,
}

/// Who is looking, as far as visibility goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visitor<'a> {
    /// Not signed in.
    Anonymous,
    /// A signed-in developer, with the group and the organisations they belong to.
    Developer { group: Option<&'a str>, organisations: &'a [String] },
    /// The provider's staff: a principal signed in to the admin area. Sees everything.
    Staff,
}

impl Audience {
    /// Whether `visitor` may know of this product, its APIs and its plans.
    pub fn admits(&self, visitor: Visitor<'_>) -> bool {
        match (self, visitor) {
            (_, Visitor::Staff) | (Audience::Public, _) => true,
            (Audience::Registered, Visitor::Developer { .. }) => true,
            (Audience::Partners(p), Visitor::Developer { group, organisations }) => {
                group.is_some_and(|g| p.groups.iter().any(|name| name == g))
                    || organisations.iter().any(|o| p.organisations.contains(o))
            }
            (Audience::Registered | Audience::Internal | Audience::Partners(_), _) => false,
        }
    }

    /// Why the audience cannot be stored, if it cannot: a partner audience names nobody, or
    /// a name is blank.
    pub fn problem(&self) -> Option<&'static str> {
        let Audience::Partners(p) = self else { return None };
        if p.groups.is_empty() && p.organisations.is_empty() {
            return Some("a partner audience names at least one group or organisation");
        }
        let blank = p.groups.iter().chain(&p.organisations).any(|name| name.trim().is_empty());
        blank.then_some("group and organisation names must not be blank")
    }
}

/// What one visitor may see of the catalogue: the products that admit them, and the APIs
/// those products bundle. Built once per page from the product list.
#[derive(Debug, Clone)]
pub struct Visibility {
    staff: bool,
    products: BTreeSet<String>,
    apis: BTreeSet<String>,
}

impl Visibility {
    pub fn of(visitor: Visitor<'_>, products: &[Product]) -> Visibility {
        let admitted: Vec<&Product> = products.iter().filter(|p| p.audience.admits(visitor)).collect();
        Visibility {
            staff: visitor == Visitor::Staff,
            products: admitted.iter().map(|p| p.id.clone()).collect(),
            apis: admitted.iter().flat_map(|p| p.items.iter().map(|i| i.api_id.clone())).collect(),
        }
    }

    /// Whether the visitor may know the API with this id exists.
    pub fn api(&self, api_id: &str) -> bool {
        self.staff || self.apis.contains(api_id)
    }

    /// Whether the visitor may see (and subscribe under) this product.
    pub fn product(&self, product_id: &str) -> bool {
        self.staff || self.products.contains(product_id)
    }

    /// `api` when the visitor may know of it.
    pub fn filter_api(&self, api: Api) -> Option<Api> {
        self.api(&api.id).then_some(api)
    }
}

/// The wire form: `"public"`, `"registered"`, `"internal"`, or `{"groups": […],
/// "organisations": […]}` for partners.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Wire {
    Named(Named),
    Partners(Partners),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Named {
    Public,
    Registered,
    Internal,
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Audience::Public => Wire::Named(Named::Public),
            Audience::Registered => Wire::Named(Named::Registered),
            Audience::Internal => Wire::Named(Named::Internal),
            Audience::Partners(p) => Wire::Partners(p.clone()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Wire::deserialize(deserializer) {
            Ok(Wire::Named(Named::Public)) => Ok(Audience::Public),
            Ok(Wire::Named(Named::Registered)) => Ok(Audience::Registered),
            Ok(Wire::Named(Named::Internal)) => Ok(Audience::Internal),
            Ok(Wire::Partners(p)) => Ok(Audience::Partners(p)),
            Err(_) => Err(D::Error::custom(format_args!("{EXPECTED}"))),
        }
    }
}

/// What an audience may be, for error messages.
pub const EXPECTED: &str =
    "an audience is \"public\", \"registered\", \"internal\" or {\"groups\": [...], \"organisations\": [...]}";

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::Public => f.write_str("public"),
            Audience::Registered => f.write_str("registered developers"),
            Audience::Internal => f.write_str("internal"),
            Audience::Partners(p) => {
                let names: Vec<&str> = p.groups.iter().chain(&p.organisations).map(String::as_str).collect();
                write!(f, "partners: {}", names.join(", "))
            }
        }
    }
}

/// The schema of the wire form, for the admin API's OpenAPI document.
#[cfg(feature = "schema")]
impl utoipa::PartialSchema for Audience {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
        let named = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(["public", "registered", "internal"]))
            .description(Some("Everyone, any signed-in developer, or the provider's staff only"));
        OneOfBuilder::new()
            .item(named)
            .item(<Partners as utoipa::PartialSchema>::schema())
            .description(Some("Who may see the product, its APIs and its plans"))
            .into()
    }
}

#[cfg(feature = "schema")]
impl utoipa::ToSchema for Audience {}
