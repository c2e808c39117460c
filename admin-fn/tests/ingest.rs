//! `POST /v1/usage/batches`: signed by the edge, counted once per batch id.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use common::{assert_problem, Harness, START};
use gatehouse_admin::{router, AdminSettings, AdminState, RecordingPublisher};
use gatehouse_core::signing::{sign, SIGNATURE_HEADER};
use gatehouse_core::store::{GroupBy, MemoryRepo, Repo, UsageQuery};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues, UsageBatch};

const SECRET: &[u8] = b"edge-ingest-secret";

fn harness() -> Harness {
    let mut h = Harness::new();
    let now = Arc::clone(&h.clock);
    let state = AdminState::new(
        Arc::clone(&h.repo),
        Arc::new(RecordingPublisher::default()),
        vec![],
        AdminSettings::default(),
        Arc::new(move || now.load(std::sync::atomic::Ordering::SeqCst)),
    )
    .with_ingest_secret(SECRET.to_vec());
    h.router = router(state);
    h
}

fn batch(id: &str, requests: u64) -> Vec<u8> {
    let key = RollupKey {
        minute: START - START.rem_euclid(60_000),
        api_id: "api_1".into(),
        operation_id: "getPet".into(),
        key_id: "key_1".into(),
        app_id: "app_1".into(),
        developer_id: "dev_1".into(),
    };
    let values = RollupValues { requests, ..RollupValues::default() };
    let batch = UsageBatch {
        batch_id: id.into(),
        source: "test".into(),
        sent_at: START,
        rollups: vec![Rollup { key, values }],
    };
    serde_json::to_vec(&batch).expect("json")
}

fn post(body: Vec<u8>, signature: Option<String>) -> Request<Body> {
    let mut b = Request::post("/v1/usage/batches").header("content-type", "application/json");
    if let Some(sig) = signature {
        b = b.header(SIGNATURE_HEADER, sig);
    }
    b.body(Body::from(body)).expect("request")
}

async fn total(repo: &MemoryRepo) -> u64 {
    let q = UsageQuery { group_by: GroupBy::Total, ..UsageQuery::default() };
    repo.query_usage(&q).await.expect("query")[0].requests
}

#[tokio::test]
async fn a_signed_batch_counts_once_however_often_it_is_delivered() {
    let h = harness();
    let body = batch("bat_1", 1000);
    let first = h.send(post(body.clone(), Some(sign(SECRET, &body, START)))).await;
    assert_eq!((first.status.as_u16(), first.body["outcome"].as_str()), (202, Some("applied")));
    h.advance(30_000);
    let again = h.send(post(body.clone(), Some(sign(SECRET, &body, START + 30_000)))).await;
    assert_eq!((again.status.as_u16(), again.body["outcome"].as_str()), (200, Some("duplicate")));
    assert_eq!(total(&h.repo).await, 1000);
}

#[tokio::test]
async fn unsigned_forged_or_stale_batches_are_refused_and_count_nothing() {
    let h = harness();
    let body = batch("bat_2", 5);
    assert_problem(&h.send(post(body.clone(), None)).await, 401, "unauthorized");
    assert_problem(&h.send(post(body.clone(), Some(sign(b"wrong", &body, START)))).await, 401, "unauthorized");
    let other = batch("bat_2", 500);
    assert_problem(&h.send(post(other, Some(sign(SECRET, &body, START)))).await, 401, "unauthorized");
    let stale = sign(SECRET, &body, START - 301_000);
    assert_problem(&h.send(post(body.clone(), Some(stale))).await, 401, "unauthorized");
    assert_eq!(total(&h.repo).await, 0);
}

#[tokio::test]
async fn ingest_is_off_without_a_secret_and_checks_the_batch_shape() {
    let h = Harness::new();
    let body = batch("bat_3", 1);
    assert_problem(&h.send(post(body.clone(), Some(sign(SECRET, &body, START)))).await, 404, "not-found");
    let h = harness();
    let bad = batch("bat 3/..", 1);
    let reply = h.send(post(bad.clone(), Some(sign(SECRET, &bad, START)))).await;
    assert_problem(&reply, 422, "validation-failed");
}
