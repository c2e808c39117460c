//! An API's signing keys at the edge: JWK Sets fetched with the Worker's `fetch`, and kept as
//! the core's [`KeySetCache`] says (one per key URL, per isolate), with Workers KV as a shared
//! second level ([`SharedKeySet`]): an isolate that starts cold reads KV before it asks the
//! provider, and an isolate that fetched writes what it got there for the others.
//!
//! However many requests arrive at once on a cold isolate, each URL is loaded once: the first
//! request starts the load as a [`Shared`] future and the others await the same one. OpenID
//! Connect discovery documents ([`DiscoveryCache`]) are loaded the same way.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::{select, Either, LocalBoxFuture, Shared};
use futures_util::FutureExt;
use gatehouse_core::jwt::key_cache::{KeySetCache, Lookup};
use gatehouse_core::jwt::{Algorithm, Jwk, JwkSet, Refusal};
use gatehouse_core::ports::{PortError, SignatureError};
use worker::{console_warn, AbortController, Delay, Env, Fetch, Method, Request, RequestInit};

use super::clock;
use crate::key_sets::{Discovered, DiscoveryCache, DiscoveryLookup, SharedKeySet, MAX_DOCUMENT_BYTES};
use crate::layout::{jwks_record, KV_BINDING};

/// How long a provider has to answer before the fetch counts as failed.
const FETCH_TIMEOUT_MS: u64 = 5_000;
/// Loads one token may wait for: a KV read, a fetch, then a refetch for an unknown `kid`.
const MAX_LOADS: usize = 3;

/// One key URL as this isolate knows it.
#[derive(Default)]
struct Slot {
    keys: KeySetCache,
    /// KV was read once already (an isolate reads the shared copy only when it starts cold).
    shared_read: bool,
}

thread_local! {
    static KEY_SETS: RefCell<HashMap<String, Slot>> = RefCell::new(HashMap::new());
    static DISCOVERED: RefCell<HashMap<String, DiscoveryCache>> = RefCell::new(HashMap::new());
    /// Loads under way, by URL: later requests await the first one's.
    static LOADING: RefCell<HashMap<String, Shared<LocalBoxFuture<'static, ()>>>> = RefCell::new(HashMap::new());
}

fn unavailable(detail: impl Into<String>) -> SignatureError {
    SignatureError::KeysUnavailable(PortError::new("jwks", detail))
}

/// The key in the set at `url` that checks a token with `kid` and `algorithm`.
pub async fn key(env: &Env, url: &str, kid: Option<&str>, algorithm: Algorithm) -> Result<Jwk, SignatureError> {
    for _ in 0..=MAX_LOADS {
        let now = clock::now();
        let lookup =
            KEY_SETS.with(|sets| sets.borrow_mut().entry(url.to_owned()).or_default().keys.lookup(kid, algorithm, now));
        match lookup {
            Lookup::Use(jwk) => return Ok(*jwk),
            Lookup::UnknownKey => return Err(SignatureError::Refused(Refusal::UnknownKey)),
            Lookup::Unavailable => return Err(unavailable(format!("{url}: no usable key set"))),
            Lookup::Fetch => {
                once(format!("jwks {url}"), || load_key_set(env.clone(), url.to_owned()).boxed_local()).await
            }
        }
    }
    Err(unavailable(format!("{url}: still stale after {MAX_LOADS} loads")))
}

/// Where the discovery document at `url` says the issuer and its keys are.
pub async fn discovered(url: &str) -> Result<Discovered, SignatureError> {
    for _ in 0..2 {
        let lookup = DISCOVERED.with(|docs| docs.borrow_mut().entry(url.to_owned()).or_default().lookup(clock::now()));
        match lookup {
            DiscoveryLookup::Use(doc) => return Ok(doc),
            DiscoveryLookup::Unavailable => break,
            DiscoveryLookup::Fetch => {
                once(format!("oidc {url}"), || load_discovery(url.to_owned()).boxed_local()).await
            }
        }
    }
    Err(unavailable(format!("{url}: no discovery document")))
}

/// Runs the load named `name` unless one is under way, and waits for it. The load records
/// what it learnt in the isolate's caches itself, so every waiter then looks again.
async fn once(name: String, start: impl FnOnce() -> LocalBoxFuture<'static, ()>) {
    let load =
        LOADING.with(|loading| loading.borrow_mut().entry(name.clone()).or_insert_with(|| start().shared()).clone());
    load.clone().await;
    // The first waiter to wake lets the next load start (only this one, not a newer load).
    LOADING.with(|loading| {
        let mut loading = loading.borrow_mut();
        if loading.get(&name).is_some_and(|under_way| under_way.ptr_eq(&load)) {
            loading.remove(&name);
        }
    });
}

/// The load itself: the shared copy in KV on a cold start, else the provider.
async fn load_key_set(env: Env, url: String) {
    let first = KEY_SETS.with(|sets| {
        let mut sets = sets.borrow_mut();
        let slot = sets.entry(url.clone()).or_default();
        !std::mem::replace(&mut slot.shared_read, true)
    });
    let shared = if first { read_shared(&env, &url).await } else { None };
    match shared {
        Some(copy) => record(&url, |keys| keys.fetched(copy.keys, copy.cache_control.as_deref(), copy.fetched_at)),
        None => match fetch_document(&url).await.and_then(|(body, cc)| Ok((JwkSet::from_fetched(&body)?, cc))) {
            Ok((set, cache_control)) => {
                let copy =
                    SharedKeySet { url: url.clone(), keys: set.clone(), cache_control, fetched_at: clock::now() };
                record(&url, |keys| keys.fetched(set, copy.cache_control.as_deref(), copy.fetched_at));
                write_shared(&env, &copy).await;
            }
            Err(e) => {
                console_warn!("jwks: {url}: {e}");
                record(&url, |keys| keys.failed(clock::now()));
            }
        },
    }
}

fn record(url: &str, change: impl FnOnce(&mut KeySetCache)) {
    KEY_SETS.with(|sets| change(&mut sets.borrow_mut().entry(url.to_owned()).or_default().keys));
}

async fn load_discovery(url: String) {
    let result = fetch_document(&url).await.and_then(|(body, cc)| Ok((Discovered::parse(&body)?, cc)));
    DISCOVERED.with(|docs| {
        let mut docs = docs.borrow_mut();
        let cache = docs.entry(url.clone()).or_default();
        match result {
            Ok((doc, cache_control)) => cache.fetched(doc, cache_control.as_deref(), clock::now()),
            Err(e) => {
                console_warn!("oidc discovery: {url}: {e}");
                cache.failed(clock::now());
            }
        }
    });
}

/// The shared copy, if KV has a readable one (a KV failure only means going to the provider).
async fn read_shared(env: &Env, url: &str) -> Option<SharedKeySet> {
    let kv = env.kv(KV_BINDING).ok()?;
    let text = kv.get(&jwks_record(url)).text().await.ok()??;
    let copy: SharedKeySet = serde_json::from_str(&text).ok()?;
    (copy.url == url).then(|| copy.read(clock::now()))
}

async fn write_shared(env: &Env, copy: &SharedKeySet) {
    let written = async {
        let text = serde_json::to_string(copy).map_err(|e| e.to_string())?;
        let kv = env.kv(KV_BINDING).map_err(|e| e.to_string())?;
        let put = kv.put(&jwks_record(&copy.url), text).map_err(|e| e.to_string())?;
        put.expiration_ttl(copy.kv_ttl_secs()).execute().await.map_err(|e| e.to_string())
    };
    if let Err(e) = written.await {
        // Only the other isolates lose: they fetch for themselves.
        console_warn!("jwks: sharing {} through KV failed: {e}", copy.url);
    }
}

/// GETs a provider's document: 200 only, at most [`MAX_DOCUMENT_BYTES`], within
/// [`FETCH_TIMEOUT_MS`] (the fetch is aborted after). Answers the body and `Cache-Control`.
async fn fetch_document(url: &str) -> Result<(Vec<u8>, Option<String>), String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    request.headers().set("accept", "application/json").map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(async move {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await.map_err(|e| e.to_string())?;
        if response.status_code() != 200 {
            return Err(format!("answered {}", response.status_code()));
        }
        let cache_control = response.headers().get("cache-control").ok().flatten();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        Ok((body, cache_control))
    });
    match select(call, Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS))).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("no answer within {FETCH_TIMEOUT_MS} ms"))
        }
    }
}
