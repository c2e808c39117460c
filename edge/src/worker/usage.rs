//! Usage at the edge: events aggregate in the isolate ([`IsolateUsage`]); after a response,
//! when a window has ended, its batches are signed and sent to the control plane's ingest URL
//! with `ctx.wait_until` (so the caller never waits for them), retried twice with the same
//! batch id (idempotent at the receiver). What an isolate holds when it is evicted — at most
//! one window, the last it served requests in, since any request after a window's end flushes
//! it — is lost: usage is analytics, limits live in the limiter objects. (Aggregating in the
//! identity's object instead would survive eviction at the cost of one more write per request.)

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use gatehouse_core::ports::UsageSink;
use gatehouse_core::signing::SIGNATURE_HEADER;
use gatehouse_core::usage::{UsageEvent, WINDOW};
use worker::{Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use super::{clock, setting};
use crate::layout::names;
use crate::usage_batch::{retryable, IsolateUsage, SealedBatch};

/// The flush window: the core's five-minute [`WINDOW`], which the control plane packs into one
/// item per key; tests set the var to 1.
const DEFAULT_FLUSH_SECS: i64 = WINDOW / 1000;
/// Delays before the second and third attempts.
const RETRY_DELAYS_MS: [u64; 2] = [250, 1_000];
/// Flushes one trailing task may make before it ends.
const TRAILING_ROUNDS: usize = 2;
/// How long `wait_until` keeps work alive after a response (Cloudflare: 30 s), less a margin: a
/// trailing flush is scheduled only when its batch is due within this.
const TRAILING_REACH_MS: i64 = 25_000;
/// Past this after scheduling, a trailing task has ended or been cut off.
const WAIT_UNTIL_LIMIT_MS: i64 = 30_000;

thread_local! {
    static USAGE: RefCell<Option<IsolateUsage>> = const { RefCell::new(None) };
    /// Until when a scheduled trailing flush may still be running in this isolate (0: none).
    /// A time rather than a flag, so a task the runtime cut off cannot block later ones.
    static TRAILING_UNTIL: Cell<i64> = const { Cell::new(0) };
}

fn with_usage<R>(window_ms: i64, f: impl FnOnce(&mut IsolateUsage) -> R) -> R {
    USAGE.with(|cell| {
        let mut slot = cell.borrow_mut();
        // Random per isolate: with the sequence number it makes batch ids unique everywhere.
        let source = format!("{:012x}{:012x}", random48(), random48());
        f(slot.get_or_insert_with(|| IsolateUsage::new(source, window_ms)))
    })
}

fn random48() -> u64 {
    (js_sys::Math::random() * (1u64 << 48) as f64) as u64
}

pub struct EdgeUsage {
    window_ms: i64,
}

impl EdgeUsage {
    pub fn new(env: &Env) -> Self {
        let secs = setting(env, names::USAGE_FLUSH_SECS).and_then(|v| v.parse::<i64>().ok()).filter(|s| *s > 0);
        EdgeUsage { window_ms: secs.unwrap_or(DEFAULT_FLUSH_SECS) * 1000 }
    }
}

impl UsageSink for EdgeUsage {
    fn record(&self, event: UsageEvent) {
        with_usage(self.window_ms, |u| u.record(&event));
    }
}

/// Sends the isolate's due batches in the background; otherwise, when events are pending and
/// due within what `wait_until` allows, schedules one trailing flush for then (inside
/// `wait_until`, which keeps the isolate alive for it), so an isolate that goes quiet near the
/// end of a window still delivers it. Further off, the next request after the window ends
/// flushes it.
pub fn flush(env: &Env, ctx: &Context) {
    if let Some(task) = flush_task(env) {
        ctx.wait_until(task);
    }
}

/// [`flush`] from inside work `wait_until` already keeps alive (a streamed call's usage,
/// recorded when its body ends): the same delivery, awaited in place.
pub async fn flush_now(env: &Env) {
    if let Some(task) = flush_task(env) {
        task.await;
    }
}

/// The delivery [`flush`] starts: the due batches, or the trailing flush; `None` when there
/// is nothing to do.
fn flush_task(env: &Env) -> Option<Pin<Box<dyn Future<Output = ()>>>> {
    let (Some(url), Some(secret)) = (setting(env, names::INGEST_URL), setting(env, names::INGEST_SECRET)) else {
        return None;
    };
    let window_ms = EdgeUsage::new(env).window_ms;
    let now = clock::now();
    let batches = with_usage(window_ms, |u| u.take_due(now, secret.as_bytes()));
    if !batches.is_empty() {
        return Some(Box::pin(async move { deliver_all(&url, &batches).await }));
    }
    let near = with_usage(window_ms, |u| u.due_at()).is_some_and(|at| at - now <= TRAILING_REACH_MS);
    if !near || TRAILING_UNTIL.with(|t| t.get()) > now {
        return None; // nothing due soon, or a trailing flush is already scheduled in this isolate
    }
    TRAILING_UNTIL.with(|t| t.set(now + WAIT_UNTIL_LIMIT_MS));
    Some(Box::pin(async move {
        // Events recorded while it sleeps are caught by the next round; the rounds are bounded
        // because `wait_until` is (30 s), and a later request schedules a new trailing flush.
        for _ in 0..TRAILING_ROUNDS {
            let Some(due_at) = with_usage(window_ms, |u| u.due_at()) else { break };
            let wait_ms = due_at.saturating_sub(clock::now());
            if wait_ms > TRAILING_REACH_MS {
                break;
            }
            Delay::from(Duration::from_millis(wait_ms.max(0) as u64)).await;
            let batches = with_usage(window_ms, |u| u.take_due(clock::now(), secret.as_bytes()));
            deliver_all(&url, &batches).await;
        }
        TRAILING_UNTIL.with(|t| t.set(0));
    }))
}

async fn deliver_all(url: &str, batches: &[SealedBatch]) {
    for batch in batches {
        deliver(url, batch).await;
    }
}

async fn deliver(url: &str, batch: &SealedBatch) {
    for attempt in 0..=RETRY_DELAYS_MS.len() {
        let status = send(url, batch).await.ok();
        if status.is_some_and(|s| (200..300).contains(&s)) || !retryable(status) {
            return;
        }
        if let Some(ms) = RETRY_DELAYS_MS.get(attempt) {
            Delay::from(Duration::from_millis(*ms)).await;
        }
    }
    worker::console_warn!("usage batch {} not delivered after retries", batch.batch_id);
}

async fn send(url: &str, batch: &SealedBatch) -> worker::Result<u16> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set(SIGNATURE_HEADER, &batch.signature)?;
    headers.set("idempotency-key", &batch.batch_id)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(batch.body.clone().into()));
    let response = Fetch::Request(Request::new_with_init(url, &init)?).send().await?;
    Ok(response.status_code())
}
