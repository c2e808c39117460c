//! What durable quotas cost, on the gateway's own limiter (`SqliteLimiter`) over a SQLite
//! file in a temp dir, driven the way a gateway worker drives it (a current-thread tokio
//! runtime, SQLite work on its blocking pool):
//!
//! - `quota/acquire_flushed`: one admitted call under a daily quota written behind (the
//!   default): evaluate and mark the counter dirty, no I/O.
//! - `quota/acquire_exact`: the same call under a `durable: exact` quota: the count is
//!   committed (`synchronous = FULL`) before the call is admitted. The difference between
//!   the two rows is the price per admitted call of an exact quota.
//! - `quota/acquire_exact_16_concurrent`: 16 exact calls at once (one batch per iteration):
//!   group commit lets them share commits, so this is far below 16 × `acquire_exact`.
//! - `quota/flush_1000_counters`: one write-behind flush saving 1,000 changed counts.
//! - `usage/flush_100_rollups`: one usage flush of 100 per-minute rollups (what a flush
//!   every second writes with 100 distinct callers active).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, BatchSize, Criterion};
use gatehouse_core::limits::{Durability, LimitCheck, LimitKind, LimitPolicy, LimitScope, QuotaWindow};
use gatehouse_core::ports::Limiter;
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Aggregator, UsageEvent};
use gatehouse_core::verdict::Outcome;
use gatehouse_native::adapters::clock::now_millis;
use gatehouse_native::adapters::sqlite_limiter::SqliteLimiter;
use gatehouse_native::store::SqliteRepo;

/// The gateway binary's allocator, as in the other benches.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn daily(counter: &str, durable: Durability) -> LimitCheck {
    // A limit no run reaches, so every iteration is an admitted call that writes.
    let kind = LimitKind::Quota { limit: u64::MAX / 2, window: QuotaWindow::Day, durable };
    let policy = LimitPolicy { name: "daily".into(), scope: LimitScope::App, kind };
    LimitCheck { counter: counter.into(), policy, anchor: None }
}

fn bench_quota(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("gatehouse.db");
    let _repo = SqliteRepo::open(&db).expect("create the store");
    let limiter = Arc::new(SqliteLimiter::open(&db, now_millis()).expect("open the counter store"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("quota");
    for (name, durable) in [("acquire_flushed", Durability::Flushed), ("acquire_exact", Durability::Exact)] {
        let checks = [daily(&format!("app:bench:{name}"), durable)];
        group.bench_function(name, |b| {
            b.iter(|| {
                let decision = runtime.block_on(limiter.acquire(black_box(&checks), now_millis()));
                assert!(decision.expect("the store is up").allowed());
            })
        });
    }
    group.bench_function("acquire_exact_16_concurrent", |b| {
        let checks = Arc::new([daily("app:bench:concurrent", Durability::Exact)]);
        b.iter(|| {
            runtime.block_on(async {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..16 {
                    let (limiter, checks) = (Arc::clone(&limiter), Arc::clone(&checks));
                    calls.spawn(async move { limiter.acquire(&*checks, now_millis()).await });
                }
                while let Some(done) = calls.join_next().await {
                    assert!(done.expect("task").expect("the store is up").allowed());
                }
            })
        })
    });
    limiter.flush(now_millis()).expect("save what the rows above changed");
    let many: Vec<_> = (0..1_000).map(|i| [daily(&format!("app:a{i}:daily"), Durability::Flushed)]).collect();
    group.bench_function("flush_1000_counters", |b| {
        b.iter_batched(
            || many.iter().for_each(|checks| drop(limiter.memory().acquire_now(checks, now_millis()))),
            |()| assert_eq!(limiter.flush(now_millis()).expect("flush"), 1_000),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    bench_usage_flush(c, &db, &runtime);
}

fn bench_usage_flush(c: &mut Criterion, db: &std::path::Path, runtime: &tokio::runtime::Runtime) {
    let repo = SqliteRepo::open(db).expect("open the store");
    let keys: Vec<String> = (0..100).map(|i| format!("key_{i:06}")).collect();
    let rollups = |minute: i64| {
        let mut aggregator = Aggregator::default();
        for key in &keys {
            aggregator.add(&UsageEvent {
                at: minute * 60_000,
                api_id: "api_pets",
                operation_id: "getPet",
                key_id: Some(key),
                app_id: Some("app_0001"),
                developer_id: Some("dev_0001"),
                end_user: None,
                status: 200,
                outcome: Outcome::Valid,
                latency_us: 40,
                bytes_in: 0,
                bytes_out: 35,
                cache_hit: false,
                classes: &[],
            });
        }
        aggregator.drain()
    };
    let mut minute = now_millis() / 60_000;
    let mut group = c.benchmark_group("usage");
    group.bench_function("flush_100_rollups", |b| {
        // Alternate between merging into existing rows (the usual flush within a minute) and
        // inserting new ones, as a real run does.
        b.iter_batched(
            || {
                minute += 1;
                rollups(minute / 2)
            },
            |batch| runtime.block_on(repo.add_rollups(&batch)).expect("flush"),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_quota);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
