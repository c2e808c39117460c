//! What a 30-day report at N keys finds in the usage table besides the hour the test ingests,
//! written straight into the table with `BatchWriteItem` in the layout of docs/aws.md ("Tables"),
//! since ingesting a month for real would take moto hours:
//!
//! - 29 compacted days before the test's day: every hour state `compacted`, and the day items of
//!   the partitions the test queries (all, the API, app 1, key 42);
//! - a steady tail: hours still pending, holding the batch summaries of `windows`
//!   windows (N / 200 batches a window, 200 keys each, apps of 100 keys, developers of 1,000),
//!   which the test's compaction run then sums as a scheduled run would have.
//!
//! Every key makes 1,000 requests a minute, all answered 2xx, as in the ingested hour.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use gatehouse_core::time::{DAY, HOUR};
use gatehouse_core::usage::WINDOW;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

const PER_KEY_MINUTE: u64 = 1_000;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn counters(requests: u64) -> [(String, AttributeValue); 2] {
    [
        ("requests".into(), AttributeValue::N(requests.to_string())),
        ("s2".into(), AttributeValue::N(requests.to_string())),
    ]
}

fn item(pk: String, sk: String) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

async fn put_all(client: &Client, table: &str, items: Vec<Item>) {
    for chunk in items.chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                let put = PutRequest::builder().set_item(Some(i.clone())).build().expect("put");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let out = client.batch_write_item().request_items(table, writes).send().await.expect("seed");
        assert!(out.unprocessed_items.unwrap_or_default().is_empty(), "moto processes every item");
    }
}

/// Seeds the 29 days before `day` (a day's start); returns the requests seeded into all keys,
/// app 1 (100 keys) and key 42.
pub async fn history(client: &Client, table: &str, day: i64, keys: u64) -> (u64, u64, u64) {
    let per_key_day = PER_KEY_MINUTE * 1_440;
    let mut items = Vec::new();
    for d in 1..30 {
        let at = day - d * DAY;
        for h in 0..24 {
            let mut state = item("hours".into(), format!("{:015}", at + h * HOUR));
            state.insert("state".into(), s("compacted"));
            state.insert("v".into(), s("seeded"));
            items.push(state);
        }
        for (pk, n) in [("all#*", keys), ("api#api_pets", keys), ("app#app_1", 100)] {
            let mut sum = item(pk.into(), format!("d#{at:015}"));
            sum.extend(counters(n * per_key_day));
            items.push(sum);
        }
        let mut key = item("key#key_00042".into(), format!("d#{at:015}#api_pets#getPet"));
        key.extend(counters(per_key_day));
        key.extend(
            [("api", "api_pets"), ("op", "getPet"), ("app", "app_0"), ("dev", "dev_0")].map(|(n, v)| (n.into(), s(v))),
        );
        items.push(key);
    }
    put_all(client, table, items).await;
    (29 * keys * per_key_day, 29 * 100 * per_key_day, 29 * per_key_day)
}

/// Seeds `hour` as pending (its state and its open mark) with `windows` windows of batch
/// summaries; returns the requests seeded into all keys and app 1.
pub async fn tail(client: &Client, table: &str, hour: i64, keys: u64, windows: i64) -> (u64, u64) {
    let mut state = item("hours".into(), format!("{hour:015}"));
    state.insert("state".into(), s("pending"));
    state.insert("v".into(), s("seeded"));
    let mut mark = item("open".into(), format!("h#{hour:015}"));
    mark.insert("v".into(), s("seeded"));
    let mut items = vec![mark, state];
    let per_batch = 200 * 5 * PER_KEY_MINUTE;
    for w in 0..windows {
        for b in 0..keys / 200 {
            let window = hour + w * WINDOW;
            let mut summary = item(format!("tail#{hour:015}"), format!("b#{window:015}#seed_{w}_{b}#00000/00001"));
            let dims = [
                ("all#*".to_owned(), per_batch),
                ("api#api_pets".to_owned(), per_batch),
                ("op#api_pets#getPet".to_owned(), per_batch),
                (format!("app#app_{}", 2 * b), per_batch / 2),
                (format!("app#app_{}", 2 * b + 1), per_batch / 2),
                (format!("dev#dev_{}", b / 5), per_batch),
            ];
            for (dim, n) in dims {
                summary.insert(dim, AttributeValue::M(counters(n).into_iter().collect()));
            }
            items.push(summary);
        }
    }
    assert!(windows * WINDOW <= HOUR, "one hour's windows");
    put_all(client, table, items).await;
    let batches = keys / 200;
    (windows as u64 * batches * per_batch, windows as u64 * per_batch / 2)
}
