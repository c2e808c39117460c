//! Every successful write reaches the publisher (the edge read model), in commit order.

mod common;

use common::{assert_problem, text, Harness};
use gatehouse_admin::{Change, ChangeOp};
use gatehouse_core::model::Developer;
use gatehouse_core::store::{EntityKind, Repo};
use serde_json::json;

fn change(kind: EntityKind, id: &str, op: ChangeOp) -> Change {
    Change { kind, id: id.to_string(), op }
}

#[tokio::test]
async fn every_write_is_published() {
    let h = Harness::new();
    let app = h.app("a@x.io").await;
    let dev = text(&h.call("GET", &format!("/v1/apps/{app}"), None).await.body["developer_id"]);
    let key = h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": "ci"}))).await;
    let old = text(&key.body["key"]["id"]);
    let rotated = h.call("POST", &format!("/v1/keys/{old}/rotate"), None).await;
    let new = text(&rotated.body["key"]["id"]);
    h.call("POST", &format!("/v1/keys/{new}/revoke"), None).await;
    let product = text(&h.call("POST", "/v1/products", Some(json!({"name": "P"}))).await.body["id"]);
    let reads = h.publisher.changes().len();
    h.call("GET", "/v1/products", None).await;
    assert_eq!(h.publisher.changes().len(), reads, "reads publish nothing");
    assert_eq!(
        h.publisher.changes(),
        vec![
            change(EntityKind::Developer, &dev, ChangeOp::Created),
            change(EntityKind::App, &app, ChangeOp::Created),
            change(EntityKind::Key, &old, ChangeOp::Created),
            change(EntityKind::Key, &new, ChangeOp::Created),
            change(EntityKind::Key, &old, ChangeOp::Updated),
            change(EntityKind::Key, &new, ChangeOp::Updated),
            change(EntityKind::Product, &product, ChangeOp::Created),
        ]
    );
    let audit = h.repo.recent_audit(10).await.expect("audit");
    assert_eq!(audit.len(), 6, "one audit entry per committed write");
    assert_eq!(audit[2].action, "key.rotate");
}

#[tokio::test]
async fn refused_writes_publish_nothing() {
    let h = Harness::new();
    h.call("POST", "/v1/developers", Some(json!({"email": "a@x.io", "name": "A"}))).await;
    let before = h.publisher.changes().len();
    h.call("POST", "/v1/developers", Some(json!({"email": "A@x.io", "name": "A"}))).await;
    h.call("POST", "/v1/developers", Some(json!({"email": "bad", "name": "A"}))).await;
    assert_eq!(h.publisher.changes().len(), before);
}

#[tokio::test]
async fn failed_publish_is_a_503_and_the_write_is_kept() {
    let h = Harness::new();
    h.publisher.fail(true);
    let reply = h.call("POST", "/v1/developers", Some(json!({"email": "a@x.io", "name": "A"}))).await;
    assert_problem(&reply, 503, "service-unavailable");
    assert_eq!(reply.body["saved"], true);
    let stored: Vec<Developer> = h.repo.list(None).await.expect("list");
    assert_eq!(stored.len(), 1);
}
