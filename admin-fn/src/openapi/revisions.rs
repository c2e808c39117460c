//! Revisions in the document (see [`super::operations`] for the rest of the table).

use axum::http::Method;

use super::Doc;
use crate::routes::revisions::{ForceQuery, NewRevision, RevisionSummary, RevisionView};
use crate::views::Items;
use gatehouse_core::model::Api;

pub(super) fn describe(d: &mut Doc) {
    d.op(
        Method::GET,
        "/v1/apis/{id}/revisions",
        "The API's revisions, newest first, each with its diff: the changelog",
    )
    .ok::<Items<RevisionSummary>>()
    .add();
    d.op(
        Method::POST,
        "/v1/apis/{id}/revisions",
        "Propose a revision: import a document and diff it against the live one, without serving it",
    )
    .body::<NewRevision>()
    .created::<RevisionView>()
    .errors(&[409])
    .add();
    d.op(
        Method::GET,
        "/v1/apis/{id}/revisions/{number}",
        "A revision with its document and its diff from the live one",
    )
    .ok::<RevisionView>()
    .add();
    d.op(
        Method::POST,
        "/v1/apis/{id}/revisions/{number}/publish",
        "Serve a revision's document. Refused with 409 (type breaking-change, listing the breaking changes and the \
        apps that called the affected operations in the last 30 days) when it breaks callers of a live API, unless \
        force=true",
    )
    .query::<ForceQuery>()
    .ok::<Api>()
    .conditional()
    .errors(&[409])
    .add();
}
