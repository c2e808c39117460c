//! Whether a stored key may be used at a given instant. Pure, so the edge, Lambda and the
//! native gateway all refuse exactly the same keys.
use crate::model::{Key, KeyStatus};
use crate::time::{UnixMillis, SECOND};

/// The verdict on a key record's own state, before entitlements and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCheck {
    Active,
    Revoked,
    Disabled,
    Expired,
}

/// Checks a key's status at `now`, in a fixed order: revoked, disabled, expired, active.
///
/// Revocation wins over everything because it is permanent and the caller should be told so;
/// a disabled key can come back, so it is reported before expiry. The stored status is not
/// trusted to be current: `expires_at` and a rotated key's `grace_until` are compared with
/// `now` here (each bound is exclusive: at that millisecond the key no longer works).
pub fn check_key(key: &Key, now: UnixMillis) -> KeyCheck {
    match key.status {
        KeyStatus::Revoked => return KeyCheck::Revoked,
        KeyStatus::Disabled => return KeyCheck::Disabled,
        KeyStatus::Expired => return KeyCheck::Expired,
        KeyStatus::Active => {}
    }
    let passed = |bound: Option<UnixMillis>| bound.is_some_and(|t| t <= now);
    if passed(key.expires_at) || passed(key.grace_until) {
        return KeyCheck::Expired;
    }
    KeyCheck::Active
}

/// The longest rotation grace period accepted: 365 days. A grace longer than that keeps a
/// replaced (possibly leaked) key alive for no good reason, and bounding it keeps
/// [`rotation_grace_end`] far inside the time range every record must hold.
pub const MAX_GRACE_SECS: u64 = 365 * 24 * 3600;

/// When the old key of a rotation stops working: it stays valid until then (exclusive), so
/// clients can deploy the new key without an outage. Saturates instead of overflowing.
pub fn rotation_grace_end(now: UnixMillis, grace_secs: u64) -> UnixMillis {
    let grace = i64::try_from(grace_secs).unwrap_or(i64::MAX).saturating_mul(SECOND);
    now.saturating_add(grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::hash_secret;

    fn key(status: KeyStatus) -> Key {
        Key {
            id: "key_1".into(),
            app_id: "app_1".into(),
            name: "ci".into(),
            hash: hash_secret("k"),
            display_prefix: "gh_live_".into(),
            last4: "abcd".into(),
            status,
            created_at: 0,
            expires_at: None,
            grace_until: None,
            replaced_by: None,
            last_used_at: None,
            limits: vec![],
            oauth_client: None,
            client_certificate: None,
        }
    }

    #[test]
    fn revoked_is_reported_before_disabled_or_expired() {
        let mut k = key(KeyStatus::Revoked);
        k.expires_at = Some(0);
        assert_eq!(check_key(&k, 10), KeyCheck::Revoked);
        k.status = KeyStatus::Disabled;
        assert_eq!(check_key(&k, 10), KeyCheck::Disabled);
        k.status = KeyStatus::Expired;
        assert_eq!(check_key(&k, 10), KeyCheck::Expired);
    }

    #[test]
    fn active_key_expires_at_expires_at_even_if_status_not_updated() {
        let mut k = key(KeyStatus::Active);
        k.expires_at = Some(1_000);
        assert_eq!(check_key(&k, 999), KeyCheck::Active);
        assert_eq!(check_key(&k, 1_000), KeyCheck::Expired);
    }

    #[test]
    fn rotated_key_works_until_grace_end_and_not_after() {
        let mut k = key(KeyStatus::Active);
        let end = rotation_grace_end(5_000, 60);
        assert_eq!(end, 65_000);
        k.grace_until = Some(end);
        k.replaced_by = Some("key_2".into());
        assert_eq!(check_key(&k, end - 1), KeyCheck::Active);
        assert_eq!(check_key(&k, end), KeyCheck::Expired);
    }

    #[test]
    fn grace_end_saturates_instead_of_overflowing() {
        assert_eq!(rotation_grace_end(1, u64::MAX), i64::MAX);
    }
}
