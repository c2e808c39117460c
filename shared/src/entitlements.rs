//! Entitlements belong to the identity (an app, subscribed to products under plans), never to
//! the key. The control plane compiles each app's subscriptions into one [`Identity`] record
//! that the edge reads by app id, so changing a plan changes this record and no key.

use serde::{Deserialize, Serialize};

use crate::limits::LimitPolicy;
use crate::limits::Owner;
use crate::model::{AccessRequest, App, Developer, Organisation, Plan, Product, Subscription, SubscriptionStatus};
use crate::time::UnixMillis;

/// Everything the gateway needs to know about a caller after its key checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub app_id: String,
    /// Who made the app; usage is attributed to them.
    pub developer_id: String,
    /// The organisation that owns the app, if any: `developer` limits count per organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    /// The tier whose `group` limits the app counts in: its organisation's tier, or the
    /// developer's group for a personal app.
    #[serde(default)]
    pub group: Option<String>,
    pub grants: Vec<Grant>,
    /// The sensitivity classes the app may see, per API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassGrant>,
}

/// A sensitivity class the app may see on one API: from a plan (no expiry), or from an
/// approved access request (until its expiry, which the gateway checks on every call, so an
/// expired grant stops working without anything being published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassGrant {
    pub api_id: String,
    pub class: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::serde_rfc3339_opt")]
    pub expires_at: Option<UnixMillis>,
}

/// One active subscription, flattened: which operations it opens and under what limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub product_id: String,
    pub plan_id: String,
    pub api_id: String,
    /// `None`: every operation of the API.
    #[serde(default)]
    pub operations: Option<Vec<String>>,
    pub scopes: Vec<String>,
    pub limits: Vec<LimitPolicy>,
    /// Subscription start: anchors monthly quotas.
    #[serde(with = "crate::time::serde_rfc3339")]
    pub since: UnixMillis,
}

impl Identity {
    /// Whose `developer`-scoped counters the app's calls consume.
    pub fn owner(&self) -> Owner<'_> {
        match &self.organisation_id {
            Some(org) => Owner::Organisation(org),
            None => Owner::Developer(&self.developer_id),
        }
    }

    /// Whether the app may see `class` data on `api_id` at `now`.
    pub fn holds_class(&self, api_id: &str, class: &str, now: UnixMillis) -> bool {
        self.classes
            .iter()
            .any(|g| g.api_id == api_id && g.class == class && g.expires_at.is_none_or(|until| now < until))
    }

    /// The classes the app may see on `api_id` at `now`, sorted and without repeats: what a
    /// cached response filtered for this caller depends on.
    pub fn classes_on(&self, api_id: &str, now: UnixMillis) -> Vec<&str> {
        let mut held: Vec<&str> = self
            .classes
            .iter()
            .filter(|g| g.api_id == api_id && g.expires_at.is_none_or(|until| now < until))
            .map(|g| g.class.as_str())
            .collect();
        held.sort_unstable();
        held.dedup();
        held
    }

    /// The grant that lets this identity call `operation_id` of `api_id` with `required_scopes`,
    /// if any. The first matching grant wins, so subscriptions are checked in creation order.
    pub fn grant_for(&self, api_id: &str, operation_id: &str, required_scopes: &[String]) -> Option<&Grant> {
        self.grants.iter().find(|g| {
            g.api_id == api_id
                && g.operations.as_ref().is_none_or(|ops| ops.iter().any(|o| o == operation_id))
                && required_scopes.iter().all(|s| g.scopes.contains(s))
        })
    }
}

/// Who holds an app: the developer who made it and, for an organisation's app, the
/// organisation (whose tier then replaces the developer's group).
#[derive(Debug, Clone, Copy)]
pub struct AppOwner<'a> {
    pub developer: &'a Developer,
    pub organisation: Option<&'a Organisation>,
}

impl<'a> AppOwner<'a> {
    /// The owner of `app` from the records found: `None` when the developer is missing, or the
    /// app names an organisation that is missing (then its keys authorise nothing).
    pub fn find(
        app: &App,
        developer: Option<&'a Developer>,
        organisation: impl FnOnce(&str) -> Option<&'a Organisation>,
    ) -> Option<AppOwner<'a>> {
        let organisation = match &app.organisation_id {
            Some(id) => Some(organisation(id)?),
            None => None,
        };
        Some(AppOwner { developer: developer?, organisation })
    }
}

/// Compiles an app's identity from the catalog. Only active subscriptions grant access;
/// classes come from their plans and from the app's approved access requests (expired ones
/// are left out, and the gateway checks the rest's expiry on every call).
pub fn compile_identity(
    app: &App,
    owner: AppOwner<'_>,
    subscriptions: &[Subscription],
    products: &[Product],
    plans: &[Plan],
    access: &[AccessRequest],
    now: UnixMillis,
) -> Identity {
    let mut grants = Vec::new();
    let mut classes = Vec::new();
    for sub in subscriptions.iter().filter(|s| s.app_id == app.id && s.status == SubscriptionStatus::Active) {
        let (Some(product), Some(plan)) =
            (products.iter().find(|p| p.id == sub.product_id), plans.iter().find(|p| p.id == sub.plan_id))
        else {
            continue;
        };
        for item in &product.items {
            for class in &plan.classes {
                classes.push(ClassGrant { api_id: item.api_id.clone(), class: class.clone(), expires_at: None });
            }
            grants.push(Grant {
                product_id: product.id.clone(),
                plan_id: plan.id.clone(),
                api_id: item.api_id.clone(),
                operations: item.operations.clone(),
                scopes: plan.scopes.clone(),
                limits: plan.limits.clone(),
                since: sub.created_at,
            });
        }
    }
    for request in access.iter().filter(|r| r.app_id == app.id) {
        if let Some(until) = request.granted_until().filter(|until| now < *until) {
            let (api_id, class) = (request.api_id.clone(), request.class.clone());
            classes.push(ClassGrant { api_id, class, expires_at: Some(until) });
        }
    }
    let group = match owner.organisation {
        Some(org) => org.tier.clone(),
        None => owner.developer.group.clone(),
    };
    Identity {
        app_id: app.id.clone(),
        developer_id: owner.developer.id.clone(),
        organisation_id: owner.organisation.map(|o| o.id.clone()),
        group,
        grants,
        classes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessState, ProductItem};

    fn fixture(status: SubscriptionStatus) -> Identity {
        let dev = Developer {
            id: "dev_1".into(),
            email: "a@example.com".into(),
            name: "A".into(),
            group: Some("gold".into()),
            organisation: None,
            created_at: 0,
            terms_accepted_at: None,
            closed_at: None,
        };
        let app = App {
            id: "app_1".into(),
            developer_id: dev.id.clone(),
            organisation_id: None,
            name: "a".into(),
            created_at: 0,
        };
        let product = Product {
            id: "prd_1".into(),
            name: "p".into(),
            description: String::new(),
            items: vec![ProductItem { api_id: "api_1".into(), operations: Some(vec!["getPet".into()]) }],
            audience: Default::default(),
            created_at: 0,
        };
        let plan = Plan {
            id: "pln_1".into(),
            product_id: product.id.clone(),
            name: "free".into(),
            limits: vec![],
            scopes: vec!["pets:read".into()],
            requires_approval: false,
            classes: vec!["internal".into()],
            created_at: 0,
        };
        let sub = Subscription {
            id: "sub_1".into(),
            app_id: app.id.clone(),
            product_id: product.id.clone(),
            plan_id: plan.id.clone(),
            status,
            rejection: None,
            created_at: 5,
        };
        let approved = |id: &str, class: &str, expires_at| AccessRequest {
            id: id.into(),
            app_id: app.id.clone(),
            developer_id: dev.id.clone(),
            api_id: "api_1".into(),
            class: class.into(),
            reason: "support tickets".into(),
            wanted_days: 30,
            state: AccessState::Approved { by: "admin:1".into(), at: 0, expires_at },
            created_at: 0,
        };
        let pending = AccessRequest { state: AccessState::Pending, ..approved("acr_3", "financial", 0) };
        let access = [approved("acr_1", "pii", 1_000), approved("acr_2", "health", 50), pending];
        compile_identity(
            &app,
            AppOwner { developer: &dev, organisation: None },
            &[sub],
            &[product],
            &[plan],
            &access,
            100,
        )
    }

    #[test]
    fn classes_come_from_the_plan_and_from_approvals_until_they_expire() {
        let id = fixture(SubscriptionStatus::Active);
        assert!(id.holds_class("api_1", "internal", 10_000_000), "a plan's class does not expire");
        assert!(id.holds_class("api_1", "pii", 999) && !id.holds_class("api_1", "pii", 1_000), "until its expiry");
        assert!(!id.holds_class("api_1", "health", 10), "expired before the identity was compiled");
        assert!(!id.holds_class("api_1", "financial", 10), "pending grants nothing");
        assert!(!id.holds_class("api_2", "pii", 10), "per API");
        assert_eq!(id.classes_on("api_1", 10), ["internal", "pii"]);
        assert_eq!(id.classes_on("api_1", 1_000), ["internal"]);
    }

    #[test]
    fn active_subscription_grants_only_its_operations_and_scopes() {
        let id = fixture(SubscriptionStatus::Active);
        assert_eq!(id.group.as_deref(), Some("gold"));
        assert!(id.grant_for("api_1", "getPet", &["pets:read".into()]).is_some());
        assert!(id.grant_for("api_1", "deletePet", &[]).is_none());
        assert!(id.grant_for("api_1", "getPet", &["pets:write".into()]).is_none());
        assert!(id.grant_for("api_2", "getPet", &[]).is_none());
    }

    #[test]
    fn pending_subscription_grants_nothing() {
        assert!(fixture(SubscriptionStatus::Pending).grants.is_empty());
    }

    #[test]
    fn rejected_or_suspended_subscription_grants_nothing() {
        assert!(fixture(SubscriptionStatus::Rejected).grants.is_empty());
        assert!(fixture(SubscriptionStatus::Suspended).grants.is_empty());
    }
}
