//! Window summaries on moto (docs/aws.md, "Window summaries"): a compaction run sums each busy
//! finished window's batch summaries into a head and groups of dimensions, and a dimension's
//! report of the open hour reads those instead of the window's batch summaries — never both,
//! never a summary that is incomplete, and never one that misses a batch: a batch arriving
//! after (or while) its window is summed counts at once and is summed in at the next run.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_aws::dynamo::{now_millis, LATENESS};
use gatehouse_aws::DynamoRepo;
use gatehouse_core::store::{BatchOutcome, GroupBy, Repo, UsageQuery};
use gatehouse_core::time::{DAY, HOUR, MINUTE};
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues, WINDOW};

/// Batches a window needs before compaction sums it (`window_sums::SUM_AT`).
const SUM_AT: usize = 8;
/// Requests one key makes in one window in these tests (100 a minute).
const PER_WINDOW: u64 = 500;

type Item = std::collections::HashMap<String, AttributeValue>;

/// A repo over fresh tables, and its usage table's name.
async fn fresh() -> (DynamoRepo, String) {
    let (client, tables) = (support::client(), support::tables());
    gatehouse_aws::create_tables(&client, &tables).await.expect("tables");
    let usage = tables.usage.clone();
    (DynamoRepo::new(client, tables), usage)
}

/// Midnight UTC yesterday: within every retention, and its hour is never due in these tests.
fn hour() -> i64 {
    let now = now_millis();
    now - now.rem_euclid(DAY) - DAY
}

/// A run of compaction at a time when `window` has just become due for summing (its hour not).
fn due_after(window: i64) -> i64 {
    window + WINDOW + LATENESS
}

/// One key's window as a batch of its own (an isolate's), 100 requests a minute.
async fn deliver(repo: &DynamoRepo, batch_id: &str, key_id: &str, window: i64) -> BatchOutcome {
    let rollups: Vec<Rollup> = (0..5)
        .map(|m| {
            let key = RollupKey {
                minute: window + m * MINUTE,
                api_id: "api_1".into(),
                operation_id: "getPet".into(),
                key_id: key_id.into(),
                app_id: "app_1".into(),
                developer_id: "dev_1".into(),
            };
            let mut values = RollupValues { requests: 100, ..RollupValues::default() };
            values.status_classes[1] = 100;
            Rollup { key, values }
        })
        .collect();
    repo.add_usage_batch(batch_id, &rollups).await.expect("ingest")
}

/// `batches` isolates' batches for `window`, each with a key of its own.
async fn deliver_many(repo: &DynamoRepo, window: i64, batches: usize, tag: &str) {
    for b in 0..batches {
        let outcome = deliver(repo, &format!("bat_{tag}_{b}"), &format!("key_{tag}_{b}"), window).await;
        assert_eq!(outcome, BatchOutcome::Applied);
    }
}

/// What every dimension's report says for the hour, by hour and in total (by day): they must
/// all agree, and they are returned once.
async fn reported(repo: &DynamoRepo, hour: i64) -> u64 {
    let mut seen = Vec::new();
    for filter in [
        UsageQuery::default(),
        UsageQuery { api_id: Some("api_1".into()), ..Default::default() },
        UsageQuery { api_id: Some("api_1".into()), operation_id: Some("getPet".into()), ..Default::default() },
        UsageQuery { app_id: Some("app_1".into()), ..Default::default() },
        UsageQuery { developer_id: Some("dev_1".into()), ..Default::default() },
    ] {
        for group_by in [GroupBy::Hour, GroupBy::Total] {
            let q = UsageQuery { group_by, from: Some(hour), to: Some(hour + DAY), ..filter.clone() };
            seen.push(repo.query_usage(&q).await.expect("query").iter().map(|r| r.requests).sum::<u64>());
        }
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "every dimension agrees: {seen:?}");
    seen[0]
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

/// The head of `window`'s summary: its state and the number of batch summary items it sums.
async fn head(table: &str, window: i64) -> Option<(String, String)> {
    let hour = window - window.rem_euclid(HOUR);
    let items = support::window_summary_heads(table, hour).await;
    let head = items.into_iter().find(|i| text(i, "sk") == format!("s#{window:015}"))?;
    let n = head.get("n").and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
    Some((text(&head, "state").to_owned(), n))
}

async fn put(table: &str, item: Item) {
    support::client().put_item().table_name(table).set_item(Some(item)).send().await.expect("put");
}

const DIMENSIONS: [&str; 5] = ["all#*", "api#api_1", "op#api_1#getPet", "app#app_1", "dev#dev_1"];

/// Forges `window`'s summary: a head in `state` with token `head_token` counting `n` batch
/// summaries in one group, and that group with token `token`, claiming `requests` in every
/// dimension — a summary that, if a report read it, would show.
async fn forge(table: &str, window: i64, (state, head_token, n): (&str, &str, usize), token: &str, requests: u64) {
    let hour = window - window.rem_euclid(HOUR);
    let item = |sk: String, v: &str| -> Item {
        [("pk", format!("tail#{hour:015}")), ("sk", sk), ("v", v.to_owned())]
            .map(|(name, value)| (name.to_owned(), AttributeValue::S(value)))
            .into()
    };
    let mut head = item(format!("s#{window:015}"), head_token);
    head.insert("state".into(), AttributeValue::S(state.into()));
    head.insert("n".into(), AttributeValue::N(n.to_string()));
    head.insert("groups".into(), AttributeValue::N("1".into()));
    put(table, head).await;
    let mut group = item(format!("t#{window:015}#00000"), token);
    let counters = AttributeValue::M([("requests".to_owned(), AttributeValue::N(requests.to_string()))].into());
    for dim in DIMENSIONS {
        group.insert(dim.into(), counters.clone());
    }
    put(table, group).await;
}

#[tokio::test]
async fn a_busy_window_is_summed_into_a_summary_that_reports_read_instead_of_its_batches() {
    let (repo, table) = fresh().await;
    let hour = hour();
    deliver_many(&repo, hour, SUM_AT + 2, "busy").await;
    deliver_many(&repo, hour + WINDOW, SUM_AT - 1, "quiet").await;
    let exact = (2 * SUM_AT as u64 + 1) * PER_WINDOW;
    assert_eq!(reported(&repo, hour).await, exact, "from the batch summaries");
    assert!(repo.compact_due(due_after(hour + WINDOW)).await.expect("run").is_empty(), "the hour is not due");
    assert_eq!(head(&table, hour).await, Some(("summed".into(), (SUM_AT + 2).to_string())));
    assert_eq!(head(&table, hour + WINDOW).await, None, "seven batches are read as they are");
    assert_eq!(reported(&repo, hour).await, exact, "the summary instead of its batches, not on top of them");
    let before = support::window_summary_heads(&table, hour).await;
    repo.compact_due(due_after(hour + WINDOW) + MINUTE).await.expect("re-run");
    assert_eq!(support::window_summary_heads(&table, hour).await, before, "a summed window is not summed again");
    // A summary whose sums differ from its batches', to see which one a report reads.
    forge(&table, hour, ("summed", "forged", SUM_AT + 2), "forged", 7).await;
    assert_eq!(reported(&repo, hour).await, 7 + (SUM_AT as u64 - 1) * PER_WINDOW, "the summary alone");
}

#[tokio::test]
async fn a_batch_arriving_after_its_window_was_summed_counts_at_once_and_is_summed_in_next() {
    let (repo, table) = fresh().await;
    let hour = hour();
    deliver_many(&repo, hour, SUM_AT, "on_time").await;
    repo.compact_due(due_after(hour)).await.expect("run");
    assert_eq!(head(&table, hour).await.map(|h| h.0), Some("summed".into()));
    let exact = (SUM_AT as u64 + 1) * PER_WINDOW;
    assert_eq!(deliver(&repo, "bat_late", "key_late", hour).await, BatchOutcome::Applied);
    assert_eq!(head(&table, hour).await.map(|h| h.0), Some("open".into()), "the late batch reopened it");
    assert_eq!(reported(&repo, hour).await, exact, "counted at once, before any run");
    repo.compact_due(due_after(hour) + 15 * MINUTE).await.expect("next run");
    assert_eq!(head(&table, hour).await, Some(("summed".into(), (SUM_AT + 1).to_string())));
    assert_eq!(reported(&repo, hour).await, exact, "summed in");
    assert_eq!(deliver(&repo, "bat_late", "key_late", hour).await, BatchOutcome::Duplicate);
    assert_eq!(reported(&repo, hour).await, exact, "a redelivery counts nothing");
    repo.compact_due(due_after(hour) + 30 * MINUTE).await.expect("another run");
    assert_eq!(head(&table, hour).await, Some(("summed".into(), (SUM_AT + 1).to_string())));
    assert_eq!(reported(&repo, hour).await, exact);
}

#[tokio::test]
async fn a_batch_landing_while_its_window_is_summed_is_never_lost_nor_counted_twice() {
    let (repo, table) = fresh().await;
    let hour = hour();
    let mut exact = 0;
    for round in 0..6 {
        let window = hour + round * WINDOW;
        deliver_many(&repo, window, SUM_AT, &format!("r{round}")).await;
        // Staggered so that the batch lands before the run reads, while it sums, or after.
        let pause = |ms: i64| tokio::time::sleep(std::time::Duration::from_millis(ms.max(0) as u64));
        let stagger = 8 * (round - 3);
        let (run, late) = tokio::join!(
            async {
                pause(stagger).await;
                repo.compact_due(due_after(window)).await
            },
            async {
                pause(-stagger).await;
                deliver(&repo, &format!("bat_late_{round}"), &format!("key_late_{round}"), window).await
            }
        );
        run.expect("run");
        assert_eq!(late, BatchOutcome::Applied);
        eprintln!("round {round}: the window's head after the race: {:?}", head(&table, window).await);
        exact += (SUM_AT as u64 + 1) * PER_WINDOW;
        assert_eq!(reported(&repo, hour).await, exact, "round {round}, whichever came first");
        repo.compact_due(due_after(window) + MINUTE).await.expect("next run");
        assert_eq!(head(&table, window).await, Some(("summed".into(), (SUM_AT + 1).to_string())), "round {round}");
        assert_eq!(reported(&repo, hour).await, exact, "round {round}, summed");
    }
}

#[tokio::test]
async fn a_window_summary_left_incomplete_is_never_read() {
    let (repo, table) = fresh().await;
    let hour = hour();
    deliver_many(&repo, hour, SUM_AT, "w").await;
    let exact = SUM_AT as u64 * PER_WINDOW;
    // A summary whose group is another run's, and a run that stopped after marking the head:
    // each claims a million requests a dimension.
    forge(&table, hour, ("summed", "t2", SUM_AT), "t1", 1_000_000).await;
    assert_eq!(reported(&repo, hour).await, exact, "another run's group: the batches are read");
    forge(&table, hour, ("summing", "t1", SUM_AT), "t1", 1_000_000).await;
    assert_eq!(reported(&repo, hour).await, exact, "summing: the batches are read");
    repo.compact_due(due_after(hour)).await.expect("run");
    assert_eq!(head(&table, hour).await, Some(("summed".into(), SUM_AT.to_string())));
    assert_eq!(reported(&repo, hour).await, exact, "summed again, from the batches, over the stale group");
}

#[tokio::test]
async fn a_summary_that_missed_a_batch_is_redone_by_the_next_run() {
    let (repo, table) = fresh().await;
    let hour = hour();
    deliver_many(&repo, hour, SUM_AT, "w").await;
    repo.compact_due(due_after(hour)).await.expect("run");
    // A delivery that wrote its batch summary and stopped before checking the window's head
    // (its redelivery would reopen the window; here none comes).
    let counters = AttributeValue::M([("requests".to_owned(), AttributeValue::N(PER_WINDOW.to_string()))].into());
    let mut straggler: Item = [
        ("pk".to_owned(), AttributeValue::S(format!("tail#{hour:015}"))),
        ("sk".to_owned(), AttributeValue::S(format!("b#{hour:015}#bat_cut#00000/00001"))),
    ]
    .into();
    for dim in DIMENSIONS {
        straggler.insert(dim.into(), counters.clone());
    }
    put(&table, straggler).await;
    repo.compact_due(due_after(hour) + 15 * MINUTE).await.expect("next run");
    assert_eq!(head(&table, hour).await, Some(("summed".into(), (SUM_AT + 1).to_string())), "nine batches");
    assert_eq!(reported(&repo, hour).await, (SUM_AT as u64 + 1) * PER_WINDOW, "the straggler summed in");
}
