//! The revocation fast path: one global `Revocations` Durable Object holds the deny list
//! ([`DenyList`]); the control plane posts signed [`RevocationNotice`]s to the Worker at
//! [`REVOCATIONS_PATH`](crate::layout::REVOCATIONS_PATH); every isolate refreshes its copy at
//! most every [`REFRESH_MS`](crate::revoked::REFRESH_MS) (bound: ≤ 2 s + one request).
//!
//! If the object cannot be reached when the copy is stale, key lookups fail (authentication
//! fails closed) rather than trusting KV, which may still call a revoked key active.
//!
//! The same object keeps the cache purge log ([`PurgeBook`]): signed [`PurgeNotice`]s arrive
//! at [`PURGES_PATH`](crate::layout::PURGES_PATH), and the isolate's copy (refreshed with the
//! deny list) tells the Cache API adapter which entries are dead. If the object cannot be
//! reached, a cache read fails and the core treats it as a miss (the upstream answers).

use std::cell::RefCell;

use gatehouse_core::body::Body;
use gatehouse_core::cache::purges::PurgeNotice;
use gatehouse_core::cache::CachedResponse;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::ports::PortError;
use gatehouse_core::problem::{Problem, ProblemKind};
use gatehouse_core::revocation::RevocationNotice;
use gatehouse_core::signing::{self, DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER};
use gatehouse_core::time::SECOND;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State};

use super::{clock, convert, setting};
use crate::layout::{names, REVOCATIONS_BINDING, REVOCATIONS_OBJECT};
use crate::purged::{PurgeBook, MAX_ENTRY_SECS};
use crate::revoked::{DenyList, IsolateCopy, Listing};

const STORAGE_KEY: &str = "deny-list";
const PURGES_KEY: &str = "purge-log";
/// A notice names a handful of key hashes (or one purge); anything bigger is not one.
const MAX_NOTICE_BYTES: usize = 256 * 1024;

thread_local! {
    static COPY: RefCell<IsolateCopy> = RefCell::new(IsolateCopy::default());
}

/// Whether `hash` is on the deny list, refreshing the isolate's copy first when it is stale.
pub async fn denies(env: &Env, hash: &KeyHash) -> std::result::Result<bool, PortError> {
    refresh(env, "revocations").await?;
    Ok(COPY.with(|c| c.borrow().denies(hash.as_hex())))
}

/// Whether a cached entry was purged, refreshing the isolate's copy first when it is stale.
pub async fn purged(env: &Env, entry: &CachedResponse) -> std::result::Result<bool, PortError> {
    refresh(env, "cache").await?;
    Ok(COPY.with(|c| c.borrow().purged(entry)))
}

async fn refresh(env: &Env, port: &'static str) -> std::result::Result<(), PortError> {
    let now = clock::now();
    if COPY.with(|c| c.borrow().is_stale(now)) {
        let listing = fetch_listing(env).await.map_err(|e| PortError::new(port, e.to_string()))?;
        COPY.with(|c| c.borrow_mut().replace(listing, now));
    }
    Ok(())
}

/// Records a purge in the object (the Cache API adapter's own purge).
pub async fn record_purge(env: &Env, notice: &PurgeNotice) -> Result<()> {
    let mut res = forward(env, "https://revocations/purge", serde_json::to_string(notice)?).await?;
    if res.status_code() != 202 {
        return Err(worker::Error::RustError(format!("revocations answered {}", res.status_code())));
    }
    res.text().await.map(drop)
}

async fn forward(env: &Env, url: &str, body: String) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init(url, &init)?;
    let stub = env.durable_object(REVOCATIONS_BINDING)?.get_by_name(REVOCATIONS_OBJECT)?;
    stub.fetch_with_request(request).await
}

async fn fetch_listing(env: &Env) -> Result<Listing> {
    let stub = env.durable_object(REVOCATIONS_BINDING)?.get_by_name(REVOCATIONS_OBJECT)?;
    let mut res = stub.fetch_with_str("https://revocations/list").await?;
    if res.status_code() != 200 {
        return Err(worker::Error::RustError(format!("revocations answered {}", res.status_code())));
    }
    res.json().await
}

/// `POST /_gatehouse/revocations`: a notice signed with the control secret, passed on to
/// the object. Unsigned, stale or tampered notices get a 401 problem.
pub async fn accept(req: Request, env: &Env) -> Result<Response> {
    let notice: RevocationNotice = match verified(req, env, "revocation notice").await? {
        Ok(notice) => notice,
        Err(refusal) => return Ok(refusal),
    };
    forward(env, "https://revocations/notice", serde_json::to_string(&notice)?).await
}

/// `POST /_gatehouse/purges`: a signed [`PurgeNotice`], recorded by the object (202). Unsigned,
/// stale or tampered notices get a 401 problem, malformed ones a 400.
pub async fn accept_purge(req: Request, env: &Env) -> Result<Response> {
    let notice: PurgeNotice = match verified(req, env, "purge notice").await? {
        Ok(notice) => notice,
        Err(refusal) => return Ok(refusal),
    };
    forward(env, "https://revocations/purge", serde_json::to_string(&notice)?).await
}

/// The body of a control-plane message, once its signature is checked; or the refusal.
async fn verified<T: serde::de::DeserializeOwned>(
    mut req: Request,
    env: &Env,
    what: &str,
) -> Result<std::result::Result<T, Response>> {
    let body = req.bytes().await?;
    if body.len() > MAX_NOTICE_BYTES {
        return convert::to_worker(gatehouse_core::pipeline::too_large(MAX_NOTICE_BYTES as u64).map(Body::Full))
            .map(Err);
    }
    let header = req.headers().get(SIGNATURE_HEADER)?.unwrap_or_default();
    let secret = setting(env, names::CONTROL_SECRET).unwrap_or_default();
    let verified = secret.len() >= 16
        && signing::verify(secret.as_bytes(), &header, &body, clock::now(), DEFAULT_TOLERANCE_SECS).is_ok();
    if !verified {
        let problem =
            Problem::new(ProblemKind::Unauthorized).detail(format!("The {what} is not signed by the control plane."));
        return convert::to_worker(problem.into_response().map(Body::Full)).map(Err);
    }
    match serde_json::from_slice(&body) {
        Ok(message) => Ok(Ok(message)),
        Err(_) => {
            let problem = Problem::new(ProblemKind::BadRequest).detail(format!("The body is not a {what}."));
            convert::to_worker(problem.into_response().map(Body::Full)).map(Err)
        }
    }
}

/// The global deny list and cache purge log. One object is plenty: notices are rare, and
/// each isolate reads both at most every 2 s (≈ 0.5 reads/s per active isolate).
#[durable_object]
pub struct Revocations {
    state: State,
    list: RefCell<Option<DenyList>>,
    purges: RefCell<Option<PurgeBook>>,
}

impl Revocations {
    async fn load(&self) -> Result<()> {
        if self.list.borrow().is_none() {
            let stored: Option<String> = self.state.storage().get(STORAGE_KEY).await?;
            let list = stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            self.list.borrow_mut().get_or_insert(list);
        }
        if self.purges.borrow().is_none() {
            let stored: Option<String> = self.state.storage().get(PURGES_KEY).await?;
            let book = stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            self.purges.borrow_mut().get_or_insert(book);
        }
        Ok(())
    }
}

impl DurableObject for Revocations {
    fn new(state: State, _env: Env) -> Self {
        Revocations { state, list: RefCell::new(None), purges: RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        self.load().await?;
        let now = clock::now();
        if req.method() == Method::Post && req.path() == "/purge" {
            let notice: PurgeNotice = req.json().await?;
            let (applied, json) = {
                let mut slot = self.purges.borrow_mut();
                let book = slot.get_or_insert_with(PurgeBook::default);
                book.prune(now);
                let applied = book.apply(&notice, now);
                (applied, serde_json::to_string(&*book)?)
            };
            // Persisted before the answer leaves, like the deny list.
            self.state.storage().put(PURGES_KEY, json).await?;
            return Response::from_json(&serde_json::json!({ "applied": applied })).map(|r| r.with_status(202));
        }
        if req.method() == Method::Post {
            let notice: RevocationNotice = req.json().await?;
            let (applied, json) = {
                let mut slot = self.list.borrow_mut();
                let list = slot.get_or_insert_with(DenyList::default);
                list.prune(now);
                let applied = list.apply(&notice);
                (applied, serde_json::to_string(&*list)?)
            };
            // Persisted before the answer leaves (the output gate holds it until the write lands).
            self.state.storage().put(STORAGE_KEY, json).await?;
            return Response::from_json(&serde_json::json!({ "applied": applied })).map(|r| r.with_status(202));
        }
        let mut listing = self.list.borrow().as_ref().map(|l| l.listing(now)).unwrap_or_default();
        listing.purges = self.purges.borrow().as_ref().map(|b| b.log.clone()).unwrap_or_default();
        listing.purges.prune(now - MAX_ENTRY_SECS * SECOND);
        Response::from_json(&listing)
    }
}
