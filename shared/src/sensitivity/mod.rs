//! Sensitive data: the classes an API description gives its fields and operations
//! (`x-gatehouse-sensitivity`), and who may see them. A caller sees a class's data on an API
//! only while its app holds a grant for that class there ([`crate::entitlements::ClassGrant`]):
//! from its plan, or from an approved access request ([`crate::model::AccessRequest`]).
//!
//! Import compiles the annotations ([`annotation`]) into an [`OperationSensitivity`] per
//! operation ([`plan`]); the gateway decides with [`decide`] and rewrites bodies with
//! [`filter()`], the same on the edge and natively.

pub mod annotation;
mod class;
pub mod decide;
mod filter;
pub mod plan;
#[cfg(test)]
mod tests;

pub use annotation::{Annotation, Mask, EXTENSION};
pub use class::{check_class, MAX_CLASS_CHARS};
pub use filter::{filter, FilterError, Filtered};
pub use plan::{OperationSensitivity, ResponseFilter, MAX_FILTERED_BODY_BYTES};

/// The response header that lists the classes withheld from a body, so a client developer
/// can see why a member is missing.
pub const WITHHELD_HEADER: &str = "gatehouse-withheld";

/// The classes withheld from a response, put in its extensions for the usage event (which
/// may count accesses to sensitive classes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld(pub Vec<String>);

/// Where a developer asks for `class` on `api_id`: the portal's access page, under the
/// portal's origin when the gateway knows it, else as a path relative to the portal.
pub fn access_url(portal_origin: Option<&str>, api_id: &str, class: &str) -> String {
    format!("{}/apis/{api_id}/access?class={class}", portal_origin.unwrap_or("").trim_end_matches('/'))
}
