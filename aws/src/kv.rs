//! `KvPublisher`: publishes every committed change to the edge's Workers KV read model
//! through the Cloudflare REST API, announces revoked or disabled keys to the Worker's
//! strongly consistent deny list (`POST <worker>/_gatehouse/revocations`, signed), and sends
//! cache purges to the Worker's purge log (`POST <worker>/_gatehouse/purges`, signed).
//!
//! Each change is turned into the KV entries it affects, read from the store of record at
//! publish time (so a retry or a late publish writes the current state, never an old one):
//! `routes` for APIs, `key:<hash>` for keys, `identity:<app>` for apps and what they are
//! entitled to. Writes are full values through the bulk endpoint, so repeating one is
//! harmless (idempotent); 429, 5xx and transport errors are retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_admin::{Change, PublishError, Publisher};
use gatehouse_core::cache::purges::PurgeNotice;
use gatehouse_core::cache::PurgeSelector;
use gatehouse_core::entitlements::{compile_identity, AppOwner};
use gatehouse_core::keys::KeyHash;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{
    AccessRequest, Api, App, Developer, Key, KeyStatus, Organisation, Plan, Product, Subscription,
};
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::signing::{sign, SIGNATURE_HEADER};
use gatehouse_core::store::{EntityKind, Repo, StoreError};
use gatehouse_core::time::{UnixMillis, MINUTE};
use serde::Serialize;

use crate::config::EdgeConfig;

/// Cloudflare accepts at most 10,000 pairs per bulk write.
const MAX_BULK: usize = 10_000;
/// How long the edge keeps a revocation: far beyond KV's ~60 s propagation and the edge's
/// own read cache, so the KV copy has long caught up when the entry is dropped.
pub const REVOCATION_KEEP: i64 = 60 * MINUTE;
/// A disabled key may be enabled again, and the deny list has no "undo": keep its entry
/// only a few KV propagation delays, so re-enabling takes effect at the edge within this.
pub const DISABLE_KEEP: i64 = 5 * MINUTE;
/// Worker path for revocation notices (the edge's `layout::REVOCATIONS_PATH`).
pub const REVOCATIONS_PATH: &str = "/_gatehouse/revocations";
/// Worker path for cache purge notices (the edge's `layout::PURGES_PATH`).
pub const PURGES_PATH: &str = "/_gatehouse/purges";

/// How retries back off: `attempts` tries, the delay doubling from `first_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 5, first_delay: Duration::from_millis(200) }
    }
}

/// One KV pair as the bulk endpoint takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvEntry {
    pub key: String,
    pub value: String,
}

pub struct KvPublisher<R> {
    repo: Arc<R>,
    http: reqwest::Client,
    edge: EdgeConfig,
    retry: Retry,
    clock: gatehouse_admin::Clock,
}

fn store_failed(e: StoreError) -> PublishError {
    PublishError::new(format!("reading the change back: {e}"))
}

fn json<T: Serialize>(value: &T) -> Result<String, PublishError> {
    serde_json::to_string(value).map_err(|e| PublishError::new(e.to_string()))
}

impl<R: Repo> KvPublisher<R> {
    /// Builds the HTTP client (no connection is made until the first publish).
    pub fn new(
        repo: Arc<R>,
        edge: EdgeConfig,
        retry: Retry,
        clock: gatehouse_admin::Clock,
    ) -> Result<Self, PublishError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PublishError::new(format!("http client: {e}")))?;
        Ok(KvPublisher { repo, http, edge, retry, clock })
    }

    /// The KV entries a change affects, and the key hashes that must be refused now (with
    /// how long the edge keeps refusing them without looking at KV).
    async fn entries(&self, change: &Change) -> Result<(Vec<KvEntry>, Vec<(KeyHash, i64)>), PublishError> {
        let mut revoked = Vec::new();
        let entries = match change.kind {
            EntityKind::Api => {
                let apis: Vec<Api> = self.repo.list(None).await.map_err(store_failed)?;
                let live: Vec<Api> = apis.into_iter().filter(|a| a.lifecycle != Lifecycle::Draft).collect();
                vec![KvEntry { key: "routes".into(), value: json(&live)? }]
            }
            EntityKind::Key => match self.repo.get::<Key>(&change.id).await {
                Ok(key) => {
                    match key.status {
                        KeyStatus::Revoked | KeyStatus::Expired => revoked.push((key.hash.clone(), REVOCATION_KEEP)),
                        KeyStatus::Disabled => revoked.push((key.hash.clone(), DISABLE_KEEP)),
                        KeyStatus::Active => {}
                    }
                    vec![KvEntry { key: format!("key:{}", key.hash.as_hex()), value: json(&key)? }]
                }
                Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(store_failed(e)),
            },
            EntityKind::App => self.identities(vec![change.id.clone()]).await?,
            EntityKind::AccessRequest => match self.repo.get::<AccessRequest>(&change.id).await {
                Ok(request) => self.identities(vec![request.app_id]).await?,
                Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(store_failed(e)),
            },
            // The portal's own records: the edge never reads them.
            EntityKind::ApiCard
            | EntityKind::SignInLink
            | EntityKind::Session
            | EntityKind::Throttle
            | EntityKind::AdminToken
            | EntityKind::AlertRule
            | EntityKind::AlertEvent
            | EntityKind::AlertDelivery
            | EntityKind::AlertOutbox
            | EntityKind::StaffSignIn
            | EntityKind::Membership
            | EntityKind::Invitation
            | EntityKind::Revision => Vec::new(),
            // A developer's group counts for their personal apps (listed under them) only.
            EntityKind::Developer => {
                let apps: Vec<App> = self.repo.list(Some(&change.id)).await.map_err(store_failed)?;
                self.identities(apps.into_iter().map(|a| a.id).collect()).await?
            }
            // Its tier is its apps' group.
            EntityKind::Organisation => {
                let apps: Vec<App> = self.repo.list(Some(&change.id)).await.map_err(store_failed)?;
                self.identities(apps.into_iter().map(|a| a.id).collect()).await?
            }
            EntityKind::Subscription | EntityKind::Product | EntityKind::Plan => {
                let subs: Vec<Subscription> = self.repo.list(None).await.map_err(store_failed)?;
                let id = change.id.as_str();
                let mut apps: Vec<String> = subs
                    .into_iter()
                    .filter(|s| s.id == id || s.product_id == id || s.plan_id == id)
                    .map(|s| s.app_id)
                    .collect();
                apps.sort();
                apps.dedup();
                self.identities(apps).await?
            }
        };
        Ok((entries, revoked))
    }

    async fn identities(&self, app_ids: Vec<String>) -> Result<Vec<KvEntry>, PublishError> {
        if app_ids.is_empty() {
            return Ok(Vec::new());
        }
        let products: Vec<Product> = self.repo.list(None).await.map_err(store_failed)?;
        let plans: Vec<Plan> = self.repo.list(None).await.map_err(store_failed)?;
        let mut out = Vec::new();
        for app_id in app_ids {
            let app: App = match self.repo.get(&app_id).await {
                Ok(app) => app,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(store_failed(e)),
            };
            let developer: Developer = self.repo.get(&app.developer_id).await.map_err(store_failed)?;
            let organisation: Option<Organisation> = match &app.organisation_id {
                Some(id) => Some(self.repo.get(id).await.map_err(store_failed)?),
                None => None,
            };
            let subs: Vec<Subscription> = self.repo.list(Some(&app.id)).await.map_err(store_failed)?;
            let access: Vec<AccessRequest> = self.repo.list(Some(&app.id)).await.map_err(store_failed)?;
            let now = crate::dynamo::now_millis();
            let owner = AppOwner { developer: &developer, organisation: organisation.as_ref() };
            let identity = compile_identity(&app, owner, &subs, &products, &plans, &access, now);
            out.push(KvEntry { key: format!("identity:{app_id}"), value: json(&identity)? });
        }
        Ok(out)
    }

    /// `PUT …/storage/kv/namespaces/{ns}/bulk` in chunks, each retried.
    pub async fn put_bulk(&self, entries: &[KvEntry]) -> Result<(), PublishError> {
        let url = format!(
            "{}/accounts/{}/storage/kv/namespaces/{}/bulk",
            self.edge.api_base.trim_end_matches('/'),
            self.edge.account_id,
            self.edge.namespace_id
        );
        for chunk in entries.chunks(MAX_BULK) {
            let body = json(&chunk)?;
            let answer = self
                .send("workers kv bulk write", || {
                    self.http
                        .put(&url)
                        .bearer_auth(&self.edge.api_token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await?;
            // A 200 can still list keys Cloudflare did not write; the admin call then fails
            // with "saved, not published", and repeating it rewrites the same values.
            let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            let unwritten = answer["result"]["unsuccessful_keys"].as_array().map_or(0, Vec::len);
            if answer["success"] == false || unwritten > 0 {
                return Err(PublishError::new(format!("workers kv bulk write left {unwritten} keys unwritten")));
            }
        }
        Ok(())
    }

    /// Signs and posts a revocation notice to the Worker; the id is fixed before the first
    /// try, so a retried delivery is applied once.
    pub async fn notify_revoked(&self, key_hashes: Vec<KeyHash>, keep: i64) -> Result<(), PublishError> {
        let at: UnixMillis = (self.clock)();
        let random: u64 = rand::random();
        let notice =
            RevocationNotice { notice_id: format!("rev_{random:016x}"), key_hashes, at, keep_until: at + keep };
        self.post_signed("revocation notice", REVOCATIONS_PATH, json(&notice)?).await
    }

    /// Signs and posts a purge notice to the Worker (same secret and retries as revocation
    /// notices; the id is fixed before the first try, so a retried delivery purges once).
    pub async fn notify_purge(&self, selector: PurgeSelector) -> Result<(), PublishError> {
        let random: u64 = rand::random();
        let notice = PurgeNotice { notice_id: format!("prg_{random:016x}"), selector, at: (self.clock)() };
        self.post_signed("purge notice", PURGES_PATH, json(&notice)?).await
    }

    async fn post_signed(&self, what: &str, path: &str, body: String) -> Result<(), PublishError> {
        let url = format!("{}{path}", self.edge.edge_url.trim_end_matches('/'));
        self.send(what, || {
            let signature = sign(&self.edge.control_secret, body.as_bytes(), (self.clock)());
            self.http
                .post(&url)
                .header(SIGNATURE_HEADER, signature)
                .header("content-type", "application/json")
                .body(body.clone())
        })
        .await
        .map(drop)
    }

    /// Sends, retrying transport errors, 429 and 5xx with doubling delays; other answers fail.
    async fn send(&self, what: &str, request: impl Fn() -> reqwest::RequestBuilder) -> Result<String, PublishError> {
        let mut delay = self.retry.first_delay;
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts.max(1) {
            match request().send().await {
                Ok(r) if r.status().is_success() => return Ok(r.text().await.unwrap_or_default()),
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    last = format!("HTTP {}", r.status())
                }
                Ok(r) => return Err(PublishError::new(format!("{what} refused: HTTP {}", r.status()))),
                Err(e) => last = format!("transport: {e}"),
            }
            tracing::warn!(what, attempt, error = %last, "publish attempt failed; retrying");
            if attempt < self.retry.attempts {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        Err(PublishError::new(format!("{what} failed after {} attempts: {last}", self.retry.attempts)))
    }
}

impl<R: Repo> Publisher for KvPublisher<R> {
    async fn changed(&self, change: Change) -> Result<(), PublishError> {
        let (entries, revoked) = self.entries(&change).await?;
        // The deny list first: it is the fast path, KV takes up to a minute to be seen anyway.
        for (hash, keep) in revoked {
            self.notify_revoked(vec![hash], keep).await?;
        }
        if !entries.is_empty() {
            self.put_bulk(&entries).await?;
        }
        Ok(())
    }

    /// The edge caches in each location's Cache API, which cannot list entries, so a purge
    /// is recorded as a time in the Worker's purge log (entries stored before it are misses
    /// everywhere within the edge's 2 s bound). How many entries that kills is unknown: 0.
    async fn purge(&self, selector: PurgeSelector) -> Result<u64, PublishError> {
        self.notify_purge(selector).await?;
        Ok(0)
    }
}
