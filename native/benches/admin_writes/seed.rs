//! Bulk seeding straight through `SqliteRepo::transact`, in large batches: the bench measures
//! the admin writes that come after, not how long it takes to load a million keys.

use gatehouse_core::ids::{new_id, IdKind};
use gatehouse_core::keys::{hash_secret, KeyHash};
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{
    Api, App, CacheSettings, Developer, Key, KeyStatus, Plan, Product, ProductItem, Subscription, SubscriptionStatus,
    UpstreamSettings,
};
use gatehouse_core::store::{Repo, Write};
use gatehouse_native::store::SqliteRepo;

use crate::document;

pub const NOW: i64 = 1_750_000_000_000;
/// Keys per app in the seeded catalogue.
const KEYS_PER_APP: usize = 1_000;
const BATCH: usize = 20_000;

/// A deterministic id of `kind` for the `n`-th seeded record.
pub fn id(kind: IdKind, n: usize) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(n as u64).to_be_bytes());
    bytes[8] = 0xbe;
    new_id(kind, &bytes)
}

/// The hash of the `n`-th seeded key's secret.
pub fn key_hash(n: usize) -> KeyHash {
    hash_secret(&format!("gh_live_bench{n:012}"))
}

pub fn apps_for(keys: usize) -> usize {
    keys.div_ceil(KEYS_PER_APP).max(1)
}

async fn write_all(repo: &SqliteRepo, writes: Vec<Write>) {
    let mut writes = writes.into_iter().peekable();
    while writes.peek().is_some() {
        let batch: Vec<Write> = writes.by_ref().take(BATCH).collect();
        repo.transact(batch).await.expect("seed batch");
    }
}

/// Developers, one app each, a product over the first APIs with one plan, a subscription
/// per app, and `keys` keys spread over the apps.
pub async fn catalogue(repo: &SqliteRepo, keys: usize, first_apis: &[String]) {
    let apps = apps_for(keys);
    let items = first_apis.iter().map(|a| ProductItem { api_id: a.clone(), operations: None }).collect();
    let product = Product {
        id: id(IdKind::Product, 0),
        name: "p".into(),
        description: String::new(),
        items,
        audience: Default::default(),
        created_at: NOW,
    };
    let plan = Plan {
        id: id(IdKind::Plan, 0),
        product_id: product.id.clone(),
        name: "free".into(),
        limits: vec![],
        scopes: vec![],
        requires_approval: false,
        classes: vec![],
        created_at: NOW,
    };
    let mut writes = vec![Write::insert(&product).expect("product"), Write::insert(&plan).expect("plan")];
    for a in 0..apps {
        let developer = Developer {
            id: id(IdKind::Developer, a),
            email: format!("seed{a}@example.com"),
            name: format!("Seed {a}"),
            group: None,
            organisation: None,
            created_at: NOW,
            terms_accepted_at: None,
            closed_at: None,
        };
        let app = App {
            id: id(IdKind::App, a),
            developer_id: developer.id.clone(),
            organisation_id: None,
            name: "app".into(),
            created_at: NOW,
        };
        let sub = Subscription {
            id: id(IdKind::Subscription, a),
            app_id: app.id.clone(),
            product_id: product.id.clone(),
            plan_id: plan.id.clone(),
            status: SubscriptionStatus::Active,
            rejection: None,
            created_at: NOW,
        };
        writes.extend([Write::insert(&developer), Write::insert(&app), Write::insert(&sub)].map(|w| w.expect("seed")));
    }
    write_all(repo, writes).await;
    let mut n = 0;
    while n < keys {
        let end = (n + BATCH).min(keys);
        write_all(repo, (n..end).map(|k| Write::insert(&key(k, apps)).expect("key")).collect()).await;
        n = end;
    }
}

fn key(n: usize, apps: usize) -> Key {
    Key {
        id: id(IdKind::Key, n),
        app_id: id(IdKind::App, n % apps),
        name: format!("seeded key {n}"),
        hash: key_hash(n),
        display_prefix: "gh_live_".into(),
        last4: format!("{:04}", n % 10_000),
        status: KeyStatus::Active,
        created_at: NOW,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: None,
        client_certificate: None,
    }
}

/// An API record as an import makes it, from the generated description `n`.
pub fn api(n: usize) -> Api {
    let imported =
        gatehouse_core::openapi::import(&document::openapi(n).to_string()).expect("generated document imports");
    Api {
        id: id(IdKind::Api, n),
        name: imported.title,
        version: imported.version,
        base_path: format!("/seed{n}"),
        hosts: vec![],
        upstream: UpstreamSettings {
            url: "http://127.0.0.1:9".into(),
            timeout_ms: 1_000,
            forward_credential: false,
            ..Default::default()
        },
        auth: imported.auth,
        cache: CacheSettings::default(),
        lifecycle: Lifecycle::Published { published_at: NOW },
        operations: imported.operations,
        openapi: imported.document,
        import_report: imported.report,
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: NOW,
        updated_at: NOW,
    }
}

/// Imports APIs `from..to` in bulk (each one a realistic ~100 KB record).
pub async fn apis(repo: &SqliteRepo, from: usize, to: usize) {
    let mut n = from;
    while n < to {
        let end = (n + 50).min(to);
        repo.transact((n..end).map(|i| Write::insert(&api(i)).expect("api")).collect()).await.expect("seed apis");
        n = end;
    }
}
