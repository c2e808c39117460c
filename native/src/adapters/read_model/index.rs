//! `CatalogIndex`: the writer's side of the read model. It keeps the entities an identity is
//! compiled from (developers, apps, subscriptions, products, plans, approved access requests) and the APIs the route
//! table is built from, with the small reverse indexes that say which identities a change
//! touches, so a write recompiles only those.
//!
//! Sizes: entities here number in the thousands (keys, the million-row kind, live only in the
//! snapshot); APIs are kept without their OpenAPI document.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use gatehouse_core::entitlements::{compile_identity, AppOwner, Identity};
use gatehouse_core::model::{AccessRequest, Api, App, Developer, Organisation, Plan, Product, Subscription};
use gatehouse_core::routing::RouteTable;
use gatehouse_core::time::UnixMillis;

/// App ids whose identity must be recompiled after a change.
pub type Affected = Vec<String>;

#[derive(Default)]
pub struct CatalogIndex {
    apis: HashMap<String, Arc<Api>>,
    products: HashMap<String, Product>,
    plans: HashMap<String, Plan>,
    developers: HashMap<String, Developer>,
    organisations: HashMap<String, Organisation>,
    apps: HashMap<String, App>,
    subscriptions: HashMap<String, Subscription>,
    /// Each app's subscriptions in creation order: the first matching grant wins.
    subs_by_app: HashMap<String, Vec<String>>,
    apps_by_developer: HashMap<String, HashSet<String>>,
    apps_by_organisation: HashMap<String, HashSet<String>>,
    subs_by_product: HashMap<String, HashSet<String>>,
    subs_by_plan: HashMap<String, HashSet<String>>,
    /// Each app's access requests that grant a class (approved ones), by request id.
    access_by_app: HashMap<String, HashMap<String, AccessRequest>>,
}

fn unlink(index: &mut HashMap<String, HashSet<String>>, owner: &str, id: &str) {
    if let Some(set) = index.get_mut(owner) {
        set.remove(id);
        if set.is_empty() {
            index.remove(owner);
        }
    }
}

fn link(index: &mut HashMap<String, HashSet<String>>, owner: &str, id: &str) {
    index.entry(owner.to_owned()).or_default().insert(id.to_owned());
}

impl CatalogIndex {
    /// Keeps an API for routing. Its OpenAPI document is dropped: the gateway routes on
    /// `operations`; the document stays in the store for the admin API, portal and export.
    /// A mock API's responses are compiled from it first (`mock::prepare`), and so are the
    /// validators of operations whose requests or responses are checked (`validation`): all of
    /// them now, so no call pays for compiling and a schema that does not compile is logged
    /// when the API is published, not on some later call.
    pub fn put_api(&mut self, mut api: Api) {
        gatehouse_core::mock::prepare(&mut api);
        match gatehouse_core::validation::prepare(&mut api) {
            Ok(()) => {
                for (operation, pointer, why) in gatehouse_core::validation::compile_all(&api) {
                    tracing::warn!(api_id = %api.id, operation = %operation, schema = %pointer, cause = %why, "a schema of the API's document does not compile; that part of the operation is not checked");
                }
            }
            Err(why) => {
                tracing::warn!(api_id = %api.id, cause = %why, "the API's document cannot be read as schemas; its calls are not checked")
            }
        }
        api.openapi = serde_json::Value::Null;
        self.apis.insert(api.id.clone(), Arc::new(api));
    }

    pub fn remove_api(&mut self, id: &str) {
        self.apis.remove(id);
    }

    /// The route table over every kept API (drafts left out by `RouteTable`).
    pub fn routes(&self) -> RouteTable {
        RouteTable::from_shared(self.apis.values().cloned())
    }

    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.apps.keys().map(String::as_str)
    }

    fn apps_of_subs<'a>(&self, subs: impl IntoIterator<Item = &'a String>) -> Affected {
        let apps: HashSet<&str> =
            subs.into_iter().filter_map(|s| self.subscriptions.get(s)).map(|s| s.app_id.as_str()).collect();
        apps.into_iter().map(str::to_owned).collect()
    }

    pub fn put_product(&mut self, product: Product) -> Affected {
        let affected = self.remove_product(&product.id);
        self.products.insert(product.id.clone(), product);
        affected
    }

    pub fn remove_product(&mut self, id: &str) -> Affected {
        self.products.remove(id);
        self.apps_of_subs(self.subs_by_product.get(id).into_iter().flatten())
    }

    pub fn put_plan(&mut self, plan: Plan) -> Affected {
        let affected = self.remove_plan(&plan.id);
        self.plans.insert(plan.id.clone(), plan);
        affected
    }

    pub fn remove_plan(&mut self, id: &str) -> Affected {
        self.plans.remove(id);
        self.apps_of_subs(self.subs_by_plan.get(id).into_iter().flatten())
    }

    pub fn put_developer(&mut self, developer: Developer) -> Affected {
        let affected = self.remove_developer(&developer.id);
        self.developers.insert(developer.id.clone(), developer);
        affected
    }

    pub fn remove_developer(&mut self, id: &str) -> Affected {
        self.developers.remove(id);
        self.apps_by_developer.get(id).map(|apps| apps.iter().cloned().collect()).unwrap_or_default()
    }

    /// An organisation's tier is its apps' group: they are recompiled.
    pub fn put_organisation(&mut self, org: Organisation) -> Affected {
        let affected = self.remove_organisation(&org.id);
        self.organisations.insert(org.id.clone(), org);
        affected
    }

    pub fn remove_organisation(&mut self, id: &str) -> Affected {
        self.organisations.remove(id);
        self.apps_by_organisation.get(id).map(|apps| apps.iter().cloned().collect()).unwrap_or_default()
    }

    pub fn put_app(&mut self, app: App) -> Affected {
        self.remove_app(&app.id);
        link(&mut self.apps_by_developer, &app.developer_id, &app.id);
        if let Some(org) = &app.organisation_id {
            link(&mut self.apps_by_organisation, org, &app.id);
        }
        let id = app.id.clone();
        self.apps.insert(app.id.clone(), app);
        vec![id]
    }

    pub fn remove_app(&mut self, id: &str) -> Affected {
        if let Some(old) = self.apps.remove(id) {
            unlink(&mut self.apps_by_developer, &old.developer_id, id);
            if let Some(org) = &old.organisation_id {
                unlink(&mut self.apps_by_organisation, org, id);
            }
        }
        vec![id.to_owned()]
    }

    /// Keeps a request only while it is an approval: nothing else grants a class.
    pub fn put_access_request(&mut self, request: AccessRequest) -> Affected {
        let mut affected = self.remove_access_request(&request.id);
        if request.granted_until().is_some() {
            affected.push(request.app_id.clone());
            self.access_by_app.entry(request.app_id.clone()).or_default().insert(request.id.clone(), request);
        }
        affected
    }

    pub fn remove_access_request(&mut self, id: &str) -> Affected {
        let owner =
            self.access_by_app.iter().find(|(_, requests)| requests.contains_key(id)).map(|(app, _)| app.clone());
        let Some(app) = owner else { return Vec::new() };
        if let Some(requests) = self.access_by_app.get_mut(&app) {
            requests.remove(id);
            if requests.is_empty() {
                self.access_by_app.remove(&app);
            }
        }
        vec![app]
    }

    pub fn put_subscription(&mut self, sub: Subscription) -> Affected {
        let mut affected = Vec::new();
        if let Some(old) = self.subscriptions.get(&sub.id).cloned() {
            self.unlink_subscription(&old);
            if old.app_id == sub.app_id {
                // Same app: keep its place in the app's creation order.
                self.link_subscription(&sub, false);
                affected.push(sub.app_id.clone());
                self.subscriptions.insert(sub.id.clone(), sub);
                return affected;
            }
            self.unlink_from_app(&old);
            affected.push(old.app_id);
        }
        self.link_subscription(&sub, true);
        affected.push(sub.app_id.clone());
        self.subscriptions.insert(sub.id.clone(), sub);
        affected
    }

    pub fn remove_subscription(&mut self, id: &str) -> Affected {
        let Some(old) = self.subscriptions.remove(id) else {
            return Vec::new();
        };
        self.unlink_subscription(&old);
        self.unlink_from_app(&old);
        vec![old.app_id]
    }

    fn link_subscription(&mut self, sub: &Subscription, to_app: bool) {
        link(&mut self.subs_by_product, &sub.product_id, &sub.id);
        link(&mut self.subs_by_plan, &sub.plan_id, &sub.id);
        if to_app {
            self.subs_by_app.entry(sub.app_id.clone()).or_default().push(sub.id.clone());
        }
    }

    fn unlink_subscription(&mut self, old: &Subscription) {
        unlink(&mut self.subs_by_product, &old.product_id, &old.id);
        unlink(&mut self.subs_by_plan, &old.plan_id, &old.id);
    }

    fn unlink_from_app(&mut self, old: &Subscription) {
        if let Some(subs) = self.subs_by_app.get_mut(&old.app_id) {
            subs.retain(|s| *s != old.id);
            if subs.is_empty() {
                self.subs_by_app.remove(&old.app_id);
            }
        }
    }

    /// The app's identity compiled from its own subscriptions only; `None` when the app, its
    /// developer or its organisation is unknown (then its keys authorise nothing).
    ///
    /// Approvals that expired by `now` are left out; the gateway checks the others' expiry
    /// on every call, so an approval stops working on time without a recompile.
    pub fn identity(&self, app_id: &str, now: UnixMillis) -> Option<Identity> {
        let app = self.apps.get(app_id)?;
        let owner = AppOwner::find(app, self.developers.get(&app.developer_id), |id| self.organisations.get(id))?;
        let subs: Vec<Subscription> = self
            .subs_by_app
            .get(app_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.subscriptions.get(id).cloned())
            .collect();
        let products: Vec<Product> = subs.iter().filter_map(|s| self.products.get(&s.product_id).cloned()).collect();
        let plans: Vec<Plan> = subs.iter().filter_map(|s| self.plans.get(&s.plan_id).cloned()).collect();
        let access: Vec<AccessRequest> =
            self.access_by_app.get(app_id).map(|requests| requests.values().cloned().collect()).unwrap_or_default();
        Some(compile_identity(app, owner, &subs, &products, &plans, &access, now))
    }
}
