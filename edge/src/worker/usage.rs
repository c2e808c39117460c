//! Usage at the edge: events aggregate in the isolate ([`IsolateUsage`]); after a response,
//! a due batch is signed and sent to the control plane's ingest URL with `ctx.wait_until`
//! (so the caller never waits for it), retried twice with the same batch id (idempotent at
//! the receiver). What an isolate holds when it is evicted is lost: usage is analytics,
//! limits live in the limiter objects. (Aggregating in the identity's object instead would
//! survive eviction at the cost of one more write per request.)

use std::cell::{Cell, RefCell};
use std::time::Duration;

use gatehouse_core::ports::UsageSink;
use gatehouse_core::signing::SIGNATURE_HEADER;
use gatehouse_core::usage::UsageEvent;
use worker::{Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use super::{clock, setting};
use crate::layout::names;
use crate::usage_batch::{retryable, IsolateUsage, SealedBatch};

const DEFAULT_FLUSH_SECS: i64 = 60;
/// Delays before the second and third attempts.
const RETRY_DELAYS_MS: [u64; 2] = [250, 1_000];
/// Flushes one trailing task may make before it ends.
const TRAILING_ROUNDS: usize = 2;

thread_local! {
    static USAGE: RefCell<Option<IsolateUsage>> = const { RefCell::new(None) };
    /// Whether a trailing flush is already scheduled in this isolate.
    static TRAILING: Cell<bool> = const { Cell::new(false) };
}

fn with_usage<R>(interval_ms: i64, f: impl FnOnce(&mut IsolateUsage) -> R) -> R {
    USAGE.with(|cell| {
        let mut slot = cell.borrow_mut();
        // Random per isolate: with the sequence number it makes batch ids unique everywhere.
        let source = format!("{:012x}{:012x}", random48(), random48());
        f(slot.get_or_insert_with(|| IsolateUsage::new(source, interval_ms)))
    })
}

fn random48() -> u64 {
    (js_sys::Math::random() * (1u64 << 48) as f64) as u64
}

pub struct EdgeUsage {
    interval_ms: i64,
}

impl EdgeUsage {
    pub fn new(env: &Env) -> Self {
        let secs = setting(env, names::USAGE_FLUSH_SECS).and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_FLUSH_SECS);
        EdgeUsage { interval_ms: secs * 1000 }
    }
}

impl UsageSink for EdgeUsage {
    fn record(&self, event: UsageEvent) {
        with_usage(self.interval_ms, |u| u.record(&event));
    }
}

/// Sends the isolate's batch in the background when one is due; otherwise, when events are
/// pending, schedules one trailing flush for when they will be (inside `wait_until`, which
/// keeps the isolate alive for it), so a quiet isolate still delivers within one interval.
pub fn flush(env: &Env, ctx: &Context) {
    let (Some(url), Some(secret)) = (setting(env, names::INGEST_URL), setting(env, names::INGEST_SECRET)) else {
        return;
    };
    let interval_ms = EdgeUsage::new(env).interval_ms;
    let now = clock::now();
    if let Some(batch) = with_usage(interval_ms, |u| u.take_due(now, secret.as_bytes())) {
        ctx.wait_until(async move { deliver(&url, &batch).await });
        return;
    }
    if with_usage(interval_ms, |u| u.due_at()).is_none() || TRAILING.with(|t| t.replace(true)) {
        return; // nothing pending, or a trailing flush is already scheduled in this isolate
    }
    ctx.wait_until(async move {
        // Events recorded while it sleeps are caught by the next round; the rounds are bounded
        // because `wait_until` is (30 s), and a later request schedules a new trailing flush.
        for _ in 0..TRAILING_ROUNDS {
            let Some(due_at) = with_usage(interval_ms, |u| u.due_at()) else { break };
            let wait_ms = due_at.saturating_sub(clock::now()).max(0) as u64;
            Delay::from(Duration::from_millis(wait_ms)).await;
            if let Some(batch) = with_usage(interval_ms, |u| u.take_due(clock::now(), secret.as_bytes())) {
                deliver(&url, &batch).await;
            }
        }
        TRAILING.with(|t| t.set(false));
    });
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
