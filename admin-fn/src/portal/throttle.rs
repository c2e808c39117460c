//! Counting attempts per subject in fixed windows, in the store, so every instance of the
//! control plane (each Lambda, the native process) counts against the same limit.

use gatehouse_core::model::Throttle;
use gatehouse_core::store::{Etag, Record, Repo, StoreError, Write};
use gatehouse_core::time::UnixMillis;

use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::AdminState;

/// At most `limit` attempts per `window`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    pub limit: u32,
    pub window: UnixMillis,
}

/// Counts one attempt by `subject` (e.g. `signin-email:a@x.io`); `false` when it is over the
/// limit (and then it is not counted). Concurrent attempts are counted by compare-and-set.
pub(crate) async fn allow<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    subject: &str,
    Limit { limit, window }: Limit,
) -> Result<bool, AdminError> {
    let now = s.now();
    let start = now - now.rem_euclid(window);
    let id = format!("{subject}:{start}");
    for _ in 0..8 {
        let write = match s.repo.get_record(gatehouse_core::store::EntityKind::Throttle, &id).await {
            Ok(record) => {
                let mut seen: Throttle = record.decode()?;
                if seen.count >= limit {
                    return Ok(false);
                }
                seen.count += 1;
                Write::UpdateIf { record: Record::of(&seen)?, expected: Etag::of_body(&record.body) }
            }
            Err(StoreError::NotFound) => {
                Write::insert(&Throttle { id: id.clone(), count: 1, expires_at: start + window })?
            }
            Err(e) => return Err(e.into()),
        };
        match s.repo.transact(vec![write]).await {
            Ok(()) => return Ok(true),
            Err(StoreError::Changed | StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    // Under that much contention the subject is being hammered: refuse.
    Ok(false)
}
