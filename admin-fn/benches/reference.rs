//! Server time of an API's static reference for a ~100 KB OpenAPI description (issue 17's
//! goal: ≤ 100 ms): the view model built from the stored JSON document, then the askama
//! template rendered, as the API page does per request. Prints p50/p99 over many runs and
//! the page's size; `cargo bench -p gatehouse-admin --bench reference`. Wall time is what a
//! caller waits; time on CPU (Linux `/proc/thread-self/schedstat`) leaves out the time other
//! processes held the core, so a loaded machine does not read as a slower reference.
//! `REFERENCE_BENCH_BYTES` sets the description's size, `REFERENCE_BENCH_RUNS` the runs,
//! `REFERENCE_BENCH_PAGE` a file to write the rendered fragment to (to weigh or look at).

#[path = "../tests/support/big_openapi.rs"]
mod big_openapi;

use std::hint::black_box;
use std::time::{Duration, Instant};

use askama::Template;
use gatehouse_admin::portal::reference::{Reference, ReferenceFragment};

const GOAL: Duration = Duration::from_millis(100);

fn main() {
    let bytes = setting("REFERENCE_BENCH_BYTES", 100_000);
    let runs = setting("REFERENCE_BENCH_RUNS", 200).max(2);
    let (document, operations) = big_openapi::document(bytes);
    let text = serde_json::to_string(&document).unwrap_or_default();
    println!("description: {} bytes of JSON, {operations} operations", text.len());

    let mut build = Vec::with_capacity(runs);
    let mut total = Vec::with_capacity(runs);
    let mut on_cpu = Vec::with_capacity(runs);
    let mut page = String::new();
    for run in 0..runs + 5 {
        let cpu_start = cpu_time();
        let start = Instant::now();
        let reference = Reference::build(black_box(&document), Some("https://gw.example.com"), "/big");
        let built = start.elapsed();
        let html = ReferenceFragment { reference: &reference }.render().unwrap_or_default();
        let elapsed = start.elapsed();
        let cpu = cpu_time().zip(cpu_start).map(|(end, start)| end.saturating_sub(start));
        page = black_box(html);
        if run >= 5 {
            build.push(built);
            total.push(elapsed);
            on_cpu.extend(cpu);
        }
    }
    let parse = {
        let start = Instant::now();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        black_box(parsed);
        start.elapsed()
    };
    println!("page: {} bytes of HTML", page.len());
    if let Ok(path) = std::env::var("REFERENCE_BENCH_PAGE") {
        if let Err(error) = std::fs::write(&path, &page) {
            eprintln!("cannot write {path}: {error}");
        }
    }
    report("view model", &mut build);
    report("view model + render", &mut total);
    if !on_cpu.is_empty() {
        report("  same, on CPU", &mut on_cpu);
    }
    println!("(for scale, parsing the description's JSON text once: {:.2} ms)", ms(parse));
    let p99 = percentile(&total, 99);
    let verdict = if p99 <= GOAL { "meets" } else { "MISSES" };
    println!("server time p99 {:.2} ms {verdict} the goal of {} ms", ms(p99), GOAL.as_millis());
}

/// This thread's time on CPU so far; `None` off Linux.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let (p50, p99) = (percentile(samples, 50), percentile(samples, 99));
    println!("{what:<20} p50 {:>7.2} ms  p99 {:>7.2} ms  ({} runs)", ms(p50), ms(p99), samples.len());
}

/// The `p`th percentile of sorted samples (nearest rank).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
