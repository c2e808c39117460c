//! `KvPublisher` against `wiremock` standing in for the Cloudflare API and the Worker: the
//! request shapes follow Cloudflare's documented Workers KV bulk write
//! (`PUT /client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/bulk`, a JSON
//! array of `{key, value}`, `Authorization: Bearer`) and the edge's signed revocation and
//! purge paths.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_admin::{Change, ChangeOp, Publisher};
use gatehouse_aws::config::EdgeConfig;
use gatehouse_aws::kv::{KvPublisher, Retry};
use gatehouse_core::cache::purges::PurgeNotice;
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::signing::{verify, SIGNATURE_HEADER};
use gatehouse_core::store::contract::{api, app, developer, key};
use gatehouse_core::store::{MemoryRepo, Repo};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const NOW: i64 = 1_800_000_000_000;
const BULK: &str = "/client/v4/accounts/acc_1/storage/kv/namespaces/ns_1/bulk";

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"success": true, "errors": [], "messages": [], "result": {"successful_key_count": 1, "unsuccessful_keys": []}}),
    )
}

async fn setup() -> (MockServer, Arc<MemoryRepo>, KvPublisher<MemoryRepo>) {
    let server = MockServer::start().await;
    let repo = Arc::new(MemoryRepo::new());
    let edge = EdgeConfig {
        api_base: format!("{}/client/v4", server.uri()),
        account_id: "acc_1".into(),
        namespace_id: "ns_1".into(),
        api_token: "cf-token".into(),
        edge_url: server.uri(),
        control_secret: b"control-secret".to_vec(),
    };
    let retry = Retry { attempts: 3, first_delay: Duration::from_millis(5) };
    let publisher = KvPublisher::new(Arc::clone(&repo), edge, retry, Arc::new(|| NOW)).expect("publisher");
    (server, repo, publisher)
}

fn bulk_body(request: &Request) -> Vec<(String, Value)> {
    let pairs: Vec<Value> = serde_json::from_slice(&request.body).expect("a JSON array");
    pairs
        .iter()
        .map(|p| {
            assert_eq!(p.as_object().map(|o| o.len()), Some(2), "only key and value: {p}");
            let value = serde_json::from_str(p["value"].as_str().expect("value is a string")).expect("JSON value");
            (p["key"].as_str().expect("key").to_owned(), value)
        })
        .collect()
}

#[tokio::test]
async fn published_apis_are_written_to_the_routes_key_with_the_bearer_token() {
    let (server, repo, publisher) = setup().await;
    let mut live = api("api_1", "/pets", &[]);
    live.lifecycle = Lifecycle::Published { published_at: NOW };
    repo.insert(&live).await.expect("api");
    repo.insert(&api("api_2", "/drafts", &[])).await.expect("draft api");
    Mock::given(method("PUT"))
        .and(path(BULK))
        .and(header("authorization", "Bearer cf-token"))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    publisher.changed(Change::of(&live, ChangeOp::Updated)).await.expect("published");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests[0].headers["content-type"], "application/json");
    let pairs = bulk_body(&requests[0]);
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].0, "routes");
    assert_eq!(
        pairs[0].1.as_array().map(|a| a.iter().map(|x| x["id"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("api_1")]),
        "drafts are not served"
    );
}

#[tokio::test]
async fn a_revoked_key_is_announced_signed_to_the_worker_and_rewritten_in_kv() {
    let (server, repo, publisher) = setup().await;
    let mut revoked: Key = key("key_1", "app_1", "secret-1");
    revoked.status = KeyStatus::Revoked;
    repo.insert(&revoked).await.expect("key");
    Mock::given(method("POST"))
        .and(path("/_gatehouse/revocations"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT")).and(path(BULK)).respond_with(ok()).expect(1).mount(&server).await;
    publisher.changed(Change::of(&revoked, ChangeOp::Updated)).await.expect("published");
    let requests = server.received_requests().await.expect("recorded");
    let notice = requests.iter().find(|r| r.url.path() == "/_gatehouse/revocations").expect("notice sent");
    let signature = notice.headers[SIGNATURE_HEADER].to_str().expect("ascii");
    assert_eq!(verify(b"control-secret", signature, &notice.body, NOW, 300), Ok(()));
    let notice: RevocationNotice = serde_json::from_slice(&notice.body).expect("a RevocationNotice");
    assert_eq!(notice.key_hashes, vec![revoked.hash.clone()]);
    assert_eq!(notice.keep_until - notice.at, gatehouse_aws::kv::REVOCATION_KEEP);
    assert!(notice.notice_id.starts_with("rev_"));
    let bulk = requests.iter().find(|r| r.url.path() == BULK).expect("kv write");
    let pairs = bulk_body(bulk);
    assert_eq!(pairs[0].0, format!("key:{}", revoked.hash.as_hex()));
    assert_eq!(pairs[0].1["status"], "revoked");
}

#[tokio::test]
async fn an_apps_identity_is_compiled_and_written_under_its_id() {
    let (server, repo, publisher) = setup().await;
    repo.insert(&developer("dev_1", "a@x.io")).await.expect("dev");
    let the_app = app("app_1", "dev_1");
    repo.insert(&the_app).await.expect("app");
    Mock::given(method("PUT")).and(path(BULK)).respond_with(ok()).expect(1).mount(&server).await;
    publisher.changed(Change::of(&the_app, ChangeOp::Created)).await.expect("published");
    let requests = server.received_requests().await.expect("recorded");
    let pairs = bulk_body(&requests[0]);
    assert_eq!(pairs[0].0, "identity:app_1");
    assert!(pairs[0].1.is_object());
}

/// The edge decides an organisation's limits from what the control plane compiled: the
/// owner and the tier travel in the identity record, and a tier change republishes it.
#[tokio::test]
async fn an_organisations_app_is_published_with_its_owner_and_tier() {
    let (server, repo, publisher) = setup().await;
    let mut org =
        gatehouse_core::model::Organisation { id: "org_1".into(), name: "Acme".into(), tier: None, created_at: 1 };
    repo.insert(&org).await.expect("org");
    let mut dev = developer("dev_1", "a@x.io");
    dev.group = Some("bronze".into());
    repo.insert(&dev).await.expect("dev");
    let mut the_app = app("app_1", "dev_1");
    the_app.organisation_id = Some("org_1".into());
    repo.insert(&the_app).await.expect("app");
    Mock::given(method("PUT")).and(path(BULK)).respond_with(ok()).expect(2).mount(&server).await;
    publisher.changed(Change::of(&the_app, ChangeOp::Created)).await.expect("published");
    org.tier = Some("gold".into());
    repo.update(&org).await.expect("tier");
    publisher.changed(Change::of(&org, ChangeOp::Updated)).await.expect("republished");
    let requests = server.received_requests().await.expect("recorded");
    let (first, second) = (bulk_body(&requests[0]), bulk_body(&requests[1]));
    assert_eq!(first[0].1["organisation_id"], "org_1");
    assert_eq!(first[0].1["group"], Value::Null, "the organisation's tier, not the maker's group");
    assert_eq!(second[0].0, "identity:app_1");
    assert_eq!(second[0].1["group"], "gold");
}

#[tokio::test]
async fn throttled_and_failing_writes_are_retried_then_succeed() {
    let (server, repo, publisher) = setup().await;
    let the_key = key("key_1", "app_1", "s");
    repo.insert(&the_key).await.expect("key");
    Mock::given(method("PUT"))
        .and(path(BULK))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(BULK))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT")).and(path(BULK)).respond_with(ok()).with_priority(3).mount(&server).await;
    publisher.changed(Change::of(&the_key, ChangeOp::Created)).await.expect("published on the third try");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 3);
}

#[tokio::test]
async fn refused_or_partial_writes_fail_without_pointless_retries() {
    let (server, repo, publisher) = setup().await;
    let the_key = key("key_1", "app_1", "s");
    repo.insert(&the_key).await.expect("key");
    Mock::given(method("PUT"))
        .and(path(BULK))
        .respond_with(ResponseTemplate::new(403))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let partial = json!({"success": true, "errors": [], "messages": [], "result": {"successful_key_count": 0, "unsuccessful_keys": ["k"]}});
    Mock::given(method("PUT"))
        .and(path(BULK))
        .respond_with(ResponseTemplate::new(200).set_body_json(partial))
        .with_priority(2)
        .mount(&server)
        .await;
    let refused = publisher.changed(Change::of(&the_key, ChangeOp::Created)).await;
    assert!(refused.is_err_and(|e| e.0.contains("403")));
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1, "a 403 is not retried");
    let partial = publisher.changed(Change::of(&the_key, ChangeOp::Created)).await;
    assert!(partial.is_err_and(|e| e.0.contains("unwritten")));
}

#[tokio::test]
async fn a_purge_is_posted_signed_to_the_workers_purge_log() {
    let (server, _repo, publisher) = setup().await;
    Mock::given(method("POST"))
        .and(path("/_gatehouse/purges"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"applied": true})))
        .expect(2)
        .mount(&server)
        .await;
    let by_tag = PurgeSelector::Tag { api_id: "api_1".into(), tag: "pets".into() };
    assert_eq!(publisher.purge(by_tag.clone()).await.expect("purged"), 0, "the edge cannot count entries");
    publisher.purge(PurgeSelector::Api { api_id: "api_1".into() }).await.expect("purged");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2, "nothing is written to KV");
    for request in &requests {
        assert_eq!(request.method.as_str(), "POST");
        let signature = request.headers[SIGNATURE_HEADER].to_str().expect("ascii");
        assert_eq!(verify(b"control-secret", signature, &request.body, NOW, 300), Ok(()));
    }
    let body: Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert_eq!(body["selector"], json!({"by": "tag", "api_id": "api_1", "tag": "pets"}));
    assert_eq!(body["at"], "2027-01-15T08:00:00Z");
    let first: PurgeNotice = serde_json::from_slice(&requests[0].body).expect("a PurgeNotice");
    let second: PurgeNotice = serde_json::from_slice(&requests[1].body).expect("a PurgeNotice");
    assert_eq!((first.selector, first.at), (by_tag, NOW));
    assert_eq!(second.selector, PurgeSelector::Api { api_id: "api_1".into() });
    assert!(first.notice_id.starts_with("prg_") && first.notice_id != second.notice_id);
}

#[tokio::test]
async fn a_purge_is_retried_with_the_same_notice_and_fails_when_the_worker_refuses() {
    let (server, _repo, publisher) = setup().await;
    Mock::given(method("POST"))
        .and(path("/_gatehouse/purges"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_gatehouse/purges"))
        .respond_with(ResponseTemplate::new(202))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_gatehouse/purges"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(3)
        .mount(&server)
        .await;
    let selector = PurgeSelector::Api { api_id: "api_1".into() };
    publisher.purge(selector.clone()).await.expect("purged on the second try");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "a retry carries the same notice id");
    let refused = publisher.purge(selector).await;
    assert!(refused.is_err_and(|e| e.0.contains("401")));
    assert_eq!(server.received_requests().await.expect("recorded").len(), 3, "a 401 is not retried");
}
