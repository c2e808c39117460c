//! What the developer portal's reads over stored usage cost on the SQLite store, with
//! 100,000 per-minute rollups (1,000 keys in 100 apps, 100 minutes each over 30 days, on two
//! APIs) and 10,000 audit entries:
//!
//! - `portal/keys_last_seen_app_of_10`: "last used" for a key listing of one app (10 keys):
//!   one seek per key in `key_last_seen`, in one transaction.
//! - `portal/app_calls_30_days`: who called an API in the last 30 days (50,000 rows in the
//!   window), grouped per app in the query.
//! - `portal/audit_about_12_ids`: a developer's audit entries for their export.
//! - `usage/flush_100_rollups_{with,without}_api_index`: a usage flush into the seeded store
//!   (which also keeps `key_last_seen`), and into a copy without the `rollups_by_api` index:
//!   what that index costs each flush. Before `key_last_seen` and the index, the same flush
//!   took 0.46-0.51 ms (two runs of this bench on the schema before them).

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{criterion_group, BatchSize, Criterion};
use gatehouse_core::store::{AuditEntry, Repo};
use gatehouse_core::time::{DAY, MINUTE};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use gatehouse_native::store::SqliteRepo;

/// The gateway binary's allocator, as in the other benches.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NOW: i64 = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE;

fn rollup(minute: i64, key: usize) -> Rollup {
    let api = if minute / MINUTE % 2 == 0 { "api_pets" } else { "api_shop" };
    let k = RollupKey {
        minute,
        api_id: api.into(),
        operation_id: "getPet".into(),
        key_id: format!("key_{key:04}"),
        app_id: format!("app_{:03}", key / 10),
        developer_id: format!("dev_{:03}", key / 10),
    };
    let mut values = RollupValues { requests: 3, bytes_out: 120, ..RollupValues::default() };
    values.status_classes[1] = 3;
    (0..3).for_each(|_| values.latency.record(900));
    Rollup { key: k, values }
}

/// 100 minutes per key spread over the last 30 days.
fn seed(runtime: &tokio::runtime::Runtime, repo: &SqliteRepo) {
    for key in 0..1_000 {
        let batch: Vec<Rollup> =
            (0..100).map(|i| rollup(NOW - 30 * DAY + (i * 431 + key as i64) * MINUTE, key)).collect();
        runtime.block_on(repo.add_rollups(&batch)).expect("seed rollups");
    }
    for i in 0..10_000u32 {
        let entry = AuditEntry::new(i64::from(i), "admin:ab", "key.create", vec![format!("key_{:04}", i % 1_000)]);
        runtime.block_on(repo.append_audit(&entry)).expect("seed audit");
    }
}

fn bench_reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let repo = SqliteRepo::open(dir.path().join("gatehouse.db")).expect("store");
    seed(&runtime, &repo);
    let mut group = c.benchmark_group("portal");
    let app_keys: Vec<String> = (500..510).map(|k| format!("key_{k:04}")).collect();
    group.bench_function("keys_last_seen_app_of_10", |b| {
        b.iter(|| assert_eq!(runtime.block_on(repo.keys_last_seen(black_box(&app_keys))).expect("read").len(), 10))
    });
    group.bench_function("app_calls_30_days", |b| {
        b.iter(|| {
            let calls = runtime.block_on(repo.app_calls("api_pets", NOW - 30 * DAY, NOW + 1)).expect("read");
            assert_eq!(calls.len(), 100);
        })
    });
    let ids: BTreeSet<String> =
        (500..510).map(|k| format!("key_{k:04}")).chain(["app_050".into(), "dev_050".into()]).collect();
    group.bench_function("audit_about_12_ids", |b| {
        b.iter(|| assert_eq!(runtime.block_on(repo.audit_about(black_box(&ids))).expect("read").len(), 100))
    });
    group.finish();
    bench_flush(c, &runtime, dir.path());
}

/// The same flushes into two copies of the seeded store (compacted alike), one without the
/// API index. Half the flushes add new rows, half merge into them, as a real run does.
fn bench_flush(c: &mut Criterion, runtime: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let conn = rusqlite::Connection::open(dir.join("gatehouse.db")).expect("open");
    let copies = [("with", dir.join("with-index.db")), ("without", dir.join("without-index.db"))];
    for (_, path) in &copies {
        conn.execute("VACUUM INTO ?1", [path.to_string_lossy()]).expect("copy");
    }
    rusqlite::Connection::open(&copies[1].1).and_then(|c| c.execute_batch("DROP INDEX rollups_by_api")).expect("drop");
    let mut group = c.benchmark_group("usage");
    for (which, db) in copies {
        let repo = SqliteRepo::open(&db).expect("store");
        let mut minute = 2 * (NOW / MINUTE);
        group.bench_function(format!("flush_100_rollups_{which}_api_index"), |b| {
            b.iter_batched(
                || {
                    minute += 1;
                    (0..100).map(|key| rollup(minute / 2 * MINUTE, key)).collect::<Vec<_>>()
                },
                |batch| runtime.block_on(repo.add_rollups(&batch)).expect("flush"),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_reads);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
