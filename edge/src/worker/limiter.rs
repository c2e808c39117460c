//! Limits in Durable Objects. `DurableLimiter` sends each call's checks to the object named
//! after the identity that owns them ([`crate::layout::limiter_object`]); `LimiterObject` is
//! the single writer of that identity's counters and runs the core's pure
//! [`limits::evaluate`] over them, so quotas are exact: no two calls can both take the last
//! unit. An unreachable object is a [`PortError`]; the core then fails quotas closed and
//! burst limits as their policy says. Overloaded calls are not retried.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use gatehouse_core::limits::{self, CounterState, LimitCheck, LimitDecision};
use gatehouse_core::ports::{Limiter, PortError};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, ScheduledTime, State,
};

use super::clock;
use crate::layout::{limiter_object, names, test_hooks_enabled, LIMITER_BINDING};
use crate::wire::{AcquireRequest, LimiterContents, StoredCounter};

/// An alarm at an absolute time. `set_alarm` takes a bare `i64` as an offset from now, so an
/// epoch time passed that way would schedule the alarm decades ahead and it would never fire.
fn alarm_time(at: UnixMillis) -> ScheduledTime {
    ScheduledTime::new(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64)))
}

/// The object's internal URL for the test-only inspection (see [`inspect`]).
const CONTENTS_URL: &str = "https://limiter/contents";
const CONTENTS_PATH: &str = "/contents";

/// Test hooks only (`GATEHOUSE_TEST_HOOKS=1`, checked by the caller and again by the object):
/// what the named limiter object holds, as [`LimiterContents`] JSON. Read-only.
pub async fn inspect(env: &Env, object: &str) -> Result<Response> {
    let stub = env.durable_object(LIMITER_BINDING)?.get_by_name(object)?;
    stub.fetch_with_str(CONTENTS_URL).await
}

pub struct DurableLimiter {
    env: Env,
    /// Wall time of the last hop to the object, for `Server-Timing` (budgets and tests).
    hop_ms: Cell<Option<f64>>,
}

impl DurableLimiter {
    pub fn new(env: Env) -> Self {
        DurableLimiter { env, hop_ms: Cell::new(None) }
    }

    pub fn server_timing<B>(&self, response: &mut http::Response<B>) {
        if let Some(ms) = self.hop_ms.get() {
            if let Ok(v) = http::HeaderValue::from_str(&format!("limiter;dur={ms}")) {
                response.headers_mut().append("server-timing", v);
            }
        }
    }

    async fn call(&self, object: &str, body: String) -> Result<LimitDecision> {
        let stub = self.env.durable_object(LIMITER_BINDING)?.get_by_name(object)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init("https://limiter/acquire", &init)?;
        let mut res = stub.fetch_with_request(request).await?;
        if res.status_code() != 200 {
            return Err(worker::Error::RustError(format!("limiter answered {}", res.status_code())));
        }
        res.json().await
    }
}

impl Limiter for DurableLimiter {
    async fn acquire(&self, checks: &[LimitCheck], now: UnixMillis) -> std::result::Result<LimitDecision, PortError> {
        let Some(object) = limiter_object(checks) else {
            return Ok(LimitDecision::default());
        };
        let request = AcquireRequest { now, checks: checks.to_vec() };
        let body = serde_json::to_string(&request).map_err(|e| PortError::new("limiter", e.to_string()))?;
        let started = js_sys::Date::now();
        let decision = self.call(object, body).await.map_err(|e| PortError::new("limiter", e.to_string()));
        self.hop_ms.set(Some(js_sys::Date::now() - started));
        decision
    }
}

/// A counter as stored: its state and when it can be forgotten (see `CounterState::expires_at`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Stored {
    state: CounterState,
    expires_at: UnixMillis,
}

/// One identity's counters. Memory is a write-through copy of storage: counters survive
/// eviction and deploys, and an alarm deletes those whose window has rolled over.
#[durable_object]
pub struct LimiterObject {
    state: State,
    counters: RefCell<HashMap<String, Option<Stored>>>,
    /// The alarm this instance knows it set; `None` after an alarm ran or a restart (then the
    /// stored alarm, if any, is read before deciding whether to move it earlier).
    alarm_at: Cell<Option<UnixMillis>>,
    /// `GATEHOUSE_TEST_HOOKS=1`: answer the read-only inspection request.
    test_hooks: bool,
}

impl LimiterObject {
    /// Loads counters not yet in memory. A concurrent call may have loaded (and changed) one
    /// meanwhile: the copy in memory wins, so no update is ever lost.
    async fn load(&self, checks: &[LimitCheck]) -> Result<()> {
        for check in checks {
            if self.counters.borrow().contains_key(&check.counter) {
                continue;
            }
            let stored: Option<String> = self.state.storage().get(&check.counter).await?;
            let stored = stored.and_then(|s| serde_json::from_str::<Stored>(&s).ok());
            self.counters.borrow_mut().entry(check.counter.clone()).or_insert(stored);
        }
        Ok(())
    }

    /// Reads, evaluates and updates memory in one synchronous step (no await in between):
    /// this is what makes the object the single writer.
    fn decide(&self, checks: &[LimitCheck], now: UnixMillis) -> (LimitDecision, Vec<(String, Stored)>) {
        let mut counters = self.counters.borrow_mut();
        let states: Vec<Option<CounterState>> =
            checks.iter().map(|c| counters.get(&c.counter).copied().flatten().map(|s| s.state)).collect();
        let evaluation = limits::evaluate(checks, &states, now, 1);
        let mut writes = Vec::new();
        for (check, state) in checks.iter().zip(evaluation.writes.unwrap_or_default()) {
            let stored = Stored { state, expires_at: state.expires_at(check) };
            counters.insert(check.counter.clone(), Some(stored));
            writes.push((check.counter.clone(), stored));
        }
        (evaluation.decision, writes)
    }

    /// Makes sure an alarm is due no later than `at`. After a restart the instance does not
    /// know the stored alarm, so it reads it rather than postpone an earlier one.
    async fn alarm_by(&self, at: UnixMillis) -> Result<()> {
        let storage = self.state.storage();
        let scheduled = match self.alarm_at.get() {
            Some(known) => Some(known),
            None => storage.get_alarm().await?,
        };
        if scheduled.is_none_or(|s| at < s) {
            storage.set_alarm(alarm_time(at)).await?;
            self.alarm_at.set(Some(at));
        } else {
            self.alarm_at.set(scheduled);
        }
        Ok(())
    }

    /// Test hooks only: the stored counters, the count in memory and the alarm. Reads only.
    async fn contents(&self) -> Result<Response> {
        let storage = self.state.storage();
        let mut counters = Vec::new();
        for entry in storage.list().await?.entries() {
            let pair: js_sys::Array = entry?.into();
            let (Some(counter), Some(text)) = (pair.get(0).as_string(), pair.get(1).as_string()) else { continue };
            let expires_at = serde_json::from_str::<Stored>(&text).map_or(0, |s| s.expires_at);
            counters.push(StoredCounter { counter, expires_at });
        }
        let in_memory = self.counters.borrow().values().filter(|c| c.is_some()).count();
        let alarm_at = storage.get_alarm().await?;
        Response::from_json(&LimiterContents { counters, in_memory, alarm_at })
    }
}

impl DurableObject for LimiterObject {
    fn new(state: State, env: Env) -> Self {
        let test_hooks = test_hooks_enabled(env.var(names::TEST_HOOKS).ok().map(|v| v.to_string()).as_deref());
        LimiterObject { state, counters: RefCell::new(HashMap::new()), alarm_at: Cell::new(None), test_hooks }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() == Method::Get && req.path() == CONTENTS_PATH {
            return if self.test_hooks { self.contents().await } else { Response::error("not found", 404) };
        }
        let AcquireRequest { now: caller_now, checks } = req.json().await?;
        self.load(&checks).await?;
        // The object's own clock: one clock per set of counters, whatever isolate called.
        let now = clock::now().max(caller_now);
        let (decision, writes) = self.decide(&checks, now);
        let storage = self.state.storage();
        for (counter, stored) in &writes {
            storage.put(counter, serde_json::to_string(stored)?).await?;
        }
        if let Some(first_expiry) = writes.iter().map(|(_, s)| s.expires_at).min() {
            self.alarm_by(first_expiry.max(now + 1_000)).await?;
        }
        Response::from_json(&decision)
    }

    /// Rolls windows: deletes the counters that hold nothing a fresh one would not, and
    /// schedules itself for the next expiry, so storage stays bounded by active callers.
    async fn alarm(&self) -> Result<Response> {
        let now = clock::now();
        self.alarm_at.set(None);
        let storage = self.state.storage();
        let all = storage.list().await?;
        let mut next: Option<UnixMillis> = None;
        for entry in all.entries() {
            let pair: js_sys::Array = entry?.into();
            let (Some(counter), Some(text)) = (pair.get(0).as_string(), pair.get(1).as_string()) else { continue };
            let Ok(stored) = serde_json::from_str::<Stored>(&text) else { continue };
            if stored.expires_at <= now {
                storage.delete(&counter).await?;
                self.counters.borrow_mut().remove(&counter);
            } else {
                next = Some(next.map_or(stored.expires_at, |n| n.min(stored.expires_at)));
            }
        }
        if let Some(at) = next {
            storage.set_alarm(alarm_time(at)).await?;
            self.alarm_at.set(Some(at));
        }
        Response::ok("rolled")
    }
}
