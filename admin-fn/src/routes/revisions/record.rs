//! Making revision records: the first one with the API, the next one with each re-import.
//! Every path that replaces an API's document (`PATCH /v1/apis/{id}`, `PUT /v1/config`,
//! publishing a proposed revision) goes through here, so the changelog misses none.

use gatehouse_core::model::{Api, Revision};
use gatehouse_core::openapi::diff::ApiDiff;
use gatehouse_core::store::Repo;
use gatehouse_core::time::UnixMillis;

use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::AdminState;

/// The revisions of `api_id`, oldest first.
pub(crate) async fn all<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    api_id: &str,
) -> Result<Vec<Revision>, AdminError> {
    let mut revisions = s.repo.list::<Revision>(Some(api_id)).await?;
    revisions.sort_by_key(|r| r.number);
    Ok(revisions)
}

/// Revision 1: the document an API is created with, live from the start (as the API's own
/// document is, whatever its lifecycle).
pub(crate) fn first(api: &Api, by: &str, now: UnixMillis) -> Revision {
    Revision {
        id: Revision::id_for(&api.id, 1),
        api_id: api.id.clone(),
        number: 1,
        version: api.version.clone(),
        note: None,
        openapi: api.openapi.clone(),
        diff: ApiDiff::default(),
        forced: false,
        created_by: by.to_owned(),
        created_at: now,
        published_at: Some(now),
    }
}

/// What a new revision holds, before it is numbered.
pub(crate) struct Next {
    pub openapi: serde_json::Value,
    pub version: String,
    pub note: Option<String>,
    pub diff: ApiDiff,
    /// Published with it (a re-import), not only proposed.
    pub published: bool,
    pub forced: bool,
}

/// The records to insert for `next`, a new document of `live` (the API as stored): when the
/// API has no revisions yet (imported by a build that kept none), first a revision 1 for the
/// document it has, so the changelog starts where the API did.
pub(crate) fn next(live: &Api, existing: &[Revision], next: Next, by: &str, now: UnixMillis) -> Vec<Revision> {
    let mut out = Vec::new();
    let mut last = existing.iter().map(|r| r.number).max().unwrap_or(0);
    if last == 0 {
        let mut baseline = first(live, "", live.updated_at);
        baseline.created_at = live.created_at;
        out.push(baseline);
        last = 1;
    }
    let number = last + 1;
    out.push(Revision {
        id: Revision::id_for(&live.id, number),
        api_id: live.id.clone(),
        number,
        version: next.version,
        note: next.note,
        openapi: next.openapi,
        diff: next.diff,
        forced: next.forced,
        created_by: by.to_owned(),
        created_at: now,
        published_at: next.published.then_some(now),
    });
    out
}

/// The revision whose document the API serves: the last one published.
pub(crate) fn live(revisions: &[Revision]) -> Option<&Revision> {
    revisions.iter().filter(|r| r.published_at.is_some()).max_by_key(|r| (r.published_at, r.number))
}
