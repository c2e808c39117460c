//! Who runs Gatehouse: named principals, each with one role, and the admin tokens they call
//! the admin API with. What each role may reach is one table here ([`Access::allows`]), which
//! every admin route and every portal admin action consults, so the API and the portal can
//! never disagree about who may do what.

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A principal's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including principals and their tokens.
    Owner,
    /// APIs, products, plans and declarative config; reads everything.
    ApiAdmin,
    /// Subscriptions and access requests; reads everything.
    Approver,
    /// Reads everything (analytics, the audit trail); changes nothing.
    Viewer,
    /// A developer signed in to the portal: their own apps, keys, usage and audit entries.
    Developer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::ApiAdmin, Role::Approver, Role::Viewer, Role::Developer];

    /// The name used in the API, the CLI and the audit trail.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::ApiAdmin => "api-admin",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
            Role::Developer => "developer",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether this role may hold an admin token. A developer acts through the portal's
    /// session (the admin API knows them by it), never through a token of their own.
    pub const fn takes_tokens(self) -> bool {
        !matches!(self, Role::Developer)
    }
}

/// What an admin route or portal action needs. Declared next to each route, so no route
/// exists without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token (health, the OpenAPI document, the edge's signed ingest).
    Public,
    /// Any admin role: reading the catalog, developers, keys, usage.
    Read,
    /// Changing APIs, products, plans and config.
    Catalog,
    /// Deciding subscriptions and access requests.
    Approvals,
    /// Developer accounts, apps, credentials, personal data exports, principals and tokens.
    Owner,
    /// The audit trail: every admin role reads all of it, a developer the entries about their
    /// own apps.
    Audit,
    /// Alert rules and their delivery log: a provider (owner, api-admin) on APIs, a developer
    /// on their own calls.
    Alerts,
}

impl Access {
    /// Whether `role` may use what needs `self`.
    pub const fn allows(self, role: Role) -> bool {
        use Role::*;
        match self {
            Access::Public | Access::Audit => true,
            Access::Read => !matches!(role, Developer),
            Access::Catalog => matches!(role, Owner | ApiAdmin),
            Access::Approvals => matches!(role, Owner | Approver),
            Access::Owner => matches!(role, Owner),
            Access::Alerts => matches!(role, Owner | ApiAdmin | Developer),
        }
    }

    /// The roles allowed, for documentation (the OpenAPI document's `x-gatehouse-roles`).
    pub fn roles(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| self.allows(*r)).collect()
    }
}

/// An admin token, stored only as the SHA-256 of its secret. Revoked tokens are kept (marked)
/// so the audit trail's names keep meaning something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AdminToken {
    /// `tok_…`.
    pub id: String,
    /// The principal it names, as the audit trail shows it (e.g. `alice`, `ci-deploy`).
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the secret; never the secret.
    pub hash: String,
    /// The secret's last four characters, to tell tokens apart.
    pub last4: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    /// The principal that created it.
    pub created_by: String,
    #[serde(default, with = "crate::time::serde_rfc3339_opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<UnixMillis>,
}

impl AdminToken {
    /// Whether the token still opens the admin API.
    pub fn live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A principal's name: 1 to 64 letters, digits, `.`, `-`, `_` or `@` (an email or a service
/// name), so it reads plainly in the audit trail and never looks like another principal's
/// `kind:` form.
pub fn valid_principal_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_reach_owner_routes_and_developers_reach_only_audit() {
        assert_eq!(Access::Owner.roles(), vec![Role::Owner]);
        assert_eq!(Access::Catalog.roles(), vec![Role::Owner, Role::ApiAdmin]);
        assert_eq!(Access::Approvals.roles(), vec![Role::Owner, Role::Approver]);
        assert!(!Access::Read.allows(Role::Developer));
        assert!(Access::Read.allows(Role::Viewer));
        assert!(Access::Audit.allows(Role::Developer));
    }

    #[test]
    fn roles_round_trip_by_name_and_developers_take_no_tokens() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).ok(), Some(serde_json::json!(role.as_str())));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(!Role::Developer.takes_tokens());
        assert!(Role::Viewer.takes_tokens());
    }

    #[test]
    fn principal_names_are_plain() {
        assert!(valid_principal_name("alice@example.com"));
        assert!(valid_principal_name("ci-deploy_2"));
        assert!(!valid_principal_name(""));
        assert!(!valid_principal_name("admin:1234"));
        assert!(!valid_principal_name("has space"));
        assert!(!valid_principal_name(&"a".repeat(65)));
    }
}
