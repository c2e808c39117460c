//! The usage table's bulk reads and writes: whole queries, batched gets and puts (retrying what
//! DynamoDB leaves unprocessed under load), and a bounded fan-out of independent calls.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use gatehouse_core::store::StoreError;
use tokio::task::JoinSet;

use crate::dynamo::items::{get_s, key, s, Item};
use crate::dynamo::{unavailable, DynamoRepo};

/// DynamoDB's limits per `BatchGetItem` and `BatchWriteItem`.
const GETS_PER_BATCH: usize = 100;
const PUTS_PER_BATCH: usize = 25;
/// Calls in flight at once in a fan-out: enough to hide latency, few enough not to throttle.
const IN_FLIGHT: usize = 16;
/// Rounds of retrying unprocessed keys or items before giving up.
const ROUNDS: usize = 8;

/// Every item of `pk` whose sort key is between `lo` and `hi` (inclusive), in order.
pub(crate) async fn query_all(
    repo: &DynamoRepo,
    pk: &str,
    lo: &str,
    hi: &str,
    consistent: bool,
) -> Result<Vec<Item>, StoreError> {
    query(repo, pk, Some((lo, hi)), consistent, None).await
}

/// Every item of `pk`, read strongly consistently.
pub(crate) async fn query_partition(repo: &DynamoRepo, pk: &str) -> Result<Vec<Item>, StoreError> {
    query(repo, pk, None, true, None).await
}

/// Every item of `pk` whose sort key is between `lo` and `hi`, with only `attributes` (absent
/// where an item lacks them), read strongly consistently: DynamoDB still reads whole items,
/// but sends back only those.
pub(crate) async fn query_projected(
    repo: &DynamoRepo,
    pk: &str,
    (lo, hi): (&str, &str),
    attributes: &[&str],
) -> Result<Vec<Item>, StoreError> {
    query(repo, pk, Some((lo, hi)), true, Some(attributes)).await
}

async fn query(
    repo: &DynamoRepo,
    pk: &str,
    range: Option<(&str, &str)>,
    consistent: bool,
    projection: Option<&[&str]>,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let mut q = repo
            .client
            .query()
            .table_name(&repo.tables.usage)
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(consistent)
            .set_exclusive_start_key(start);
        if let Some(attributes) = projection {
            let names: Vec<String> = (0..attributes.len()).map(|i| format!("#p{i}")).collect();
            q = q.projection_expression(names.join(", "));
            for (name, attribute) in names.into_iter().zip(attributes) {
                q = q.expression_attribute_names(name, *attribute);
            }
        }
        q = match range {
            Some((lo, hi)) => q
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":lo", s(lo))
                .expression_attribute_values(":hi", s(hi)),
            None => q.key_condition_expression("pk = :pk"),
        };
        let page = q.send().await.map_err(unavailable)?;
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// The items that exist among `keys` (pk, sk), by key.
pub(crate) async fn batch_get(
    repo: &DynamoRepo,
    keys: Vec<(String, String)>,
    consistent: bool,
) -> Result<HashMap<(String, String), Item>, StoreError> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(GETS_PER_BATCH) {
        let wanted: Vec<Item> = chunk.iter().map(|(pk, sk)| key(pk.as_str(), sk.as_str())).collect();
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(wanted))
                .consistent_read(consistent)
                .build()
                .map_err(unavailable)?,
        );
        for round in 0..ROUNDS {
            let Some(ask) = request.take() else { break };
            let out = repo
                .client
                .batch_get_item()
                .request_items(&repo.tables.usage, ask)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.responses.and_then(|mut r| r.remove(&repo.tables.usage)).unwrap_or_default() {
                let text = |name| get_s(&item, name).unwrap_or_default().to_owned();
                let id = (text("pk"), text("sk"));
                found.insert(id, item);
            }
            request = out.unprocessed_keys.and_then(|mut u| u.remove(&repo.tables.usage));
            if request.is_some() {
                backoff(round).await;
            }
        }
        if request.is_some() {
            return Err(StoreError::Unavailable("dynamodb kept keys of a batch get unprocessed".into()));
        }
    }
    Ok(found)
}

/// Puts whole items (each replacing what was there), 25 to a request.
pub(crate) async fn batch_put(repo: &DynamoRepo, items: Vec<Item>) -> Result<(), StoreError> {
    for chunk in items.chunks(PUTS_PER_BATCH) {
        let mut writes = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item.clone())).build().map_err(unavailable)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for round in 0..ROUNDS {
            let out = repo
                .client
                .batch_write_item()
                .request_items(&repo.tables.usage, writes)
                .send()
                .await
                .map_err(unavailable)?;
            writes = out.unprocessed_items.and_then(|mut u| u.remove(&repo.tables.usage)).unwrap_or_default();
            if writes.is_empty() {
                break;
            }
            backoff(round).await;
        }
        if !writes.is_empty() {
            return Err(StoreError::Unavailable("dynamodb kept items of a batch write unprocessed".into()));
        }
    }
    Ok(())
}

/// Runs `call` on every input with at most [`IN_FLIGHT`] at once; the results in no
/// particular order, or the first error.
pub(crate) async fn concurrently<T, R, F, Fut>(inputs: Vec<T>, call: F) -> Result<Vec<R>, StoreError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, StoreError>> + Send + 'static,
    R: Send + 'static,
{
    let mut running = JoinSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        if running.len() >= IN_FLIGHT {
            if let Some(done) = running.join_next().await {
                out.push(done.map_err(unavailable)??);
            }
        }
        running.spawn(call(input));
    }
    while let Some(done) = running.join_next().await {
        out.push(done.map_err(unavailable)??);
    }
    Ok(out)
}

async fn backoff(round: usize) {
    tokio::time::sleep(Duration::from_millis(25 << round.min(6))).await;
}
