//! The portal's sign-in: one-time links sent by email, the sessions they open, and the
//! counters that throttle them. Each token is random and kept only as its SHA-256 (the record
//! id), so a copy of the store opens no session and follows no link.

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// A sign-in link sent by email: single use, short-lived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLink {
    /// Hex SHA-256 of the link's token.
    pub id: String,
    /// Where the link was sent, as typed (compared lower-cased).
    pub email: String,
    /// A local path to return to after signing in.
    #[serde(default)]
    pub next: Option<String>,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub created_at: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub expires_at: UnixMillis,
    /// Set when the link is used; a used link never opens a second session.
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    pub used_at: Option<UnixMillis>,
}

impl SignInLink {
    /// Lifetime of a link: long enough to switch to a mail client, short enough that an old
    /// mail in an inbox is useless.
    pub const LIFETIME: UnixMillis = 15 * 60 * 1000;

    /// Whether the link may still open a session at `now`.
    pub fn usable(&self, now: UnixMillis) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// A staff sign-in in progress with the company's identity provider (OpenID Connect,
/// authorization code with PKCE): what the browser's return must match. Kept by the hash of
/// its `state`, spent once, short-lived, so a replayed or forged return opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSignIn {
    /// Hex SHA-256 of the `state` sent to the provider (the browser also holds it in a cookie).
    pub id: String,
    /// The `nonce` the ID token must carry back.
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636) the token request proves the code with.
    pub code_verifier: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub created_at: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub expires_at: UnixMillis,
    /// Set when the provider's answer is taken; a spent attempt never opens a second session.
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    pub used_at: Option<UnixMillis>,
}

impl StaffSignIn {
    /// Time from leaving for the provider to coming back: a login page, perhaps a second
    /// factor, not a coffee break.
    pub const LIFETIME: UnixMillis = 10 * 60 * 1000;

    /// Whether the attempt may still be completed at `now`.
    pub fn usable(&self, now: UnixMillis) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

fn viewer() -> crate::model::Role {
    crate::model::Role::Viewer
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Developer {
        developer_id: String,
    },
    /// Someone who proved they hold an admin token, or a staff member the company's identity
    /// provider vouched for (`staff:<email>`); `actor` is as the audit trail names it,
    /// `role` the token's (a session opened before roles existed reads as a viewer: it may
    /// look, and signing in again restores what the token allows).
    Admin {
        actor: String,
        #[serde(default = "viewer")]
        role: crate::model::Role,
    },
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Hex SHA-256 of the session cookie's token.
    pub id: String,
    pub subject: Subject,
    /// The token every form of this session carries (CSRF); random, compared in constant time.
    pub csrf: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub created_at: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub expires_at: UnixMillis,
}

impl Session {
    /// A developer's session lasts a working week; an admin's a working day.
    pub const DEVELOPER_LIFETIME: UnixMillis = 7 * 24 * 3600 * 1000;
    pub const ADMIN_LIFETIME: UnixMillis = 8 * 3600 * 1000;

    pub fn live(&self, now: UnixMillis) -> bool {
        now < self.expires_at
    }
}

/// Attempts counted in one window for one subject (an email, a client address), for
/// throttling; the id names both, e.g. `signin-email:a@x.io:29452`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub id: String,
    pub count: u32,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub expires_at: UnixMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_usable_once_and_only_before_it_expires() {
        let link = SignInLink {
            id: "h".into(),
            email: "a@x.io".into(),
            next: None,
            created_at: 0,
            expires_at: SignInLink::LIFETIME,
            used_at: None,
        };
        assert!(link.usable(SignInLink::LIFETIME - 1));
        assert!(!link.usable(SignInLink::LIFETIME));
        assert!(!SignInLink { used_at: Some(1), ..link }.usable(2));
    }

    #[test]
    fn a_staff_sign_in_is_completed_once_and_only_before_it_expires() {
        let attempt = StaffSignIn {
            id: "h".into(),
            nonce: "n".into(),
            code_verifier: "v".into(),
            created_at: 0,
            expires_at: StaffSignIn::LIFETIME,
            used_at: None,
        };
        assert!(attempt.usable(StaffSignIn::LIFETIME - 1));
        assert!(!attempt.usable(StaffSignIn::LIFETIME));
        assert!(!StaffSignIn { used_at: Some(1), ..attempt }.usable(2));
    }
}
