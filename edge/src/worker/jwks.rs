//! An API's signing keys at the edge: JWK Sets fetched with the Worker's `fetch`, and kept as
//! the core's [`KeySetCache`] says (one per key URL, per isolate), with Workers KV as a shared
//! second level ([`SharedKeySet`]): an isolate that starts cold reads KV before it asks the
//! provider, and an isolate that fetched writes what it got there for the others.
//!
//! However many requests arrive at once on a cold isolate, each URL is loaded once: the first
//! request leads the load and the others wait for it to end (see [`once`]). OpenID Connect
//! discovery documents ([`DiscoveryCache`]) are loaded the same way.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};
use gatehouse_core::jwt::discovery::{Discovered, DiscoveryCache, DiscoveryLookup};
use gatehouse_core::jwt::key_cache::{KeySetCache, Lookup, MAX_DOCUMENT_BYTES};
use gatehouse_core::jwt::{Algorithm, Jwk, JwkSet, Refusal};
use gatehouse_core::ports::{PortError, SignatureError};
use gatehouse_core::time::UnixMillis;
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{console_warn, AbortController, Delay, Env, Fetch, Method, Request, RequestInit};

use super::clock;
use crate::key_sets::SharedKeySet;
use crate::layout::{jwks_record, KV_BINDING};

/// How long a provider has to answer before the fetch counts as failed.
const FETCH_TIMEOUT_MS: u64 = 5_000;
/// A waiter looks again after this long; a load older than this is taken over (its leading
/// request was cancelled without ending it).
const ABANDONED_MS: i64 = FETCH_TIMEOUT_MS as i64 + 1_000;
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
    /// Loads under way, by name: later requests wait for the first one's.
    static LOADING: RefCell<HashMap<String, Load>> = RefCell::new(HashMap::new());
    static NEXT_LOAD: Cell<u64> = const { Cell::new(0) };
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
            Lookup::Fetch => once(format!("jwks {url}"), || load_key_set(env, url)).await,
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
            DiscoveryLookup::Fetch => once(format!("oidc {url}"), || load_discovery(url)).await,
        }
    }
    Err(unavailable(format!("{url}: no discovery document")))
}

/// Runs the load named `name` unless one is under way, and waits for it. The load records
/// what it learnt in the isolate's caches itself, so every waiter then looks again.
///
/// Workers bind I/O to the request that started it: a request that awaited another's `fetch`
/// directly (e.g. through a `futures` `Shared`) would resume in that request's context and
/// have its own I/O cancelled when that request ends. So a waiter awaits a promise of its
/// own, which the leading request resolves when its load ends (workerd delivers that to the
/// waiter's own context), or gives up after [`ABANDONED_MS`] and looks again.
async fn once<F: Future<Output = ()>>(name: String, start: impl FnOnce() -> F) {
    let now = clock::now();
    let role = LOADING.with(|loading| {
        let mut loading = loading.borrow_mut();
        match loading.get_mut(&name) {
            Some(load) if now.saturating_sub(load.started) < ABANDONED_MS => {
                Role::Wait(Promise::new(&mut |resolve, _reject| load.waiters.push(resolve)))
            }
            _ => {
                let id = NEXT_LOAD.with(|next| next.replace(next.get() + 1));
                loading.insert(name.clone(), Load { id, started: now, waiters: Vec::new() });
                Role::Lead(id)
            }
        }
    });
    match role {
        Role::Wait(promise) => {
            let patience = Delay::from(Duration::from_millis(ABANDONED_MS.unsigned_abs()));
            drop(select(JsFuture::from(promise), patience).await);
        }
        Role::Lead(id) => {
            let _leading = Leading { name, id };
            start().await;
        }
    }
}

enum Role {
    Wait(Promise),
    Lead(u64),
}

/// A load under way: who leads it, since when, and the waiters' resolve functions.
struct Load {
    id: u64,
    started: UnixMillis,
    waiters: Vec<Function>,
}

/// Ends a load when its leader is done, or dropped (its request cancelled): the entry is
/// removed (if it is still this load's) and every waiter is woken to look again.
struct Leading {
    name: String,
    id: u64,
}

impl Drop for Leading {
    fn drop(&mut self) {
        let ended = LOADING.with(|loading| {
            let mut loading = loading.borrow_mut();
            let ours = loading.get(&self.name).is_some_and(|load| load.id == self.id);
            if ours {
                loading.remove(&self.name)
            } else {
                None
            }
        });
        for resolve in ended.map(|load| load.waiters).unwrap_or_default() {
            drop(resolve.call0(&JsValue::UNDEFINED));
        }
    }
}

/// The load itself: the shared copy in KV on a cold start, else the provider.
async fn load_key_set(env: &Env, url: &str) {
    let first = KEY_SETS.with(|sets| {
        let mut sets = sets.borrow_mut();
        let slot = sets.entry(url.to_owned()).or_default();
        !std::mem::replace(&mut slot.shared_read, true)
    });
    let shared = if first { read_shared(env, url).await } else { None };
    match shared {
        Some(copy) => record(url, |keys| keys.fetched(copy.keys, copy.cache_control.as_deref(), copy.fetched_at)),
        None => match fetch_document(url).await.and_then(|(body, cc)| Ok((JwkSet::from_fetched(&body)?, cc))) {
            Ok((set, cache_control)) => {
                let copy =
                    SharedKeySet { url: url.to_owned(), keys: set.clone(), cache_control, fetched_at: clock::now() };
                record(url, |keys| keys.fetched(set, copy.cache_control.as_deref(), copy.fetched_at));
                write_shared(env, &copy).await;
            }
            Err(e) => {
                console_warn!("jwks: {url}: {e}");
                record(url, |keys| keys.failed(clock::now()));
            }
        },
    }
}

fn record(url: &str, change: impl FnOnce(&mut KeySetCache)) {
    KEY_SETS.with(|sets| change(&mut sets.borrow_mut().entry(url.to_owned()).or_default().keys));
}

async fn load_discovery(url: &str) {
    let result = fetch_document(url).await.and_then(|(body, cc)| Ok((Discovered::parse(&body)?, cc)));
    DISCOVERED.with(|docs| {
        let mut docs = docs.borrow_mut();
        let cache = docs.entry(url.to_owned()).or_default();
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
