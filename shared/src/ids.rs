//! Prefixed identifiers (`api_…`, `key_…`). The core never draws randomness: callers pass the
//! random part, so ids are reproducible in tests and the same on every runtime.

/// Entity kinds and their id prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Api,
    Product,
    Plan,
    Developer,
    App,
    Subscription,
    Key,
    Request,
    Batch,
    AccessRequest,
    AdminToken,
    AlertRule,
    AlertEvent,
    AlertDelivery,
    Organisation,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Api => "api",
            IdKind::Product => "prd",
            IdKind::Plan => "pln",
            IdKind::Developer => "dev",
            IdKind::App => "app",
            IdKind::Subscription => "sub",
            IdKind::Key => "key",
            IdKind::Request => "req",
            IdKind::Batch => "bat",
            IdKind::AccessRequest => "acr",
            IdKind::AdminToken => "tok",
            IdKind::AlertRule => "alr",
            IdKind::AlertEvent => "evt",
            IdKind::AlertDelivery => "dlv",
            IdKind::Organisation => "org",
        }
    }
}

/// Builds `<prefix>_<base62 of random>`; 16 random bytes give 128 bits, enough to never collide.
pub fn new_id(kind: IdKind, random: &[u8; 16]) -> String {
    format!("{}_{}", kind.prefix(), crate::keys::base62(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_kind_prefix() {
        let id = new_id(IdKind::Key, &[7; 16]);
        assert!(id.starts_with("key_"));
        assert!(id.len() > 20);
    }
}
