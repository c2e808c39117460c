//! Entitlements belong to the identity (an app, subscribed to products under plans), never to
//! the key. The control plane compiles each app's subscriptions into one [`Identity`] record
//! that the edge reads by app id, so changing a plan changes this record and no key.

use serde::{Deserialize, Serialize};

use crate::limits::LimitPolicy;
use crate::model::{App, Developer, Plan, Product, Subscription, SubscriptionStatus};
use crate::time::UnixMillis;

/// Everything the gateway needs to know about a caller after its key checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub app_id: String,
    pub developer_id: String,
    /// The developer's group or tier, whose limits are shared by all its members.
    #[serde(default)]
    pub group: Option<String>,
    pub grants: Vec<Grant>,
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

/// Compiles an app's identity from the catalog. Only active subscriptions grant access.
pub fn compile_identity(
    app: &App,
    developer: &Developer,
    subscriptions: &[Subscription],
    products: &[Product],
    plans: &[Plan],
) -> Identity {
    let mut grants = Vec::new();
    for sub in subscriptions.iter().filter(|s| s.app_id == app.id && s.status == SubscriptionStatus::Active) {
        let (Some(product), Some(plan)) =
            (products.iter().find(|p| p.id == sub.product_id), plans.iter().find(|p| p.id == sub.plan_id))
        else {
            continue;
        };
        for item in &product.items {
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
    Identity { app_id: app.id.clone(), developer_id: developer.id.clone(), group: developer.group.clone(), grants }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProductItem;

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
        let app = App { id: "app_1".into(), developer_id: dev.id.clone(), name: "a".into(), created_at: 0 };
        let product = Product {
            id: "prd_1".into(),
            name: "p".into(),
            description: String::new(),
            items: vec![ProductItem { api_id: "api_1".into(), operations: Some(vec!["getPet".into()]) }],
            created_at: 0,
        };
        let plan = Plan {
            id: "pln_1".into(),
            product_id: product.id.clone(),
            name: "free".into(),
            limits: vec![],
            scopes: vec!["pets:read".into()],
            requires_approval: false,
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
        compile_identity(&app, &dev, &[sub], &[product], &[plan])
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
