//! The incremental read model must always equal a full rebuild from the same store, must drop
//! what the gateway never reads, and must survive a record it cannot decode.

use gatehouse_admin::ChangeOp;
use gatehouse_core::keys::hash_secret;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{
    Api, App, CacheSettings, Developer, Key, KeyStatus, Plan, Product, ProductItem, Subscription, SubscriptionStatus,
    UpstreamSettings,
};
use gatehouse_core::ports::ReadModel;
use gatehouse_core::store::{Entity, EntityKind, MemoryRepo, Record, Repo, Write};

use super::*;

fn publisher(repo: &Arc<MemoryRepo>) -> InProcessPublisher<MemoryRepo> {
    let cache = Arc::new(MemoryResponseCache::new(1024));
    InProcessPublisher { repo: Arc::clone(repo), read_model: InProcessReadModel::default(), cache }
}

fn developer(id: &str, group: Option<&str>) -> Developer {
    let (email, name, group) = (format!("{id}@example.com"), id.into(), group.map(str::to_owned));
    Developer {
        id: id.into(),
        email,
        name,
        group,
        organisation: None,
        created_at: 1,
        terms_accepted_at: None,
        closed_at: None,
    }
}

fn app(id: &str, developer_id: &str) -> App {
    App { id: id.into(), developer_id: developer_id.into(), organisation_id: None, name: id.into(), created_at: 1 }
}

fn product(id: &str, api_ids: &[&str]) -> Product {
    let items = api_ids.iter().map(|a| ProductItem { api_id: (*a).into(), operations: None }).collect();
    Product {
        id: id.into(),
        name: id.into(),
        description: String::new(),
        items,
        audience: Default::default(),
        created_at: 1,
    }
}

fn plan(id: &str, product_id: &str, scopes: &[&str]) -> Plan {
    let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    Plan {
        id: id.into(),
        product_id: product_id.into(),
        name: id.into(),
        limits: vec![],
        scopes,
        requires_approval: false,
        classes: vec![],
        created_at: 1,
    }
}

fn sub(id: &str, app_id: &str, product_id: &str, plan_id: &str, status: SubscriptionStatus) -> Subscription {
    let (app_id, product_id, plan_id) = (app_id.into(), product_id.into(), plan_id.into());
    Subscription { id: id.into(), app_id, product_id, plan_id, status, rejection: None, created_at: 1 }
}

fn key(id: &str, app_id: &str, status: KeyStatus) -> Key {
    Key {
        id: id.into(),
        app_id: app_id.into(),
        name: format!("{id} name"),
        hash: hash_secret(id),
        display_prefix: "gh_test_".into(),
        last4: "abcd".into(),
        status,
        created_at: 1,
        expires_at: None,
        grace_until: None,
        replaced_by: None,
        last_used_at: None,
        limits: vec![],
        oauth_client: None,
        client_certificate: None,
    }
}

fn api(id: &str, base_path: &str) -> Api {
    let upstream = UpstreamSettings {
        url: "http://127.0.0.1:9".into(),
        timeout_ms: 1_000,
        forward_credential: false,
        ..Default::default()
    };
    Api {
        id: id.into(),
        name: id.into(),
        version: "1".into(),
        base_path: base_path.into(),
        hosts: vec![],
        upstream,
        auth: Default::default(),
        cache: CacheSettings::default(),
        lifecycle: Lifecycle::Published { published_at: 1 },
        operations: vec![],
        openapi: serde_json::json!({"openapi": "3.1.0", "paths": {}}),
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: 1,
        updated_at: 1,
    }
}

/// One admin write: the store first, then the change, as `AdminState::commit` does.
async fn write<E: Entity>(p: &InProcessPublisher<MemoryRepo>, entity: &E, op: ChangeOp) {
    let w = match op {
        ChangeOp::Created => Write::insert(entity),
        ChangeOp::Updated => Write::update(entity),
        ChangeOp::Deleted => Ok(Write::delete::<E>(entity.id())),
    };
    p.repo.transact(vec![w.expect("record")]).await.expect("store write");
    p.changed(Change::of(entity, op)).await.expect("publish");
}

/// Every lookup the gateway makes answers the same on `p` as on a full rebuild of its store.
async fn assert_same_as_rebuild(p: &InProcessPublisher<MemoryRepo>, apps: &[&str], keys: &[&str]) {
    let fresh = publisher(&p.repo);
    fresh.rebuild().await.expect("rebuild");
    let (a, b) = (&p.read_model, &fresh.read_model);
    for app in apps {
        assert_eq!(a.identity(app).await.expect("read"), b.identity(app).await.expect("read"), "identity of {app}");
    }
    for k in keys {
        let hash = hash_secret(k);
        assert_eq!(a.key(&hash).await.expect("read"), b.key(&hash).await.expect("read"), "key {k}");
    }
    let ids = |t: Arc<gatehouse_core::routing::RouteTable>| t.apis().iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(a.routes().await.expect("read")), ids(b.routes().await.expect("read")), "routes");
}

#[tokio::test]
async fn every_incremental_change_leaves_the_model_a_full_rebuild_would_build() {
    let repo = Arc::new(MemoryRepo::new());
    let p = publisher(&repo);
    let (apps, keys) = (["app_a", "app_b", "app_c"], ["key_a", "key_b", "key_c"]);
    write(&p, &api("api_1", "/one"), ChangeOp::Created).await;
    write(&p, &api("api_2", "/two"), ChangeOp::Created).await;
    write(&p, &developer("dev_1", None), ChangeOp::Created).await;
    write(&p, &developer("dev_2", Some("gold")), ChangeOp::Created).await;
    write(&p, &app("app_a", "dev_1"), ChangeOp::Created).await;
    write(&p, &app("app_b", "dev_1"), ChangeOp::Created).await;
    write(&p, &app("app_c", "dev_2"), ChangeOp::Created).await;
    write(&p, &product("prd_1", &["api_1"]), ChangeOp::Created).await;
    write(&p, &product("prd_2", &["api_1", "api_2"]), ChangeOp::Created).await;
    write(&p, &plan("pln_1", "prd_1", &["read"]), ChangeOp::Created).await;
    write(&p, &plan("pln_2", "prd_2", &["write"]), ChangeOp::Created).await;
    write(&p, &sub("sub_1", "app_a", "prd_1", "pln_1", SubscriptionStatus::Active), ChangeOp::Created).await;
    write(&p, &sub("sub_2", "app_a", "prd_2", "pln_2", SubscriptionStatus::Active), ChangeOp::Created).await;
    write(&p, &sub("sub_3", "app_b", "prd_2", "pln_2", SubscriptionStatus::Pending), ChangeOp::Created).await;
    write(&p, &sub("sub_4", "app_c", "prd_1", "pln_1", SubscriptionStatus::Active), ChangeOp::Created).await;
    for (k, a) in keys.iter().zip(apps) {
        write(&p, &key(k, a, KeyStatus::Active), ChangeOp::Created).await;
    }
    assert_same_as_rebuild(&p, &apps, &keys).await;
    let granted = p.read_model.identity("app_a").await.expect("read").expect("app_a has an identity");
    assert_eq!(granted.grants.len(), 3, "two subscriptions over three product items");

    // Each of these changes something a gateway lookup answers.
    write(&p, &plan("pln_1", "prd_1", &["read", "admin"]), ChangeOp::Updated).await;
    write(&p, &sub("sub_3", "app_b", "prd_2", "pln_2", SubscriptionStatus::Active), ChangeOp::Updated).await;
    write(&p, &sub("sub_1", "app_a", "prd_1", "pln_2", SubscriptionStatus::Active), ChangeOp::Updated).await;
    write(&p, &developer("dev_1", Some("silver")), ChangeOp::Updated).await;
    write(&p, &product("prd_2", &["api_2"]), ChangeOp::Updated).await;
    write(&p, &key("key_b", "app_b", KeyStatus::Revoked), ChangeOp::Updated).await;
    write(&p, &app("app_b", "dev_2"), ChangeOp::Updated).await;
    write(&p, &api("api_1", "/uno"), ChangeOp::Updated).await;
    assert_same_as_rebuild(&p, &apps, &keys).await;
    let app_b = p.read_model.identity("app_b").await.expect("read").expect("app_b");
    assert_eq!(app_b.group.as_deref(), Some("gold"), "app_b moved to dev_2");

    write(&p, &plan("pln_2", "prd_2", &[]), ChangeOp::Deleted).await;
    write(&p, &api("api_2", "/two"), ChangeOp::Deleted).await;
    assert_same_as_rebuild(&p, &apps, &keys).await;
    let key_b = p.read_model.key(&hash_secret("key_b")).await.expect("read").expect("key_b");
    assert_eq!(key_b.status, KeyStatus::Revoked);
}

#[tokio::test]
async fn the_read_model_keeps_neither_openapi_documents_nor_key_display_fields() {
    let repo = Arc::new(MemoryRepo::new());
    let p = publisher(&repo);
    write(&p, &api("api_1", "/one"), ChangeOp::Created).await;
    write(&p, &key("key_a", "app_a", KeyStatus::Active), ChangeOp::Created).await;
    let routes = p.read_model.routes().await.expect("read");
    assert_eq!(routes.apis()[0].openapi, serde_json::Value::Null, "the document stays in the store");
    let stored: Api = repo.get("api_1").await.expect("stored");
    assert_ne!(stored.openapi, serde_json::Value::Null, "and the store still has it");
    let k = p.read_model.key(&hash_secret("key_a")).await.expect("read").expect("key_a");
    assert_eq!((k.id.as_str(), k.app_id.as_str(), k.name.as_str(), k.last4.as_str()), ("key_a", "app_a", "", ""));
}

/// A key record whose expiry cannot be read (as the year-10000 times of issue 16 were).
fn poisoned(key: &Key) -> Record {
    let mut record = Record::of(key).expect("record");
    let mut body: serde_json::Value = serde_json::from_str(&record.body).expect("json");
    body["expires_at"] = serde_json::json!("+10000-01-01T00:00:00Z");
    record.body = body.to_string();
    assert!(record.decode::<Key>().is_err(), "the test needs a record that cannot be decoded");
    record
}

#[tokio::test]
async fn a_record_that_cannot_be_decoded_is_refused_and_blocks_nothing() {
    let repo = Arc::new(MemoryRepo::new());
    let p = publisher(&repo);
    for k in ["key_a", "key_b"] {
        write(&p, &key(k, "app_a", KeyStatus::Active), ChangeOp::Created).await;
    }
    let bad = key("key_a", "app_a", KeyStatus::Active);
    repo.transact(vec![Write::Update(poisoned(&bad))]).await.expect("store write");
    p.changed(Change::of(&bad, ChangeOp::Updated)).await.expect("a poisoned record never fails the publish");
    assert!(p.read_model.key(&hash_secret("key_a")).await.expect("read").is_none(), "fails closed");

    // Other writes still apply, and revocation still reaches the gateway.
    write(&p, &key("key_b", "app_a", KeyStatus::Revoked), ChangeOp::Updated).await;
    let key_b = p.read_model.key(&hash_secret("key_b")).await.expect("read").expect("key_b");
    assert_eq!(key_b.status, KeyStatus::Revoked);

    // A restart skips the record and loads the rest.
    let restarted = publisher(&repo);
    restarted.rebuild().await.expect("start-up survives a poisoned record");
    assert!(restarted.read_model.key(&hash_secret("key_a")).await.expect("read").is_none());
    let key_b = restarted.read_model.key(&hash_secret("key_b")).await.expect("read").expect("key_b");
    assert_eq!(key_b.status, KeyStatus::Revoked);
}

#[tokio::test]
async fn a_change_that_could_not_be_read_is_applied_with_the_next_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.db");
    let repo = Arc::new(crate::store::SqliteRepo::open(&path).expect("open"));
    let cache = Arc::new(MemoryResponseCache::new(1024));
    let p = InProcessPublisher { repo: Arc::clone(&repo), read_model: InProcessReadModel::default(), cache };
    for k in ["key_a", "key_b"] {
        let created = key(k, "app_a", KeyStatus::Active);
        repo.insert(&created).await.expect("store write");
        p.changed(Change::of(&created, ChangeOp::Created)).await.expect("publish");
    }
    let revoked = key("key_a", "app_a", KeyStatus::Revoked);
    repo.update(&revoked).await.expect("the revocation is committed");

    // The store becomes unreadable between the commit and the publish.
    let other = rusqlite::Connection::open(&path).expect("second connection");
    other.execute_batch("ALTER TABLE records RENAME TO records_away").expect("hide the table");
    assert!(p.changed(Change::of(&revoked, ChangeOp::Updated)).await.is_err(), "the publish reports the failure");
    other.execute_batch("ALTER TABLE records_away RENAME TO records").expect("bring it back");

    let touched = key("key_b", "app_a", KeyStatus::Disabled);
    repo.update(&touched).await.expect("store write");
    p.changed(Change::of(&touched, ChangeOp::Updated)).await.expect("publish");
    let key_a = p.read_model.key(&hash_secret("key_a")).await.expect("read").expect("key_a");
    assert_eq!(key_a.status, KeyStatus::Revoked, "the earlier revocation was retried and applied");
}

/// Pages every key record with `limit` per page; returns the ids in the order read.
async fn paged_ids<R: Repo>(repo: &R, limit: usize) -> Vec<String> {
    let (mut ids, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = repo.page_records(EntityKind::Key, after.as_deref(), limit).await.expect("page");
        ids.extend(page.iter().map(|r| r.id.clone()));
        match page.last() {
            Some(last) if page.len() == limit => after = Some(last.id.clone()),
            _ => return ids,
        }
    }
}

#[tokio::test]
async fn pages_of_records_cover_every_record_once_in_id_order_on_both_stores() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = crate::store::SqliteRepo::open(dir.path().join("store.db")).expect("open");
    let memory = MemoryRepo::new();
    let ids = ["key_g", "key_b", "key_e", "key_a", "key_f", "key_c", "key_d"];
    for id in ids {
        sqlite.insert(&key(id, "app_a", KeyStatus::Active)).await.expect("insert");
        memory.insert(&key(id, "app_a", KeyStatus::Active)).await.expect("insert");
    }
    memory.insert(&developer("dev_1", None)).await.expect("another kind is not listed");
    let mut sorted: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    sorted.sort();
    for limit in [1, 3, 7, 100] {
        assert_eq!(paged_ids(&sqlite, limit).await, sorted, "sqlite, {limit} a page");
        assert_eq!(paged_ids(&memory, limit).await, sorted, "memory, {limit} a page");
    }
}
