//! A re-import: a new document for an API, checked against the live one before the write
//! (the usage query behind a refusal is async, the compare-and-set write is not), then
//! recorded as a published revision in the same transaction as the API.

use gatehouse_core::model::{Api, Revision};
use gatehouse_core::openapi::diff::{diff, ApiDiff};
use gatehouse_core::openapi::ImportedApi;
use gatehouse_core::store::{Repo, Write};
use gatehouse_core::time::UnixMillis;

use super::{breaking, record, unchanged_since_check};
use crate::error::AdminError;
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::AdminState;

/// A re-import that passed the breaking-change guard.
pub(crate) struct Reimport {
    /// The API's document the guard compared with.
    checked: serde_json::Value,
    existing: Vec<Revision>,
    document: serde_json::Value,
    version: String,
    note: Option<String>,
    diff: ApiDiff,
    forced: bool,
}

/// Diffs `imported` against API `id`'s live document and applies the guard.
pub(crate) async fn check<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    id: &str,
    imported: &ImportedApi,
    note: Option<String>,
    force: bool,
) -> Result<Reimport, AdminError> {
    let api = s.load::<Api>("API", id).await?;
    let existing = record::all(s, id).await?;
    let changes = diff(&api.openapi, &imported.document);
    let number = existing.iter().map(|r| r.number).max().unwrap_or(1) + 1;
    breaking::guard(s, &api, number, &changes, force).await?;
    Ok(Reimport {
        checked: api.openapi,
        existing,
        document: imported.document.clone(),
        version: imported.version.clone(),
        note,
        forced: force && changes.is_breaking(),
        diff: changes,
    })
}

impl Reimport {
    /// The revision records to write with `api` (as stored, before the new document is
    /// applied); none when the document is the one the API already has.
    pub(crate) fn writes(&self, api: &Api, by: &str, now: UnixMillis) -> Result<Vec<(Write, Change)>, AdminError> {
        unchanged_since_check(api, &self.checked)?;
        if api.openapi == self.document {
            return Ok(Vec::new());
        }
        let next = record::Next {
            openapi: self.document.clone(),
            version: self.version.clone(),
            note: self.note.clone(),
            diff: self.diff.clone(),
            published: true,
            forced: self.forced,
        };
        let mut out = Vec::new();
        for revision in record::next(api, &self.existing, next, by, now) {
            out.push((Write::insert(&revision)?, Change::of(&revision, ChangeOp::Created)));
        }
        Ok(out)
    }
}
