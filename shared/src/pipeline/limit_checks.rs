//! The limit checks of a call: one per policy that applies (the plan's, then the key's own),
//! each with the counter it consumes.
//!
//! They depend only on the key, its app's identity and the grant the call falls under, all
//! records of the read model, which replaces a record rather than changing it. So each thread
//! keeps the checks it built for its recent callers ([`Recent`]), found by the records'
//! addresses, and a caller's next call shares them instead of building them again (a list, a
//! counter name and a copy of each policy, every call). An entry holds the records it was
//! built from, so an address can never be reused for another record while the entry lives.

use std::cell::RefCell;
use std::convert::Infallible;
use std::sync::Arc;

use crate::entitlements::{Grant, Identity};
use crate::limits::{self, LimitCheck};
use crate::model::Key;
use crate::recent::{recall, Recent};

/// The checks for a call by `key`'s app under `grant` (one of `identity`'s grants).
pub fn for_call(grant: &Grant, key: &Arc<Key>, identity: &Arc<Identity>) -> Arc<[LimitCheck]> {
    let grant_at = std::ptr::from_ref(grant) as usize;
    let matches = |entry: &Remembered| {
        Arc::ptr_eq(&entry.key, key) && Arc::ptr_eq(&entry.identity, identity) && entry.grant_at == grant_at
    };
    let make = || {
        let checks = build(grant, key, identity);
        Ok::<_, Infallible>(Remembered { key: Arc::clone(key), identity: Arc::clone(identity), grant_at, checks })
    };
    let Ok(checks) = recall(&RECENT, (Arc::as_ptr(key) as usize, grant_at), matches, |e| Arc::clone(&e.checks), make);
    checks
}

/// The checks, built: a group policy is left out when the developer has no group.
fn build(grant: &Grant, key: &Key, identity: &Identity) -> Arc<[LimitCheck]> {
    let plan = grant.limits.iter().map(|p| (p, Some(grant.since)));
    plan.chain(key.limits.iter().map(|p| (p, None)))
        .filter_map(|(policy, anchor)| {
            let who = limits::Counted {
                key_id: &key.id,
                app_id: &identity.app_id,
                owner: identity.owner(),
                group: identity.group.as_deref(),
            };
            let counter = limits::counter_key(policy.scope, &who, &policy.name)?;
            Some(LimitCheck { counter, policy: policy.clone(), anchor })
        })
        .collect()
}

/// How many callers (key and grant) a thread remembers checks for.
const SLOTS: usize = 64;

thread_local! {
    static RECENT: RefCell<Recent<Remembered>> = RefCell::new(Recent::with_slots(SLOTS));
}

/// Checks built earlier, with the records they were built from.
struct Remembered {
    key: Arc<Key>,
    identity: Arc<Identity>,
    /// Where the grant is inside `identity` (which this entry keeps alive).
    grant_at: usize,
    checks: Arc<[LimitCheck]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{FailureMode, LimitKind, LimitPolicy, LimitScope};

    fn policy(name: &str, scope: LimitScope) -> LimitPolicy {
        let kind = LimitKind::Rate { limit: 10, period_secs: 1, burst: 10, on_failure: FailureMode::Open };
        LimitPolicy { name: name.into(), scope, kind }
    }

    fn identity(group: Option<&str>, limits: Vec<LimitPolicy>) -> Arc<Identity> {
        let grant = Grant {
            product_id: "prod".into(),
            plan_id: "plan".into(),
            api_id: "api".into(),
            operations: None,
            scopes: vec![],
            limits,
            since: 1_000,
        };
        Arc::new(Identity {
            app_id: "app".into(),
            developer_id: "dev".into(),
            organisation_id: None,
            group: group.map(str::to_owned),
            grants: vec![grant.clone(), grant],
            classes: vec![],
        })
    }

    fn key(id: &str, limits: Vec<LimitPolicy>) -> Arc<Key> {
        Arc::new(Key {
            id: id.into(),
            app_id: "app".into(),
            name: "k".into(),
            hash: crate::keys::hash_secret(id),
            display_prefix: "gh_live_".into(),
            last4: "abcd".into(),
            status: crate::model::KeyStatus::Active,
            created_at: 0,
            expires_at: None,
            grace_until: None,
            replaced_by: None,
            last_used_at: None,
            limits,
            oauth_client: None,
            client_certificate: None,
        })
    }

    fn counters(checks: &[LimitCheck]) -> Vec<(&str, Option<i64>)> {
        checks.iter().map(|c| (c.counter.as_str(), c.anchor)).collect()
    }

    #[test]
    fn remembered_checks_are_those_of_the_same_records_only() {
        let plan = vec![policy("burst", LimitScope::App), policy("tier", LimitScope::Group)];
        let (a, b) = (key("key_a", vec![policy("own", LimitScope::Key)]), key("key_b", vec![]));
        let (grouped, ungrouped) = (identity(Some("gold"), plan.clone()), identity(None, plan));
        for _ in 0..2 {
            assert_eq!(
                counters(&for_call(&grouped.grants[0], &a, &grouped)),
                [("app:app:burst", Some(1_000)), ("grp:gold:tier", Some(1_000)), ("key:key_a:own", None)]
            );
            assert_eq!(counters(&for_call(&grouped.grants[0], &b, &grouped)).len(), 2, "another key");
            assert_eq!(counters(&for_call(&ungrouped.grants[0], &a, &ungrouped)).len(), 2, "no group");
            assert_eq!(counters(&for_call(&grouped.grants[1], &a, &grouped)).len(), 3, "the other grant");
        }
        // An equal record in another allocation (a replaced read model): built again, the same.
        let copy = Arc::new((*a).clone());
        let again = for_call(&grouped.grants[0], &copy, &grouped);
        assert!(!Arc::ptr_eq(&again, &for_call(&grouped.grants[0], &a, &grouped)));
        assert_eq!(again, for_call(&grouped.grants[0], &a, &grouped));
        // A changed record is a new allocation, so its checks are its own.
        let changed = key("key_a", vec![]);
        assert_eq!(counters(&for_call(&grouped.grants[0], &changed, &grouped)).len(), 2);
    }
}
