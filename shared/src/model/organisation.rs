//! Organisations: a partner company (or a team) whose members share apps. An app belongs to a
//! developer or to an organisation; keys belong to the app, so removing a member, or a member
//! closing their account, takes away their access and leaves the organisation's apps and keys
//! working.
//!
//! Limits follow the same owner: a `developer`-scoped policy counts per owner (the developer
//! of a personal app, the organisation of an organisation's app), and a `group`-scoped one per
//! tier (the organisation's tier for its apps, the developer's group for personal ones).

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A partner organisation (or team) that owns apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub id: String,
    /// Unique, compared lower-cased; partner audiences may name it.
    pub name: String,
    /// The tier its apps' `group` limits count in (e.g. `gold`); none: group limits do not
    /// apply to its apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

/// What a member may do with the organisation's apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum OrgRole {
    /// Everything: apps, subscriptions, every key, members and invitations.
    #[serde(rename = "org-admin")]
    OrgAdmin,
    /// Sees the apps, their subscriptions and usage, and makes keys of their own to use them.
    #[serde(rename = "member")]
    Member,
}

impl OrgRole {
    /// Whether the role manages the organisation (apps, subscriptions, all keys, people).
    pub fn manages(self) -> bool {
        self == OrgRole::OrgAdmin
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::OrgAdmin => "org-admin",
            OrgRole::Member => "member",
        }
    }
}

/// A developer's membership of an organisation. Its id is derived from both ids, so a
/// developer is a member once at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Membership {
    pub id: String,
    pub organisation_id: String,
    pub developer_id: String,
    pub role: OrgRole,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
}

impl Membership {
    pub fn id_for(organisation_id: &str, developer_id: &str) -> String {
        format!("{organisation_id}.{developer_id}")
    }
}

/// An invitation to join an organisation, mailed to an address. The link's token is random
/// and kept only as its SHA-256 (the id); it works once, until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Invitation {
    /// Hex SHA-256 of the link's token.
    pub id: String,
    pub organisation_id: String,
    /// Where it was sent, as typed (compared lower-cased).
    pub email: String,
    pub role: OrgRole,
    /// Who invited: the actor, as audit entries name it.
    pub invited_by: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub expires_at: UnixMillis,
    /// Set when accepted; an accepted invitation never admits anyone again.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub accepted_at: Option<UnixMillis>,
}

impl Invitation {
    /// How long an invitation works: a week, time enough for a partner's admin to find it.
    pub const LIFETIME: UnixMillis = 7 * 24 * 3600 * 1000;

    pub fn usable(&self, now: UnixMillis) -> bool {
        self.accepted_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_use_the_names_the_issue_and_docs_use() {
        assert_eq!(serde_json::to_string(&OrgRole::OrgAdmin).ok().as_deref(), Some("\"org-admin\""));
        assert_eq!(serde_json::from_str::<OrgRole>("\"member\"").ok(), Some(OrgRole::Member));
        assert!(serde_json::from_str::<OrgRole>("\"owner\"").is_err());
        assert!(OrgRole::OrgAdmin.manages() && !OrgRole::Member.manages());
    }

    #[test]
    fn an_invitation_admits_once_and_only_before_it_expires() {
        let mut inv = Invitation {
            id: "h".into(),
            organisation_id: "org_1".into(),
            email: "a@b.example".into(),
            role: OrgRole::Member,
            invited_by: "admin".into(),
            created_at: 0,
            expires_at: 100,
            accepted_at: None,
        };
        assert!(inv.usable(99) && !inv.usable(100));
        inv.accepted_at = Some(5);
        assert!(!inv.usable(6));
    }
}
