//! The store contract: every scenario here runs against every `Repo` adapter (`MemoryRepo`,
//! `SqliteRepo`, `DynamoRepo`), so the in-memory twin used by router tests cannot drift from
//! the real stores. Each adapter's test module instantiates the list with
//! [`crate::for_each_store_contract`]. Compiled only with the `contract` feature (a
//! dev-dependency feature of the adapter crates); panics are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::collections::BTreeMap;

use crate::keys::hash_secret;
use crate::lifecycle::Lifecycle;
use crate::model::{Api, App, Developer, Key, KeyStatus, UpstreamSettings};
use crate::store::{
    email_unique, key_hash_unique, AuditEntry, BatchOutcome, EntityKind, Etag, GroupBy, Record, Repo, StoreError,
    UsageQuery, Write,
};
use crate::usage::{Rollup, RollupKey, RollupValues};

mod alerts;
mod audit;
mod derived;
mod organisations;
mod versions;
pub use alerts::alert_firings_are_recorded_once_all_or_nothing;
pub use audit::{admin_tokens_are_unique_by_hash_and_findable, audit_pages_filter_newest_first_and_keep_every_fact};
pub use derived::{
    audit_about_finds_every_entry_targeting_the_ids_oldest_first,
    usage_says_when_each_key_was_last_seen_and_who_called_an_api,
};
pub use organisations::organisations_own_apps_and_list_members_under_each_developer;
pub use versions::versions_claim_their_label_and_revisions_list_under_their_api;

pub fn developer(id: &str, email: &str) -> Developer {
    Developer {
        id: id.into(),
        email: email.into(),
        name: id.into(),
        group: None,
        organisation: None,
        created_at: 1,
        terms_accepted_at: None,
        closed_at: None,
    }
}

pub fn app(id: &str, developer_id: &str) -> App {
    App { id: id.into(), developer_id: developer_id.into(), organisation_id: None, name: id.into(), created_at: 1 }
}

pub fn key(id: &str, app_id: &str, secret: &str) -> Key {
    Key {
        id: id.into(),
        app_id: app_id.into(),
        name: "ci".into(),
        hash: hash_secret(secret),
        display_prefix: "gh_live_".into(),
        last4: "abcd".into(),
        status: KeyStatus::Active,
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

pub fn api(id: &str, base_path: &str, hosts: &[&str]) -> Api {
    Api {
        id: id.into(),
        name: id.into(),
        version: "1".into(),
        base_path: base_path.into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        upstream: UpstreamSettings {
            url: "http://127.0.0.1:1".into(),
            timeout_ms: 1_000,
            forward_credential: false,
            ..Default::default()
        },
        auth: Default::default(),
        cache: Default::default(),
        lifecycle: Lifecycle::Draft,
        operations: vec![],
        openapi: serde_json::json!({}),
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: 1,
        updated_at: 1,
    }
}

pub fn rollup(minute: i64, requests: u64, outcome: &str, latency_us: u64) -> Rollup {
    let mut values = RollupValues { requests, bytes_out: 10 * requests, ..RollupValues::default() };
    values.status_classes[1] = requests;
    values.outcomes = BTreeMap::from([(outcome.to_string(), requests)]);
    (0..requests).for_each(|_| values.latency.record(latency_us));
    let key = RollupKey {
        minute,
        api_id: "api_1".into(),
        operation_id: "getPet".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    Rollup { key, values }
}

pub async fn entities_round_trip_and_list_by_owner_in_creation_order(repo: impl Repo) {
    repo.insert(&developer("dev_1", "a@x.io")).await.expect("insert developer");
    for id in ["app_b", "app_a", "app_c"] {
        repo.insert(&app(id, if id == "app_c" { "dev_2" } else { "dev_1" })).await.expect("insert app");
    }
    let mine: Vec<App> = repo.list(Some("dev_1")).await.expect("list");
    assert_eq!(mine.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["app_b", "app_a"]);
    assert_eq!(repo.list::<App>(None).await.expect("list all").len(), 3);
    let mut renamed = app("app_a", "dev_1");
    renamed.name = "renamed".into();
    repo.update(&renamed).await.expect("update");
    assert_eq!(repo.get::<App>("app_a").await.expect("get"), renamed);
    let order: Vec<App> = repo.list(Some("dev_1")).await.expect("list");
    assert_eq!(order[1].id, "app_a", "an update keeps the creation order");
    repo.delete::<App>("app_a").await.expect("delete");
    assert_eq!(repo.get::<App>("app_a").await, Err(StoreError::NotFound));
}

pub async fn missing_records_are_not_found(repo: impl Repo) {
    assert_eq!(repo.get::<Key>("key_none").await, Err(StoreError::NotFound));
    assert_eq!(repo.update(&app("app_none", "dev_1")).await, Err(StoreError::NotFound));
    assert_eq!(repo.delete::<App>("app_none").await, Err(StoreError::NotFound));
    assert!(repo.insert(&app("app_1", "dev_1")).await.is_ok());
    assert!(matches!(repo.insert(&app("app_1", "dev_1")).await, Err(StoreError::Conflict(_))));
}

pub async fn developer_email_is_unique_ignoring_case(repo: impl Repo) {
    repo.insert(&developer("dev_1", "Ann@X.io")).await.expect("first");
    let clash = repo.insert(&developer("dev_2", "ann@x.IO")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(ref what)) if what.contains("email")), "{clash:?}");
    let mut same = developer("dev_1", "ann@x.io");
    same.name = "Ann".into();
    repo.update(&same).await.expect("a record may keep its own unique value");
    let found: Option<Developer> = repo.find(&email_unique("ANN@x.io")).await.expect("find");
    assert_eq!(found.map(|d| d.id), Some("dev_1".into()));
    repo.update(&developer("dev_1", "new@x.io")).await.expect("change email");
    repo.insert(&developer("dev_3", "ann@x.io")).await.expect("the old email is free again");
}

pub async fn key_hash_is_unique_and_findable(repo: impl Repo) {
    repo.insert(&key("key_1", "app_1", "secret-1")).await.expect("insert");
    let clash = repo.insert(&key("key_2", "app_1", "secret-1")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    let found: Option<Key> = repo.find(&key_hash_unique(hash_secret("secret-1").as_hex())).await.expect("find");
    assert_eq!(found.map(|k| k.id), Some("key_1".into()));
    assert_eq!(repo.find::<Key>(&key_hash_unique(hash_secret("other").as_hex())).await, Ok(None));
}

pub async fn api_base_path_is_unique_per_host(repo: impl Repo) {
    repo.insert(&api("api_1", "/pets", &["a.example.com", "b.example.com"])).await.expect("first");
    repo.insert(&api("api_2", "/pets", &["c.example.com"])).await.expect("other host");
    repo.insert(&api("api_3", "/pets", &[])).await.expect("every host is its own claim");
    repo.insert(&api("api_4", "/shop", &["a.example.com"])).await.expect("other path");
    let clash = repo.insert(&api("api_5", "/pets", &["B.example.com"])).await;
    assert!(matches!(clash, Err(StoreError::Conflict(ref w)) if w.contains("/pets")), "{clash:?}");
    assert!(matches!(repo.insert(&api("api_6", "/pets", &[])).await, Err(StoreError::Conflict(_))));
}

pub async fn a_failed_batch_writes_nothing(repo: impl Repo) {
    repo.insert(&key("key_1", "app_1", "s1")).await.expect("insert");
    let mut rotated = key("key_1", "app_1", "s1");
    rotated.grace_until = Some(99);
    let batch = vec![
        Write::update(&rotated).expect("record"),
        Write::insert(&key("key_2", "app_1", "s1")).expect("record"), // same hash: conflict
    ];
    assert!(matches!(repo.transact(batch).await, Err(StoreError::Conflict(_))));
    assert_eq!(repo.get::<Key>("key_1").await.expect("get").grace_until, None);
    assert_eq!(repo.get::<Key>("key_2").await, Err(StoreError::NotFound));
}

pub async fn rollups_merge_by_addition(repo: impl Repo) {
    repo.add_rollups(&[rollup(60_000, 2, "valid", 900)]).await.expect("first flush");
    repo.add_rollups(&[rollup(60_000, 3, "rate_limited", 30_000), rollup(120_000, 1, "valid", 900)])
        .await
        .expect("second flush");
    let total = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
    let rows = repo.query_usage(&total).await.expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].requests, rows[0].status_classes[1], rows[0].bytes_out), (6, 6, 60));
    assert_eq!(rows[0].outcomes, BTreeMap::from([("rate_limited".into(), 3), ("valid".into(), 3)]));
    assert_eq!((rows[0].p50_us, rows[0].p99_us), (Some(1_000), Some(40_000)), "three fast, three slow");
    let minutes = UsageQuery { group_by: GroupBy::Minute, to: Some(120_000), ..UsageQuery::default() };
    let rows = repo.query_usage(&minutes).await.expect("query");
    assert_eq!(rows.iter().map(|r| (r.bucket, r.requests)).collect::<Vec<_>>(), [(Some(60_000), 5)]);
    let other_key = UsageQuery { key_id: Some("key_9".into()), ..minutes };
    assert!(repo.query_usage(&other_key).await.expect("query").is_empty());
}

pub async fn key_last_use_only_moves_forward(repo: impl Repo) {
    repo.insert(&key("key_1", "app_1", "s1")).await.expect("insert");
    repo.mark_keys_used(&[("key_1".into(), 500), ("key_gone".into(), 1)]).await.expect("mark");
    repo.mark_keys_used(&[("key_1".into(), 400)]).await.expect("mark older");
    assert_eq!(repo.get::<Key>("key_1").await.expect("get").last_used_at, Some(500));
}

pub async fn snapshot_and_audit_hold_everything_written(repo: impl Repo) {
    repo.insert(&developer("dev_1", "a@x.io")).await.expect("dev");
    repo.insert(&app("app_1", "dev_1")).await.expect("app");
    repo.insert(&key("key_1", "app_1", "s1")).await.expect("key");
    repo.insert(&api("api_1", "/pets", &[])).await.expect("api");
    let snap = repo.snapshot().await.expect("snapshot");
    assert_eq!((snap.developers.len(), snap.apps.len(), snap.keys.len(), snap.apis.len()), (1, 1, 1, 1));
    assert!(snap.products.is_empty() && snap.plans.is_empty() && snap.subscriptions.is_empty());
    for (at, action) in [(1, "key.create"), (2, "key.revoke")] {
        let entry = AuditEntry::new(at, "admin:ab", action, vec!["key_1".into()]);
        repo.append_audit(&entry).await.expect("audit");
    }
    let recent = repo.recent_audit(1).await.expect("recent");
    assert_eq!(recent.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["key.revoke"]);
}

/// `UpdateIf`/`DeleteIf` write only while the stored body is the one the caller read (its
/// `ETag`); otherwise `Changed`, and the whole batch writes nothing.
pub async fn conditional_writes_apply_only_to_the_version_read(repo: impl Repo) {
    repo.insert(&developer("dev_1", "a@x.io")).await.unwrap();
    let read = repo.get_record(EntityKind::Developer, "dev_1").await.unwrap();
    let tag = Etag::of_body(&read.body);
    let mut theirs = developer("dev_1", "a@x.io");
    theirs.name = "theirs".into();
    repo.transact(vec![Write::UpdateIf { record: Record::of(&theirs).unwrap(), expected: tag.clone() }]).await.unwrap();
    let mut mine = developer("dev_1", "a@x.io");
    mine.group = Some("gold".into());
    let stale = vec![
        Write::insert(&developer("dev_2", "b@x.io")).unwrap(),
        Write::UpdateIf { record: Record::of(&mine).unwrap(), expected: tag.clone() },
    ];
    assert_eq!(repo.transact(stale).await, Err(StoreError::Changed));
    assert_eq!(repo.get::<crate::model::Developer>("dev_1").await.unwrap(), theirs, "the stale write lost");
    assert_eq!(repo.get_record(EntityKind::Developer, "dev_2").await, Err(StoreError::NotFound), "all or nothing");
    let delete = |expected| Write::DeleteIf { kind: EntityKind::Developer, id: "dev_1".into(), expected };
    assert_eq!(repo.transact(vec![delete(tag)]).await, Err(StoreError::Changed));
    let current = Etag::of_body(&repo.get_record(EntityKind::Developer, "dev_1").await.unwrap().body);
    repo.transact(vec![delete(current.clone())]).await.unwrap();
    assert_eq!(repo.transact(vec![delete(current)]).await, Err(StoreError::NotFound));
    assert!(repo.find::<crate::model::Developer>(&email_unique("a@x.io")).await.unwrap().is_none());
}

pub async fn usage_batches_count_once(repo: impl Repo) {
    let batch = [rollup(60_000, 2, "valid", 900), rollup(120_000, 1, "valid", 900)];
    assert_eq!(repo.add_usage_batch("bat_1", &batch).await, Ok(BatchOutcome::Applied));
    assert_eq!(repo.add_usage_batch("bat_1", &batch).await, Ok(BatchOutcome::Duplicate), "a retry adds nothing");
    assert_eq!(repo.add_usage_batch("bat_2", &batch[..1]).await, Ok(BatchOutcome::Applied));
    let total = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
    let rows = repo.query_usage(&total).await.expect("query");
    assert_eq!(rows[0].requests, 5, "bat_1 once (3) and bat_2 once (2)");
    assert_eq!(repo.add_usage_batch("bat_3", &[]).await, Ok(BatchOutcome::Applied), "an empty batch is fine");
    assert_eq!(repo.add_usage_batch("bat_3", &[]).await, Ok(BatchOutcome::Duplicate));
}

/// `Put` inserts a record or replaces it whole, in a batch with other writes, and `Remove`
/// deletes it whether or not it is there; a put of a record with unique values is refused.
pub async fn put_inserts_or_replaces(repo: impl Repo) {
    let mut card = crate::model::ApiCard::of(&api("api_1", "/a", &[]));
    repo.transact(vec![Write::put(&card).unwrap()]).await.unwrap();
    card.name = "renamed".into();
    repo.transact(vec![Write::insert(&developer("dev_1", "a@x.io")).unwrap(), Write::put(&card).unwrap()])
        .await
        .unwrap();
    assert_eq!(repo.get::<crate::model::ApiCard>("api_1").await.unwrap(), card);
    assert_eq!(repo.list_records(EntityKind::ApiCard, None).await.unwrap().len(), 1);
    let remove = || Write::Remove { kind: EntityKind::ApiCard, id: "api_1".into() };
    repo.transact(vec![remove()]).await.unwrap();
    assert_eq!(repo.get_record(EntityKind::ApiCard, "api_1").await, Err(StoreError::NotFound));
    repo.transact(vec![remove()]).await.expect("removing what is not there is fine");
    let with_uniques = Write::put(&developer("dev_2", "b@x.io")).unwrap();
    assert!(matches!(repo.transact(vec![with_uniques]).await, Err(StoreError::Unavailable(_))));
    assert_eq!(repo.get_record(EntityKind::Developer, "dev_2").await, Err(StoreError::NotFound));
}

/// Calls `$callback!(name, …)` with every contract scenario's name.
#[macro_export]
macro_rules! for_each_store_contract {
    ($callback:ident) => {
        $callback!(
            entities_round_trip_and_list_by_owner_in_creation_order,
            missing_records_are_not_found,
            developer_email_is_unique_ignoring_case,
            key_hash_is_unique_and_findable,
            api_base_path_is_unique_per_host,
            a_failed_batch_writes_nothing,
            rollups_merge_by_addition,
            usage_batches_count_once,
            key_last_use_only_moves_forward,
            snapshot_and_audit_hold_everything_written,
            conditional_writes_apply_only_to_the_version_read,
            put_inserts_or_replaces,
            usage_says_when_each_key_was_last_seen_and_who_called_an_api,
            audit_about_finds_every_entry_targeting_the_ids_oldest_first,
            audit_pages_filter_newest_first_and_keep_every_fact,
            admin_tokens_are_unique_by_hash_and_findable,
            alert_firings_are_recorded_once_all_or_nothing,
            organisations_own_apps_and_list_members_under_each_developer,
            versions_claim_their_label_and_revisions_list_under_their_api,
        );
    };
}
